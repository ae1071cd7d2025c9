"""Private: every argument guard of the package, written once.

Each guard returns the value in its canonical form or raises :class:`~symattn.errors.InvalidInput`
with a message that names the bad value and the fix. The Dataset guards import the data layer
on call, so this module stays at the bottom of the import graph.

>>> as_count(3, "steps"), as_real(0.5, "lr")
(3, 0.5)
>>> as_count(True, "steps")
Traceback (most recent call last):
...
symattn.errors.InvalidInput: steps=True must be an integer
"""

from __future__ import annotations

import enum
import os
from collections.abc import Iterable
from fractions import Fraction
from typing import TYPE_CHECKING, TypeVar

import numpy as np
from scipy.sparse import csc_matrix, issparse, spmatrix

from symattn._io import format_bytes
from symattn.errors import InvalidInput

if TYPE_CHECKING:
    from symattn.data import Dataset
    from symattn.graphs import PriorityGraphs

__all__ = [
    "MAX_DENSE_DEFAULT",
    "MAX_DENSE_ENV",
    "as_count",
    "as_int",
    "as_real",
    "as_real_array",
    "as_tokens",
    "check_weights",
    "is_integer",
    "max_dense",
    "parse_enum",
    "require_data",
    "require_dataset",
    "require_dense",
    "require_dense_size",
    "require_finite",
    "require_graphs",
]

E = TypeVar("E", bound=enum.Enum)


def is_integer(value: object) -> bool:
    """True for Python and NumPy integers, False for booleans and everything else.

    >>> is_integer(np.int64(3)), is_integer(True), is_integer(3.0)
    (True, False, False)
    """
    return not isinstance(value, bool) and isinstance(value, int | np.integer)


def as_int(value: object, what: str) -> int:
    """``value`` as an ``int`` when it is an integer (floats, strings and booleans are refused).

    >>> as_int(np.int32(4), "token")
    4
    """
    if not is_integer(value):
        raise InvalidInput(
            f"{what} {value!r} is not an integer; pass a Python or NumPy int (floats, strings and "
            "booleans are not converted)"
        )
    if not -(2**63) <= value < 2**63:  # type: ignore[operator]
        from symattn.data import MAX_VOCAB

        raise InvalidInput(f"{what} {value} is out of range; ids are below K <= {MAX_VOCAB:,}")
    return int(value)  # type: ignore[call-overload]


def as_count(value: object, what: str, minimum: int = 1) -> int:
    """An integer option of at least ``minimum`` (default 1: a positive count).

    >>> as_count(0, "records", minimum=0)
    0
    """
    if not is_integer(value):
        raise InvalidInput(f"{what}={value!r} must be an integer")
    if int(value) < minimum:  # type: ignore[call-overload]
        raise InvalidInput(f"{what}={value} must be at least {minimum}")
    return int(value)  # type: ignore[call-overload]


def as_real(value: object, what: str, *, allow_zero: bool = False) -> float:
    """``value`` as a finite positive (or, with ``allow_zero``, non-negative) float.

    >>> as_real(0, "scale", allow_zero=True)
    0.0
    """
    kind = "non-negative" if allow_zero else "positive"
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InvalidInput(f"{what}={value!r} must be a {kind} finite number")
    number = float(value)
    if not np.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        raise InvalidInput(f"{what}={value!r} must be a {kind} finite number")
    return number


def as_tokens(sequence: object, K: int) -> list[int]:
    """A non-empty sequence of token ids in ``0..K-1`` (the query last), as ints.

    >>> as_tokens((2, np.int64(0)), 3)
    [2, 0]
    """
    if isinstance(sequence, str | bytes) or not isinstance(sequence, Iterable):
        raise InvalidInput(f"sequence {sequence!r} must be a list of token ids (the query last)")
    tokens = [as_int(t, "token id") for t in sequence]
    if not tokens:
        raise InvalidInput("a sequence needs at least one token (its query)")
    bad = [t for t in tokens if not 0 <= t < K]
    if bad:
        raise InvalidInput(f"token {bad[0]} is out of range for K={K} (ids 0..{K - 1})")
    return tokens


def parse_enum(kind: type[E], value: object, what: str) -> E:
    """``value`` as a member of the enum ``kind`` (a member or its value).

    The one parser of string options (losses, heads, training methods, initialisations).

    >>> from symattn.model import Loss
    >>> parse_enum(Loss, "squared", "loss")
    <Loss.SQUARED: 'squared'>
    """
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except (ValueError, TypeError):
        choices = [m.value for m in kind]
        raise InvalidInput(f"{what}={value!r} is not known; choose one of {choices}") from None


def check_weights(W: object, dim: int, *, name: str = "W", sparse_ok: bool = False) -> np.ndarray:
    """Return ``W`` as a float64 ``(dim, dim)`` array, refusing wrong shapes, complex entries and NaN/inf.

    With ``sparse_ok`` a SciPy sparse ``W`` (``spmatrix`` or ``sparray``) is accepted too and returned
    as a float64 CSC matrix in canonical form (entries made float64, then repeated ones summed),
    checked the same way on its stored entries; without it a sparse ``W`` is returned dense. A
    dense ``W`` (and, without ``sparse_ok``, a sparse one) is refused before any copy when ``dim``
    exceeds the dense limit (:func:`max_dense`).

    >>> check_weights([[1, 0], [0, 1]], 2).dtype
    dtype('float64')
    >>> check_weights([[1j]], 1)
    Traceback (most recent call last):
    ...
    symattn.errors.InvalidInput: W has complex entries (dtype complex128); weights are real matrices
    >>> from scipy import sparse
    >>> check_weights(sparse.eye(3), 3, sparse_ok=True).format, type(check_weights(sparse.eye(3), 3)).__name__
    ('csc', 'ndarray')
    >>> check_weights(np.broadcast_to(0.0, (10**6, 10**6)), 10**6, sparse_ok=True)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    symattn.errors.InvalidInput: W is a dense (d, d) array with d=1,000,000 (7.28 TiB as float64), above ...
    """
    if issparse(W):
        checked = _check_sparse_weights(W, dim, name)
        if sparse_ok:
            return checked
        require_dense_size(f"this computation (dense {name})", d=dim)
        return checked.toarray()
    try:
        raw = np.asarray(W)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{name} cannot be read as a float matrix: {exc}") from None
    if raw.dtype.kind == "c":
        raise InvalidInput(f"{name} has complex entries (dtype {raw.dtype}); weights are real matrices")
    if raw.ndim == 0:
        raise InvalidInput(f"{name}={W!r} is not a matrix; pass a ({dim}, {dim}) array")
    if raw.shape != (dim, dim):
        raise InvalidInput(f"{name} has shape {raw.shape}; the embeddings need ({dim}, {dim})")
    _require_dense_weights(name, dim, sparse_ok)
    try:
        array = raw.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{name} cannot be read as a float matrix: {exc}") from None
    return require_finite(array, name, "weights")


def _require_dense_weights(name: str, dim: int, sparse_ok: bool) -> None:
    """Refuse a dense ``(dim, dim)`` weight matrix above :func:`max_dense` before it is copied."""
    if not sparse_ok:
        require_dense_size(f"this computation (dense {name})", d=dim)
    elif dim > max_dense():
        raise InvalidInput(
            f"{name} is a dense (d, d) array with d={dim:,} ({format_bytes(8 * dim * dim)} as float64), "
            f"above the dense limit d <= {max_dense():,}; pass it as a SciPy sparse matrix holding its "
            f"nonzero entries (scipy.sparse.csc_matrix), or raise the limit with {MAX_DENSE_ENV}=N"
        )


def _check_sparse_weights(W: spmatrix, dim: int, name: str) -> csc_matrix:
    """A sparse ``W`` as a canonical float64 CSC matrix, refusing wrong shapes, complex entries
    and NaN/inf (the message names the first bad stored entry)."""
    if W.dtype.kind == "c":
        raise InvalidInput(f"{name} has complex entries (dtype {W.dtype}); weights are real matrices")
    if W.dtype.kind not in "biuf":
        raise InvalidInput(f"{name} has entries of dtype {W.dtype}; pass a sparse matrix of real numbers")
    if W.shape != (dim, dim):
        raise InvalidInput(f"{name} has shape {W.shape}; the embeddings need ({dim}, {dim})")
    W = _well_formed(W, name)
    # float64 first, then repeated entries summed: SciPy would sum them in the given dtype, so two
    # int8 entries 100 would wrap to -56 and two True entries stay True
    out = csc_matrix(W.astype(np.float64, copy=False))
    out.sum_duplicates()
    bad = np.flatnonzero(~np.isfinite(out.data))
    if bad.size:
        col = int(np.searchsorted(out.indptr, bad[0], side="right")) - 1
        raise InvalidInput(
            f"{name}[{int(out.indices[bad[0]])}, {col}] = {out.data[bad[0]]} (a stored entry of the sparse "
            f"{name}, repeated entries summed): weights must be finite"
        )
    return out


def _well_formed(W: spmatrix, name: str) -> spmatrix:
    """A copy of the sparse ``W`` whose index arrays were checked against its shape, O(nnz).

    SciPy trusts arrays assigned after construction: an index beyond the shape is read at a wrong
    entry, and a decreasing ``indptr`` can crash the interpreter in the conversions that follow.
    """
    try:
        W = W.copy()  # a COO copy checks its coordinates itself
        if W.format in ("csr", "csc", "bsr"):
            W.check_format(full_check=True)
    except ValueError as exc:
        raise InvalidInput(
            f"{name} is a malformed sparse {W.format} matrix ({exc}); build it with a scipy.sparse "
            "constructor, e.g. scipy.sparse.csc_matrix((values, (rows, cols)), shape=(d, d))"
        ) from None
    return W


def require_finite(array: np.ndarray, name: str, what: str = "entries") -> np.ndarray:
    """``array`` (2-D) if every entry is finite, else :class:`InvalidInput` naming the first bad one.

    >>> require_finite(np.array([[1.0, np.inf]]), "W")
    Traceback (most recent call last):
    ...
    symattn.errors.InvalidInput: W[0, 1] = inf: entries must be finite
    """
    finite = np.isfinite(array)
    if not finite.all():
        r, c = (int(v) for v in np.argwhere(~finite)[0])
        raise InvalidInput(f"{name}[{r}, {c}] = {array[r, c]}: {what} must be finite")
    return array


def require_dataset(dataset: object, what: str) -> Dataset:
    """``dataset`` if it is a :class:`~symattn.data.Dataset`, else :class:`InvalidInput` naming ``what``.

    >>> require_dataset([1, 2], "loss")
    Traceback (most recent call last):
    ...
    symattn.errors.InvalidInput: loss needs a Dataset, got list; build one with Dataset.from_samples
    """
    from symattn.data import Dataset

    if not isinstance(dataset, Dataset):
        raise InvalidInput(
            f"{what} needs a Dataset, got {type(dataset).__name__}; build one with Dataset.from_samples"
        )
    return dataset


def _not_data(data: object, what: str) -> InvalidInput:
    return InvalidInput(
        f"{what} needs a Dataset or its PriorityGraphs, got {type(data).__name__}; "
        "build one with Dataset.from_samples"
    )


def require_data(data: object, what: str) -> Dataset:
    """The :class:`~symattn.data.Dataset` of ``data``: a Dataset itself or the one of its PriorityGraphs.

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1], 0)], vocab=2)
    >>> require_data(ds, "reduced_loss") is ds
    True
    """
    from symattn.data import Dataset
    from symattn.graphs import PriorityGraphs

    dataset = data.dataset if isinstance(data, PriorityGraphs) else data
    if not isinstance(dataset, Dataset):
        raise _not_data(data, what)
    return dataset


def require_graphs(data: object, what: str) -> PriorityGraphs:
    """``data`` itself when it is a :class:`~symattn.graphs.PriorityGraphs`, the graphs of a Dataset.

    >>> from symattn.data import Dataset
    >>> sorted(require_graphs(Dataset.from_samples([([0, 1], 0)], vocab=2), "fin_basis"))
    [1]
    """
    from symattn.data import Dataset
    from symattn.graphs import PriorityGraphs, priority_graphs

    if isinstance(data, PriorityGraphs):
        return data
    if isinstance(data, Dataset):
        return priority_graphs(data)
    raise _not_data(data, what)


def as_real_array(value: object, name: str) -> tuple[np.ndarray, np.dtype]:
    """``value`` as a float64 array, with the dtype its numbers came in; torch tensors included.

    Tensors (anything with ``detach``) are detached and moved to the CPU first, so tensors that
    require grad are accepted; arrays of Python numbers or Fractions are read entry by entry.
    Complex, boolean, string and object values are refused with :class:`InvalidInput`.

    >>> array, dtype = as_real_array(np.eye(2, dtype=np.float32), "W")
    >>> array.dtype, dtype
    (dtype('float64'), dtype('float32'))
    >>> as_real_array([[1, 2]], "W")[1]
    dtype('int64')
    """
    kind = type(value).__name__
    try:
        detach = getattr(value, "detach", None)
        if callable(detach):
            value = detach()
            cpu = getattr(value, "cpu", None)
            if callable(cpu):
                value = cpu()
        array = np.asarray(value)
        if array.dtype == object:
            array = np.array([_real_entry(v, name) for v in array.ravel()]).reshape(array.shape)
    except (TypeError, ValueError, RuntimeError, AttributeError) as exc:
        raise InvalidInput(
            f"{name} of type {kind} cannot be read as a real matrix ({exc}); pass a NumPy array, "
            "e.g. W.detach().cpu().double().numpy() for a torch tensor"
        ) from None
    if array.dtype.kind not in "fiu":
        raise InvalidInput(
            f"{name} of type {kind} has dtype {array.dtype}; it must hold real numbers "
            "(float64, float32 or integers)"
        )
    return array.astype(np.float64), array.dtype


def _real_entry(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | Fraction | np.integer | np.floating):
        raise TypeError(f"entry {value!r} of {name} is not a real number")
    return float(value)


MAX_DENSE_DEFAULT = 4096
"""Default largest :math:`K` and :math:`d` for dense computations: :math:`W`, its gradient,
:math:`W^{svm}` and :math:`W^{fin}` are dense :math:`d \\times d` (or :math:`K \\times K`) float64
matrices, 128 MiB each at 4096."""
MAX_DENSE_ENV = "SYMATTN_MAX_TOKENS"


def max_dense() -> int:
    """The largest ``K`` and ``d`` dense computations accept: ``$SYMATTN_MAX_TOKENS``, else 4096.

    >>> max_dense()
    4096
    """
    raw = os.environ.get(MAX_DENSE_ENV, "").strip()
    if not raw:
        return MAX_DENSE_DEFAULT
    if not raw.isdigit() or int(raw) < 1:
        raise InvalidInput(f"{MAX_DENSE_ENV}={raw!r} must be a positive integer")
    return int(raw)


def require_dense(dataset: Dataset, what: str) -> Dataset:
    """``dataset`` if its ``K`` and ``d`` are within :func:`max_dense`, else :class:`InvalidInput`
    naming the memory one dense matrix would take (checked before anything is allocated).

    Token-priority graphs are sparse and have no such limit.

    >>> from symattn.data import Dataset
    >>> require_dense(Dataset.from_samples([([0, 1], 0)], vocab=10**6), "finite_component")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    symattn.errors.InvalidInput: finite_component ... K=1,000,000 needs 7.28 TiB for each, above the limit ...
    """
    require_dense_size(what, K=dataset.K, d=dataset.embeddings.dim)
    return dataset


def require_dense_size(what: str, **sizes: int) -> None:
    """:class:`InvalidInput` when a dense ``size x size`` float64 matrix named in ``sizes`` exceeds
    :func:`max_dense` (the message names the memory it would take and how to raise the limit).

    >>> require_dense_size("W^svm", K=3)
    >>> require_dense_size("W^svm", K=10**5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    symattn.errors.InvalidInput: W^svm forms dense K x K float64 matrices: K=100,000 needs 74.5 GiB ...
    """
    top = max_dense()
    for name, size in sizes.items():
        if size > top:
            raise InvalidInput(
                f"{what} forms dense {name} x {name} float64 matrices: {name}={size:,} needs "
                f"{format_bytes(8 * size * size)} for each, above the limit K, d <= {top:,}; raise it "
                f"with the environment variable {MAX_DENSE_ENV}=N if the memory is there"
            )
