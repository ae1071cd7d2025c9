r"""Reading a weight matrix :math:`W` (shape :math:`d \times d`) from a file, bounded and typed.

Two forms (docs/formats.md): NumPy ``.npy`` (read with ``allow_pickle=False``; the header's
shape and dtype are checked before the data are read) and JSON, a list of rows whose entries
are numbers or exact strings like ``"3/2"`` (parsed without evaluation). Every problem raises
:class:`~symattn.errors.FileFormatError` naming the file and the place.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "W.json"
>>> _ = path.write_text('[[0, "1/2"], [0.25, -1]]')
>>> load_weights(path, dim=2).tolist()
[[0.0, 0.5], [0.25, -1.0]]
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from symattn.embeddings import parse_number
from symattn.errors import FileFormatError, InvalidInput

__all__ = ["MAX_WEIGHTS_BYTES", "load_weights"]

MAX_WEIGHTS_BYTES = 2**30
"""Largest weights file read: 1 GiB (a float64 matrix of side about 11,000)."""


def load_weights(path: str | os.PathLike[str], *, dim: int | None = None) -> np.ndarray:
    """Read a square float64 matrix from ``.npy`` or JSON (``.json``, or text starting with ``[``).

    Parameters
    ----------
    path : str or PathLike
        The file.
    dim : int, optional
        The expected side :math:`d` (the embeddings' dimension); checked when given.

    Returns
    -------
    numpy.ndarray, shape (d, d)
        The matrix, finite float64.

    Raises
    ------
    FileFormatError
        When the file cannot be read, is larger than :data:`MAX_WEIGHTS_BYTES`, is not a finite
        numeric square matrix (of side ``dim``), or holds pickled objects.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "W.npy"
    >>> np.save(path, np.eye(3))
    >>> load_weights(path, dim=3).shape
    (3, 3)
    >>> load_weights(path, dim=2)
    Traceback (most recent call last):
    ...
    symattn.errors.FileFormatError: ...W.npy: W has shape (3, 3); the embeddings need (2, 2)
    """
    if not ((isinstance(path, str) and path) or isinstance(path, os.PathLike)):
        raise InvalidInput(f"path {path!r} must be a non-empty string or a path-like object")
    file = Path(path)
    try:
        if file.stat().st_size > MAX_WEIGHTS_BYTES:
            raise FileFormatError(f"{file}: larger than {MAX_WEIGHTS_BYTES:,} bytes")
        with open(file, "rb") as handle:
            magic = handle.read(6)
            handle.seek(0)
            matrix = _read_npy(handle) if magic == b"\x93NUMPY" else _read_json(handle.read())
    except OSError as exc:
        raise FileFormatError(f"{file}: cannot read ({exc.strerror or exc})") from None
    except FileFormatError as exc:
        raise FileFormatError(f"{file}: {exc}") from None
    if dim is not None and matrix.shape != (dim, dim):
        raise FileFormatError(f"{file}: W has shape {matrix.shape}; the embeddings need ({dim}, {dim})")
    return matrix


def _read_npy(handle: Any) -> np.ndarray:
    try:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(handle)  # the header only
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
        else:
            raise FileFormatError(f".npy format version {version} is not read; save W with numpy.save")
    except ValueError as exc:
        raise FileFormatError(f"not a valid .npy file ({exc})") from None
    if dtype.hasobject or dtype.kind not in "iuf":
        raise FileFormatError(f"dtype {dtype} is not a real number type; save W as float64")
    _check_shape(shape)
    handle.seek(0)
    try:
        array = np.load(handle, allow_pickle=False)
    except ValueError as exc:
        raise FileFormatError(f"cannot read the array ({exc})") from None
    return _finite(np.asarray(array, dtype=np.float64))


def _read_json(raw: bytes) -> np.ndarray:
    try:
        rows = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"neither .npy nor UTF-8 JSON (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise FileFormatError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:
        raise FileFormatError(f"JSON cannot be read: {str(exc)[:120]}") from None
    if not isinstance(rows, list) or not rows or not all(isinstance(row, list) for row in rows):
        raise FileFormatError("W must be a JSON list of rows, e.g. [[0, \"1/2\"], [1, 0]]")
    for r, row in enumerate(rows):
        if len(row) != len(rows):
            raise FileFormatError(
                f"row {r} has {len(row)} entries but W has {len(rows)} rows; W is square (d, d)"
            )
    values = np.empty((len(rows), len(rows)))
    for r, row in enumerate(rows):
        for c, entry in enumerate(row):
            try:
                values[r, c] = float(parse_number(entry, where=f"W[{r}][{c}]"))
            except InvalidInput as exc:
                raise FileFormatError(str(exc)) from None
    return _finite(values)


def _check_shape(shape: tuple[int, ...]) -> None:
    if len(shape) != 2 or shape[0] != shape[1] or shape[0] < 1:
        raise FileFormatError(f"W has shape {shape}; it must be a square matrix (d, d)")


def _finite(values: np.ndarray) -> np.ndarray:
    bad = np.argwhere(~np.isfinite(values))
    if bad.size:
        r, c = (int(v) for v in bad[0])
        raise FileFormatError(f"W[{r}][{c}] = {values[r, c]} is not finite")
    return values


def _reject_constant(name: str) -> None:
    raise FileFormatError(f"the JSON constant {name} is not allowed; numbers must be finite")
