"""``symattn vectors``: exporting the conformance vectors and writing a certificate for a dataset."""

from __future__ import annotations

import json

import symattn.cli.checkcert as checkcert
from symattn.cli import main


def test_cli_export_and_certificate(tmp_path, capsys):
    assert main(["vectors", "export", str(tmp_path / "v"), "--cases", "chain,three-cycle", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in payload["cases"]] == ["chain", "three-cycle"] and payload["bytes"] > 0
    assert main(["vectors", "export", str(tmp_path / "w"), "--cases", "chain"]) == 0
    assert "1 case(s) written" in capsys.readouterr().out
    assert main(["vectors", "export", str(tmp_path / "x"), "--cases", "nope"]) == 2
    assert not (tmp_path / "x").exists()
    assert main(["vectors", "export", str(tmp_path / "x"), "--cases", " "]) == 2
    cert = tmp_path / "c.json"
    assert main(["vectors", "certificate", "--example", "default", "-o", str(cert)]) == 0
    assert all(ok for _, ok, _ in checkcert.check(json.loads(cert.read_text())))
    capsys.readouterr()
    floats = tmp_path / "floats.json"
    floats.write_text(json.dumps({"format": "symattn.dataset/1", "vocab": 2, "embeddings": {"rows": [[0.5, 0.1], [0, 1]]},
                                  "samples": [{"tokens": [0, 1], "label": 0}]}))
    assert main(["vectors", "certificate", str(floats), "-o", str(tmp_path / "d.json")]) == 2
    assert "exact embeddings" in capsys.readouterr().err


def test_cli_certificate_refuses_a_vocabulary_above_the_dense_limit(tmp_path, capsys, monkeypatch):
    """The certificate file holds W as d x d rows: refused before solving, not after filling memory."""
    monkeypatch.delenv("SYMATTN_MAX_TOKENS", raising=False)
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"format": "symattn.dataset/1", "vocab": 10**6,
                               "samples": [{"tokens": [0, 1], "label": 0}]}))
    assert main(["vectors", "certificate", str(big), "-o", str(tmp_path / "c.json")]) == 2
    assert "the certificate file (W as d x d rows) forms dense d x d" in capsys.readouterr().err
    assert not (tmp_path / "c.json").exists()
