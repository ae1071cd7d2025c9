"""What every ``symattn`` command shares: the parser (usage errors, ``--version``, ``-v``), the
renderer's escaping, ``python -m symattn``, starting up, and solving a dataset's prediction once.

Each command has its own module, ``tests/test_cli_<command>.py``; ``tests/cli_support.py`` runs
the hostile-input rows they all hold.
"""

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import EX, TRAIN, Row, file_in, json_dataset, row_params, run_row

from symattn.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_usage_errors_exit_2(capsys):
    assert main(["analyze"]) == 2
    assert main(["no-such-command"]) == 2


def test_python_dash_m_from_checkout():
    result = subprocess.run(
        [sys.executable, "-m", "symattn", "analyze", "--example", "default", "--json"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["vocab"][0] == "a"


def _escaped(_tmp: Path, text: str) -> None:
    assert "\u202e" not in text and "\\u202e" in text


CLI_ROWS = [
    Row("--version", ["--version"], 0, "symattn 0.1.0"),
    Row("-v for analyze", ["-v", "analyze", *EX], 0, "symattn: graph-SVM: optimal, certified"),
    Row("-v for train", ["-v", *TRAIN, "--steps", "5"], 0, "symattn: train gd on n=12, d=6: steps 0 to 5"),
    # the renderer writes every character a terminal would act on as an escape
    Row("bidirectional override escaped", ["analyze", "{tmp}/d.json"], 0, "\\u202e",
        file_in("d.json", json_dataset(["x\u202e", "b"], [{"tokens": ["b", "x\u202e"], "label": "b"}])), _escaped),
]


@pytest.mark.parametrize("row", row_params(CLI_ROWS))
def test_cli_row(row: Row, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    run_row(row, tmp_path, capsys, monkeypatch)


@pytest.mark.timeout(120)
def test_ctrl_c_while_the_command_starts(tmp_path: Path):
    # The console script imports symattn before main() runs; a Ctrl-C arriving while networkx is
    # being imported (inside ``import symattn``) must not print a traceback.
    code = (
        "import signal, sys\n"
        "sys.argv[0] = 'symattn'\n"
        "class Hook:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'networkx':\n"
        "            signal.raise_signal(signal.SIGINT)\n"
        "sys.meta_path.insert(0, Hook())\n"
        "from symattn.cli import main\n"
        "sys.exit(main(['demo']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 130, result.stderr
    assert result.stderr == "symattn: interrupted while starting; nothing was done\n"


def _count_solves(monkeypatch) -> dict[bytes, int]:
    """Count the finite-component solves of every command, per dataset (its tokens and labels)."""
    predict_module = importlib.import_module("symattn.predict")  # the module, not the function of that name
    solved: dict[bytes, int] = {}
    original = predict_module.finite_component

    def counting(graphs, **kw):
        ds = graphs.dataset
        key = ds.tokens.tobytes() + b"|" + ds.offsets.tobytes() + b"|" + ds.labels.tobytes()
        solved[key] = solved.get(key, 0) + 1
        return original(graphs, **kw)

    monkeypatch.setattr(predict_module, "finite_component", counting)
    return solved


@pytest.mark.parametrize("argv", [["analyze", "--example", "default"], ["demo"],
                                  ["train", "--example", "default", "--steps", "3", "--no-progress"]])
def test_each_command_solves_the_prediction_once(monkeypatch, capsys, argv):
    solved = _count_solves(monkeypatch)
    assert main(argv) in (0, 1)
    capsys.readouterr()
    assert list(solved.values()) == [1]


def test_verify_solves_the_prediction_of_its_dataset_once(monkeypatch, tmp_path, capsys):
    import numpy as np

    from symattn import load_example, regularization_path, save_dataset

    ds = load_example("default")
    save_dataset(ds, tmp_path / "d.json")
    np.save(tmp_path / "w.npy", regularization_path(ds, [1.0, 10.0, 40.0]).W)
    solved = _count_solves(monkeypatch)
    main(["verify", str(tmp_path / "d.json"), str(tmp_path / "w.npy"), "--step", "0"])
    capsys.readouterr()
    key = ds.tokens.tobytes() + b"|" + ds.offsets.tobytes() + b"|" + ds.labels.tobytes()
    assert solved[key] == 1  # the diagnoses may solve other datasets (pseudo-graph, re-queried)
