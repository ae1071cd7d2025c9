r"""Private: Newton's method for the finite component on :math:`S_{fin}` (docs/theory.md §5).

The reduced loss in orthonormal coordinates :math:`\theta` of :math:`S_{fin}`
(:class:`~symattn.finite.FinBasis`), its gradient, and its Hessian as blocks: one per cyclic SCC
for orthonormal embeddings (small blocks stacked and solved directly; large ones matrix-free by
Jacobi-preconditioned conjugate gradients with products linear in the data), one dense block
otherwise. :func:`newton` is damped Newton from 0 with Armijo backtracking until the Newton
decrement is at most :data:`DECREMENT_TOL`; :func:`symattn.finite.finite_component` wraps it.

>>> from symattn.data import Dataset
>>> from symattn.finite import fin_basis, reduced_data
>>> ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1), ([0, 1, 2], 1)], vocab=3)
>>> status, theta, *_ = newton(objective(fin_basis(ds), reduced_data(ds)), 1, 100)
>>> status.value, theta.size
('converged', 1)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.linalg
from scipy.sparse import csr_matrix

from symattn._arrays import helmert_apply, helmert_apply_transpose, helmert_rotate, locate_sorted
from symattn.results import Status
from symattn.scores import label_terms, segment_argmax, segment_centre, segment_complement

if TYPE_CHECKING:
    from symattn.finite import FinBasis, ReducedData

__all__ = ["DECREMENT_TOL", "FiniteStatus", "newton", "objective"]

DECREMENT_TOL = 1e-12
r"""Newton decrement :math:`\sqrt{g^\top H^{-1} g}` below which the solve counts as converged.

The decrement is invariant under scaling the embeddings (and every affine change of
coordinates), unlike the gradient norm, which scales like :math:`c^2`."""


class FiniteStatus(Status, success={"converged"}):
    """Outcome of the Newton solve in :func:`finite_component`; only ``CONVERGED`` counts as success."""

    CONVERGED = "converged"
    """Newton decrement at most :data:`DECREMENT_TOL` and the Hessian on :math:`S_{fin}` positive definite."""
    STALLED = "stalled"
    """Newton stopped making progress above the decrement tolerance (rounding floor)."""
    SINGULAR = "singular"
    """The Hessian on :math:`S_{fin}` is singular to rounding: :math:`W^{fin}` is not unique."""


@dataclass(frozen=True, eq=False)
class _Objective:
    red: ReducedData
    J: np.ndarray  # entry potentials = J @ theta (general embeddings; empty otherwise)
    log_count: np.ndarray
    coef: csr_matrix  # the basis in pair coordinates
    slot: np.ndarray  # entry -> pair, the number of pairs for none (orthonormal embeddings; else empty)
    layout: _BlockLayout | None  # where each pair's Hessian entries go (orthonormal embeddings)

    @property
    def pairwise(self) -> bool:
        """Orthonormal embeddings: potentials are the pair values coefᵀ θ at ``slot``, one SCC a block."""
        return self.layout is not None

    def potentials(self, theta: np.ndarray) -> np.ndarray:
        if self.pairwise:
            return np.append(self.coef.T @ theta, 0.0)[self.slot]
        return self.J @ theta

    def pullback(self, resid: np.ndarray) -> np.ndarray:
        if self.pairwise:
            return self.coef @ np.bincount(self.slot, weights=resid, minlength=self.coef.shape[1] + 1)[:-1]
        return self.J.T @ resid

    def evaluate(self, theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        z = self.potentials(theta) + self.log_count
        terms = label_terms(z, self.red.indptr, self.red.label_entry)
        loss = float(-np.sum(terms.log_p) / self.red.n)
        resid = terms.pi.copy()
        resid[self.red.label_entry] = -terms.outside  # pi_y - 1 without cancellation
        return loss, self.pullback(resid) / self.red.n, terms.pi

    def system(self, pi: np.ndarray, *, matrix_free: bool = True) -> _NewtonSystem:
        """The Hessian at masses ``pi``, every block assembled in one pass over the entries (the large
        blocks of orthonormal embeddings matrix-free unless ``matrix_free`` is False)."""
        if self.layout is not None:
            return self.layout.assemble(pi, self.red, matrix_free=matrix_free)
        m = self.J.shape[1]
        anchor = segment_argmax(pi, self.red.indptr)
        D = segment_centre(self.J, pi, self.red.indptr, anchor)  # centred derivatives, no cancellation
        H = D.T @ (D * pi[:, None]) / self.red.n
        return _NewtonSystem([(np.arange(m)[None, :], H[None])])


@dataclass(frozen=True, eq=False)
class _BlockLayout:
    r"""Orthonormal embeddings: the Hessian in pair potentials is block diagonal, one block per
    cyclic SCC :math:`C` (a sample of label in :math:`C` keeps only tokens of :math:`C`), and
    :math:`\frac1n \sum_i (\operatorname{diag}\pi_i - \pi_i\pi_i^\top)` there.

    Built once: the (sample, pair) matrix of the samples with two or more entries (its values are
    the masses of each iteration) and, per pair of a small block (at most :data:`_EIG_EVERY` + 1
    pairs), where its block lives in one flat buffer (blocks of equal size side by side, so each
    size is one stacked array). Each iteration is then one sparse product :math:`P^\top P` over
    the entries of the small blocks, one scatter, and the Helmert rotation of every small block
    (cumulative sums, :func:`~symattn._arrays.helmert_rotate`). The large blocks stay
    matrix-free (:class:`_MatrixFree`): products in :math:`O(\text{entries})`, dense only on request.
    """

    entries: np.ndarray  # entries of the samples with two or more, in sample order
    pair: np.ndarray  # their pairs
    indptr: np.ndarray  # (multi samples + 1,) segments of those entries
    n_pairs: int
    base: np.ndarray  # (pairs,) offset of the pair's row in the flat buffer (small blocks)
    loc: np.ndarray  # (pairs,) the pair's index inside its block
    groups: tuple[tuple[int, int, int, np.ndarray], ...]  # (offset, count, size, coordinates (count, size-1))
    small: tuple[np.ndarray, ...]  # positions (into entries) in small blocks, segments; the same by pair
    small_pairs: np.ndarray  # the pairs of the small blocks
    large: _LargeLayout | None  # the large blocks

    @classmethod
    def build(cls, red: ReducedData, pair_of: np.ndarray, basis: FinBasis) -> _BlockLayout:
        lengths = np.diff(red.indptr)
        entries = np.flatnonzero(np.repeat(lengths >= 2, lengths))  # their tokens are all pairs
        indptr = np.concatenate([[0], np.cumsum(lengths[lengths >= 2])])
        firsts = np.array([a for a, _ in basis.scc_pairs], dtype=np.int64)
        sizes = np.array([b - a for a, b in basis.scc_pairs], dtype=np.int64)
        gen_first = np.array([a for a, _ in basis.blocks], dtype=np.int64)
        base = np.zeros(basis.pair_token.size, dtype=np.int64)
        loc = np.repeat(firsts, sizes)
        loc = np.arange(loc.size) - loc
        groups, offset = [], 0
        for s in np.unique(sizes[sizes <= _EIG_EVERY + 1]).tolist():
            which = np.flatnonzero(sizes == s)
            local = np.arange(s)
            pairs = firsts[which][:, None] + local
            base[pairs] = offset + (np.arange(which.size)[:, None] * s + local) * s
            groups.append((offset, which.size, s, gen_first[which][:, None] + local[: s - 1]))
            offset += which.size * s * s
        pair = pair_of[entries]
        small, large = _split_dense(pair, indptr, sizes, firsts, loc, gen_first)
        small_pairs = np.flatnonzero(np.repeat(sizes <= _EIG_EVERY + 1, sizes))
        return cls(entries, pair, indptr, basis.pair_token.size, base, loc, tuple(groups), small, small_pairs,
                   large)

    def assemble(self, pi: np.ndarray, red: ReducedData, *, matrix_free: bool = True) -> _NewtonSystem:
        r"""The blocks at masses ``pi``: off the diagonal :math:`-\sum_i \pi_{ie}\pi_{if}`, on it
        :math:`\sum_i \pi_{ie}(1 - \pi_{ie})` with the complement a sum of the other masses
        (:func:`~symattn.scores.segment_complement`), all divided by :math:`n`; the large blocks
        matrix-free unless ``matrix_free`` is False (then dense at once)."""
        p = pi[self.entries]
        at, indptr, at_t, sample_t, indptr_t = self.small
        P = csr_matrix((p[at], self.pair[at], indptr), shape=(indptr.size - 1, self.n_pairs))
        PT = csr_matrix((p[at_t], sample_t, indptr_t), shape=(self.n_pairs, indptr.size - 1))
        cross = (PT @ P).tocoo()
        offset, count, s, _ = self.groups[-1] if self.groups else (0, 0, 0, None)
        flat = np.zeros(offset + count * s * s)
        flat[self.base[cross.row] + self.loc[cross.col]] = -cross.data
        spread = p * segment_complement(p, self.indptr)
        diag = np.bincount(self.pair, weights=spread, minlength=self.n_pairs) / red.n
        flat /= red.n
        flat[self.base[self.small_pairs] + self.loc[self.small_pairs]] = diag[self.small_pairs]
        stacks = [flat[at : at + b * s * s].reshape(b, s, s) for at, b, s, _ in self.groups]
        system = _NewtonSystem([(g[3], helmert_rotate(H)) for g, H in zip(self.groups, stacks, strict=True)])
        if self.large is not None:
            system.free = _MatrixFree(self.large, p[self.large.where], diag[self.large.pairs], red.n)
            if not matrix_free:
                system.densify()
        return system


@dataclass(frozen=True, eq=False)
class _LargeLayout:
    """The blocks of more than :data:`_EIG_EVERY` + 1 pairs, one after another: their coordinates
    and pairs, and their entries (in sample order) with each one's position among those pairs."""

    index: np.ndarray  # (sum of s - 1,) coordinates of the blocks
    sizes: tuple[int, ...]  # pairs of each block
    pairs: np.ndarray  # (sum of s,) the pairs of each block in its order
    where: np.ndarray  # positions (into the layout's entries) of the blocks' entries
    col: np.ndarray  # each one's position in ``pairs``
    indptr: np.ndarray  # their segments (one per sample)
    rows: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]  # per block: row (sample), column, position

    def split(self, v: np.ndarray, *, pairs: bool) -> list[np.ndarray]:
        """``v`` (coordinates, or pair values when ``pairs``) cut into the blocks."""
        cuts = np.cumsum([s if pairs else s - 1 for s in self.sizes])[:-1]
        return np.split(v, cuts)

    def to_pairs(self, v: np.ndarray) -> np.ndarray:
        r"""Pair values :math:`C^\top v` of coordinates ``v``, block by block (Helmert :math:`C`)."""
        return np.concatenate([helmert_apply_transpose(x) for x in self.split(v, pairs=False)])

    def centre(self, x: np.ndarray) -> np.ndarray:
        r"""Pair values ``x`` minus each block's mean: the projection :math:`C^\top C` onto zero sums."""
        size = np.array(self.sizes)
        starts = np.concatenate([[0], np.cumsum(size)[:-1]])
        return x - np.repeat(np.add.reduceat(x, starts) / size, size)

    def to_coordinates(self, x: np.ndarray) -> np.ndarray:
        """Coordinates :math:`C x` of pair values ``x``, block by block."""
        return np.concatenate([helmert_apply(y) for y in self.split(x, pairs=True)])


def _split_dense(
    pair: np.ndarray, indptr: np.ndarray, sizes: np.ndarray, firsts: np.ndarray, loc: np.ndarray,
    gen_first: np.ndarray,
) -> tuple[tuple[np.ndarray, ...], _LargeLayout | None]:
    """Entries of the small blocks (positions and segments, and the same ordered by pair with each
    one's sample: the transposed matrix) and the layout of the large blocks (``None`` if none)."""
    block_of_pair = np.repeat(np.arange(sizes.size), sizes)
    lengths = np.diff(indptr)
    sample_block = block_of_pair[pair[indptr[:-1]]]
    large = sizes > _EIG_EVERY + 1
    on_large = np.repeat(large[sample_block], lengths)
    small_indptr = np.concatenate([[0], np.cumsum(lengths[~large[sample_block]])])
    at = np.flatnonzero(~on_large)
    shape = (small_indptr.size - 1, int(sizes.sum()))
    # the transpose's order, fixed once: a counting sort that carries each entry's position
    order = csr_matrix((np.arange(at.size, dtype=np.float64), pair[at], small_indptr), shape=shape).tocsc()
    small = (at, small_indptr, at[order.data.astype(np.int64)], order.indices, order.indptr)
    chosen = np.flatnonzero(large)
    if chosen.size == 0:
        return small, None
    rank = np.cumsum(large) - 1  # a large block's place among them
    offsets = np.concatenate([[0], np.cumsum(sizes[chosen])])
    where = np.flatnonzero(on_large)
    block = rank[block_of_pair[pair[where]]]
    col = offsets[block] + loc[pair[where]]
    sample = np.repeat(np.arange(lengths.size), lengths)[where]
    starts = np.flatnonzero(np.diff(sample, prepend=-1))
    rows = []
    for b in range(chosen.size):
        mine = np.flatnonzero(block == b)
        rows.append((np.unique(sample[mine], return_inverse=True)[1], col[mine] - offsets[b], mine))
    index = np.concatenate([gen_first[b] + np.arange(sizes[b] - 1) for b in chosen.tolist()])
    pairs = np.concatenate([firsts[b] + np.arange(sizes[b]) for b in chosen.tolist()])
    layout = _LargeLayout(index, tuple(sizes[chosen].tolist()), pairs, where, col,
                          np.append(starts, where.size), tuple(rows))
    return small, layout


_CHUNK = 1 << 21
"""Most dense-row entries (16 MiB) a large block's product takes at a time."""


def _chunks(row: np.ndarray, size: int) -> list[tuple[int, int]]:
    """Ranges of entries (sorted by row) holding whole rows, at most ``_CHUNK // size`` rows each."""
    per = max(_CHUNK // size, 1)
    cuts = np.searchsorted(row, np.arange(0, int(row[-1]) + 1 + per, per)).tolist()
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]


_EIG_EVERY = 64
"""Blocks of at most this many coordinates have their spectrum computed at every Newton step
(stacked, cheap); larger ones are solved matrix-free (:class:`_MatrixFree`) and their spectrum is
computed once, densely, for the Hessian where Newton stops."""

_CG_MAX_ITER = 50
"""Most conjugate-gradient steps per Newton step before the large blocks are factorised densely
instead (for the rest of the solve)."""

_CG_FLOOR = 1e-14
"""Smallest relative residual asked of conjugate gradients (the rounding floor of a Newton step)."""


class _MatrixFree:
    r"""The large blocks at masses ``p``, in pair values :math:`x = C^\top v` (Helmert :math:`C` per
    block; :math:`C^\top C` is the projection :math:`\Pi` onto zero-sum vectors per block):
    Hessian-vector products :math:`\frac1n \sum_i (\pi_i \odot x - \pi_i (\pi_i^\top x))` in
    :math:`O(\text{entries})` (centred on each sample's largest mass,
    :func:`~symattn.scores.segment_centre`, so no digit is lost far out), the Jacobi preconditioner
    :math:`\Pi \operatorname{diag}(H_{pairs})^{-1} \Pi`, and the dense blocks on request."""

    def __init__(self, layout: _LargeLayout, p: np.ndarray, diag: np.ndarray, n: int) -> None:
        self.layout, self.p, self.diag, self.n = layout, p, diag, n
        self.anchor = segment_argmax(p, layout.indptr)
        self.inverse = 1.0 / np.maximum(diag, np.finfo(float).tiny)

    def product(self, x: np.ndarray) -> np.ndarray:
        r""":math:`\Pi H_{pairs} x` for zero-sum pair values ``x`` of the large blocks."""
        L = self.layout
        w = self.p * segment_centre(x[L.col], self.p, L.indptr, self.anchor)
        return L.centre(np.bincount(L.col, weights=w, minlength=L.pairs.size) / self.n)

    def precondition(self, r: np.ndarray) -> np.ndarray:
        r""":math:`\Pi D^{-1} \Pi r` with :math:`D` the diagonal of the blocks in pair values."""
        return self.layout.centre(r * self.inverse)

    def solve(self, g: np.ndarray, forcing: float) -> np.ndarray | None:
        r""":math:`H^{-1} g` (coordinates) by preconditioned conjugate gradients in pair values, to
        relative residual ``forcing`` in the preconditioner's norm (at least :data:`_CG_FLOOR`);
        ``None`` when that takes more than :data:`_CG_MAX_ITER` steps or a direction of non-positive
        curvature turns up."""
        r = self.layout.to_pairs(g)
        x = np.zeros_like(r)
        z = self.precondition(r)
        d = z.copy()
        rz = start = float(r @ z)
        goal = max(forcing, _CG_FLOOR) ** 2 * start
        for _ in range(_CG_MAX_ITER):
            if rz <= goal:
                break
            Hd = self.product(d)
            curvature = float(d @ Hd)
            if not curvature > 0:
                return None
            alpha = rz / curvature
            x += alpha * d
            r -= alpha * Hd
            z = self.precondition(r)
            rz, previous = float(r @ z), rz
            d = z + (rz / previous) * d
        return self.layout.to_coordinates(x) if rz <= goal else None

    def pair_blocks(self) -> list[np.ndarray]:
        r"""The blocks in pair values, dense (one product :math:`\Pi^\top\Pi` of masses per block, BLAS)."""
        out = []
        for (row, col, mine), diag in zip(self.layout.rows, self.layout.split(self.diag, pairs=True),
                                          strict=True):
            size = diag.size
            block = np.zeros((size, size))
            for lo, hi in _chunks(row, size):
                masses = np.zeros((int(row[hi - 1] - row[lo]) + 1, size))
                masses[row[lo:hi] - row[lo], col[lo:hi]] = self.p[mine[lo:hi]]
                block -= masses.T @ masses
            block /= self.n
            block[np.diag_indices(size)] = diag
            out.append(block)
        return out

    def dense(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The blocks in coordinates, dense: ``(index, H)`` stacks of one."""
        index = self.layout.split(self.layout.index, pairs=False)
        blocks = self.pair_blocks()
        return [(idx[None], helmert_rotate(H[None])) for idx, H in zip(index, blocks, strict=True)]

    def spectrum(self) -> tuple[float, float]:
        r"""Smallest and largest eigenvalue of the blocks in coordinates: those of the pair blocks but
        each block's smallest, the zero of the constant vector (:math:`H_{pairs} = C^\top H C`)."""
        e = [np.linalg.eigvalsh(H)[1:] for H in self.pair_blocks()]
        return float(min(x[0] for x in e)), float(max(x[-1] for x in e))


class _NewtonSystem:
    """The Hessian on :math:`S_{fin}` as stacks of blocks: ``(index, H)`` with coordinate indices
    of shape (b, m) and Hessians of shape (b, m, m), and the large blocks matrix-free (``free``)
    until :meth:`densify`."""

    def __init__(self, blocks: list[tuple[np.ndarray, np.ndarray]]) -> None:
        self.blocks = blocks
        self.free: _MatrixFree | None = None
        self._spectra: dict[int, tuple[float, float]] = {}

    def densify(self) -> None:
        """Replace the matrix-free large blocks by their dense matrices."""
        if self.free is not None:
            self.blocks = self.blocks + self.free.dense()
            self.free = None

    def extremes(self, *, small_only: bool = False) -> tuple[float, float]:
        """Smallest and largest eigenvalue over the blocks (those of at most :data:`_EIG_EVERY`)."""
        if not small_only and self.free is not None:
            self._spectra[-1] = self.free.spectrum()
        for i, (_, H) in enumerate(self.blocks):
            if i not in self._spectra and (H.shape[-1] <= _EIG_EVERY or not small_only):
                e = np.linalg.eigvalsh(H)
                self._spectra[i] = (float(e[:, 0].min()), float(e[:, -1].max()))
        known = list(self._spectra.values())
        return min(lo for lo, _ in known) if known else np.inf, max(hi for _, hi in known) if known else 0.0

    def step(self, grad: np.ndarray, forcing: float = 0.0) -> np.ndarray | None:
        r"""The Newton step :math:`-H^{-1} g` (the large blocks to relative residual ``forcing``,
        dense when conjugate gradients fail); ``None`` when :math:`H` is singular to rounding."""
        low, high = self.extremes(small_only=True)
        if not low > _SINGULAR_RTOL * high:
            return None
        step = np.empty_like(grad)
        if self.free is not None:
            index = self.free.layout.index
            solved = self.free.solve(grad[index], forcing)
            if solved is None:
                self.densify()
            else:
                step[index] = -solved
        for index, H in self.blocks:
            g = grad[index]
            if H.shape[-1] <= _EIG_EVERY:
                step[index] = -np.linalg.solve(H, g[..., None])[..., 0]
                continue
            for j in range(H.shape[0]):
                try:
                    factor = scipy.linalg.cho_factor(H[j], lower=True, check_finite=False)
                except np.linalg.LinAlgError:
                    return None
                step[index[j]] = -scipy.linalg.cho_solve(factor, g[j], check_finite=False)
        return step


def _jacobian(basis: FinBasis, red: ReducedData) -> tuple[np.ndarray, np.ndarray]:
    """Entry potentials as a function of the coordinates: each entry's pair (the number of pairs
    for none) for orthonormal embeddings, where they are the pair values ``coefᵀ θ`` there; a
    dense Jacobian otherwise."""
    emb = basis.embeddings
    K = emb.size
    m = basis.dim
    if emb.is_orthonormal:
        keys = basis.pair_query * K + basis.pair_token
        order = np.argsort(keys)
        want = red.query[red.sample] * K + red.token
        pos, found = locate_sorted(keys[order], want)
        return np.zeros((0, 0)), np.where(found, order[pos] if keys.size else 0, keys.size)
    G = emb.gram()
    k_e = red.query[red.sample]
    cross = G[np.ix_(red.token, basis.pair_token)] * G[np.ix_(k_e, basis.pair_query)]
    dense = cross @ basis.coef.T.toarray() if m else np.zeros((red.token.size, 0))
    return dense, np.zeros(0, dtype=np.int64)


def objective(basis: FinBasis, red: ReducedData) -> _Objective:
    """The reduced loss in the coordinates of ``basis``, with its Newton system's layout."""
    J, slot = _jacobian(basis, red)
    layout = _BlockLayout.build(red, slot, basis) if basis.embeddings.is_orthonormal else None
    return _Objective(red, J, np.log(red.count), basis.coef, slot, layout)


_SINGULAR_RTOL = 1e-13
r"""A Hessian with :math:`\lambda_{min} \le` this times :math:`\lambda_{max}` is singular to rounding."""


def newton(
    obj: _Objective, m: int, max_iter: int
) -> tuple[FiniteStatus, np.ndarray, float, np.ndarray, tuple[float, float], float, int]:
    """Damped Newton from 0; every test is scale-free (decrement, loss, eigenvalue ratio)."""
    theta = np.zeros(m)
    loss, grad, pi = obj.evaluate(theta)
    status, decrement = FiniteStatus.STALLED, float("inf")
    matrix_free = True
    for iterations in range(1, max_iter + 1):  # noqa: B007 (reported after the loop)
        system = obj.system(pi, matrix_free=matrix_free)
        step = system.step(grad, _forcing(decrement))
        matrix_free = system.free is not None  # once conjugate gradients fail (densified), dense from then on
        if step is None:
            break
        decrement = float(np.sqrt(max(-float(grad @ step), 0.0)))
        if decrement <= 1e-3 * DECREMENT_TOL and system.free is not None:
            step = system.step(grad, _CG_FLOOR)  # an inexact step underestimates the decrement: confirm
            if step is None:
                break
            decrement = float(np.sqrt(max(-float(grad @ step), 0.0)))
        if decrement <= 1e-3 * DECREMENT_TOL:  # go below the bar; stalls are handled below
            status = FiniteStatus.CONVERGED
            break
        accepted = _line_search(obj, theta, step, loss, grad)
        if accepted is None:
            break
        theta, loss, grad, pi = accepted
    eigs = system.extremes()  # the Hessian where Newton stopped
    if not eigs[0] > _SINGULAR_RTOL * eigs[1]:
        status = FiniteStatus.SINGULAR
    elif status is FiniteStatus.STALLED and decrement <= DECREMENT_TOL and eigs[0] > 0:
        status = FiniteStatus.CONVERGED
    return status, theta, loss, grad, eigs, decrement, iterations


def _forcing(decrement: float) -> float:
    r"""Relative residual asked of a matrix-free Newton step after a step of decrement :math:`\lambda`:
    :math:`\min(0.1, \lambda^2)`, so Newton stays quadratic and its last steps are exact to rounding."""
    return min(0.1, decrement**2)


def _line_search(
    obj: _Objective, theta: np.ndarray, step: np.ndarray, loss: float, grad: np.ndarray
) -> tuple[np.ndarray, float, np.ndarray, np.ndarray] | None:
    """Armijo backtracking; at the rounding floor of the loss a step lowering the gradient is taken.

    Returns the accepted point with its loss, gradient and masses (``None`` when no step is)."""
    slope = float(grad @ step)
    t = 1.0
    while t >= 1e-12:
        point = theta + t * step
        new_loss, new_grad, pi = obj.evaluate(point)
        if new_loss <= loss + 1e-4 * t * slope:
            return point, new_loss, new_grad, pi
        floor = abs(new_loss - loss) <= 1e-15 * max(1.0, abs(loss))
        if floor and np.linalg.norm(new_grad) < np.linalg.norm(grad):
            return point, new_loss, new_grad, pi
        t *= 0.5
    return None

