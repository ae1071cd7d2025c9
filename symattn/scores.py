r"""Scores and token masses over the compressed view, in log-space; pair potentials and the pullback.

With potentials :math:`u_j = e_j^\top W e_k` and counts :math:`c_j`, sample ``i`` puts mass
:math:`\pi_j = c_j e^{u_j} / \sum_{l} c_l e^{u_l}` on each distinct token of its sequence
(docs/theory.md §2). Everything here works on the flat (sample, distinct token) entries of
:class:`~symattn.data.CountsView` and stays finite for every accepted ``W`` (finite, with
potentials at most :data:`MAX_POTENTIAL` in size; larger ones raise): masses are formed from
``u + log c`` minus a per-sample log-sum-exp, never by exponentiating first.

Three operations recur in every layer and are written here once: the potentials
:math:`u_p = e_{t_p}^\top W e_{k_p}` of (token, query) pairs (:func:`pair_potentials`), their
adjoint, the pullback :math:`\sum_p g_p\, e_{t_p} e_{k_p}^\top = E^\top T E` of per-pair values to
a :math:`d \times d` matrix (:func:`pullback`), and the per-sample log-normalisation that turns
log-weights into log-masses (:func:`log_normalise`).

>>> from symattn.data import Dataset
>>> ds = Dataset.from_samples([([0, 1, 1, 2], 1)], vocab=3)
>>> np.exp(log_token_mass(ds, np.zeros((3, 3)))).round(4).tolist()
[0.25, 0.5, 0.25]
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.sparse import csc_matrix, csr_matrix, issparse, spmatrix

from symattn._arrays import locate_sorted
from symattn._validate import check_weights
from symattn.data import Dataset
from symattn.embeddings import Embeddings
from symattn.errors import InvalidInput

__all__ = [
    "MAX_POTENTIAL",
    "LabelTerms",
    "check_weights",
    "entry_potentials",
    "from_token_coordinates",
    "label_terms",
    "log_normalise",
    "log_token_mass",
    "pair_potentials",
    "pullback",
    "segment_argmax",
    "segment_centre",
    "segment_complement",
    "segment_logsumexp",
    "segment_logsumexp_without",
    "segment_sum",
    "stored_entries",
    "token_scores",
]

MAX_POTENTIAL = 1e300
"""Largest accepted :math:`|e_j^\\top W e_k|`: differences of potentials must stay finite."""


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


def log_normalise(z: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    r"""Log-weights to log-masses: :math:`z_e - \operatorname{logsumexp}_{e' \in \text{segment}} z_{e'}`.

    >>> np.exp(log_normalise(np.log(np.array([1.0, 3.0, 2.0])), np.array([0, 2, 3]))).round(12).tolist()
    [0.25, 0.75, 1.0]
    """
    return z - np.repeat(segment_logsumexp(z, indptr), np.diff(indptr))


def pair_potentials(
    embeddings: Embeddings, W: np.ndarray, tokens: np.ndarray, queries: np.ndarray,
    *, minus: np.ndarray | None = None,
) -> np.ndarray:
    r"""Potentials :math:`u_p = e_{t_p}^\top W e_{k_p}` of (token, query) pairs, shape (P,).

    With ``minus`` the differences :math:`(e_{t_p} - e_{m_p})^\top W e_{k_p}` (the margins of the
    graph-SVM constraints). Costs :math:`O(d^2 q + P d)` for :math:`q` distinct queries. ``W`` may
    be a SciPy sparse matrix (the sparse :math:`W^{svm}` and :math:`W^{fin}` of one-hot
    embeddings): only the :math:`q` query columns are read, never a :math:`d \times d` array.
    Its entries are not checked (pass :func:`check_weights`'s output); its type, shape and dtype
    and the token ids (in ``0..K-1``) are, in :math:`O(P)`: a sparse ``W`` of the wrong shape
    would otherwise be read at the wrong entries.

    >>> from symattn.embeddings import Embeddings
    >>> W = np.array([[0.0, 1.0], [2.0, 3.0]])
    >>> pair_potentials(Embeddings.onehot(2), W, np.array([0, 1]), np.array([1, 1])).tolist()
    [1.0, 3.0]
    >>> pair_potentials(Embeddings.onehot(2), W, np.array([0]), np.array([1]), minus=np.array([1])).tolist()
    [-2.0]
    """
    _check_pairs(embeddings, W, tokens, queries, minus)
    if embeddings.is_onehot and issparse(W):
        return _sparse_onehot_potentials(W, tokens, queries, minus)
    if embeddings.is_onehot:
        u = W[tokens, queries]
        return u if minus is None else u - W[minus, queries]
    E = embeddings.matrix()
    distinct, inverse = np.unique(queries, return_inverse=True)
    columns = np.asarray(W @ E[distinct].T).T
    left = E[tokens] if minus is None else E[tokens] - E[minus]
    return np.einsum("pd,pd->p", left, columns[inverse])


def _check_pairs(embeddings: Embeddings, W: object, *ids: np.ndarray | None) -> None:
    """Refuse a ``W`` that is not a float (d, d) array or sparse matrix, and ids that are not tokens."""
    d = embeddings.dim
    array = isinstance(W, np.ndarray) and not isinstance(W, np.matrix)
    if not (issparse(W) or array) or W.shape != (d, d) or W.dtype.kind != "f":
        shown = type(W).__name__
        if hasattr(W, "shape") and hasattr(W, "dtype"):
            shown += f" of shape {W.shape}, dtype {W.dtype}"
        raise InvalidInput(
            f"pair_potentials needs W as a float ({d}, {d}) array or SciPy sparse matrix, got {shown}; "
            f"pass check_weights(W, {d}, sparse_ok=True)"
        )
    K = embeddings.size
    for name, array in zip(("tokens", "queries", "minus"), ids, strict=True):
        if array is not None and np.size(array) and not 0 <= int(np.min(array)) <= int(np.max(array)) < K:
            raise InvalidInput(f"pair_potentials: {name} holds ids outside 0..{K - 1} (K={K})")


def stored_entries(S: spmatrix) -> tuple[np.ndarray, np.ndarray, int]:
    """The entries of a sparse matrix as sorted keys ``column * rows + row``, their values and the
    number of rows; repeated (row, column) entries, which SciPy allows and means summed, are summed.

    >>> S = csc_matrix((np.array([1.0, 2.0, 5.0]), np.array([0, 0, 1]), np.array([0, 2, 3])), shape=(2, 2))
    >>> keys, values, rows = stored_entries(S)  # column 0 stores row 0 twice: 1 + 2
    >>> keys.tolist(), values.tolist(), rows
    ([0, 3], [3.0, 5.0], 2)
    """
    csc = csc_matrix(S)
    if not csc.has_canonical_format:
        csc = csc.copy()
        csc.sum_duplicates()  # sorted, unique indices in every column
    n_rows = int(csc.shape[0])
    col_of = np.repeat(np.arange(csc.shape[1], dtype=np.int64), np.diff(csc.indptr))
    return col_of * n_rows + csc.indices.astype(np.int64), csc.data, n_rows


def _sparse_onehot_potentials(
    W: spmatrix, tokens: np.ndarray, queries: np.ndarray, minus: np.ndarray | None
) -> np.ndarray:
    r""":func:`pair_potentials` of a sparse ``W`` with one-hot embeddings: its stored entries looked
    up (absent ones are 0), in :math:`O((\text{nnz} + P) \log \text{nnz})`."""
    keys, data, size = stored_entries(W)
    values = np.append(data, 0.0)

    def lookup(rows: np.ndarray) -> np.ndarray:
        pos, found = locate_sorted(keys, np.asarray(queries, dtype=np.int64) * size + rows)
        return values[np.where(found, pos, keys.size)]

    return lookup(tokens) if minus is None else lookup(tokens) - lookup(minus)


def pullback(
    embeddings: Embeddings, values: np.ndarray, flat: np.ndarray, *, dense: bool = True
) -> np.ndarray:
    r"""The adjoint of :func:`pair_potentials`: :math:`\sum_p g_p\, e_{t_p} e_{k_p}^\top = E^\top T E` (d, d).

    ``flat`` holds ``t_p * K + k_p`` for each value :math:`g_p`; repeated pairs add up. The token
    matrix :math:`T` is formed densely (:math:`K \times K`) unless ``dense=False``, which keeps it
    sparse (for large vocabularies).

    >>> from symattn.embeddings import Embeddings
    >>> pullback(Embeddings.onehot(2), np.array([1.0, -1.0]), np.array([0 * 2 + 1, 1 * 2 + 1])).tolist()
    [[0.0, 1.0], [0.0, -1.0]]
    """
    K = embeddings.size
    if dense:
        T = np.bincount(flat, weights=values, minlength=K * K).reshape(K, K)
        return from_token_coordinates(embeddings, T)
    tokens, queries = np.divmod(flat, K)
    T = csr_matrix((values, (tokens, queries)), shape=(K, K))
    return T.toarray() if embeddings.is_onehot else from_token_coordinates(embeddings, T)


def from_token_coordinates(embeddings: Embeddings, T: np.ndarray | spmatrix) -> np.ndarray | spmatrix:
    r"""A token-coordinate matrix :math:`T` (K, K; dense or sparse) in weight coordinates:
    :math:`E^\top T E` (d, d), dense; ``T`` itself (as it is) for one-hot embeddings.

    >>> from symattn.embeddings import Embeddings
    >>> T = np.array([[0.0, 1.0], [0.0, 0.0]])
    >>> from_token_coordinates(Embeddings.onehot(2), T) is T
    True
    >>> from_token_coordinates(Embeddings.given([[0, 2], [1, 0]]), T).tolist()
    [[0.0, 0.0], [2.0, 0.0]]
    """
    if embeddings.is_onehot:
        return T
    E = embeddings.matrix()
    return np.asarray(E.T @ (T @ E)) if issparse(T) else E.T @ T @ E


class LabelTerms(NamedTuple):
    r"""Per-entry masses and per-sample label terms, each to full relative accuracy.

    ``pi`` (nnz,): :math:`\pi_j`; ``log_p`` (n,): :math:`\log\pi_y`; ``outside`` (n,):
    :math:`1 - \pi_y = \sum_{j \ne y} \pi_j`, the mass outside the label.
    """

    pi: np.ndarray
    log_p: np.ndarray
    outside: np.ndarray


def label_terms(z: np.ndarray, indptr: np.ndarray, label_entry: np.ndarray) -> LabelTerms:
    r"""Masses :math:`\pi_j = e^{z_j}/\sum_l e^{z_l}` per segment, :math:`\log \pi_y` and :math:`1 - \pi_y`.

    docs/theory.md §9, "accuracy far out": with :math:`t = \max_l z_l`, :math:`a_j = e^{z_j - t}`,
    :math:`o = \sum_{j \ne y} a_j` (a sum of positive terms, never a difference) and
    :math:`S = o + a_y`: :math:`\pi_j = a_j / S`, :math:`1 - \pi_y = o / S` and
    :math:`\log \pi_y = -\operatorname{softplus}(\log o - (z_y - t))`. All three keep their
    relative accuracy however small the outside mass is (down to the smallest normal double);
    ``1 - pi[label_entry]`` would lose it all below ``1e-16``.

    >>> terms = label_terms(np.array([0.0, -600.0, 5.0]), np.array([0, 2, 3]), np.array([0, 2]))
    >>> terms.outside.tolist(), terms.log_p.tolist()  # 1 - pi_y = e^-600 = -log pi_y, not 0
    ([2.6503965530043108e-261, 0.0], [-2.6503965530043108e-261, -0.0])
    """
    lengths = np.diff(indptr)
    top = np.maximum.reduceat(z, indptr[:-1])
    a = np.exp(z - np.repeat(top, lengths))
    a_label = a[label_entry]
    a[label_entry] = 0.0
    outside = np.add.reduceat(a, indptr[:-1])
    a[label_entry] = a_label
    total = outside + a_label
    with np.errstate(divide="ignore"):  # no token outside the label: log 0 = -inf, mass 0
        log_odds = np.log(outside) - (z[label_entry] - top)
    return LabelTerms(a / np.repeat(total, lengths), -np.logaddexp(0.0, log_odds), outside / total)


def segment_argmax(values: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """Index (into ``values``) of the first largest entry of every segment (segments non-empty).

    >>> segment_argmax(np.array([1.0, 3.0, 3.0, 0.5]), np.array([0, 3, 4])).tolist()
    [1, 3]
    """
    top = np.repeat(np.maximum.reduceat(values, indptr[:-1]), np.diff(indptr))
    hits = np.flatnonzero(values == top)
    owner = np.searchsorted(indptr, hits, side="right") - 1
    return hits[np.unique(owner, return_index=True)[1]]


def segment_centre(
    values: np.ndarray, weights: np.ndarray, indptr: np.ndarray, anchor: np.ndarray
) -> np.ndarray:
    r""":math:`v_e - \sum_{e'} w_{e'} v_{e'}` per segment (weights summing to 1), without cancellation.

    Computed as :math:`(v_e - v_a) - \sum_{e'} w_{e'} (v_{e'} - v_a)` around the segment's entry
    ``anchor`` :math:`a` (take the entry of largest weight): the anchor's own weight, which may be
    :math:`1 - 10^{-300}`, then multiplies an exact zero, and the entry of the anchor,
    :math:`-\sum_{e' \ne a} w_{e'}(v_{e'} - v_a)`, keeps its relative accuracy. ``values`` may be
    (nnz,) or (nnz, p) (each column centred).

    >>> v, w = np.array([1.0, 2.0, 5.0]), np.array([1 - 1e-20, 1e-20, 1.0])
    >>> segment_centre(v, w, np.array([0, 2, 3]), np.array([0, 2])).tolist()
    [-1e-20, 1.0, 0.0]
    """
    lengths = np.diff(indptr)
    shifted = values - np.repeat(values[anchor], lengths, axis=0)
    weighted = shifted * (weights[:, None] if shifted.ndim == 2 else weights)
    return shifted - np.repeat(segment_sum(weighted, indptr), lengths, axis=0)


def segment_complement(pi: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    r""":math:`1 - \pi_e` for every entry of probability segments, to full relative accuracy.

    At most one entry per segment exceeds 1/2; for it the complement is the sum of the other
    entries (positive terms), for the others :math:`1 - \pi_e \ge 1/2` is exact to rounding.

    >>> segment_complement(np.array([1 - 1e-20, 1e-20]), np.array([0, 2])).tolist()
    [1e-20, 1.0]
    """
    big = np.flatnonzero(pi > 0.5)
    others = pi.copy()
    others[big] = 0.0
    out = 1.0 - pi
    out[big] = segment_sum(others, indptr)[np.searchsorted(indptr, big, side="right") - 1]
    return out


def segment_logsumexp_without(values: np.ndarray, indptr: np.ndarray, skip: np.ndarray) -> np.ndarray:
    r"""Per segment, :math:`\log\sum \exp` over its entries except ``skip`` (``-inf`` when none is left).

    >>> z = np.array([0.0, -800.0, 5.0])
    >>> segment_logsumexp_without(z, np.array([0, 2, 3]), np.array([0, 2])).tolist()
    [-800.0, -inf]
    """
    masked = values.copy()
    masked[skip] = -np.inf
    top = np.maximum.reduceat(masked, indptr[:-1])
    safe = np.where(np.isfinite(top), top, 0.0)
    shifted = np.exp(masked - np.repeat(safe, np.diff(indptr)))
    with np.errstate(divide="ignore"):  # an empty segment: log 0 = -inf
        return safe + np.log(np.add.reduceat(shifted, indptr[:-1]))


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
    the :math:`K \times K` matrix. ``W`` may be a SciPy sparse matrix (see :func:`pair_potentials`).

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1], 1), ([1, 0], 0)], vocab=2)
    >>> entry_potentials(ds, np.array([[0.0, 1.0], [2.0, 3.0]])).tolist()
    [1.0, 3.0, 0.0, 2.0]
    """
    emb = dataset.embeddings
    W = check_weights(W, emb.dim, sparse_ok=True)
    c = dataset.counts
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is detected and refused below
        u = pair_potentials(emb, W, c.token, c.query[c.sample])
    return _check_potentials(u, W)


def _check_potentials(potentials: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Refuse potentials :math:`e_j^\\top W e_k` beyond :data:`MAX_POTENTIAL` (or overflowed to inf).

    Differences of potentials must stay finite for the log-sum-exp, so ``|u| <= 1e300``.
    """
    if potentials.size and not float(np.max(np.abs(potentials))) <= MAX_POTENTIAL:
        raise InvalidInput(
            f"the potentials e_j^T W e_k overflow: they exceed {MAX_POTENTIAL:g} in absolute value "
            f"(max |W| = {float(abs(W).max()):.3g}); scale W down so that "
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
    return log_normalise(entry_potentials(dataset, W) + np.log(c.count), c.indptr)
