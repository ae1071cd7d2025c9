"""``symattn next``: the automaton's next token on new prompts, prompts from stdin and files, ``--weights``."""

import io
import json

import numpy as np
import pytest
from cli_support import stdout_json

from symattn import FileFormatError, automaton, load_example
from symattn.cli import main
from symattn.cli._prompts import read_stdin


def test_next_json_schema(capsys):
    assert main(["next", "--example", "default", "a b d f", "a f", "a e a", "--json"]) == 0
    first, incomparable, unseen = stdout_json(capsys)
    assert first["prompt"] == ["a", "b", "d", "f"] and first["retrieved"] == ["b", "d"]
    assert first["distribution"] == {"a": 0.0, "b": 0.5, "d": 0.5, "f": 0.0}
    assert first["status"] == "determined" and first["graph_unique"]
    assert first["dropped"][0] == {"token": "a", "reason": "priority", "path": ["b", "a"], "witnesses": [10],
                                   "gap": 1.0}
    assert incomparable["status"] == "incomparable" and incomparable["distribution"] is None
    assert [g["distribution"] for g in incomparable["groups"]] == [{"a": 1.0}, {"f": 1.0}]
    assert unseen["unseen_query"] and unseen["absent"] == ["a", "e"]
    assert unseen["distribution"] == pytest.approx({"a": 2 / 3, "e": 1 / 3}, abs=1e-12)


def test_next_text_explains(tmp_path, capsys):
    data = tmp_path / "d.txt"
    data.write_text("a d e -> d\na e -> a\n")
    assert main(["next", str(data), "a d e", "d e"]) == 0
    text = capsys.readouterr().out
    assert "retrieved {d}: SCC [0] of G_e" in text
    assert "dropped a: priority path d > a in G_e (sample 0: a d e -> d)" in text
    assert "next token: d 1, a 0, e 0" in text


def test_next_reads_stdin_and_files(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"a b c\n# comment\n\nb c\n")))
    prompts = tmp_path / "p.json"
    prompts.write_text(json.dumps({"format": "symattn.prompts/1", "vocab": list("abcdef"),
                                   "samples": [{"tokens": ["d", "e"]}]}))
    assert main(["next", "--example", "default", "-", "--prompts", str(prompts), "--json"]) == 0
    assert [o["prompt"] for o in stdout_json(capsys)] == [["a", "b", "c"], ["b", "c"], ["d", "e"]]


def test_read_stdin_is_bounded(monkeypatch):
    monkeypatch.setenv("SYMATTN_MAX_PROMPTS_BYTES", "4")
    with pytest.raises(FileFormatError, match="<stdin>: more than the limit of 4 bytes for prompt files"):
        read_stdin(io.BytesIO(b"a b c d"))


def test_next_with_weights(tmp_path, capsys):
    ds = load_example()
    pred = automaton(ds).prediction
    path = tmp_path / "W.npy"
    np.save(path, 40 * pred.W_svm / pred.svm.norm + pred.W_fin)
    assert main(["next", "--example", "default", "a b d f", "a f", "--weights", str(path), "--json"]) == 0
    determined, incomparable = stdout_json(capsys)
    assert determined["weights"]["retrieval_agrees"] and determined["weights"]["tv"] < 1e-6
    assert incomparable["weights"]["tv"] is None
    assert sum(incomparable["weights"]["distribution"].values()) == pytest.approx(1.0)
    assert main(["next", "--example", "default", "a b d f", "--weights", str(path)]) == 0
    assert "retrieval agrees" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["next", "--example", "default"], "no prompt given"),
     (["next", "--example", "default", "a zz"], "prompt 1 ('a zz'): unknown token name 'zz'"),
     (["next", "--example", "default", "-", "-"], "may be given once"),
     (["next", "--example", "default", "a", "--threshold", "2"], "threshold"),
     (["next", "--example", "default", "a", "--weights", "missing.npy"], "cannot read")],
)
def test_bad_input_exits_2(capsys, argv, message):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_bad_weights_files_exit_2(tmp_path, capsys):
    wrong = tmp_path / "W.npy"
    np.save(wrong, np.eye(3))
    pickled = tmp_path / "obj.npy"
    np.save(pickled, np.array([[None]], dtype=object), allow_pickle=True)
    for path in (wrong, pickled):
        assert main(["next", "--example", "default", "a b", "--weights", str(path)]) == 2
        assert str(path.name) in capsys.readouterr().err
    npz = tmp_path / "W.npz"
    np.savez(npz, first=np.zeros((6, 6)), second=np.eye(6))
    assert main(["next", "--example", "default", "a b", "--weights", str(npz)]) == 2
    assert "['first', 'second']; name the one holding W" in (err := capsys.readouterr().err) and "--weights-key NAME for next" in err
    assert main(["next", "--example", "default", "a b", "--weights", str(npz), "--weights-key", "second",
                 "--json"]) == 0
    e = np.e  # W = I: the query b scores 1, a scores 0 (the member "first", zeros, would give 1/2 each)
    assert stdout_json(capsys)[0]["weights"]["distribution"] == pytest.approx({"a": 1 / (1 + e), "b": e / (1 + e)})
