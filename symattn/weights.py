r"""Weight and embedding matrices from files and from other libraries, read safely.

A trained :math:`W` (scores :math:`e_{x_t}^\top W e_k`, docs/theory.md §2) arrives as

* ``.npy``: one array; ``.npz``: several, one chosen by ``key`` (a single member needs none);
* JSON: a list of rows, or an object holding one under ``key`` (default ``"W"``); entries are
  numbers or exact strings such as ``"3/2"``;
* a factor pair :math:`W = K Q^\top` (``factors=True``): members ``K`` and ``Q`` (or
  ``key="A,B"``), each :math:`d \times r`;
* in Python: a NumPy array, nested lists, or a tensor of torch / JAX (a tensor that requires
  grad is detached first).

Files are never unpickled (``allow_pickle=False``). Every ``.npy`` header is read and checked
(dtype real, shape 2-D and within bounds) before the data are read, and every ``.npz`` member's
declared size is checked before it is inflated, so a hostile file cannot make the reader
allocate more than :data:`MAX_ENTRIES` numbers.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "w.json"
>>> _ = path.write_text('{"W": [["3/2", 0], [0, -1]]}')
>>> w = load_weights(path)
>>> w.matrix.tolist(), w.exact, w.source
([[1.5, 0.0], [0.0, -1.0]], True, 'w.json[W]')
"""

from __future__ import annotations

import json
import os
import stat
import zipfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import IO, Any

import numpy as np

from symattn._io import npy_data, npy_header
from symattn._validate import as_real_array, require_finite
from symattn.embeddings import Embeddings, parse_number
from symattn.errors import FileFormatError, InvalidInput

__all__ = ["MAX_ENTRIES", "Weights", "as_weights", "factor_weights", "load_embeddings", "load_weights"]

MAX_ENTRIES = 1 << 27
"""Most numbers one matrix may hold (1 GiB of float64); pass ``max_entries`` to raise it."""

_MAX_JSON_BYTES = 64 << 20
_NPY_HEADER_SLACK = 1 << 16
_FACTOR_NAMES = ("K", "Q")


@dataclass(frozen=True, eq=False)
class Weights:
    r"""A weight matrix with where it came from and the precision of its numbers.

    Attributes
    ----------
    matrix : numpy.ndarray, shape (d, d)
        :math:`W` in float64, in symattn's convention (query on the right).
    dtype : numpy.dtype
        The dtype the numbers came in (``float32`` weights get float32 tolerances).
    source : str
        A short description (``"w.npz[W]"``, ``"Tensor"``) for reports.
    exact : bool
        Every entry came as an integer or an exact fraction.
    """

    matrix: np.ndarray
    dtype: np.dtype
    source: str
    exact: bool = False

    @property
    def eps(self) -> float:
        """Machine epsilon of the precision the numbers came in (float64's for integers and exact).

        >>> as_weights(np.eye(2, dtype=np.float32)).eps == float(np.finfo(np.float32).eps)
        True
        """
        if self.dtype.kind == "f":
            return float(np.finfo(self.dtype).eps)
        return float(np.finfo(np.float64).eps)

    def transposed(self) -> Weights:
        """The same weights with :math:`W^\\top` (the query on the other side).

        >>> as_weights([[0, 1], [0, 0]]).transposed().matrix.tolist()
        [[0.0, 0.0], [1.0, 0.0]]
        """
        return Weights(_frozen(self.matrix.T), self.dtype, f"{self.source} transposed", self.exact)


def _frozen(array: np.ndarray) -> np.ndarray:
    out = np.array(array, dtype=np.float64)
    out.setflags(write=False)
    return out


def _checked(array: np.ndarray, dim: int | None, name: str, *, square: bool = True) -> np.ndarray:
    if array.ndim != 2:
        raise InvalidInput(f"{name} has shape {array.shape}; it must be a 2-D matrix")
    if square and array.shape[0] != array.shape[1]:
        raise InvalidInput(f"{name} has shape {array.shape}; W must be square (d x d)")
    if dim is not None and array.shape[0] != dim:
        raise InvalidInput(f"{name} has shape {array.shape}; the embeddings need {dim} rows (d = {dim})")
    return require_finite(array, name)


def as_weights(W: object, *, dim: int | None = None, name: str = "W") -> Weights:
    r"""Read ``W`` (an array, nested lists, a torch or JAX tensor, or :class:`Weights`).

    Parameters
    ----------
    W : array_like or Weights
        The :math:`d \times d` matrix.
    dim : int, optional
        The embedding dimension :math:`d` the matrix must match.
    name : str
        What to call ``W`` in error messages.

    Returns
    -------
    Weights
        float64 matrix plus the dtype the numbers came in.

    Raises
    ------
    InvalidInput
        Not a finite real square matrix of the right size.

    >>> w = as_weights(np.ones((2, 2), dtype=np.float32), dim=2)
    >>> w.dtype, w.matrix.dtype
    (dtype('float32'), dtype('float64'))
    >>> as_weights(np.ones((2, 3)))
    Traceback (most recent call last):
    ...
    symattn.errors.InvalidInput: W has shape (2, 3); W must be square (d x d)
    """
    if isinstance(W, Weights):
        _checked(W.matrix, dim, name)
        return W
    array, dtype = as_real_array(W, name)
    exact = dtype.kind in "iu"
    return Weights(_frozen(_checked(array, dim, name)), dtype, type(W).__name__, exact)


def factor_weights(K: object, Q: object, *, dim: int | None = None) -> Weights:
    r""":math:`W = K Q^\top` from key and query factors (each :math:`d \times r`).

    >>> factor_weights([[1.0], [0.0]], [[0.0], [2.0]]).matrix.tolist()
    [[0.0, 2.0], [0.0, 0.0]]
    """
    k, k_dtype = as_real_array(K, "K")
    q, q_dtype = as_real_array(Q, "Q")
    _checked(k, dim, "K", square=False)
    _checked(q, dim, "Q", square=False)
    if k.shape != q.shape:
        raise InvalidInput(f"the factors K {k.shape} and Q {q.shape} must have the same shape (d x r)")
    dtype = np.promote_types(k_dtype, q_dtype)
    return Weights(_frozen(k @ q.T), dtype, "K Q^T", dtype.kind in "iu")


# -- files -----------------------------------------------------------------------------------
def load_weights(
    path: str | os.PathLike[str], *, key: str | None = None, factors: bool = False,
    dim: int | None = None, max_entries: int = MAX_ENTRIES,
) -> Weights:
    r"""Read a weight matrix from ``.npy``, ``.npz`` or JSON (see the module docstring).

    Parameters
    ----------
    path : str or PathLike
        The file.
    key : str, optional
        The ``.npz`` member or JSON object key; with ``factors``, two names ``"A,B"``.
    factors : bool
        The file holds :math:`K` and :math:`Q` with :math:`W = K Q^\top`.
    dim : int, optional
        The embedding dimension :math:`d` (checked from the header, before any data are read).
    max_entries : int
        Refuse matrices with more numbers than this.

    Returns
    -------
    Weights

    Raises
    ------
    FileFormatError
        The file cannot be read safely or holds no suitable matrix; the message names the file,
        the member and the fix.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "w.npz"
    >>> np.savez(path, K=np.ones((3, 1)), Q=np.arange(3.0)[:, None])
    >>> load_weights(path, factors=True, dim=3).matrix[0].tolist()
    [0.0, 1.0, 2.0]
    """
    file = _regular_file(path)
    names = _names(key, factors, file)
    try:
        if factors:
            (k, kd, ke, kw), (q, qd, qe, qw) = (_read(file, n, dim, max_entries, False) for n in names)
            w = factor_weights(k, q, dim=dim)
            return Weights(w.matrix, np.promote_types(kd, qd), f"{kw} {qw}", ke and qe)
        array, dtype, exact, where = _read(file, names[0], dim, max_entries, True)
        return Weights(_frozen(_checked(array, dim, where)), dtype, where, exact)
    except FileFormatError:
        raise
    except InvalidInput as exc:
        raise FileFormatError(f"{file}: {exc}") from None


def load_embeddings(
    path: str | os.PathLike[str], *, key: str | None = None, size: int | None = None,
    max_entries: int = MAX_ENTRIES,
) -> Embeddings:
    """Embedding rows (a :math:`K \\times d` matrix) from ``.npy``, ``.npz`` or JSON.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "e.npy"
    >>> np.save(path, np.eye(3)[:, :2] * 2)
    >>> load_embeddings(path, size=3).dim
    2
    """
    file = _regular_file(path)
    try:
        if file.suffix.lower() == ".json":
            rows, where = _json_rows(file, key)
            _json_matrix(rows, where, _Bounds(size, max_entries, False))
            return Embeddings.given(rows)
        array, _, _, _ = _read(file, key, None, max_entries, False, rows=size)
        return Embeddings.given(_checked(array, size, f"{file.name} embeddings", square=False))
    except FileFormatError:
        raise
    except InvalidInput as exc:
        raise FileFormatError(f"{file}: {exc}") from None


def _regular_file(path: object) -> Path:
    if not isinstance(path, str | os.PathLike):
        raise InvalidInput(f"path {path!r} must be a file name")
    file = Path(path)
    try:
        info = file.stat()
    except OSError as exc:
        raise FileFormatError(f"{file}: cannot read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        raise FileFormatError(f"{file}: not a regular file; give a .npy, .npz or .json file")
    return file


def _names(key: str | None, factors: bool, file: Path) -> tuple[str | None, ...]:
    if key is not None and (not isinstance(key, str) or not key.strip()):
        raise InvalidInput(f"key={key!r} must be a non-empty member name")
    if not factors:
        return (key,)
    if key is None:
        return _FACTOR_NAMES
    parts = tuple(p.strip() for p in key.split(","))
    if len(parts) != 2 or not all(parts):
        raise FileFormatError(f"{file}: with factors, key must name two members 'K,Q', got {key!r}")
    return parts


def _read(
    file: Path, key: str | None, dim: int | None, max_entries: int, square: bool, *, rows: int | None = None,
) -> tuple[np.ndarray, np.dtype, bool, str]:
    """The matrix, the dtype its numbers came in, whether they are exact, and where it was found."""
    suffix = file.suffix.lower()
    bounds = _Bounds(dim if dim is not None else rows, max_entries, square)
    if suffix == ".npy":
        if key is not None:
            raise FileFormatError(f"{file}: a .npy file holds one array; drop key={key!r} or use .npz")
        with file.open("rb") as handle:
            array, dtype = _read_npy(handle, file.name, bounds, file.stat().st_size)
        return array, dtype, dtype.kind in "iu", file.name
    if suffix == ".npz":
        return _read_npz(file, key, bounds)
    if suffix == ".json":
        return _read_json(file, key, bounds)
    raise FileFormatError(f"{file}: unknown suffix {suffix!r}; give weights as .npy, .npz or .json")


@dataclass(frozen=True)
class _Bounds:
    rows: int | None
    max_entries: int
    square: bool

    def check(self, shape: tuple[int, ...], where: str) -> None:
        if len(shape) != 2:
            raise FileFormatError(f"{where}: shape {shape}; a 2-D matrix is needed")
        if self.rows is not None and shape[0] != self.rows:
            raise FileFormatError(f"{where}: shape {shape}; the data need {self.rows} rows")
        if self.square and shape[0] != shape[1]:
            raise FileFormatError(f"{where}: shape {shape}; W must be square (d x d)")
        if shape[0] * shape[1] > self.max_entries:
            raise FileFormatError(
                f"{where}: shape {shape} holds more than max_entries={self.max_entries} numbers; "
                "pass a larger max_entries if this is intended"
            )


def _read_npy(handle: IO[bytes], where: str, bounds: _Bounds, available: int) -> tuple[np.ndarray, np.dtype]:
    """The matrix of a ``.npy`` stream of ``available`` bytes, its header checked before its data."""
    header = npy_header(handle, where, numbers_only=True)
    shape, _, dtype, _ = header
    bounds.check(shape, where)
    array = npy_data(handle, where, header, available, available)
    return array.astype(np.float64), dtype


def _read_npz(file: Path, key: str | None, bounds: _Bounds) -> tuple[np.ndarray, np.dtype, bool, str]:
    try:
        with zipfile.ZipFile(file) as archive:
            members = {info.filename.removesuffix(".npy"): info for info in archive.infolist()}
            name = _member(file, key, members)
            info = members[name]
            where = f"{file.name}[{name}]"
            limit = bounds.max_entries * 8 + _NPY_HEADER_SLACK
            if info.file_size > limit:
                raise FileFormatError(
                    f"{where}: the member inflates to {info.file_size} bytes, more than max_entries="
                    f"{bounds.max_entries} numbers; pass a larger max_entries if this is intended"
                )
            with archive.open(info) as handle:
                array, dtype = _read_npy(handle, where, bounds, info.file_size)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise FileFormatError(f"{file}: not a readable .npz archive ({exc})") from None
    return array, dtype, dtype.kind in "iu", where


def _member(file: Path, key: str | None, members: dict[str, zipfile.ZipInfo]) -> str:
    available = sorted(members)
    if key is None:
        if len(available) == 1:
            return available[0]
        if "W" in members:
            return "W"
        if {"format", "shape", "data"} <= members.keys():
            raise FileFormatError(
                f"{file}: a SciPy sparse matrix (scipy.sparse.save_npz), which this reader does not "
                "take; save the dense W (numpy.save(path, W.toarray()), d <= SYMATTN_MAX_TOKENS), or pass "
                "the sparse matrix itself in Python (Automaton.attend, Prediction.distances, finite_bound)"
            )
        raise FileFormatError(
            f"{file}: holds {len(available)} arrays {available}; name the one holding W "
            "(key=NAME in Python; --key NAME for symattn verify, --weights-key NAME for next and generate)"
        )
    if key not in members:
        raise FileFormatError(f"{file}: no member {key!r}; the members are {available}")
    return key


def _read_json(file: Path, key: str | None, bounds: _Bounds) -> tuple[np.ndarray, np.dtype, bool, str]:
    rows, where = _json_rows(file, key)
    return (*_json_matrix(rows, where, bounds), where)


def _json_rows(file: Path, key: str | None) -> tuple[Any, str]:
    if file.stat().st_size > _MAX_JSON_BYTES:
        raise FileFormatError(f"{file}: JSON weights larger than {_MAX_JSON_BYTES >> 20} MiB; use .npy")
    try:
        obj = json.loads(file.read_bytes().decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise FileFormatError(f"{file}: not valid JSON ({str(exc)[:120]})") from None
    where = file.name
    if isinstance(obj, dict):
        name = "W" if key is None else key
        if name not in obj:
            raise FileFormatError(f"{file}: no key {name!r}; the keys are {sorted(obj)[:20]}")
        obj, where = obj[name], f"{file.name}[{name}]"
    elif key is not None:
        raise FileFormatError(f"{file}: holds a bare list of rows; drop key={key!r}")
    return obj, where


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"the constant {name} is not allowed; entries must be finite")


def _json_matrix(obj: Any, where: str, bounds: _Bounds) -> tuple[np.ndarray, np.dtype, bool]:
    if not isinstance(obj, list) or not all(isinstance(row, list) for row in obj) or not obj:
        raise FileFormatError(f"{where}: weights must be a non-empty list of rows (lists of numbers)")
    width = len(obj[0])
    if any(len(row) != width for row in obj):
        raise FileFormatError(f"{where}: rows of different lengths; every row needs {width} entries")
    bounds.check((len(obj), width), where)
    exact = True
    array = np.empty((len(obj), width))
    for r, row in enumerate(obj):
        for c, value in enumerate(row):
            number = parse_number(value, where=f"{where} row {r} column {c}")
            exact = exact and isinstance(number, Fraction)
            array[r, c] = float(number)
    return array, np.dtype(np.float64), exact
