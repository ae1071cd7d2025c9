r"""The cyclic subspace :math:`S_{fin}`, the reduced dataset and the finite component (THEORY §5).

.. math::

    S_{fin} = \operatorname{span}\{(e_i - e_j) e_k^\top : i \asymp_k j\}, \qquad
    W^{fin} = \arg\min_{W \in S_{fin}} \mathcal L_{red}(W),

where the reduced loss keeps, in each sample, only the tokens of its label's SCC (the query
vector stays :math:`e_k` even when :math:`k` is dropped; the normaliser stays :math:`1/n`).
:math:`W^{fin}` is found by Newton's method with a backtracking line search in orthonormal
coordinates of :math:`S_{fin}`, to a gradient norm of at most 1e-12; the Hessian on
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

import enum
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csc_matrix, csr_matrix

from symattn._checks import require_dense
from symattn.data import Dataset, _as_int
from symattn.embeddings import Embeddings
from symattn.errors import InvalidInput
from symattn.graphs import PriorityGraphs, _as_graphs
from symattn.scores import check_weights, entry_potentials, label_terms

__all__ = [
    "GRAD_TOL",
    "FinBasis",
    "FiniteResult",
    "FiniteStatus",
    "ReducedData",
    "fin_basis",
    "finite_component",
    "reduced_data",
    "reduced_loss",
]

GRAD_TOL = 1e-12
"""Gradient norm (Frobenius, on :math:`S_{fin}`) below which :math:`W^{fin}` counts as found."""


# -- S_fin ----------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class FinBasis:
    r"""An orthonormal basis of :math:`S_{fin}` (Frobenius inner product).

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
        :math:`\sum_k \sum_C (|C| - 1)`, the dimension for independent embeddings.
    """

    embeddings: Embeddings = field(repr=False)
    pair_token: np.ndarray = field(repr=False)
    pair_query: np.ndarray = field(repr=False)
    coef: csr_matrix = field(repr=False)
    blocks: tuple[tuple[int, int], ...]
    expected_dim: int

    @property
    def dim(self) -> int:
        """:math:`\\dim S_{fin}`.

        >>> from symattn.data import Dataset
        >>> fin_basis(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3)).dim
        1
        """
        return int(self.coef.shape[0])

    def _pair_potentials(self, W: np.ndarray) -> np.ndarray:
        if self.embeddings.is_onehot:
            return W[self.pair_token, self.pair_query]
        E = self.embeddings.matrix()
        return np.einsum("pd,pd->p", E[self.pair_token], (W @ E[self.pair_query].T).T)

    def coordinates(self, W: np.ndarray) -> np.ndarray:
        r"""Coordinates :math:`\langle B_r, W\rangle_F` of ``W`` (shape (m,)).

        >>> from symattn.data import Dataset
        >>> b = fin_basis(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3))
        >>> W = np.zeros((3, 3)); W[0, 2] = 1.0
        >>> b.coordinates(W).round(6).tolist()
        [0.707107]
        """
        W = check_weights(W, self.embeddings.dim)
        return self.coef @ self._pair_potentials(W)

    def expand(self, theta: np.ndarray) -> np.ndarray:
        r""":math:`\sum_r \theta_r B_r` as a :math:`d \times d` matrix.

        >>> from symattn.data import Dataset
        >>> b = fin_basis(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3))
        >>> b.expand([np.sqrt(2)])[:, 2].round(12).tolist()
        [1.0, -1.0, 0.0]
        """
        K = self.embeddings.size
        T = np.zeros((K, K))
        np.add.at(T, (self.pair_token, self.pair_query), self.coef.T @ np.asarray(theta, dtype=np.float64))
        if self.embeddings.is_onehot:
            return T
        E = self.embeddings.matrix()
        return E.T @ T @ E

    def project(self, W: np.ndarray) -> np.ndarray:
        r""":math:`\Pi_{S_{fin}} W = \sum_r \langle B_r, W\rangle B_r`.

        >>> from symattn.data import Dataset
        >>> b = fin_basis(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3))
        >>> b.project(np.eye(3))[:, 2].round(12).tolist()
        [0.0, 0.0, 0.0]
        >>> W = np.zeros((3, 3)); W[0, 2] = 1.0
        >>> b.project(W)[:, 2].round(12).tolist()
        [0.5, -0.5, 0.0]
        """
        return self.expand(self.coordinates(W))

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


def _helmert(size: int) -> np.ndarray:
    """Rows ``r = 1..size-1``: an orthonormal basis of the zero-sum vectors of length ``size``."""
    H = np.zeros((size - 1, size))
    for r in range(1, size):
        H[r - 1, :r] = 1.0
        H[r - 1, r] = -float(r)
        H[r - 1] /= np.sqrt(r * (r + 1.0))
    return H


def fin_basis(data: Dataset | PriorityGraphs) -> FinBasis:
    r"""An orthonormal basis of :math:`S_{fin}` for the dataset's graphs and embeddings.

    With orthonormal embeddings each cyclic SCC :math:`C` of :math:`G_k` contributes a Helmert
    basis of the zero-sum vectors on :math:`C` in column :math:`k` (so
    :math:`\dim S_{fin} = \sum (|C| - 1)` exactly); otherwise the star generators
    :math:`(e_{c_0} - e_{c_r}) e_k^\top` are orthonormalised through their Gram matrix, and
    the dimension is its numerical rank.

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3)
    >>> b = fin_basis(ds)
    >>> b.dim, b.matrices()[0][:, 2].round(6).tolist()
    (1, [0.707107, -0.707107, 0.0])
    """
    graphs = _as_graphs(data, "fin_basis")
    require_dense(graphs.dataset, "fin_basis")
    emb = graphs.dataset.embeddings
    tokens: list[int] = []
    queries: list[int] = []
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    blocks: list[tuple[int, int]] = []
    gen = 0
    for k, g in graphs.items():
        for scc in g.sccs:
            if len(scc) < 2:
                continue
            base = len(tokens)
            tokens.extend(scc)
            queries.extend([k] * len(scc))
            H = _helmert(len(scc))
            r, c = np.nonzero(H)
            rows.append(gen + r)
            cols.append(base + c)
            vals.append(H[r, c])
            blocks.append((gen, gen + len(scc) - 1))
            gen += len(scc) - 1
    pair_token = np.array(tokens, dtype=np.int64)
    pair_query = np.array(queries, dtype=np.int64)

    def cat(parts: list[np.ndarray], dt: type) -> np.ndarray:
        return np.concatenate(parts).astype(dt) if parts else np.zeros(0, dt)

    coef = csr_matrix(
        (cat(vals, np.float64), (cat(rows, np.int64), cat(cols, np.int64))), shape=(gen, len(tokens))
    )
    if emb.is_orthonormal or gen == 0:
        return FinBasis(emb, pair_token, pair_query, coef, tuple(blocks), gen)
    G = emb.gram()
    C = coef.toarray()
    pair_gram = G[np.ix_(pair_token, pair_token)] * G[np.ix_(pair_query, pair_query)]
    gram = C @ pair_gram @ C.T
    vals_, vecs = np.linalg.eigh(gram)
    keep = vals_ > 1e-10 * max(1.0, float(vals_.max()))
    ortho = (vecs[:, keep] / np.sqrt(vals_[keep])).T @ C
    dim = int(keep.sum())
    return FinBasis(emb, pair_token, pair_query, csr_matrix(ortho), ((0, dim),) if dim else (), gen)


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
    """The reduced dataset of THEORY §5 (see :class:`ReducedData`).

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1), ([1, 2], 1)], vocab=3)
    >>> red = reduced_data(ds)
    >>> red.token.tolist(), red.indptr.tolist(), red.query.tolist()
    ([0, 1, 0, 1, 1], [0, 2, 4, 5], [2, 2, 2])
    """
    graphs = _as_graphs(data, "reduced_data")
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
    data = dataset.dataset if isinstance(dataset, PriorityGraphs) else dataset
    if not isinstance(data, Dataset):
        raise InvalidInput(f"reduced_loss needs a Dataset or its PriorityGraphs, got {type(data).__name__}")
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
class FiniteStatus(enum.Enum):
    """Outcome of :func:`finite_component`."""

    CONVERGED = "converged"
    """Gradient norm at most :data:`GRAD_TOL` and the Hessian on :math:`S_{fin}` positive definite."""
    STALLED = "stalled"
    """Newton stopped making progress above the gradient tolerance (rounding floor)."""
    SINGULAR = "singular"
    """The Hessian on :math:`S_{fin}` is not positive definite: :math:`W^{fin}` is not unique."""


@dataclass(frozen=True, eq=False)
class FiniteResult:
    r"""The finite component and the evidence for it.

    Attributes
    ----------
    status : FiniteStatus
        Outcome; ``success`` derives from it.
    W : numpy.ndarray, shape (d, d)
        :math:`W^{fin} \in S_{fin}`.
    theta : numpy.ndarray, shape (m,)
        Its coordinates in ``basis``.
    basis : FinBasis
        The orthonormal basis of :math:`S_{fin}`.
    reduced : ReducedData
        The reduced dataset whose loss :math:`W^{fin}` minimises.
    loss : float
        :math:`\mathcal L_{red}(W^{fin})`.
    grad_norm : float
        :math:`\|\Pi_{S_{fin}} \nabla \mathcal L_{red}(W^{fin})\|_F`.
    hessian_min_eig : float
        Smallest eigenvalue of the Hessian on :math:`S_{fin}` (``inf`` when :math:`S_{fin} = \{0\}`).
    error_bound : float
        :math:`2\,\|\nabla\| / \lambda_{min}`: the distance to the exact minimiser is below this
        as long as the Hessian stays above :math:`\lambda_{min}/2` on that ball (the usual
        strong-convexity estimate; it is tiny here, so the ball is tiny).
    iterations : int
        Newton steps taken.
    """

    status: FiniteStatus
    W: np.ndarray = field(repr=False)
    theta: np.ndarray = field(repr=False)
    basis: FinBasis = field(repr=False)
    reduced: ReducedData = field(repr=False)
    loss: float
    grad_norm: float
    hessian_min_eig: float
    error_bound: float
    iterations: int

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
    def success(self) -> bool:
        """True when ``status`` is ``CONVERGED``.

        >>> from symattn.data import Dataset
        >>> fin = finite_component(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3))
        >>> fin.status.value, fin.success
        ('converged', True)
        """
        return self.status is FiniteStatus.CONVERGED

    @property
    def certified(self) -> bool:
        """Gradient norm at most 1e-12, Hessian positive definite on :math:`S_{fin}`, bound finite.

        >>> from symattn.data import Dataset
        >>> fin = finite_component(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3))
        >>> fin.certified, fin.grad_norm <= 1e-12 < fin.hessian_min_eig
        (True, True)
        """
        return (self.grad_norm <= GRAD_TOL and self.hessian_min_eig > 0
                and bool(np.isfinite(self.error_bound)))


@dataclass(frozen=True, eq=False)
class _Objective:
    red: ReducedData
    J: csr_matrix  # entry potentials = J @ theta (general embeddings; empty otherwise)
    log_count: np.ndarray
    coef: csr_matrix  # the basis in pair coordinates
    select: csc_matrix  # entry -> pair (orthonormal embeddings; empty otherwise)
    pairwise: bool  # orthonormal: potentials are select @ coefᵀ θ and each block is one SCC

    def potentials(self, theta: np.ndarray) -> np.ndarray:
        if self.pairwise:
            return self.select @ (self.coef.T @ theta)
        return self.J @ theta

    def pullback(self, resid: np.ndarray) -> np.ndarray:
        if self.pairwise:
            return self.coef @ (self.select.T @ resid)
        return np.asarray(self.J.T @ resid)

    def evaluate(self, theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        z = self.potentials(theta) + self.log_count
        terms = label_terms(z, self.red.indptr, self.red.label_entry)
        loss = float(-np.sum(terms.log_p) / self.red.n)
        resid = terms.pi.copy()
        resid[self.red.label_entry] = -terms.outside  # pi_y - 1 without cancellation
        return loss, self.pullback(resid) / self.red.n, terms.pi

    def hessian_block(self, pi: np.ndarray, start: int, stop: int) -> np.ndarray:
        nnz = pi.size
        spread = csr_matrix((pi, (self.red.sample, np.arange(nnz))), shape=(self.red.n, nnz))
        if self.pairwise:
            # one cyclic SCC: the Hessian in its token potentials, diag(Σπ) − Σ π πᵀ, then rotated
            block = self.coef[start:stop]
            lo, hi = int(block.indices.min()), int(block.indices.max()) + 1
            C = block[:, lo:hi].toarray()
            S = self.select[:, lo:hi]
            P = (spread @ S).tocsr()
            P = P[np.diff(P.indptr) > 0].toarray()  # only the samples of this SCC
            pair = np.diag(np.asarray(S.T @ pi).ravel()) - P.T @ P
            return C @ pair @ C.T / self.red.n
        Jb = self.J[:, start:stop]
        first = (Jb.T @ Jb.multiply(pi[:, None]).tocsr()).toarray()
        P = (spread @ Jb).toarray()
        return (first - P.T @ P) / self.red.n


def _as_count(value: object, what: str) -> int:
    """A positive integer option, refusing floats, strings and booleans."""
    try:
        count = _as_int(value, what)
    except InvalidInput:
        raise InvalidInput(f"{what}={value!r} must be a positive integer") from None
    if count < 1:
        raise InvalidInput(f"{what}={count} must be at least 1")
    return count


def _jacobian(basis: FinBasis, red: ReducedData) -> tuple[csr_matrix, csc_matrix]:
    """Entry potentials as a function of the coordinates: ``select`` (entry -> pair) for
    orthonormal embeddings, where they are ``select @ coefᵀ θ``; a dense Jacobian otherwise."""
    emb = basis.embeddings
    K = emb.size
    m = basis.dim
    if emb.is_orthonormal:
        keys = basis.pair_query * K + basis.pair_token
        order = np.argsort(keys)
        want = red.query[red.sample] * K + red.token
        pos = np.searchsorted(keys[order], want).clip(0, max(keys.size - 1, 0))
        hit = keys.size > 0
        found = np.flatnonzero(keys[order][pos] == want) if hit else np.zeros(0, dtype=np.int64)
        select = csr_matrix(
            (np.ones(found.size), (found, order[pos[found]])), shape=(red.token.size, keys.size)
        )
        return csr_matrix((0, 0)), select.tocsc()
    G = emb.gram()
    k_e = red.query[red.sample]
    cross = G[np.ix_(red.token, basis.pair_token)] * G[np.ix_(k_e, basis.pair_query)]
    dense = cross @ basis.coef.T.toarray() if m else np.zeros((red.token.size, 0))
    return csr_matrix(dense), csc_matrix((0, 0))


def finite_component(data: Dataset | PriorityGraphs, *, max_iter: int = 100) -> FiniteResult:
    r"""Compute :math:`W^{fin} = \arg\min_{W \in S_{fin}} \mathcal L_{red}(W)` by Newton's method.

    Newton steps in orthonormal coordinates of :math:`S_{fin}` (block by block when the
    embeddings are orthonormal: each cyclic SCC is its own block), with Armijo backtracking,
    until the gradient norm is at most :data:`GRAD_TOL`. The Hessian's smallest eigenvalue on
    :math:`S_{fin}` is reported (positive: unique minimiser) with the error bound
    :math:`2\|\nabla\|/\lambda_{min}`.

    Parameters
    ----------
    data : Dataset or PriorityGraphs
        The dataset, or its graphs (reused instead of rebuilt).
    max_iter : int
        Most Newton steps (a positive integer).

    Returns
    -------
    FiniteResult
        :math:`W^{fin}` (``W``, shape (d, d)), its coordinates ``theta`` in ``basis``, the reduced
        ``loss``, ``grad_norm``, ``hessian_min_eig``, ``error_bound``, ``iterations`` and
        ``status`` (``CONVERGED``, ``STALLED`` or ``SINGULAR``); ``W`` is zero when
        :math:`S_{fin} = \{0\}` (every graph acyclic).

    Raises
    ------
    InvalidInput
        When ``data`` is not a Dataset or PriorityGraphs, or ``max_iter`` is not a positive integer.

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1), ([0, 1, 2], 1)], vocab=3)
    >>> fin = finite_component(ds)
    >>> round(float(fin.W[1, 2] - fin.W[0, 2]), 12) == round(float(np.log(2)), 12)
    True
    """
    graphs = _as_graphs(data, "finite_component")
    require_dense(graphs.dataset, "finite_component")
    max_iter = _as_count(max_iter, "max_iter")
    basis = fin_basis(graphs)
    red = reduced_data(graphs)
    d = graphs.dataset.embeddings.dim
    m = basis.dim
    if m == 0:
        return FiniteResult(
            FiniteStatus.CONVERGED, np.zeros((d, d)), np.zeros(0), basis, red,
            reduced_loss(graphs.dataset, np.zeros((d, d)), red), 0.0, float("inf"), 0.0, 0,
        )
    J, select = _jacobian(basis, red)
    obj = _Objective(red, J, np.log(red.count), basis.coef, select, basis.embeddings.is_orthonormal)
    theta = np.zeros(m)
    loss, grad, pi = obj.evaluate(theta)
    status = FiniteStatus.STALLED
    iterations = 0
    min_eig = float("nan")
    for iterations in range(1, max_iter + 1):  # noqa: B007 (reported after the loop)
        hessians = [obj.hessian_block(pi, a, b) for a, b in basis.blocks]
        min_eig = min(float(np.linalg.eigvalsh(h)[0]) for h in hessians)
        if not min_eig > 0:
            status = FiniteStatus.SINGULAR
            break
        if np.linalg.norm(grad) <= 1e-3 * GRAD_TOL:  # go below the bar; stalls are handled below
            status = FiniteStatus.CONVERGED
            break
        pieces = zip(hessians, basis.blocks, strict=True)
        step = np.concatenate([-np.linalg.solve(h, grad[a:b]) for h, (a, b) in pieces])
        slope = float(grad @ step)
        t = 1.0
        while True:
            new_loss, new_grad, new_pi = obj.evaluate(theta + t * step)
            if new_loss <= loss + 1e-4 * t * slope:
                break
            floor = abs(new_loss - loss) <= 1e-15 * max(1.0, abs(loss))
            if floor and np.linalg.norm(new_grad) < np.linalg.norm(grad):
                break  # at the rounding floor of the loss: accept a step that lowers the gradient
            t *= 0.5
            if t < 1e-12:
                break
        if t < 1e-12:
            break
        theta = theta + t * step
        loss, grad, pi = new_loss, new_grad, new_pi
    grad_norm = float(np.linalg.norm(grad))
    if status is FiniteStatus.STALLED and grad_norm <= GRAD_TOL and min_eig > 0:
        status = FiniteStatus.CONVERGED
    bound = 2.0 * grad_norm / min_eig if min_eig > 0 else float("inf")
    W = basis.expand(theta)
    return FiniteResult(status, W, theta, basis, red, loss, grad_norm, min_eig, bound, iterations)
