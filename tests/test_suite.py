"""The test suite itself: it starts without optional plugins and extras, and keeps its limits."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_no_ini_option_needs_a_plugin():
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "timeout" not in options


def test_each_test_gets_the_timeout_when_the_plugin_is_there(request: pytest.FixtureRequest):
    if not request.config.pluginmanager.hasplugin("timeout"):
        pytest.skip("pytest-timeout is not installed (the limit is applied only with it)")
    assert request.config._env_timeout == 600 or request.config.getoption("timeout") is not None


def test_the_suite_starts_without_pytest_timeout_and_without_matplotlib(tmp_path: Path):
    code = (
        "import sys; sys.modules['matplotlib'] = None; import pytest; "
        "sys.exit(pytest.main(['-q', '-p', 'no:timeout', '-p', 'no:randomly', '-p', 'no:cacheprovider', "
        "'tests/test_plots.py', '-rs']))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "skipped" in result.stdout and "matplotlib" in result.stdout


def test_the_whole_suite_collects_without_any_extra():
    # optional extras made missing (ModuleNotFoundError, as when not installed); collecting everything,
    # doctests and helper modules included, must raise no error: what needs an extra skips with the reason
    code = (
        "import sys\n"
        "EXTRAS = {'matplotlib', 'torch', 'dask', 'distributed', 'cvxpy', 'clarabel', 'scs'}\n"
        "class Missing:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in EXTRAS:\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Missing())\n"
        "import pytest\n"
        "sys.exit(pytest.main(['--collect-only', '-q', '-p', 'no:randomly', '-p', 'no:cacheprovider']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
