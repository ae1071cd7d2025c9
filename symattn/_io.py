"""Private file helpers: atomic writes shared by every module that saves a file."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import numpy as np

from symattn.errors import FileFormatError, InvalidInput

__all__ = ["atomic_save_npz", "atomic_write_bytes", "atomic_write_text", "save_text"]


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a part.

    The bytes go to a temporary file in the same directory, are flushed to disk, and the
    temporary file then replaces ``path`` (``os.replace`` is atomic on POSIX and Windows).

    >>> folder = Path(tempfile.mkdtemp())
    >>> atomic_write_bytes(folder / "a.bin", b"xy").read_bytes(), sorted(p.name for p in folder.iterdir())
    (b'xy', ['a.bin'])
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 ``text`` atomically (see :func:`atomic_write_bytes`).

    >>> atomic_write_text(Path(tempfile.mkdtemp()) / "sub" / "a.txt", "é").read_text(encoding="utf-8")
    'é'
    """
    return atomic_write_bytes(path, text.encode("utf-8"))


def save_text(path: object, text: str) -> Path:
    """Write ``text`` atomically to a path the user gave; what cannot be written is bad input.

    Raises :class:`~symattn.errors.InvalidInput` for a path that is not a non-empty string or
    path-like, and :class:`~symattn.errors.FileFormatError` naming the path and the fix for a
    directory or a place that cannot be written (no temporary file is left behind).

    >>> folder = Path(tempfile.mkdtemp())
    >>> save_text(folder / "a.txt", "x").read_text(encoding="utf-8")
    'x'
    >>> save_text(folder, "x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    symattn.errors.FileFormatError: ...: is a directory; give a file name
    """
    if not isinstance(path, str | os.PathLike) or not str(path):
        raise InvalidInput(f"path {path!r} must be a non-empty string or a path-like object")
    target = Path(path)
    if target.is_dir():
        raise FileFormatError(f"{target}: is a directory; give a file name")
    try:
        return atomic_write_text(target, text)
    except OSError as exc:
        raise FileFormatError(
            f"{target}: cannot write ({exc.strerror or exc}); choose a path in a writable directory"
        ) from None


def atomic_save_npz(path: str | os.PathLike[str], **arrays: np.ndarray) -> Path:
    """Save arrays as an uncompressed ``.npz`` atomically; object arrays are refused.

    >>> path = atomic_save_npz(Path(tempfile.mkdtemp()) / "a.npz", w=np.eye(2))
    >>> np.load(path, allow_pickle=False)["w"].tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    for name, value in arrays.items():
        if np.asarray(value).dtype == object:
            raise TypeError(f"array {name!r} has dtype object, which .npz cannot hold safely")
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    return atomic_write_bytes(path, buffer.getvalue())
