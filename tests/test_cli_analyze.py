"""``symattn analyze``: text and JSON output, the exact graph-SVM and finite parts, and hostile inputs."""

import json
from pathlib import Path

import numpy as np
import pytest
from cli_support import EXAMPLE, Row, fifo_in, file_in, json_dataset, row_params, run_row
from svm_cases import INFEASIBLE

from symattn import load_example, realise
from symattn.cli import main


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


def test_cli_analyze_json_has_exact_svm_and_finite_parts(capsys):
    assert main(["analyze", "--example", "default", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    svm, fin = payload["svm"], payload["finite"]
    assert svm["status"] == "optimal" and svm["certified"] is True
    assert svm["W"][1][5] == "1/2" and svm["W"][4][4] == "-1" and svm["norm"] == pytest.approx(3**0.5)
    assert fin["dim"] == 3 and fin["certified"] is True and fin["grad_norm"] <= 1e-12
    column = [row[2] for row in fin["W"]]
    pi = np.exp(column[:3]) / np.exp(column[:3]).sum()
    assert np.allclose(pi, [1 / 6, 1 / 3, 1 / 2], atol=1e-12)
    assert "queries" in payload  # the graph part stays


def test_cli_reports_infeasible_embeddings(capsys, tmp_path):
    rows = [[1, 0], [0, 1], [1, 1], [1, -1], [2, 1]]
    ds = realise(INFEASIBLE, vocab=5)
    path = tmp_path / "dependent.json"
    path.write_text(json.dumps({
        "format": "symattn.dataset/1", "vocab": 5, "embeddings": {"rows": rows},
        "samples": [{"tokens": list(s.tokens), "label": s.label} for s in ds],
    }))
    assert main(["analyze", str(path), "--json"]) == 0
    svm = json.loads(capsys.readouterr().out)["svm"]
    assert svm["status"] == "infeasible" and svm["W"] is None and svm["farkas"] == {"verified": True, "exact": True}


def test_cli_refuses_non_finite_embeddings(capsys, tmp_path):
    path = tmp_path / "nan.json"
    path.write_text('{"format": "symattn.dataset/1", "vocab": 2, "embeddings": {"rows": [[1, NaN], [0, 1]]},'
                    ' "samples": [{"tokens": [0, 1], "label": 0}]}')
    assert main(["analyze", str(path), "--json"]) == 2
    assert "finite" in capsys.readouterr().err


def test_analyze_exact_small_rows_exits_0_and_says_certified(tmp_path, capsys):
    example = load_example("default")
    names = list(example.vocab.names)
    rows = [["1/100000" if i == j else "0" for j in range(example.K)] for i in range(example.K)]
    samples = [{"tokens": [names[t] for t in s.tokens], "label": names[s.label]} for s in example]
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps({"format": "symattn.dataset/1", "vocab": names, "embeddings": {"rows": rows},
                                "samples": samples}))
    assert main(["analyze", str(path)]) == 0
    out = capsys.readouterr().out
    assert "infeasible" not in out and "certified exactly" in out and "NOT certified" not in out


# -- hostile inputs (issue 10) ------------------------------------------------------------------
def _bom_stripped(_tmp: Path, text: str) -> None:
    assert json.loads(text[: text.rindex("}") + 1])["vocab"] == ["a", "b"]


CLI_ROWS = [
    # -- untyped crashes and silent wrong results ------------------------------------------------
    Row("token id 10**30", ["analyze", "{tmp}/d.json"], 2, "token 1000000000000000000000000000000 is out of range",
        file_in("d.json", json_dataset(3, [{"tokens": [0, 10**30], "label": 0}]))),
    Row("label 2**63", ["analyze", "{tmp}/d.json"], 2, "label 9223372036854775808 is out of range",
        file_in("d.json", json_dataset(3, [{"tokens": [0, 1], "label": 2**63}]))),
    Row("vocab 1000000 (analyze, sparse)", ["analyze", "{tmp}/d.json"], 0, "query 1: 0=1/2, 1=-1/2",
        file_in("d.json", json_dataset(10**6, [{"tokens": [0, 1], "label": 0}]))),
    Row("token name with ->", ["analyze", "{tmp}/d.json"], 2, "'a->b' at position 0 contains whitespace, '#' or '->'",
        file_in("d.json", json_dataset(["a->b", "c"], [{"tokens": ["c", "a->b"], "label": "c"}]))),
    Row("token name starting vocab:", ["analyze", "{tmp}/d.json"], 2, "starts with 'vocab:'",
        file_in("d.json", json_dataset(["vocab:x", "c"], [{"tokens": ["c", "vocab:x"], "label": "c"}]))),
    # -- unbounded resources -----------------------------------------------------------------------
    Row("dataset /dev/zero", ["analyze", "/dev/zero"], 2, "/dev/zero: a character device, not a regular file"),
    Row("dataset /dev/urandom", ["analyze", "/dev/urandom"], 2, "/dev/urandom: a character device"),
    Row("dataset a FIFO", ["analyze", "{tmp}/fifo"], 2, "{tmp}/fifo: a FIFO (named pipe), not a regular file",
        fifo_in("fifo"), timeout=30),
    Row("dataset a directory", ["analyze", "{tmp}"], 2, "a directory, not a regular file"),
    Row("dataset above the size limit", ["analyze", "{tmp}/d.txt"], 2,
        "above the limit of 100 bytes for dataset files; raise the limit with the environment variable "
        "SYMATTN_MAX_DATASET_BYTES", file_in("d.txt", EXAMPLE * 3), env={"SYMATTN_MAX_DATASET_BYTES": "100"}),
    # -- small things people notice ---------------------------------------------------------------
    Row("control characters in names", ["analyze", "{tmp}/d.json"], 2, "holds a control character",
        file_in("d.json", json_dataset(["\x1b[31mred", "b"], [{"tokens": ["b", "\x1b[31mred"], "label": "b"}]))),
    Row("UTF-8 BOM", ["analyze", "{tmp}/d.txt", "--json"], 0, '"vocab"', file_in("d.txt", "\ufeffa b -> a\n"),
        _bom_stripped),
    Row("- reads standard input", ["analyze", "-"], 0, "query q: 3 tokens", stdin=b"x y q -> x\ny q -> y\n"),
]


@pytest.mark.parametrize("row", row_params(CLI_ROWS))
def test_cli_row(row: Row, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    run_row(row, tmp_path, capsys, monkeypatch)
