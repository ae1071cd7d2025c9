"""``symattn conjecture``: exit codes 0/1/2/4, bundles, replay, the catalogue list, JSON."""

from __future__ import annotations

import json

import pytest

from symattn.cli import main
from symattn.conjecture.catalogue import CATALOGUE

USER_FILE = '''
from hypothesis import strategies as st

from symattn import solve_graph_svm
from symattn.conjecture import conjecture
from symattn.strategies import datasets


def svm_is_zero(ds):
    if solve_graph_svm(ds).norm != 0:
        raise AssertionError("W^svm is not zero")


def holds(ds):
    return True


def crashes(ds):
    return 1 / (len(ds) - 1)


@conjecture(R=st.integers(0, 10))
def radius_small(ds, R):
    return R < 7


TINY = datasets(max_vocab=2, max_samples=2, max_length=2)
'''


@pytest.fixture
def user_file(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(USER_FILE, encoding="utf-8")
    return path


def run(capsys, *argv):
    code = main(["conjecture", *map(str, argv), "--no-progress"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_refutation_exits_1_writes_the_bundle_and_replays(user_file, tmp_path, capsys):
    out_dir = tmp_path / "out"
    code, out, _ = run(capsys, f"{user_file}::svm_is_zero", "--examples", 100, "--out", out_dir)
    assert code == 1
    assert "conjecture svm_is_zero: REFUTED after" in out and "W^svm is not zero" in out
    assert "counterexample: 1 sample(s), 2 positions, K=2" in out
    data, report = out_dir / "svm_is_zero.json", out_dir / "svm_is_zero.report.json"
    assert data.is_file() and report.is_file()
    assert f"replay: symattn conjecture {user_file.resolve()}::svm_is_zero --replay {data}" in out
    code, out, _ = run(capsys, "--replay", data)  # the report names the conjecture
    assert code == 1 and "REFUTED on the example in" in out
    assert main(["analyze", str(data)]) == 0


def test_a_survivor_exits_0_and_says_what_was_tried(user_file, capsys):
    code, out, _ = run(capsys, f"{user_file}::holds", "--examples", 30, "--seed", 4)
    assert code == 0
    assert "conjecture holds: SURVIVED, no counterexample in 30 examples (seed 4)" in out
    assert "cyclic" in out and "with repeated tokens" in out


def test_an_error_of_the_conjecture_exits_4_with_its_traceback(user_file, tmp_path, capsys):
    code, out, _ = run(capsys, f"{user_file}::crashes", "--examples", 20, "--out", tmp_path)
    assert code == 4
    assert "ERROR" in out and "ZeroDivisionError" in out and "Traceback" in out
    assert json.loads((tmp_path / "crashes.report.json").read_text())["verdict"] == "error"


def test_a_file_that_raises_when_executed_exits_4(tmp_path, capsys):
    path = tmp_path / "broken.py"
    path.write_text("raise RuntimeError('broken at import')\n", encoding="utf-8")
    code, _, err = run(capsys, f"{path}::anything")
    assert code == 4 and "RuntimeError: broken at import" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["{dir}/absent.py::x"], "does not exist"),
        (["{file}::absent"], "has no 'absent'"),
        (["{file}::TINY"], "not a function"),
        (["{file}"], "FILE.py::NAME"),
        (["catalogue:absent"], "no conjecture"),
        (["{file}::holds", "--examples", "0"], "examples=0"),
        (["{file}::holds", "--seed", "-1"], "seed=-1"),
        (["{file}::holds", "--strategy", "nope"], "unknown strategy"),
        (["{file}::holds", "--workers", "0"], "workers=0"),
        ([], "give a conjecture"),
        (["--replay", "{dir}/absent.json"], "cannot read"),
    ],
)
def test_bad_input_exits_2(user_file, tmp_path, capsys, argv, message):
    argv = [a.format(file=user_file, dir=tmp_path) for a in argv]
    code, _, err = run(capsys, *argv)
    assert code == 2 and message in err


def test_declared_arguments_and_a_strategy_from_the_users_file(user_file, tmp_path, capsys):
    code, out, _ = run(capsys, f"{user_file}::radius_small", "--examples", 100, "--out", tmp_path,
                       "--strategy", f"{user_file}::TINY")
    assert code == 1 and "R = 7" in out
    report = json.loads((tmp_path / "radius_small.report.json").read_text())
    assert report["arguments"] == {"R": 7} and report["strategy"].endswith("::TINY")
    code, _, _ = run(capsys, f"{user_file}::radius_small", "--replay", tmp_path / "radius_small.report.json")
    assert code == 1


def test_json_output(user_file, tmp_path, capsys):
    code, out, _ = run(capsys, f"{user_file}::svm_is_zero", "--examples", 60, "--out", tmp_path, "--json")
    obj = json.loads(out)
    assert code == 1 and obj["verdict"] == "refuted" and obj["report"]["format"] == "symattn.counterexample/1"
    assert obj["files"] == [str(tmp_path / "svm_is_zero.json"), str(tmp_path / "svm_is_zero.report.json")]
    code, out, _ = run(capsys, f"{user_file}::holds", "--examples", 10, "--json")
    assert code == 0 and json.loads(out)["examples_tried"] == 10


def test_the_list_names_every_catalogue_entry_and_strategy(capsys):
    code, out, _ = run(capsys, "--list")
    assert code == 0 and all(name in out for name in CATALOGUE) and "realised" in out
    code, out, _ = run(capsys, "--list", "--json")
    listed = json.loads(out)
    assert {e["name"] for e in listed["catalogue"]} == set(CATALOGUE) and "uniform" in listed["strategies"]


def test_a_catalogue_counterexample_replays_from_the_command_line(capsys):
    from symattn.conjecture.catalogue import counterexample_path

    code, out, _ = run(capsys, "--replay", counterexample_path("prompt-top-scc-unique"))
    assert code == 1 and "2 top SCCs" in out


def test_a_sweep_from_the_command_line(user_file, capsys):
    pytest.importorskip("distributed", reason="sweeps need the optional extra 'sweep'")
    code, out, _ = run(capsys, f"{user_file}::holds", "--examples", 40, "--workers", 2)
    assert code == 0 and "no counterexample in 40 examples (seed 0, 2 Dask workers)" in out
