"""``symattn reproduce``: the published experiment, shortened; figures, JSON, exit codes and hostile inputs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from cli_support import HAS_MATPLOTLIB, Row, row_params, run_row

from symattn.cli import main


def test_cli_reproduce(capsys, tmp_path):
    code = main(["reproduce", "--trials", "1", "--steps", "20", "--radii", "5", "20", "--no-progress",
                 "--out", str(tmp_path)])
    assert code == 0
    text = capsys.readouterr().out
    assert "published" in text and "regularisation path" in text
    figures = (tmp_path / "reproduce_ngd.png", tmp_path / "reproduce_path.png")
    assert all(f.exists() for f in figures) is HAS_MATPLOTLIB


def test_cli_reproduce_exit_codes(capsys):
    assert main(["reproduce", "--trials", "0", "--no-progress"]) == 2
    assert "trials=0" in capsys.readouterr().err
    assert main(["reproduce", "--trials", "1", "--steps", "5", "--radii", "2", "1e9", "--no-progress",
                 "--json"]) == 1
    captured = capsys.readouterr()
    assert "did not complete" in captured.err
    assert json.loads(captured.out)["success"] is False


# -- hostile inputs (issue 10) ------------------------------------------------------------------
def _no_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)


def _reproduce_json(tmp: Path, _text: str) -> None:
    payload = json.loads((tmp / "r" / "reproduce.json").read_text())
    assert len(payload["trials"]) == 1 and not (tmp / "r" / "reproduce_ngd.png").exists()


CLI_ROWS = [
    Row("reproduce --seed -1", ["reproduce", "--trials", "1", "--steps", "5", "--seed", "-1", "--no-progress"], 2,
        "seed=-1 must be a non-negative integer"),
    Row("reproduce options have help", ["reproduce", "--help"], 0, "number of random datasets (default 10)"),
    Row("reproduce --out without matplotlib", ["reproduce", "--trials", "1", "--steps", "5", "--radii", "2",
        "--no-progress", "--out", "{tmp}/r"], 0, "no figures", check=_reproduce_json, patch=_no_matplotlib),
]


@pytest.mark.parametrize("row", row_params(CLI_ROWS))
def test_cli_row(row: Row, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    run_row(row, tmp_path, capsys, monkeypatch)
