"""``symattn verify``: exit codes, formats, options, JSON."""

import json

import numpy as np
import pytest

from symattn import Dataset, regularization_path, save_dataset
from symattn.cli import main

SAMPLES = [(["a", "b", "c", "d"], "a"), (["a", "b", "c", "d"], "b"), (["b", "a", "d"], "b"), (["c", "a", "d"], "a"),
           (["c", "b", "d"], "c"), (["b", "c"], "c"), (["a", "c"], "a")]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("verify")
    ds = Dataset.from_samples(SAMPLES, vocab=["a", "b", "c", "d"])
    save_dataset(ds, folder / "data.json")
    W = regularization_path(ds, list(np.geomspace(1.0, 40.0, 6))).W
    np.save(folder / "w.npy", W)
    np.savez(folder / "all.npz", good=W, flipped=W.T, small=W / 100)
    U, s, Vt = np.linalg.svd(W)
    np.savez(folder / "factors.npz", K=U * s, Q=Vt.T)
    return folder, ds, W


def run(capsys, *argv):
    code = main(["verify", *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_pass_text(files, capsys):
    folder, _, _ = files
    code, out, _ = run(capsys, folder / "data.json", folder / "w.npy", "--step", "0")
    assert code == 0
    assert "verdict: PASS" in out and "direction" in out and "generalisation" in out


def test_json_exit_codes(files, capsys):
    folder, _, _ = files
    for key, verdict, expected in (("good", "pass", 0), ("flipped", "fail", 1), ("small", "inconclusive", 3)):
        code, out, _ = run(capsys, folder / "data.json", folder / "all.npz", "--key", key, "--json")
        obj = json.loads(out)
        assert (code, obj["verdict"]) == (expected, verdict)
        assert obj["weights"] == f"all.npz[{key}]"
        assert all({"name", "value", "expected", "tolerance", "passed"} <= set(c) for c in obj["checks"])


def test_query_side_left(files, capsys):
    folder, _, _ = files
    code, _, _ = run(capsys, folder / "data.json", folder / "all.npz", "--key", "flipped", "--query-side", "left")
    assert code == 0


def test_factors(files, capsys):
    folder, _, _ = files
    code, out, _ = run(capsys, folder / "data.json", folder / "factors.npz", "--factors", "--json")
    assert code == 0 and json.loads(out)["weights"] == "factors.npz[K] factors.npz[Q]"


def test_prompts_file(files, capsys):
    folder, _, W = files
    (folder / "prompts.txt").write_text("a b d\n# a comment\nc b a d\nb c\n")
    bad = W.copy()
    bad[:, 3] = -bad[:, 3]
    np.save(folder / "bad.npy", bad)
    code, out, _ = run(capsys, folder / "data.json", folder / "bad.npy", "--prompts", folder / "prompts.txt", "--json")
    obj = json.loads(out)
    assert code == 1 and ["a", "b", "d"] in obj["failing_prompts"]


def test_embeddings_file(files, capsys):
    folder, _, W = files
    np.save(folder / "e.npy", 2.0 * np.eye(4))    # embeddings twice as long: W^svm, W^fin, W_R scale by 1/4
    code, _, _ = run(capsys, folder / "data.json", folder / "w.npy", "--embeddings", folder / "e.npy")
    assert code == 1
    np.save(folder / "quarter.npy", W / 4)
    code, _, _ = run(capsys, folder / "data.json", folder / "quarter.npy", "--embeddings", folder / "e.npy",
                     "--step", "0")
    assert code == 0


@pytest.mark.parametrize("extra, message", [
    (["--key", "nothing"], "no member 'nothing'"),
    (["--step", "-1"], "'-1' must be a finite number >= 0"),
    (["--threshold", "1"], "'1' must be an attention mass"),
    (["--factors"], "no member 'K'"),
])
def test_bad_input_exits_2(files, capsys, extra, message):
    folder, _, _ = files
    code, _, err = run(capsys, folder / "data.json", folder / "all.npz", *extra)
    assert code == 2 and message in err


def test_bad_files_exit_2(files, capsys):
    folder, _, _ = files
    (folder / "p.txt").write_text("a zz d\n")
    code, _, err = run(capsys, folder / "data.json", folder / "w.npy", "--prompts", folder / "p.txt")
    assert code == 2 and "line 1" in err and "zz" in err
    code, _, err = run(capsys, folder / "data.json", folder / "missing.npy")
    assert code == 2 and "cannot read" in err
