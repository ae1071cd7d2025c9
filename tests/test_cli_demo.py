"""``symattn demo``: the worked example, its graph-SVM and finite parts, and the automaton section."""

import json

from symattn.cli import main


def test_demo_runs(capsys):
    assert main(["demo"]) == 0
    assert "query f" in capsys.readouterr().out


def test_cli_demo_and_text_output(capsys, tmp_path):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "certified exactly: ||W||^2 = 3" in out and "query f: a=-1/2, b=1/2, d=1/2, f=-1/2" in out
    assert "finite component W^fin: status converged, dim S_fin = 3" in out
    path = tmp_path / "floats.json"
    path.write_text(json.dumps({
        "format": "symattn.dataset/1", "vocab": 3,
        "embeddings": {"rows": [[1.5, 0.25, 0], [0, 1, 0.5], [0.25, 0, 1]]},
        "samples": [{"tokens": [0, 1, 2], "label": 0}, {"tokens": [1, 2], "label": 1}],
    }))
    assert main(["analyze", str(path)]) == 0
    out = capsys.readouterr().out
    assert "gram solver" in out and "not certified (floating-point embeddings)" in out


def test_demo_shows_the_automaton(capsys):
    assert main(["demo"]) == 0
    text = capsys.readouterr().out
    assert "the automaton on new prompts" in text
    assert "prompt: a b b c   (query c, determined)" in text and "next token: b 0.5, c 0.375, a 0.125" in text
    assert "retrieved {c}: not in G_f" in text and "a d b f | " in text
