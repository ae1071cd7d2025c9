r"""The cyclic subspace :math:`S_{fin}`, the reduced dataset and the finite component (docs/theory.md §5).

.. math::

    S_{fin} = \operatorname{span}\{(e_i - e_j) e_k^\top : i \asymp_k j\}, \qquad
    W^{fin} = \arg\min_{W \in S_{fin}} \mathcal L_{red}(W),

where the reduced loss keeps, in each sample, only the tokens of its label's SCC (the query
vector stays :math:`e_k` even when :math:`k` is dropped; the normaliser stays :math:`1/n`).
:math:`W^{fin}` is found by Newton's method with a backtracking line search in orthonormal
coordinates of :math:`S_{fin}` (large SCC blocks by preconditioned conjugate gradients with
Hessian-vector products linear in the data), until the Newton decrement is at most
:data:`DECREMENT_TOL` (scale-free); the Hessian on
:math:`S_{fin}` is checked positive definite (uniqueness) and its smallest eigenvalue gives
the reported error bound.

>>> from symattn.data import Dataset
>>> ds = Dataset.from_samples([([0, 1, 2], y) for y in (0, 1, 1, 2, 2, 2)], vocab=3)
>>> fin = finite_component(ds)
>>> fin.dim, fin.certified
(2, True)
>>> np.exp(fin.W[:, 2] - np.log(np.exp(fin.W[:, 2]).sum())).round(12).tolist()
[0.166666666667, 0.333333333333, 0.5]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import ClassVar

import flint
import numpy as np
from scipy.sparse import csc_matrix, csr_matrix

from symattn._arrays import helmert
from symattn._exact import fmpq_matrix, pivot_columns
from symattn._finbound import FiniteProof, prove_finite_bound
from symattn._finnewton import DECREMENT_TOL, FiniteStatus, newton, objective
from symattn._validate import (
    as_count,
    check_weights,
    require_data,
    require_dense,
    require_dense_size,
    require_graphs,
)
from symattn.data import Dataset
from symattn.embeddings import Embeddings
from symattn.errors import InvalidInput
from symattn.graphs import PriorityGraphs
from symattn.results import ResultMixin, SparseWeights
from symattn.scores import (
    entry_potentials,
    from_token_coordinates,
    label_terms,
    pair_potentials,
    pullback,
)

__all__ = [
    "DECREMENT_TOL",
    "POTENTIAL_TOL",
    "FinBasis",
    "FiniteProof",
    "FiniteResult",
    "FiniteStatus",
    "ReducedData",
    "fin_basis",
    "finite_bound",
    "finite_component",
    "partition_basis",
    "reachable_basis",
    "reduced_data",
    "reduced_loss",
]

POTENTIAL_TOL = 1e-9
r"""``certified`` needs :math:`\nu\,\|W - W^{fin}\|_F \le` this, proven: every within-SCC potential
difference of :math:`W^{fin}` known to 1e-9."""


# -- S_fin ----------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class FinBasis:
    r"""An orthonormal basis of :math:`S_{fin}` (Frobenius inner product), or of another span of
    the same kind (:func:`partition_basis`: the reachable subspace :math:`\mathcal R`, ...).

    Basis element ``r`` is :math:`B_r = E^\top T_r E` with the token-coefficient matrix
    :math:`T_r = \sum_p \text{coef}[r, p]\, \delta_{t_p} \delta_{k_p}^\top` over the pairs
    ``(pair_token[p], pair_query[p])`` (a token of a cyclic SCC of :math:`G_k`, and :math:`k`).

    Attributes
    ----------
    embeddings : Embeddings
        The embeddings.
    pair_token, pair_query : numpy.ndarray, shape (P,)
        The pairs, sorted by query then token.
    coef : scipy.sparse.csr_matrix, shape (m, P)
        Coefficients of each basis element.
    blocks : tuple of (int, int)
        Ranges of basis indices that no other range couples to (one per cyclic SCC when the
        embeddings are orthonormal; one range otherwise).
    expected_dim : int
        :math:`\sum_k \sum_C (|C| - 1)`, the number of star generators (the dimension for
        independent embeddings).
    generators : numpy.ndarray of int, shape (dim, 2)
        Star generators spanning :math:`S_{fin}`, independent: pair indices ``(c_0, c_r)`` of
        :math:`(e_{c_0} - e_{c_r}) e_k^\top`.
    rank_exact : bool
        The dimension is proved: orthonormal structure, rational row reduction of exact rows, or
        a float rank confirmed in rationals (float rows read as binary rationals).
    scc_pairs : tuple of (int, int)
        The range of pairs of each cyclic SCC (its first pair is :math:`c_0`).
    """

    embeddings: Embeddings = field(repr=False)
    pair_token: np.ndarray = field(repr=False)
    pair_query: np.ndarray = field(repr=False)
    coef: csr_matrix = field(repr=False)
    blocks: tuple[tuple[int, int], ...]
    expected_dim: int
    generators: np.ndarray = field(repr=False)
    rank_exact: bool
    scc_pairs: tuple[tuple[int, int], ...] = field(repr=False)

    @property
    def dim(self) -> int:
        """:math:`\\dim S_{fin}`.

        >>> from symattn.data import Dataset
        >>> fin_basis(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3)).dim
        1
        """
        return int(self.coef.shape[0])

    def coordinates(self, W: np.ndarray) -> np.ndarray:
        r"""Coordinates :math:`\langle B_r, W\rangle_F` of ``W`` (shape (m,)).

        >>> from symattn.data import Dataset
        >>> b = fin_basis(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3))
        >>> W = np.zeros((3, 3)); W[0, 2] = 1.0
        >>> b.coordinates(W).round(6).tolist()
        [0.707107]
        """
        W = check_weights(W, self.embeddings.dim, sparse_ok=True)
        return self.coef @ pair_potentials(self.embeddings, W, self.pair_token, self.pair_query)

    def token_matrix(self, theta: np.ndarray) -> csc_matrix:
        r"""The token coordinates :math:`T = \sum_r \theta_r T_r` of :math:`\sum_r \theta_r B_r
        = E^\top T E`: a sparse :math:`K \times K` matrix whose column :math:`k` holds the tokens of
        the cyclic SCCs of :math:`G_k` (memory of the size of the pairs, whatever :math:`K`; for
        one-hot embeddings the matrix itself).

        >>> from symattn.data import Dataset
        >>> b = fin_basis(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=10**6))
        >>> T = b.token_matrix([np.sqrt(2)])
        >>> T.shape, T.nnz, T[:3, 2].toarray().round(12).ravel().tolist()
        ((1000000, 1000000), 2, [1.0, -1.0, 0.0])
        """
        K = self.embeddings.size
        values = self.coef.T @ np.asarray(theta, dtype=np.float64)
        return csc_matrix((values, (self.pair_token, self.pair_query)), shape=(K, K))

    def expand(self, theta: np.ndarray) -> np.ndarray:
        r""":math:`\sum_r \theta_r B_r` as a dense :math:`d \times d` matrix.

        Raises :class:`~symattn.errors.InvalidInput` when :math:`K` or :math:`d` exceeds the dense
        limit (:func:`~symattn._validate.max_dense`); :meth:`token_matrix` has no such limit.

        >>> from symattn.data import Dataset
        >>> b = fin_basis(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3))
        >>> b.expand([np.sqrt(2)])[:, 2].round(12).tolist()
        [1.0, -1.0, 0.0]
        """
        emb = self.embeddings
        require_dense_size("the dense S_fin matrix (use FinBasis.token_matrix)", K=emb.size, d=emb.dim)
        flat = self.pair_token * emb.size + self.pair_query
        return pullback(emb, self.coef.T @ np.asarray(theta, dtype=np.float64), flat)

    def project(self, W: np.ndarray) -> np.ndarray:
        r""":math:`\Pi_{S_{fin}} W = \sum_r \langle B_r, W\rangle B_r`, dense like ``W``.

        >>> from symattn.data import Dataset
        >>> b = fin_basis(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3))
        >>> b.project(np.eye(3))[:, 2].round(12).tolist()
        [0.0, 0.0, 0.0]
        >>> W = np.zeros((3, 3)); W[0, 2] = 1.0
        >>> b.project(W)[:, 2].round(12).tolist()
        [0.5, -0.5, 0.0]
        """
        T = self.token_matrix(self.coordinates(W))
        projected = from_token_coordinates(self.embeddings, T)
        return projected if isinstance(projected, np.ndarray) else projected.toarray()

    def matrices(self) -> np.ndarray:
        """The basis as an array of shape (m, d, d).

        >>> from symattn.data import Dataset
        >>> fin_basis(Dataset.from_samples([([0, 1], 0)], vocab=2)).matrices().shape
        (0, 2, 2)
        """
        eye = np.eye(self.dim)
        return np.stack([self.expand(row) for row in eye]) if self.dim else np.zeros(
            (0, self.embeddings.dim, self.embeddings.dim)
        )


def _star_generators(
    groups: Iterable[tuple[int, Sequence[int]]],
) -> tuple[list[int], list[int], np.ndarray, list[tuple[int, int]]]:
    """Pairs (token, query) of every group of two or more tokens, and its star generators
    ``(e_{c_0} - e_{c_r}) e_k^T``.

    Returns the pair tokens and queries, the generators as rows ``(pair of c_0, pair of c_r)``,
    and each group's range of generators (its pairs are ``first .. first + size``).
    """
    tokens: list[int] = []
    queries: list[int] = []
    stars: list[tuple[int, int]] = []
    ranges: list[tuple[int, int]] = []
    for k, scc in groups:
        if len(scc) < 2:
            continue
        base = len(tokens)
        tokens.extend(scc)
        queries.extend([k] * len(scc))
        ranges.append((len(stars), len(stars) + len(scc) - 1))
        stars.extend((base, base + r) for r in range(1, len(scc)))
    return tokens, queries, np.array(stars, dtype=np.int64).reshape(-1, 2), ranges


def _exact_independent(rows: Sequence[Sequence[Fraction]], pair_token: np.ndarray, pair_query: np.ndarray,
                       stars: np.ndarray) -> np.ndarray:
    r"""Indices of a maximal independent set of star generators, decided in rational arithmetic.

    Generator :math:`r = (a, b, k)` has :math:`\langle Z_r, Z_s\rangle_F = (G_{aa'} - G_{ab'} - G_{ba'}
    + G_{bb'}) G_{kk'}`; the pivot columns of the exact row-reduced Gram matrix are independent and
    span the rest (python-flint ``fmpq_mat``).
    """
    E = fmpq_matrix(rows, len(rows[0]) if rows else 0)
    G = E * E.transpose()
    a, b = pair_token[stars[:, 0]].tolist(), pair_token[stars[:, 1]].tolist()
    k = pair_query[stars[:, 0]].tolist()
    m = len(a)
    gram = flint.fmpq_mat(m, m, [
        (G[a[r], a[t]] - G[a[r], b[t]] - G[b[r], a[t]] + G[b[r], b[t]]) * G[k[r], k[t]]
        for r in range(m) for t in range(m)
    ])
    reduced, rank = gram.rref()
    return np.array(pivot_columns(reduced, rank), dtype=np.int64)


def fin_basis(data: Dataset | PriorityGraphs) -> FinBasis:
    r"""An orthonormal basis of :math:`S_{fin}` for the dataset's graphs and embeddings.

    With orthonormal embeddings each cyclic SCC :math:`C` of :math:`G_k` contributes a Helmert
    basis of the zero-sum vectors on :math:`C` in column :math:`k` (so
    :math:`\dim S_{fin} = \sum (|C| - 1)` exactly); otherwise the star generators
    :math:`(e_{c_0} - e_{c_r}) e_k^\top` are orthonormalised through their Gram matrix (see
    :func:`partition_basis` for how the dimension is decided).

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3)
    >>> b = fin_basis(ds)
    >>> b.dim, b.matrices()[0][:, 2].round(6).tolist()
    (1, [0.707107, -0.707107, 0.0])
    """
    graphs = require_graphs(data, "fin_basis")
    if not graphs.dataset.embeddings.is_onehot:
        require_dense(graphs.dataset, "fin_basis")
    groups = ((k, scc) for k, g in graphs.items() for scc in g.sccs)
    return partition_basis(graphs.dataset.embeddings, groups)


def reachable_basis(data: Dataset | PriorityGraphs) -> FinBasis:
    r"""An orthonormal basis of the reachable subspace :math:`\mathcal R` (docs/theory.md §2).

    :math:`\mathcal R = \operatorname{span}\{(e_i - e_j) e_k^\top : i, j \in G_k\}`: every
    gradient of every loss lies in it, and components of :math:`W` orthogonal to it never move in
    training (each :math:`G_k` is weakly connected, since every token of a sample with query
    :math:`k` is joined to its label and the label to :math:`k`).

    >>> from symattn.data import Dataset
    >>> b = reachable_basis(Dataset.from_samples([([0, 1, 2], 0), ([1, 2], 1)], vocab=3))
    >>> b.dim, b.project(np.ones((3, 3))).tolist()
    (2, [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    """
    graphs = require_graphs(data, "reachable_basis")
    groups = ((k, tuple(g.nodes.tolist())) for k, g in graphs.items())
    return partition_basis(graphs.dataset.embeddings, groups)


def partition_basis(embeddings: Embeddings, groups: Iterable[tuple[int, Sequence[int]]]) -> FinBasis:
    r"""An orthonormal basis of :math:`\operatorname{span}\{(e_i - e_j) e_k^\top : i, j \in C\}`
    over the given ``(k, C)`` pairs (disjoint token groups per query ``k``).

    :math:`S_{fin}` takes the SCCs of every :math:`G_k`, :math:`\mathcal R` the vertex sets. With
    orthonormal embeddings each group contributes a Helmert basis (the dimension is
    :math:`\sum (|C| - 1)` exactly). Otherwise the star generators are orthonormalised through
    their Gram matrix, and which of them are independent (the dimension) is decided exactly for
    exact embedding rows (rational row reduction) and, for float rows, by eigenvalues above
    :math:`10^{-10}` times the largest one: relative to the data's own scale, so scaling the
    embeddings changes no dimension.

    >>> partition_basis(Embeddings.onehot(3), [(2, (0, 1, 2))]).dim
    2
    """
    emb = embeddings
    tokens, queries, stars, ranges = _star_generators(groups)
    pair_token = np.array(tokens, dtype=np.int64)
    pair_query = np.array(queries, dtype=np.int64)
    gen = stars.shape[0]
    if emb.is_orthonormal or gen == 0:
        rows, cols, vals = [], [], []
        for (start, stop), first in zip(ranges, stars[[r[0] for r in ranges], 0].tolist(), strict=True):
            H = helmert(stop - start + 1)
            r, c = np.nonzero(H)
            rows.append(start + r)
            cols.append(first + c)
            vals.append(H[r, c])
        coef = csr_matrix((_cat(vals, np.float64), (_cat(rows, np.int64), _cat(cols, np.int64))),
                          shape=(gen, len(tokens)))
        return FinBasis(emb, pair_token, pair_query, coef, tuple(ranges), gen, stars, True,
                        _pair_ranges(stars, ranges))
    S = np.zeros((gen, len(tokens)))
    S[np.arange(gen), stars[:, 0]] = 1.0
    S[np.arange(gen), stars[:, 1]] = -1.0
    G = emb.gram()
    pair_gram = G[np.ix_(pair_token, pair_token)] * G[np.ix_(pair_query, pair_query)]
    if emb.is_exact:
        keep = _exact_independent(emb.exact_matrix(), pair_token, pair_query, stars)
        vals_, vecs = np.linalg.eigh(S[keep] @ pair_gram @ S[keep].T)
        ortho = (vecs / np.sqrt(np.maximum(vals_, np.finfo(float).tiny))).T @ S[keep]
        exact = True
    else:
        vals_, vecs = np.linalg.eigh(S @ pair_gram @ S.T)
        big = vals_ > 1e-10 * float(vals_.max())
        ortho = (vecs[:, big] / np.sqrt(vals_[big])).T @ S
        keep, exact = _float_independent(emb, S, pair_gram, (pair_token, pair_query, stars), int(big.sum()))
    dim = ortho.shape[0]
    return FinBasis(emb, pair_token, pair_query, csr_matrix(ortho), ((0, dim),) if dim else (), gen,
                    stars[keep], exact, _pair_ranges(stars, ranges))


_EXACT_RANK_LIMIT = 300
"""Float rows: the numerical rank is confirmed in rationals for at most this many generators."""


def _float_independent(
    emb: Embeddings, S: np.ndarray, pair_gram: np.ndarray, pairs: tuple[np.ndarray, np.ndarray, np.ndarray],
    rank: int,
) -> tuple[np.ndarray, bool]:
    """Independent generators for float rows, and whether the rank is proved.

    Float rows are binary rationals: when their exact rank equals the numerical one (dependencies
    that are structural, like more tokens than dimensions), the exact pivots are used and the
    dimension is proved; otherwise the numerical choice stands, unproved.
    """
    keep = _numerical_independent(S, pair_gram, rank)
    if S.shape[0] > _EXACT_RANK_LIMIT:
        return keep, False
    rows = [[Fraction(float(v)) for v in row] for row in emb.matrix()]
    exact = _exact_independent(rows, *pairs)
    return (exact, True) if exact.size == rank else (keep, False)


def _pair_ranges(stars: np.ndarray, ranges: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Pair range of each SCC from its generator range: pairs ``c_0 .. c_0 + (stop - start)``."""
    return tuple((int(stars[a, 0]), int(stars[a, 0]) + b - a + 1) for a, b in ranges)


def _numerical_independent(S: np.ndarray, pair_gram: np.ndarray, rank: int) -> np.ndarray:
    """``rank`` star generators chosen by pivoted Cholesky of their Gram matrix (float rows)."""
    gram = S @ pair_gram @ S.T
    chosen: list[int] = []
    residual = np.diag(gram).copy()
    L = np.zeros((gram.shape[0], rank))
    for step in range(rank):
        pivot = int(np.argmax(np.where(np.isin(np.arange(gram.shape[0]), chosen), -np.inf, residual)))
        chosen.append(pivot)
        column = (gram[:, pivot] - L[:, :step] @ L[pivot, :step]) / np.sqrt(residual[pivot])
        L[:, step] = column
        residual -= column**2
    return np.array(sorted(chosen), dtype=np.int64)


def _cat(parts: list[np.ndarray], dt: type) -> np.ndarray:
    return np.concatenate(parts).astype(dt) if parts else np.zeros(0, dt)


# -- reduced data -------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ReducedData:
    r"""The reduced dataset: each sample keeps only the tokens of its label's SCC.

    Attributes
    ----------
    n : int
        The original number of samples (the normaliser :math:`1/n`).
    query, label : numpy.ndarray, shape (n,)
        Unchanged: the query vector stays :math:`e_k` even when :math:`k` itself is dropped.
    indptr : numpy.ndarray, shape (n + 1,)
        Sample ``i`` owns entries ``indptr[i]:indptr[i+1]`` (never empty: the label stays).
    token, count, sample : numpy.ndarray, shape (nnz_red,)
        The kept (sample, distinct token) entries and their counts.
    entry : numpy.ndarray, shape (nnz_red,)
        Index of each kept entry in ``dataset.counts``.
    label_entry : numpy.ndarray, shape (n,)
        Index (into the kept entries) of each sample's label.
    """

    n: int
    query: np.ndarray = field(repr=False)
    label: np.ndarray = field(repr=False)
    indptr: np.ndarray = field(repr=False)
    token: np.ndarray = field(repr=False)
    count: np.ndarray = field(repr=False)
    sample: np.ndarray = field(repr=False)
    entry: np.ndarray = field(repr=False)
    label_entry: np.ndarray = field(repr=False)


def reduced_data(data: Dataset | PriorityGraphs) -> ReducedData:
    """The reduced dataset of docs/theory.md §5 (see :class:`ReducedData`).

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1), ([1, 2], 1)], vocab=3)
    >>> red = reduced_data(ds)
    >>> red.token.tolist(), red.indptr.tolist(), red.query.tolist()
    ([0, 1, 0, 1, 1], [0, 2, 4, 5], [2, 2, 2])
    """
    graphs = require_graphs(data, "reduced_data")
    c = graphs.dataset.counts
    keep = np.flatnonzero(graphs.in_label_scc)
    sample = c.sample[keep]
    indptr = np.zeros(c.n + 1, dtype=np.int64)
    np.cumsum(np.bincount(sample, minlength=c.n), out=indptr[1:])
    token = c.token[keep]
    label_entry = np.flatnonzero(token == c.label[sample])
    return ReducedData(c.n, c.query, c.label, indptr, token, c.count[keep], sample, keep, label_entry)


def reduced_loss(
    dataset: Dataset | PriorityGraphs, W: np.ndarray, reduced: ReducedData | None = None
) -> float:
    r""":math:`\mathcal L_{red}(W) = \frac1n \sum_i \big[\operatorname{lse}_{j \in C_{y_i}}(u_j + \log c_j)
    - u_{y_i} - \log c_{y_i}\big]`, in log-space.

    ``dataset`` may be a :class:`~symattn.data.Dataset` or its
    :class:`~symattn.graphs.PriorityGraphs`; ``reduced`` (default :func:`reduced_data`) must
    come from the same dataset.

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3)
    >>> bool(np.isclose(reduced_loss(ds, np.zeros((3, 3))), np.log(2)))
    True
    """
    data = require_data(dataset, "reduced_loss")
    if reduced is None:
        red = reduced_data(dataset)
    elif not isinstance(reduced, ReducedData):
        raise InvalidInput(f"reduced must be a ReducedData (see reduced_data), got {type(reduced).__name__}")
    elif reduced.n != data.n or (reduced.entry.size and int(reduced.entry.max()) >= data.counts.nnz):
        raise InvalidInput(
            f"reduced was built from another dataset (n={reduced.n}, this one has n={data.n}); "
            "pass reduced_data(dataset) of this dataset"
        )
    else:
        red = reduced
    z = entry_potentials(data, W)[red.entry] + np.log(red.count)
    return float(-np.sum(label_terms(z, red.indptr, red.label_entry).log_p) / red.n)


# -- W^fin ----------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class FiniteResult(SparseWeights, ResultMixin):
    r"""The finite component and the evidence for it.

    Attributes
    ----------
    status : FiniteStatus
        How the Newton solve ended; ``success`` derives from it.
    weights : numpy.ndarray or scipy.sparse.csc_matrix, shape (d, d)
        :math:`W^{fin} \in S_{fin}` as computed: for one-hot embeddings a sparse matrix holding, in
        the column of each query token :math:`k`, the tokens of the cyclic SCCs of :math:`G_k`
        (memory of the size of the data, whatever :math:`K`); dense otherwise. :attr:`W` is the
        dense matrix, formed on request; :attr:`W_sparse` the sparse one.
    theta : numpy.ndarray, shape (m,)
        Its coordinates in ``basis``.
    basis : FinBasis
        The orthonormal basis of :math:`S_{fin}`.
    reduced : ReducedData
        The reduced dataset whose loss :math:`W^{fin}` minimises.
    loss : float
        :math:`\mathcal L_{red}(W^{fin})`.
    grad_norm : float
        :math:`\|\Pi_{S_{fin}} \nabla \mathcal L_{red}(W^{fin})\|_F` (floating point).
    hessian_min_eig : float
        Smallest eigenvalue of the Hessian on :math:`S_{fin}` (floating point; ``inf`` when
        :math:`S_{fin} = \{0\}`).
    error_bound : float
        A *proven* upper bound on :math:`\|W - W^{fin}_{exact}\|_F` (``proof.bound``; ``inf`` when
        not proven, see ``proof.message``).
    iterations : int
        Newton steps taken.
    decrement : float
        The Newton decrement :math:`\sqrt{g^\top H^{-1} g}` at the answer (scale-free).
    error_estimate : float
        :math:`2\|\nabla\|/\lambda_{min}`: the local strong-convexity estimate (not proven).
    proof : FiniteProof
        The ingredients of ``error_bound`` (see :mod:`symattn._finbound`).
    message : str
        Why the status is not ``CONVERGED`` (empty when it is).
    """

    status: FiniteStatus
    weights: np.ndarray | csc_matrix = field(repr=False)
    theta: np.ndarray = field(repr=False)
    basis: FinBasis = field(repr=False)
    reduced: ReducedData = field(repr=False)
    loss: float
    grad_norm: float
    hessian_min_eig: float
    error_bound: float
    iterations: int
    decrement: float
    error_estimate: float
    proof: FiniteProof = field(repr=False)
    message: str = ""
    WEIGHTS_NAME: ClassVar[str] = "W^fin"

    @property
    def dim(self) -> int:
        """:math:`\\dim S_{fin}`.

        >>> from symattn.data import Dataset
        >>> fin = finite_component(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3))
        >>> fin.dim
        1
        """
        return self.basis.dim

    @property
    def certified(self) -> bool:
        r"""The proven ``error_bound`` pins :math:`W^{fin}` to :data:`POTENTIAL_TOL` in potentials.

        True when the ball-arithmetic proof holds and :math:`\nu \cdot` ``error_bound`` :math:`\le`
        :data:`POTENTIAL_TOL`: every within-SCC potential difference :math:`(e_a - e_b)^\top W e_k`
        of the returned ``W`` is then within 1e-9 of the exact one (a scale-free statement).

        >>> from symattn.data import Dataset
        >>> fin = finite_component(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3))
        >>> fin.certified, fin.error_bound < 1e-12
        (True, True)
        """
        return self.proof.proven and self.proof.nu * self.error_bound <= POTENTIAL_TOL


def finite_component(data: Dataset | PriorityGraphs, *, max_iter: int = 100) -> FiniteResult:
    r"""Compute :math:`W^{fin} = \arg\min_{W \in S_{fin}} \mathcal L_{red}(W)` by Newton, and prove it.

    Newton steps in orthonormal coordinates of :math:`S_{fin}` (block by block when the
    embeddings are orthonormal: each cyclic SCC is its own block), with Armijo backtracking,
    until the Newton decrement is at most :data:`DECREMENT_TOL` (a scale-free criterion). Then
    :func:`~symattn._finbound.prove_finite_bound` proves, in ball arithmetic, an upper bound on
    the distance of the returned ``W`` from the exact :math:`W^{fin}` (a self-concordance bound
    with a proven third-derivative constant; docs/proofs/finite_bound.md).

    Parameters
    ----------
    data : Dataset or PriorityGraphs
        The dataset, or its graphs (reused instead of rebuilt).
    max_iter : int
        Most Newton steps (a positive integer).

    Returns
    -------
    FiniteResult
        :math:`W^{fin}` (``weights``: sparse for one-hot embeddings, whatever :math:`K`; ``W`` the
        dense (d, d) matrix on request), its coordinates ``theta`` in ``basis``, the reduced
        ``loss``, ``grad_norm``, ``hessian_min_eig``, the proven ``error_bound`` and its ``proof``,
        the local ``error_estimate``, ``decrement``, ``iterations`` and ``status``
        (``CONVERGED``, ``STALLED`` or ``SINGULAR``); ``W`` is zero when :math:`S_{fin} = \{0\}`
        (every graph acyclic).

    Raises
    ------
    InvalidInput
        When ``data`` is not a Dataset or PriorityGraphs, or ``max_iter`` is not a positive integer.

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1), ([0, 1, 2], 1)], vocab=3)
    >>> fin = finite_component(ds)
    >>> round(float(fin.W[1, 2] - fin.W[0, 2]), 12) == round(float(np.log(2)), 12), fin.certified
    (True, True)
    """
    graphs = require_graphs(data, "finite_component")
    emb = graphs.dataset.embeddings
    if not emb.is_onehot:
        require_dense(graphs.dataset, "finite_component")
    max_iter = as_count(max_iter, "max_iter")
    basis = fin_basis(graphs)
    red = reduced_data(graphs)
    if basis.dim == 0:
        zero = from_token_coordinates(emb, basis.token_matrix(np.zeros(0)))
        return FiniteResult(
            FiniteStatus.CONVERGED, zero, np.zeros(0), basis, red, reduced_loss(graphs.dataset, zero, red),
            0.0, float("inf"), 0.0, 0, 0.0, 0.0, prove_finite_bound(basis, red, np.zeros(0), zero),
        )
    solved = newton(objective(basis, red), basis.dim, max_iter)
    status, theta, loss, grad, eigs, decrement, iterations = solved
    W = from_token_coordinates(emb, basis.token_matrix(theta))
    grad_norm = float(np.linalg.norm(grad))
    estimate = 2.0 * grad_norm / eigs[0] if eigs[0] > 0 else float("inf")
    proof = prove_finite_bound(basis, red, theta, W)
    return FiniteResult(status, W, theta, basis, red, loss, grad_norm, eigs[0], proof.bound, iterations,
                        decrement, estimate, proof, _message(status, decrement, eigs, iterations))


def _message(status: FiniteStatus, decrement: float, eigs: tuple[float, float], iterations: int) -> str:
    """Why the Newton solve of :func:`finite_component` did not converge (empty when it did)."""
    if status is FiniteStatus.SINGULAR:
        return (f"the Hessian on S_fin is singular to rounding (eigenvalues {eigs[0]:.3g} to {eigs[1]:.3g}): "
                "the reduced loss has no unique minimiser")
    if status is FiniteStatus.STALLED:
        return (f"Newton stopped after {iterations} step(s) at decrement {decrement:.3g} > {DECREMENT_TOL:g} "
                "(rounding floor or max_iter reached)")
    return ""


def finite_bound(data: Dataset | PriorityGraphs, W: np.ndarray) -> FiniteProof:
    r"""A proven upper bound on :math:`\|W - W^{fin}\|_F` for any ``W`` (d, d), e.g. another solver's.

    ``W`` may be a SciPy sparse matrix when the embeddings are one-hot (only its stored entries
    are read, whatever :math:`K`).

    ``W`` is split into the nearest combination :math:`W'` of :math:`S_{fin}`'s generators (built
    exactly from its coordinates) and the rest; the bound is :math:`\|W - W'\|_F` plus the
    self-concordance radius around :math:`W'` (see :func:`finite_component` and
    docs/proofs/finite_bound.md), everything in ball arithmetic. ``proven`` is False, with the
    reason, when no bound could be established.

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1, 2], y) for y in (0, 1, 1, 2, 2, 2)], vocab=3)
    >>> exact = np.zeros((3, 3)); exact[:, 2] = np.log([1 / 6, 1 / 3, 1 / 2]) - np.log(1 / 36) / 3
    >>> moved = exact.copy(); moved[0, 2] += 1e-3  # 1e-3 away from W^fin
    >>> proof = finite_bound(ds, moved)
    >>> proof.proven, 1e-3 <= proof.bound < 2e-3, finite_bound(ds, exact).bound < 1e-15
    (True, True, True)
    """
    graphs = require_graphs(data, "finite_bound")
    basis = fin_basis(graphs)
    W = check_weights(W, graphs.dataset.embeddings.dim, sparse_ok=graphs.dataset.embeddings.is_onehot)
    return prove_finite_bound(basis, reduced_data(graphs), basis.coordinates(W), W)

