"""``symattn generate``: continuations from the theory or from ``--weights``, reproducible by seed."""

import json

import pytest
from cli_support import stdout_json

from symattn.cli import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["generate", "--example", "default", "--prompt", "a", "--steps", "0"], "steps=0"),
     (["generate", "--example", "default", "--prompt", "a", "--seed", "-1"], "seed=-1 must be a non-negative"),
     (["generate", "--example", "default", "--steps", "2"], "no prompt given")],
)
def test_bad_input_exits_2(capsys, argv, message):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_generate_json_reproducible(capsys):
    argv = ["generate", "--example", "default", "--prompt", "a b c", "--prompt", "b d f", "--steps", "5",
            "--samples", "3", "--seed", "7", "--json"]
    assert main(argv) == 0
    one = stdout_json(capsys)
    assert main(argv) == 0
    assert stdout_json(capsys) == one
    assert one["status"] == "completed" and one["seed"] == 7 and one["source"] == "theory"
    assert [len(c["tokens"]) for c in one["prompts"][1]["continuations"]] == [5, 5, 5]


def test_generate_undetermined_exits_1_and_weights_continue(tmp_path, capsys):
    assert main(["generate", "--example", "default", "--prompt", "a f", "--steps", "2"]) == 1
    assert "stopped: not fixed by the theory" in capsys.readouterr().out
    path = tmp_path / "W.json"
    path.write_text(json.dumps([["1/2"] * 6] * 6))
    assert main(["generate", "--example", "default", "--prompt", "a f", "--steps", "2", "--greedy",
                 "--weights", str(path)]) == 0
    assert "a f | a a" in capsys.readouterr().out
