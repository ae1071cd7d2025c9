"""``symattn prove``: one line per proof, exit codes, ``--write-docs``, and finding the ``proofs`` package."""

from __future__ import annotations

from pathlib import Path

import pytest

import proofs
from proofs import ProofFailed, proof_compression
from symattn.cli import load_proofs, main
from symattn.errors import SymAttnError

ROOT = Path(__file__).resolve().parent.parent


def test_write_docs_writes_every_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(proofs, "render_page", lambda name: f"# {name}\n")
    monkeypatch.setattr(proofs, "run", lambda names: ())
    assert main(["prove", "--write-docs", "--docs-dir", str(tmp_path)]) == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted([f"{n}.md" for n in proofs.NAMES] + ["index.md"])
    assert (tmp_path / "kkt.md").read_text() == "# kkt\n"
    assert capsys.readouterr().out.count("wrote ") == len(written)


def test_prove_command_prints_one_line_per_proof(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prove", "--only", "compression", "--only", "reachability"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["compression", "passed"]
    assert lines[1].split()[:2] == ["reachability", "passed"]
    assert lines[2].startswith("2 proof(s): 2 passed, 0 failed")


def test_prove_command_fails_when_a_proof_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fails() -> None:
        raise ProofFailed("broken step")

    monkeypatch.setattr(proof_compression, "check", fails)
    assert main(["prove", "--only", "compression", "--write-docs"]) == 1
    out = capsys.readouterr().out
    assert "failed" in out and "wrote" not in out


def test_prove_command_refuses_unknown_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prove", "--only", "nope"]) == 2
    assert "unknown proof 'nope'" in capsys.readouterr().err


def test_missing_proofs_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SymAttnError, match="proofs/ directory was not found"):
        load_proofs(tmp_path)


def test_load_proofs_finds_the_checkout() -> None:
    assert load_proofs() is proofs
    assert load_proofs(ROOT) is proofs


def test_a_foreign_proofs_module_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    monkeypatch.setitem(__import__("sys").modules, "proofs", types.ModuleType("proofs"))
    with pytest.raises(SymAttnError, match="not symattn's"):
        load_proofs()
