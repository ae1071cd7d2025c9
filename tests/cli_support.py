"""What the command tests (``tests/test_cli*.py``) share: the hostile-input row and its runner.

A :class:`Row` runs ``symattn`` in-process on one hostile input and checks the exit code and a
fragment of what it printed (stdout and stderr together), plus, where the row is about work lost
or a silent wrong answer, what is on disk afterwards. Each command's module holds its own rows.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from symattn.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = (ROOT / "symattn" / "examples" / "default.txt").read_text()

try:
    import matplotlib  # noqa: F401
except ImportError:
    HAS_MATPLOTLIB = False  # the optional plot extra: the commands then write no figures and say so
else:
    HAS_MATPLOTLIB = True

EX = ["--example", "default"]
TRAIN = ["train", *EX, "--no-progress"]
CK = ["--checkpoint", "{tmp}/ck.npz"]


def stdout_json(capsys: pytest.CaptureFixture[str]) -> object:
    """What the command printed on stdout, read as JSON."""
    return json.loads(capsys.readouterr().out)


def file_in(name: str, content: str | bytes) -> Callable[[Path], None]:
    """A setup writing ``content`` to ``name`` in the test's directory."""

    def make(tmp: Path) -> None:
        data = content.encode() if isinstance(content, str) else content
        (tmp / name).write_bytes(data)

    return make


def fifo_in(name: str) -> Callable[[Path], None]:
    """A setup making a named pipe ``name`` in the test's directory."""
    return lambda tmp: os.mkfifo(tmp / name)


def json_dataset(vocab: object, samples: list[dict[str, object]]) -> str:
    """The text of a ``symattn.dataset/1`` file."""
    return json.dumps({"format": "symattn.dataset/1", "vocab": vocab, "samples": samples})


@dataclass(frozen=True)
class Row:
    """One hostile input: ``argv`` (``{tmp}`` is the test's directory), the exit code, a fragment."""

    id: str
    argv: list[str]
    code: int
    fragment: str
    setup: Callable[[Path], None] | None = None
    check: Callable[[Path, str], None] | None = None
    env: dict[str, str] = field(default_factory=dict)
    stdin: bytes | None = None
    patch: Callable[[pytest.MonkeyPatch], None] | None = None
    during: Callable[[Path], contextlib.AbstractContextManager[object]] | None = None
    timeout: int = 120
    needs: tuple[str, str] | None = None
    """An optional extra the row is about, as (module, what it is): without it the row is skipped."""


def _installed(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def row_params(rows: Sequence[Row]) -> list[object]:
    """``rows`` as pytest parameters, each named by its id and carrying its time limit; a row whose
    optional extra is missing is skipped with the reason."""
    params = []
    for r in rows:
        marks = [pytest.mark.timeout(r.timeout)]
        if r.needs is not None and not _installed(r.needs[0]):
            marks.append(pytest.mark.skip(reason=f"needs {r.needs[1]}, which is not installed"))
        params.append(pytest.param(r, id=r.id, marks=marks))
    return params


def run_row(row: Row, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Run ``row`` in ``tmp_path`` and check its exit code, its fragment, no traceback, and its check."""
    if row.setup is not None:
        row.setup(tmp_path)
    for key, value in row.env.items():
        monkeypatch.setenv(key, value)
    if row.stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(row.stdin)))
    if row.patch is not None:
        row.patch(monkeypatch)
    old = os.umask(0o022)
    try:
        with row.during(tmp_path) if row.during is not None else contextlib.nullcontext():
            code = main([a.replace("{tmp}", str(tmp_path)) for a in row.argv])
    finally:
        os.umask(old)
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert code == row.code, text
    assert row.fragment.replace("{tmp}", str(tmp_path)) in text, text
    assert "Traceback" not in text
    if row.check is not None:
        row.check(tmp_path, text)
