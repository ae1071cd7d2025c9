import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from symattn.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_analyze_json_schema(capsys):
    assert main(["analyze", "--example", "default", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["vocab"] == ["a", "b", "c", "d", "e", "f"]
    assert out["queries"]["c"] == {"sccs": [["a", "b", "c"]], "dag": []}
    assert out["queries"]["e"] == {"sccs": [["d"], ["a"], ["e"]], "dag": [[0, 1], [0, 2], [1, 2]]}
    assert out["queries"]["f"]["sccs"][0] == ["b", "d"]
    assert len(out["samples"]) == 12


def test_analyze_text_file(tmp_path, capsys):
    path = tmp_path / "d.txt"
    path.write_text("x y q -> x\ny q -> y\n")
    assert main(["analyze", str(path)]) == 0
    out = capsys.readouterr().out
    assert "query q: 3 tokens, 3 edges, acyclic" in out
    assert "[0] {x}" in out and "[1] {y}" in out and "[2] {q}" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [("x y -> z\n", "label=z is not in the sequence"), ("nonsense\n", "is not of the form")],
)
def test_bad_input_exits_2(tmp_path, capsys, content, message):
    path = tmp_path / "d.txt"
    path.write_text(content)
    assert main(["analyze", str(path)]) == 2
    assert message in capsys.readouterr().err


def test_drop_unrealizable_flag(tmp_path, capsys):
    path = tmp_path / "d.txt"
    path.write_text("x y -> x\nx y -> z\n")
    assert main(["analyze", str(path), "--drop-unrealizable"]) == 0
    assert "1 unrealizable sample(s) dropped" in capsys.readouterr().out


def test_usage_errors_exit_2(capsys):
    assert main(["analyze"]) == 2
    assert main(["no-such-command"]) == 2


def test_demo_runs(capsys):
    assert main(["demo"]) == 0
    assert "query f" in capsys.readouterr().out


def test_python_dash_m_from_checkout():
    result = subprocess.run(
        [sys.executable, "-m", "symattn", "analyze", "--example", "default", "--json"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["vocab"][0] == "a"


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
