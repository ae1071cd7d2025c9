r"""Scores and token masses over the compressed view, in log-space.

With potentials :math:`u_j = e_j^\top W e_k` and counts :math:`c_j`, sample ``i`` puts mass
:math:`\pi_j = c_j e^{u_j} / \sum_{l} c_l e^{u_l}` on each distinct token of its sequence
(THEORY §2). Everything here works on the flat (sample, distinct token) entries of
:class:`~symattn.data.CountsView` and stays finite for every accepted ``W`` (finite, with
potentials at most :data:`MAX_POTENTIAL` in size; larger ones raise): masses are formed from
``u + log c`` minus a per-sample log-sum-exp, never by exponentiating first.

>>> from symattn.data import Dataset
>>> ds = Dataset.from_samples([([0, 1, 1, 2], 1)], vocab=3)
>>> np.exp(log_token_mass(ds, np.zeros((3, 3)))).round(4).tolist()
[0.25, 0.5, 0.25]
"""

from __future__ import annotations

import numpy as np

from symattn.data import Dataset
from symattn.errors import InvalidInput

__all__ = [
    "MAX_POTENTIAL",
    "check_weights",
    "entry_potentials",
    "log_token_mass",
    "segment_logsumexp",
    "segment_sum",
    "token_scores",
]

MAX_POTENTIAL = 1e300
"""Largest accepted :math:`|e_j^\\top W e_k|`: differences of potentials must stay finite."""


def check_weights(W: object, dim: int, *, name: str = "W") -> np.ndarray:
    """Return ``W`` as a float64 ``(dim, dim)`` array, refusing wrong shapes, complex entries and NaN/inf.

    >>> check_weights([[1, 0], [0, 1]], 2).dtype
    dtype('float64')
    >>> check_weights([[1j]], 1)
    Traceback (most recent call last):
    ...
    symattn.errors.InvalidInput: W has complex entries (dtype complex128); weights are real matrices
    """
    try:
        raw = np.asarray(W)
        complex_entries = raw.dtype.kind == "c"
        array = raw.real.astype(np.float64) if complex_entries else raw.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{name} cannot be read as a float matrix: {exc}") from None
    if complex_entries:
        raise InvalidInput(f"{name} has complex entries (dtype {raw.dtype}); weights are real matrices")
    if array.shape != (dim, dim):
        raise InvalidInput(f"{name} has shape {array.shape}; the embeddings need ({dim}, {dim})")
    bad = np.argwhere(~np.isfinite(array))
    if bad.size:
        r, c = (int(v) for v in bad[0])
        raise InvalidInput(f"{name}[{r}, {c}] = {array[r, c]}: weights must be finite")
    return array


def segment_sum(values: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """Sum of ``values[indptr[i]:indptr[i+1]]`` for every segment ``i`` (segments non-empty).

    >>> segment_sum(np.array([1.0, 2.0, 3.0]), np.array([0, 2, 3])).tolist()
    [3.0, 3.0]
    """
    return np.add.reduceat(values, indptr[:-1], axis=0)


def segment_logsumexp(values: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    r"""Stable :math:`\log \sum_{e \in \text{segment } i} \exp(\text{values}_e)` per segment.

    Segments must be non-empty (every sample has at least one entry).

    >>> segment_logsumexp(np.array([1000.0, 1000.0, -5.0]), np.array([0, 2, 3])).round(6).tolist()
    [1000.693147, -5.0]
    """
    top = np.maximum.reduceat(values, indptr[:-1])
    lengths = np.diff(indptr)
    shifted = np.exp(values - np.repeat(top, lengths))
    return top + np.log(np.add.reduceat(shifted, indptr[:-1]))


def token_scores(dataset: Dataset, W: np.ndarray) -> np.ndarray:
    r"""Potentials in token coordinates :math:`U = E W E^\top` (:math:`K \times K`).

    ``U[j, k]`` :math:`= e_j^\top W e_k`. For one-hot embeddings this is ``W`` itself (no copy).

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1], 1)], vocab=2)
    >>> token_scores(ds, np.array([[0.0, 1.0], [2.0, 3.0]]))[0, 1]
    np.float64(1.0)
    """
    emb = dataset.embeddings
    W = check_weights(W, emb.dim)
    if emb.is_onehot:
        return _check_potentials(W, W)
    E = emb.matrix()
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is detected and refused below
        U = E @ W @ E.T
    return _check_potentials(U, W)


def entry_potentials(dataset: Dataset, W: np.ndarray) -> np.ndarray:
    r"""The potential :math:`u = e_j^\top W e_k` of every (sample, distinct token) entry, shape (nnz,).

    Costs :math:`O(d^2 q + \text{nnz}\, d)` for :math:`q` distinct queries; never forms
    the :math:`K \times K` matrix.

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1], 1), ([1, 0], 0)], vocab=2)
    >>> entry_potentials(ds, np.array([[0.0, 1.0], [2.0, 3.0]])).tolist()
    [1.0, 3.0, 0.0, 2.0]
    """
    emb = dataset.embeddings
    W = check_weights(W, emb.dim)
    c = dataset.counts
    query = c.query[c.sample]
    if emb.is_onehot:
        return _check_potentials(W[c.token, query], W)
    E = emb.matrix()
    queries, inverse = np.unique(query, return_inverse=True)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is detected and refused below
        columns = W @ E[queries].T
        u = np.einsum("ed,ed->e", E[c.token], columns.T[inverse])
    return _check_potentials(u, W)


def _check_potentials(potentials: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Refuse potentials :math:`e_j^\\top W e_k` beyond :data:`MAX_POTENTIAL` (or overflowed to inf).

    Differences of potentials must stay finite for the log-sum-exp, so ``|u| <= 1e300``.
    """
    if potentials.size and not float(np.max(np.abs(potentials))) <= MAX_POTENTIAL:
        raise InvalidInput(
            f"the potentials e_j^T W e_k overflow: they exceed {MAX_POTENTIAL:g} in absolute value "
            f"(max |W| = {float(np.max(np.abs(W))):.3g}); scale W down so that "
            "|W| * max ||e_j||^2 stays below 1e300"
        )
    return potentials


def log_token_mass(dataset: Dataset, W: np.ndarray) -> np.ndarray:
    r""":math:`\log \pi_j` for every (sample, distinct token) entry, shape (nnz,), in log-space.

    :math:`\log \pi_j = u_j + \log c_j - \operatorname{logsumexp}_l (u_l + \log c_l)`; finite for
    every accepted ``W`` (no ``log(p + eps)``).

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1], 1)], vocab=2)
    >>> bool(np.isfinite(log_token_mass(ds, np.array([[1e8, 0.0], [0.0, -1e8]]))).all())
    True
    """
    c = dataset.counts
    z = entry_potentials(dataset, W) + np.log(c.count)
    return z - np.repeat(segment_logsumexp(z, c.indptr), np.diff(c.indptr))
