"""Hypothesis profiles for the whole suite: ``ci`` (default, derandomised, fast) and ``thorough``.

Select with ``pytest --hypothesis-profile=thorough`` for long local runs. Each test gets a
600 s limit when pytest-timeout is installed; without the plugin the suite runs all the same.
"""

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

TEST_TIMEOUT = 600
"""Seconds per test, applied when the pytest-timeout plugin is present and nothing else is set."""


EXTRA_DOCTESTS = {"matplotlib": ("symattn/plots.py", "the optional plot extra (matplotlib)")}
"""Modules whose doctests need an optional extra: skipped, with the reason, when it is missing."""

EXTRA_HELPERS = {"torch": "tests/torch_reference.py"}
"""Helper modules of the tests (no tests of their own) that import an optional extra at the top:
not collected when it is missing; the tests that use them skip, with the reason."""


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.hasplugin("timeout"):
        # tests may still carry @pytest.mark.timeout(...): known, and without effect
        config.addinivalue_line("markers", "timeout(seconds): a per-test limit, applied with pytest-timeout")
        return
    if config.getoption("timeout", None) is None and not os.environ.get("PYTEST_TIMEOUT"):
        config.option.timeout = TEST_TIMEOUT


def _installed(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    for module, path in EXTRA_HELPERS.items():
        if collection_path == config.rootpath / path and not _installed(module):
            return True
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for module, (path, what) in EXTRA_DOCTESTS.items():
        if _installed(module):
            continue
        skip = pytest.mark.skip(reason=f"needs {what}, which is not installed")
        for item in items:
            if item.nodeid.startswith(path):
                item.add_marker(skip)


settings.register_profile(
    "ci",
    max_examples=25,
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=1000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=10, deadline=None)
