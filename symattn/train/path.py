r"""The regularisation path :math:`W_R = \arg\min_{\|W\|_F \le R} L(W)` of the log-loss, and its solver.

:func:`regularization_path` is the public entry point; :class:`PathProblem` is the solver.

Why a dedicated solver (docs/theory.md §9, "Along the path"). Each sample's loss splits as
:math:`-\log\pi_y = A_i + B_i` with the *outside part*
:math:`A_i = \operatorname{softplus}(r_i)`, :math:`r_i = \operatorname{lse}_{j \notin C_y}(z) -
\operatorname{lse}_{j \in C_y}(z)`, and the *inside part* :math:`B_i = \operatorname{lse}_{j\in C_y}(z)
- z_y` (the reduced loss), where :math:`z_j = u_j + \log c_j`. Along the path :math:`A` decays like
:math:`e^{-R\,\text{margin}/\|W^{svm}\|}` and falls far below the rounding error of :math:`B`; a
solver that sums them stops moving. Here they are never summed:

* the problem is written in token coordinates: one variable per (query, token) node of the
  graphs, :math:`u_{jk} = e_j^\top W e_k`; the norm of the smallest :math:`W` with these potentials
  is :math:`\|u\|_M` (``M = I`` for orthonormal embeddings, :math:`M = N^\top N` from a
  least-squares problem solved by orthogonal factorisation for independent ones, see
  :meth:`PathProblem._metric`);
* an orthogonal change of variables splits each SCC of each :math:`G_k` into its mean (on which
  :math:`B` does not depend) and :math:`|C| - 1` deviations; the gradient and Hessian of
  :math:`B` are assembled on the deviations only, so they are *exactly* zero on the means, where
  only :math:`A` (computed from ``log1p``/``expit`` of the log-space ratio :math:`r_i`) acts;
* with orthonormal embeddings :math:`M = I` and a sample with query :math:`k` sees only the column
  :math:`u_{\cdot k}`, so for a given :math:`\mu` the problem splits by query token: the queries
  are solved in blocks of a few hundred variables (a large :math:`G_k` alone), each by its own
  Newton method, and only :math:`\mu` is shared; the change of variables is applied by
  cumulative sums, never as a matrix, so a Newton step costs :math:`O(\text{pairs} + m^2)` to
  assemble and :math:`m^3/3` to factor for a block of :math:`m` variables;
* the penalised problem :math:`\min A + B + \tfrac{\mu}{2}\|u\|_M^2` is solved by Newton's method
  with a Jacobi-scaled Cholesky solve (least squares where it is close to singular) and a line
  search on the directional derivative (never on loss values). On the means only :math:`A` and
  the penalty act, and both are of size :math:`e^{-R\gamma}` (:math:`\gamma` = margin /
  :math:`\|W^{svm}\|`): they are divided by a common :math:`e^{\text{shift}}` there, and the
  multiplier is carried as :math:`\log\mu`, so nothing underflows even where
  :math:`\mu < 10^{-308}` (:math:`R \gtrsim 700/\gamma`);
* each radius starts from the previous solution with its means rescaled to the new radius and
  :math:`\log\mu` estimated from the stationarity of the means there, then a safeguarded
  Illinois search on :math:`\log\mu` matches :math:`\|W\| = R` to :math:`10^{-11}`. The
  answer does not depend on which radii came before;
* a radius short of which every :math:`\|W_\mu\|` stays is *interior* only when
  :math:`W^{svm} = 0` (no entry outside its label's SCC); otherwise the loss has no minimiser,
  and a radius the solver cannot reach is reported ``NOT_CONVERGED`` with the reason.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from numpy.linalg import LinAlgError
from scipy.linalg import cho_factor, cho_solve, solve_triangular
from scipy.sparse import csc_matrix, issparse
from scipy.special import expit, log_expit

from symattn._arrays import helmert_apply, helmert_apply_transpose, range_indices
from symattn._validate import require_dataset
from symattn.data import CountsView, Dataset
from symattn.errors import InvalidInput
from symattn.graphs import priority_graphs
from symattn.model import Model
from symattn.results import SparseWeights, Status
from symattn.scores import (
    check_weights,
    from_token_coordinates,
    label_terms,
    pair_potentials,
    segment_complement,
    segment_logsumexp,
)
from symattn.train.config import TrainConfig, TrainMethod, TrainStatus
from symattn.train.run import ProgressCallback, Recorder, Trajectory, metric_key, metric_row

if TYPE_CHECKING:
    from symattn.predict import Prediction

__all__ = ["PathPoint", "PathProblem", "PathStatus", "regularization_path"]

logger = logging.getLogger("symattn")

_BLOCK_NODES = 256
"""Query tokens are grouped into blocks of about this many variables (fewer Python-level solves)."""
_MAX_QUERY_NODES = 4000
"""Most variables of one query token's block: its Newton steps factor a dense matrix of that size."""
_MAX_METRIC_ENTRIES = 4096
_LOG_MU_MIN_INTERIOR = float(np.log(1e-300))
"""With :math:`W^{svm} = 0` a radius still unreached at :math:`\\mu = 10^{-300}` is interior."""
_LOG_MU_MIN = -1e15
"""Below :math:`\\log\\mu = -10^{15}` the path is given up (it is beyond every radius allowed)."""
_LOG_MU_MAX = float(np.log(1e12))
_EXP_CAP = 200.0
_PIVOT_MIN = float(np.sqrt(np.finfo(float).eps))
"""Smallest squared Cholesky pivot of a Jacobi-scaled Hessian solved directly; below it, least squares."""
_RADIUS_RTOL = 1e-11
_JOINT_SHIFT = -5.0
_MAX_RADIUS = 1e8
"""Beyond this :math:`W^{fin}` (of order 1) drops below the rounding error of :math:`R\\,W^{svm}`."""


class PathStatus(Status, success={"optimal", "interior"}):
    """How one point of the path ended; ``OPTIMAL`` and ``INTERIOR`` count as success."""

    OPTIMAL = "optimal"
    INTERIOR = "interior"
    NOT_CONVERGED = "not_converged"


@dataclass(frozen=True, eq=False)
class PathPoint(SparseWeights):
    """The solution at one radius: ``weights`` (d, d), the multiplier as ``log_mu``, the loss parts (means).

    ``weights`` is :math:`W_R` as computed: for one-hot embeddings a SciPy CSC matrix holding, in
    the column of each query token :math:`k`, the tokens of :math:`G_k` (memory of the size of the
    data, whatever :math:`K`); dense otherwise. :attr:`W` is the dense matrix, formed on request,
    :attr:`W_sparse` the sparse one. ``log_outside`` is :math:`\\log` of the mean outside part
    (finite where the part underflows); ``message`` says why a point is ``NOT_CONVERGED`` (empty
    otherwise); ``iterations`` counts the penalised Newton solves spent on this radius.
    """

    weights: np.ndarray | csc_matrix
    log_mu: float
    outside: float
    log_outside: float
    inside: float
    radius: float
    status: PathStatus
    message: str = ""
    iterations: int = 0
    WEIGHTS_NAME: ClassVar[str] = "W of a path point"

    @property
    def success(self) -> bool:
        """True when the status is ``OPTIMAL`` or ``INTERIOR``."""
        return self.status.success


@dataclass(frozen=True, eq=False)
class _Parts:
    """The two parts of the loss at one point, as :meth:`PathProblem._parts` computes them.

    ``z`` are the entry log-weights :math:`u + \\log c`; ``pi_in``, ``log_p_in`` and ``off_label_in``
    the masses inside the label's SCC (normalised there), :math:`\\log\\pi(y \\mid C_y)` and the mass
    beside the label in :math:`C_y` (from :func:`~symattn.scores.label_terms`); ``pi_out`` the masses
    normalised outside it and ``r`` the log-ratio :math:`r_i` (``-inf`` for samples with nothing outside).
    """

    z: np.ndarray
    pi_in: np.ndarray
    log_p_in: np.ndarray
    off_label_in: np.ndarray
    pi_out: np.ndarray
    r: np.ndarray


def _sample_entries(indptr: np.ndarray, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The entries of ``samples`` (ascending) in order, and how many each sample owns."""
    lengths = np.diff(indptr)[samples]
    return range_indices(indptr[samples], lengths), lengths


class _SccBasis:
    r"""The orthogonal change of variables :math:`u = T v` from SCC-adapted coordinates to node potentials.

    ``group`` labels the SCC of each node (labels ``0..g-1``). The coordinates of an SCC of size
    :math:`m` (consecutive, in the order of the labels) are its mean :math:`\mathbf 1/\sqrt m`
    and the :math:`m - 1` Helmert deviations
    :math:`(e_1 + \dots + e_r - r\,e_{r+1})/\sqrt{r(r+1)}` of its members (ascending). Both
    directions are applied in :math:`O(\text{nodes})` per column, by cumulative sums inside each
    SCC, SCCs of one size at a time; ``T`` is never formed.
    """

    def __init__(self, group: np.ndarray) -> None:
        order = np.argsort(group, kind="stable")
        sizes = np.bincount(group)
        starts = np.cumsum(sizes) - sizes
        self.size = group.size
        self.is_mean = np.zeros(group.size, dtype=bool)
        self.is_mean[starts] = True
        self.group = group
        self.mean_weight = 1.0 / np.sqrt(sizes)
        r""":math:`1/\sqrt{m}`, each node's entry in its SCC's mean coordinate (by SCC label)."""
        self.by_size = []
        """Per SCC size ``m``: the members (``count x m`` node indices), their coordinates and 1/sqrt(m)."""
        for m in np.unique(sizes):
            first = starts[sizes == m]
            cols = first[:, None] + np.arange(m)
            self.by_size.append((order[cols], cols, 1.0 / np.sqrt(m)))

    def coordinates(self, x: np.ndarray) -> np.ndarray:
        r""":math:`T^\top x` along the first axis (node values to coordinates)."""
        out = np.empty_like(x, dtype=np.float64)
        for members, cols, mean in self.by_size:
            X = np.moveaxis(x[members].astype(np.float64), 1, -1)  # (count, ..., m)
            out[cols[:, 0]] = X.sum(axis=-1) * mean
            if cols.shape[1] > 1:
                out[cols[:, 1:]] = np.moveaxis(helmert_apply(X), -1, 1)
        return out

    def potentials(self, v: np.ndarray) -> np.ndarray:
        r""":math:`T v` along the first axis (coordinates to node values)."""
        out = np.empty_like(v, dtype=np.float64)
        for members, cols, mean in self.by_size:
            V = v[cols]
            u = np.repeat(V[:, :1] * mean, cols.shape[1], axis=1)
            if cols.shape[1] > 1:
                u += np.moveaxis(helmert_apply_transpose(np.moveaxis(V[:, 1:], 1, -1)), -1, 1)
            out[members] = u
        return out

    def dense(self) -> np.ndarray:
        """``T`` as a dense matrix (for the metric of non-orthonormal embeddings)."""
        return self.potentials(np.eye(self.size))


def _newton_direction(hess: np.ndarray, grad: np.ndarray) -> np.ndarray:
    r"""The solution of :math:`H s = -g` after Jacobi scaling: by Cholesky, or by least squares when the
    scaled :math:`H` is close to singular (a squared pivot below :data:`_PIVOT_MIN`)."""
    scale = 1.0 / np.sqrt(np.maximum(np.diag(hess), np.finfo(float).tiny))
    scaled = hess * scale[:, None] * scale[None, :]
    try:
        factor = cho_factor(scaled, lower=True, check_finite=False)
        if float(np.min(np.diag(factor[0]))) ** 2 > _PIVOT_MIN:
            return -scale * cho_solve(factor, scale * grad, check_finite=False)
    except LinAlgError:
        pass
    return -scale * np.linalg.lstsq(scaled, scale * grad, rcond=None)[0]


class _Block:
    r"""The log-loss on the samples of some query tokens, in SCC-adapted coordinates, and its Newton solve.

    ``samples`` (ascending) are the block's samples, ``node_keys`` (ascending) its (query, token)
    nodes :math:`kK + j` and ``group`` the SCC of each node (labels ``0..g-1``). Values, gradients
    and Hessians are those of :math:`(A + B)/n + \tfrac{\mu}{2} v^\top M v` over the block's
    samples, ``n`` the size of the whole dataset: with a block-diagonal :math:`M` (orthonormal
    embeddings) the blocks add up to the whole objective and are minimised apart.
    """

    def __init__(
        self, c: CountsView, inside: np.ndarray, samples: np.ndarray,
        nodes: tuple[np.ndarray, np.ndarray, int], n: int,
    ) -> None:
        node_keys, group, K = nodes
        entries, lengths = _sample_entries(c.indptr, samples)
        self.n = n
        self.nvar = node_keys.size
        self.basis = _SccBasis(group)
        self.is_mean = self.basis.is_mean
        self.metric: float | np.ndarray = 1.0
        """The block of :math:`M` (scaled by ``unit**2`` by :class:`PathProblem`): a number ``s`` for
        :math:`M = sI` (orthonormal embeddings, never formed), else the dense matrix."""
        self.sample = np.repeat(np.arange(samples.size), lengths)
        self.node = np.searchsorted(node_keys, c.query[samples][self.sample] * K + c.token[entries])
        self.log_count = np.log(c.count[entries].astype(np.float64))
        inside = inside[entries]
        self.in_idx = np.flatnonzero(inside)
        self.out_idx = np.flatnonzero(~inside)
        n_in = np.bincount(self.sample[self.in_idx], minlength=samples.size)
        n_out = np.bincount(self.sample[self.out_idx], minlength=samples.size)
        self.in_ptr = np.concatenate([[0], np.cumsum(n_in)])
        self.has_out = np.flatnonzero(n_out > 0)
        self.out_ptr = np.concatenate([[0], np.cumsum(n_out[self.has_out])])
        self.in_len, self.out_len = n_in, n_out[self.has_out]
        self.label_entry = np.searchsorted(entries, c.label_entry[samples])
        self.in_label = np.searchsorted(self.in_idx, self.label_entry)
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        first = np.repeat(np.arange(entries.size), lengths[self.sample])
        span = lengths[self.sample]
        offset = np.arange(first.size) - np.repeat(np.cumsum(span) - span, span)
        self.pair = (first, indptr[self.sample[first]] + offset)

    def _congruence(self, H: np.ndarray) -> np.ndarray:
        r""":math:`T^\top H T / n` of a symmetric node matrix ``H``."""
        return self.basis.coordinates(self.basis.coordinates(H).T) / self.n

    # -- the two parts -----------------------------------------------------------------
    def _parts(self, v: np.ndarray) -> _Parts:
        z = self.basis.potentials(v)[self.node] + self.log_count
        z_in, z_out = z[self.in_idx], z[self.out_idx]
        lse_in = segment_logsumexp(z_in, self.in_ptr)
        inside = label_terms(z_in, self.in_ptr, self.in_label)
        r = np.full(self.in_len.size, -np.inf)
        pi_out = np.empty(0)
        if self.has_out.size:
            lse_out = segment_logsumexp(z_out, self.out_ptr)
            r[self.has_out] = lse_out - lse_in[self.has_out]
            pi_out = np.exp(z_out - np.repeat(lse_out, self.out_len))
        return _Parts(z, inside.pi, inside.log_p, inside.outside, pi_out, r)

    def values(self, v: np.ndarray) -> tuple[float, float, float]:
        """The block's share of :meth:`PathProblem.values` (divided by the whole ``n``)."""
        p = self._parts(v)
        r = p.r[self.has_out]
        outside = float(np.sum(np.logaddexp(0.0, r))) / self.n
        log_terms = np.where(r < -40.0, r, np.log(np.logaddexp(0.0, np.maximum(r, -40.0))))
        log_outside = float(np.logaddexp.reduce(log_terms)) - np.log(self.n) if r.size else -np.inf
        inside = float(-np.sum(p.log_p_in)) / self.n
        return outside, log_outside, inside

    def _entry_terms(
        self, p: _Parts, shift: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        r"""Per-sample :math:`\sigma_i = \operatorname{expit}(r_i)`, :math:`\sigma_i e^{-\text{shift}}`,
        the entry weights ``w`` and the entry gradients of :math:`A e^{-\text{shift}}` and of :math:`B`."""
        nnz = self.sample.size
        sigma = expit(p.r)
        scaled = np.exp(np.minimum(log_expit(p.r) - shift, _EXP_CAP))
        w = np.zeros(nnz)
        w[self.out_idx] = p.pi_out
        w[self.in_idx] = -p.pi_in
        g_a = scaled[self.sample] * w
        g_b = np.zeros(nnz)
        g_b[self.in_idx] = p.pi_in
        g_b[self.label_entry] = -p.off_label_in  # pi_y - 1 from the mass beside the label
        return sigma, scaled, w, np.stack([g_a, g_b])

    def shift(self, v: np.ndarray, log_mu: float) -> float:
        r"""The scale of the mean block: :math:`\max(\log\mu, \max_i \log\sigma_i)`.

        On the means only :math:`A` (of size :math:`\sigma_i \approx e^{r_i}`) and the penalty act;
        both are divided by :math:`e^{\text{shift}}` so that they stay representable however far
        the path goes (:math:`\mu` itself underflows past :math:`R \approx 700/\gamma`).
        """
        r = self._parts(v).r[self.has_out]
        return float(max(log_mu, float(np.max(log_expit(r))) if r.size else -np.inf))

    def gradient(self, v: np.ndarray, log_mu: float = -np.inf, shift: float = 0.0) -> np.ndarray:
        r""":math:`e^{-\text{shift}}\,\nabla_v[(A + B)/n + \tfrac{\mu}{2} v^\top M v]`.

        With ``shift = 0`` this is the plain gradient; with a large negative shift only the mean
        coordinates are meaningful (the :math:`B` part, exactly zero there, is left out).
        """
        _, _, _, g = self._entry_terms(self._parts(v), shift)
        nvar = self.nvar
        g_a = np.bincount(self.node, weights=g[0], minlength=nvar)
        out = self.basis.coordinates(g_a) / self.n
        if shift == 0.0:
            g_b = self.basis.coordinates(np.bincount(self.node, weights=g[1], minlength=nvar))
            out += np.where(self.is_mean, 0.0, g_b) / self.n
        return out + np.exp(min(log_mu - shift, _EXP_CAP)) * self.metric_product(v)

    def _pair_hessian(self, v: np.ndarray, shift: float) -> tuple[np.ndarray, np.ndarray | None]:
        r"""The Hessians of :math:`A e^{-\text{shift}}` and (for ``shift = 0``) of :math:`B` per entry pair
        (:attr:`pair`), both :math:`n` times too large."""
        p = self._parts(v)
        _, scaled, w, _ = self._entry_terms(p, shift)
        nnz = self.sample.size
        pi = np.zeros(nnz)
        pi[self.in_idx] = p.pi_in
        pi[self.out_idx] = p.pi_out
        rest = np.zeros(nnz)  # 1 - pi, accurate for an entry holding almost all of its side's mass
        rest[self.in_idx] = segment_complement(p.pi_in, self.in_ptr)
        if self.has_out.size:
            rest[self.out_idx] = segment_complement(p.pi_out, self.out_ptr)
        side = np.zeros(nnz, dtype=np.int8)
        side[self.in_idx] = 1
        a, b = self.pair
        s_scaled, s_rest = scaled[self.sample[a]], expit(-p.r)[self.sample[a]]
        same = side[a] == side[b]
        block = np.where(same, np.where(a == b, pi[a] * rest[a], -pi[a] * pi[b]), 0.0)
        inside = side[a] == 1
        h_a = s_scaled * s_rest * w[a] * w[b] + s_scaled * np.where(inside, -block, block)
        return h_a, (np.where(same & inside, block, 0.0) if shift == 0.0 else None)

    def hessian(
        self, v: np.ndarray, log_mu: float = -np.inf, shift: float = 0.0, *, means: bool = False
    ) -> np.ndarray:
        r"""The Hessian matching :meth:`gradient` (same scaling).

        With ``means`` only its block on the SCC means, summed from the entry pairs directly
        (:math:`O(\text{pairs})`); there only :math:`A` and the penalty act. Otherwise the whole
        Hessian, :math:`T^\top H T` of the node Hessian of :math:`A + B` (with ``shift = 0`` the
        :math:`B` part, zero on the means up to rounding, is added before the change of variables).
        """
        h_a, h_b = self._pair_hessian(v, shift)
        penalty = np.exp(min(log_mu - shift, _EXP_CAP))
        a, b = self.pair
        if means:
            group, weight = self.basis.group, self.basis.mean_weight
            ng = int(np.count_nonzero(self.is_mean))
            ga, gb = group[self.node[a]], group[self.node[b]]
            h = h_a * weight[ga] * weight[gb]
            H = np.bincount(ga * ng + gb, weights=h, minlength=ng * ng).reshape(ng, ng) / self.n
            return self._add_metric(H, penalty, self.is_mean)
        nvar = self.nvar
        h = h_a if h_b is None else h_a + h_b
        H = np.bincount(self.node[a] * nvar + self.node[b], weights=h, minlength=nvar * nvar)
        return self._add_metric(self._congruence(H.reshape(nvar, nvar)), penalty)

    def metric_product(self, v: np.ndarray) -> np.ndarray:
        """:math:`M v` for this block."""
        return self.metric * v if isinstance(self.metric, float) else self.metric @ v

    def _add_metric(self, H: np.ndarray, factor: float, rows: np.ndarray | None = None) -> np.ndarray:
        """``H`` plus ``factor`` times :math:`M` (its ``rows`` x ``rows`` block when given)."""
        if isinstance(self.metric, float):
            H[np.diag_indices_from(H)] += factor * self.metric
            return H
        return H + factor * (self.metric if rows is None else self.metric[np.ix_(rows, rows)])

    # -- solvers -----------------------------------------------------------------------
    def _line_search(
        self, v: np.ndarray, step: np.ndarray, log_mu: float, shift: float, slope0: float
    ) -> float:
        r"""A step :math:`t \in (0, 1]` with :math:`\tfrac12 \varphi'(0) \le \varphi'(t) \le 0`, from slopes.

        :math:`\varphi(t) = F(v + t\,\Delta)` is convex, so :math:`\varphi'(t) \le 0` means the step
        decreases :math:`F` without comparing loss values (which lose the outside part). All
        slopes share one scale :math:`e^{-\text{shift}}`; ``slope0`` is :math:`\varphi'(0)`.
        """

        def slope(t: float) -> float:
            return float(self.gradient(v + t * step, log_mu, shift) @ step)

        if slope0 >= 0.0:
            return 0.0
        f_hi = slope(1.0)
        if f_hi <= 0.0:
            return 1.0
        lo, hi, f_lo = 0.0, 1.0, slope0
        t = lo
        for _ in range(100):
            t = hi - f_hi * (hi - lo) / (f_hi - f_lo)
            if not lo < t < hi:
                t = 0.5 * (lo + hi)
            f_t = slope(t)
            if 0.5 * slope0 <= f_t <= 0.0:
                return t
            if f_t > 0.0:
                hi, f_hi = t, f_t
                f_lo *= 0.5
            else:
                lo, f_lo = t, f_t
                f_hi *= 0.5
        return max(lo, t) if lo > 0.0 else t

    def minimise(
        self, log_mu: float, v: np.ndarray, *, tol: float, max_iter: int = 500
    ) -> tuple[np.ndarray, bool]:
        r"""Block Newton for :math:`\min_v (A + B)/n + \tfrac{\mu}{2} v^\top M v` from ``v``.

        Where the outside part and the penalty are not small (:meth:`shift` above
        :math:`-5`) a plain Newton step on all coordinates; otherwise it alternates a Newton step
        on the deviations (where :math:`B` acts, O(1) curvature) and one on
        the means (where only :math:`A` and the penalty act, curvature as small as
        :math:`e^{-R\gamma}`, handled divided by :math:`e^{\text{shift}}`, see :meth:`shift`),
        each with its own line search, so the rounding noise of the :math:`B` gradient at its
        optimum never enters the tiny slopes of the means.
        """
        blocks = [(b, mean) for b, mean in ((~self.is_mean, False), (self.is_mean, True)) if b.any()]
        joint = [(np.ones(v.size, dtype=bool), False)]
        for _ in range(max_iter):
            moved = 0.0
            # while the mean block is not tiny, one joint step (the metric may couple the blocks)
            for block, mean in joint if self.shift(v, log_mu) >= _JOINT_SHIFT else blocks:
                shift = self.shift(v, log_mu) if mean else 0.0
                grad = self.gradient(v, log_mu, shift)[block]
                hess = self.hessian(v, log_mu, shift, means=mean)
                if not (mean or block.all()):
                    hess = hess[np.ix_(block, block)]
                step = np.zeros_like(v)
                step[block] = _newton_direction(hess, grad)
                t = self._line_search(v, step, log_mu, shift, float(grad @ step[block]))
                v = v + t * step
                moved = max(moved, float(np.linalg.norm(t * step)))
            if moved <= tol * (1.0 + np.linalg.norm(v)):
                return v, True
        return v, False


class PathProblem:
    r"""The log-loss of a dataset in SCC-adapted token coordinates, its parts kept apart.

    With orthonormal embeddings :math:`\|W\|_F^2 = \sum_k \|u_{\cdot k}\|^2` and a sample with
    query :math:`k` sees only the column :math:`u_{\cdot k}`, so for a fixed multiplier the
    penalised problem splits into one problem per query token: the nodes are grouped by query
    into blocks of at most about :data:`_BLOCK_NODES` variables (a larger :math:`G_k` is a block
    of its own), each solved by its own dense Newton method; only :math:`\mu` is shared, matched
    to the radius by :meth:`solve_radius`. ``split=False`` solves all queries as one system (the
    reference the tests compare with); with non-orthonormal embeddings the metric couples the
    queries and there is always one block.
    """

    def __init__(self, dataset: Dataset, *, split: bool = True) -> None:
        emb = dataset.embeddings
        if not emb.is_independent:
            raise InvalidInput(
                f"the regularisation path needs linearly independent embeddings; these {emb.kind.value} "
                f"rows have rank {emb.rank} < K = {emb.size}. Use gradient descent instead"
            )
        self.dataset = dataset
        self.solves = 0
        """Penalised Newton solves run so far (:meth:`minimise` calls)."""
        graphs = priority_graphs(dataset)
        c = dataset.counts
        K = dataset.K
        self.node_keys = np.unique(c.query[c.sample] * K + c.token)
        """The (query, token) nodes :math:`kK + j`, ascending; the variables follow this order."""
        component = np.concatenate([g.component for _, g in sorted(graphs.items())])
        group = np.unique(self.node_keys // K * (K + 1) + component, return_inverse=True)[1]
        self.blocks = self._make_blocks(graphs.in_label_scc, group, split and emb.is_orthonormal)
        ends = np.cumsum([b.nvar for b in self.blocks])
        self.slices = [slice(int(e - b.nvar), int(e)) for b, e in zip(self.blocks, ends, strict=True)]
        self.is_mean = np.concatenate([b.is_mean for b in self.blocks])
        # ||W|| is measured in units of 1/unit (the largest squared row norm, 1 for unit rows), so radii,
        # multipliers and every threshold below are the same for embeddings scaled by any c
        rows = None if emb.is_onehot else emb.matrix()
        self.unit = 1.0 if rows is None else float(np.max(np.einsum("ij,ij->i", rows, rows)))
        metric = self._metric()
        for block in self.blocks:
            block.metric = (block.metric if metric is None else metric) * self.unit**2
        self.n = dataset.n

    def _make_blocks(self, inside: np.ndarray, group: np.ndarray, split: bool) -> list[_Block]:
        """One block per run of consecutive query tokens with at most about ``_BLOCK_NODES`` nodes (one
        block in all without ``split``)."""
        c, K = self.dataset.counts, self.dataset.K
        queries, per_query = np.unique(self.node_keys // K, return_counts=True)
        if per_query.max() > _MAX_QUERY_NODES:
            k = int(queries[np.argmax(per_query)])
            raise InvalidInput(
                f"the regularisation path factors a dense Newton system per query token; G_{k} has "
                f"{int(per_query.max())} (query, token) variables, more than {_MAX_QUERY_NODES}. Use "
                "gradient descent here"
            )
        if split:
            bins = np.cumsum(per_query) // _BLOCK_NODES
            bin_of_query = np.concatenate([[0], np.cumsum(np.diff(bins) != 0)])
        else:
            bin_of_query = np.zeros(queries.size, dtype=np.int64)
        block_of_sample = bin_of_query[np.searchsorted(queries, c.query)]
        order = np.argsort(block_of_sample, kind="stable")
        sample_cuts = np.cumsum(np.bincount(block_of_sample))[:-1]
        node_cuts = np.cumsum(np.bincount(bin_of_query, weights=per_query).astype(np.int64))
        blocks = []
        for b, samples in enumerate(np.split(order, sample_cuts)):
            lo, hi = (int(node_cuts[b - 1]) if b else 0), int(node_cuts[b])
            local = group[lo:hi] - group[lo:hi].min()
            blocks.append(_Block(c, inside, samples, (self.node_keys[lo:hi], local, K), self.dataset.n))
        return blocks

    # -- geometry ----------------------------------------------------------------------
    def _metric(self) -> np.ndarray | None:
        r"""The metric :math:`M` (``None`` for orthonormal embeddings, where it is the identity):
        :math:`\min\{\|W\|^2 : e_j^\top W e_k = u_{jk}\} = v^\top M v = \|N v\|^2`.

        With the thin QR factorisation :math:`E^\top = QR`, the smallest :math:`W` with potentials
        :math:`U` is :math:`Q R^{-\top} U R^{-1} Q^\top`, of norm :math:`\|A\,\mathrm{vec}\,U\|`,
        :math:`A = R^{-\top} \otimes R^{-\top}`. The entries of :math:`U` that no sample uses are
        free and minimise it: a least-squares problem, solved with an orthogonal factorisation of
        :math:`A`'s free columns (relative error about :math:`\epsilon\,\mathrm{cond}(E)^2`), never
        through the normal equations :math:`A^\top A = G^{-1} \otimes G^{-1}`, whose Schur
        complement loses :math:`\epsilon\,\mathrm{cond}(E)^4` (1e-8 of :math:`\|W\|` at
        :math:`\mathrm{cond}(E) = 300`, where radii could then not be matched).
        """
        emb = self.dataset.embeddings
        self._N: np.ndarray | None = None
        self.radius_rtol = _RADIUS_RTOL
        self.step_floor = 0.0
        if emb.is_orthonormal:
            return None
        K = self.dataset.K
        if K * K > _MAX_METRIC_ENTRIES:
            raise InvalidInput(
                f"the regularisation path with non-orthonormal embeddings forms a K^2 x K^2 metric; "
                f"K = {K} is too large (K^2 <= {_MAX_METRIC_ENTRIES}). Use orthonormal embeddings"
            )
        self._Q, R = np.linalg.qr(emb.matrix().T)
        # ||W|| is known to about eps cond(E)^2 of itself (see above): no radius is matched closer
        self.radius_rtol = max(_RADIUS_RTOL, float(np.finfo(float).eps * np.linalg.cond(R) ** 2))
        # Newton's steps reach the same floor: below it they only trade rounding between the blocks
        self.step_floor = float(np.finfo(float).eps * np.linalg.cond(R) ** 2)
        self._R_inv_T = solve_triangular(R, np.eye(K)).T
        A = np.kron(self._R_inv_T, self._R_inv_T)
        used = self._u_index()
        free = np.setdiff1d(np.arange(K * K), used)
        Q_free, R_free = np.linalg.qr(A[:, free])
        along = Q_free.T @ A[:, used]
        self._free = free
        self._free_map = solve_triangular(R_free, along) if free.size else np.zeros((0, used.size))
        (block,) = self.blocks
        self._N = (A[:, used] - Q_free @ along) @ block.basis.dense()
        return self._N.T @ self._N

    def _u_index(self) -> np.ndarray:
        K = self.dataset.K
        query, token = np.divmod(self.node_keys, K)
        return token * K + query

    def weights(self, v: np.ndarray) -> np.ndarray | csc_matrix:
        r"""The smallest-norm :math:`W` (d, d) whose potentials are :math:`u = T v`.

        Orthonormal embeddings: :math:`W = E^\top U E` with the token matrix :math:`U` kept sparse
        (one column per query, the tokens of :math:`G_k`), so one-hot embeddings give a SciPy CSC
        matrix, never a :math:`K \times K` array; other embeddings a dense array.
        """
        emb = self.dataset.embeddings
        K = self.dataset.K
        u = self.potentials(v)
        if emb.is_orthonormal:
            query, token = np.divmod(self.node_keys, K)
            return from_token_coordinates(emb, csc_matrix((u, (token, query)), shape=(K, K)))
        flat = np.zeros(K * K)
        flat[self._u_index()] = u
        flat[self._free] = -self._free_map @ u
        left = self._Q @ self._R_inv_T
        return left @ flat.reshape(K, K) @ left.T

    def radius(self, v: np.ndarray) -> float:
        r""":math:`\|W\|_F` of :meth:`weights` ``(v)`` times :attr:`unit` (the scale-free radius):
        :math:`\text{unit}\,\|N v\|` (:math:`\text{unit}\,\|v\|` if orthonormal), never through
        :math:`v^\top M v`, which loses accuracy when the embeddings are ill-conditioned."""
        return self.unit * float(np.linalg.norm(v if self._N is None else self._N @ v))

    def start(self, W: np.ndarray | csc_matrix) -> np.ndarray:
        """Coordinates of the potentials of ``W`` (used to warm-start; sparse for one-hot embeddings)."""
        query, token = np.divmod(self.node_keys, self.dataset.K)
        return self.coordinates(pair_potentials(self.dataset.embeddings, W, token, query))

    def potentials(self, v: np.ndarray) -> np.ndarray:
        r"""The node potentials :math:`u = T v` (in the order of :attr:`node_keys`) of coordinates ``v``."""
        return np.concatenate([b.basis.potentials(x) for b, x in self._pieces(v)])

    def coordinates(self, u: np.ndarray) -> np.ndarray:
        r"""The coordinates :math:`T^\top u` of node potentials ``u`` (the inverse of :meth:`potentials`)."""
        return np.concatenate([b.basis.coordinates(x) for b, x in self._pieces(u)])

    # -- the objective, block by block -------------------------------------------------------
    def values(self, v: np.ndarray) -> tuple[float, float, float]:
        r"""The mean outside part :math:`\frac1n\sum A_i`, its logarithm, and the mean inside part.

        :math:`\log A_i = \log\operatorname{softplus}(r_i)`, equal to :math:`r_i` to double
        precision once :math:`r_i < -40`, so the logarithm stays finite where :math:`A` underflows.
        The inside part :math:`B_i = -\log\pi(y \mid C_y)` comes from
        :func:`~symattn.scores.label_terms`, accurate however close to 0 it is.
        """
        parts = np.array([b.values(x) for b, x in self._pieces(v)])
        return float(np.sum(parts[:, 0])), float(np.logaddexp.reduce(parts[:, 1])), float(np.sum(parts[:, 2]))

    @property
    def has_outside(self) -> bool:
        """Whether some sample has an entry outside its label's SCC (then :math:`W^{svm} \\ne 0`)."""
        return any(b.has_out.size for b in self.blocks)

    def shift(self, v: np.ndarray, log_mu: float) -> float:
        r"""The scale of the mean coordinates, :math:`\max(\log\mu, \max_i \log\sigma_i)` (see
        :meth:`_Block.shift`)."""
        return max(b.shift(x, log_mu) for b, x in self._pieces(v))

    def gradient(self, v: np.ndarray, log_mu: float = -np.inf, shift: float = 0.0) -> np.ndarray:
        r""":math:`e^{-\text{shift}}\,\nabla_v[(A + B)/n + \tfrac{\mu}{2} v^\top M v]`.

        With ``shift = 0`` this is the plain gradient; with a large negative shift only the mean
        coordinates are meaningful (the :math:`B` part, exactly zero there, is left out).
        """
        return np.concatenate([b.gradient(x, log_mu, shift) for b, x in self._pieces(v)])

    def _pieces(self, v: np.ndarray) -> list[tuple[_Block, np.ndarray]]:
        """Each block with its part of ``v``."""
        return [(b, v[s]) for b, s in zip(self.blocks, self.slices, strict=True)]

    def _metric_product(self, v: np.ndarray) -> np.ndarray:
        return np.concatenate([b.metric_product(x) for b, x in self._pieces(v)])

    def minimise(self, log_mu: float, v: np.ndarray, *, tol: float = 1e-12) -> tuple[np.ndarray, bool]:
        r"""Minimise :math:`(A + B)/n + \tfrac{\mu}{2} v^\top M v` from ``v``, block by block
        (:meth:`_Block.minimise`); a block has converged when its steps are below
        :math:`\text{tol}\,(1 + \|v\|)`, ``tol`` raised to :math:`\epsilon\,\mathrm{cond}(E)^2` for
        non-orthonormal embeddings (the accuracy their metric allows, as for :attr:`radius_rtol`;
        below it the alternating steps only exchange rounding). Also says whether every block
        converged."""
        self.solves += 1
        scale = max(tol, self.step_floor)
        out, ok = np.empty_like(v), True
        for block, s in zip(self.blocks, self.slices, strict=True):
            out[s], done = block.minimise(log_mu, v[s], tol=scale)
            ok = ok and done
        return out, ok

    # -- the radius ---------------------------------------------------------------------
    def rescale(self, v: np.ndarray, radius: float) -> np.ndarray:
        r"""``v`` with its SCC means multiplied by the :math:`\alpha > 0` that makes :math:`\|v\|_M = R`.

        Along the path the means grow like :math:`R\,W^{svm}/\|W^{svm}\|` while the deviations
        settle at :math:`W^{fin}`, so this is the natural warm start for a new radius. ``v`` is
        returned unchanged when its means vanish.
        """
        m = np.where(self.is_mean, v, 0.0)
        dev = v - m
        Mm = self._metric_product(m)
        a = float(m @ Mm)
        b = float(dev @ Mm)
        c = float(dev @ self._metric_product(dev)) - radius * radius
        disc = b * b - a * c
        if a <= 0.0 or disc < 0.0:
            return v
        alpha = (-b + np.sqrt(disc)) / a
        return dev + alpha * m if alpha > 0.0 else v

    def estimate_log_mu(self, v: np.ndarray, log_mu: float) -> float:
        r""":math:`\log\mu` from the stationarity of the means at ``v``, least squares.

        :math:`\nabla_m A + \mu (M v)_m = 0` gives :math:`\mu = -\langle \nabla_m A, (Mv)_m\rangle /
        \|(Mv)_m\|^2`, evaluated divided by :math:`e^{\text{shift}}`; ``log_mu`` is returned when
        there is no such positive :math:`\mu` (e.g. at :math:`v = 0`).
        """
        shift = self.shift(v, _LOG_MU_MIN)
        g = self.gradient(v, -np.inf, shift)[self.is_mean]
        p = self._metric_product(v)[self.is_mean]
        ratio = -float(g @ p) / float(p @ p) if p @ p > 0.0 else 0.0
        return float(shift + np.log(ratio)) if ratio > 0.0 and np.isfinite(ratio) else log_mu

    def solve_radius(
        self, radius: float, log_mu: float, v: np.ndarray
    ) -> tuple[np.ndarray, float, PathStatus, str]:
        r"""Find :math:`\mu` with :math:`\|W_\mu\| = R`: the root of the decreasing
        :math:`h(\log\mu) = \log\|v(\mu)\|_M - \log R`.

        Steps come from the stationarity estimate at the rescaled iterate
        (:meth:`estimate_log_mu`), doubled while no sign change brackets the root, then
        Illinois regula falsi inside the bracket. A radius beyond every :math:`\|v(\mu)\|` is
        interior only when :math:`W^{svm} = 0` (no entry outside its label's SCC); otherwise the
        loss has no minimiser and the point is ``NOT_CONVERGED`` with the reason.
        """
        given, radius = radius, radius * self.unit
        if radius > _MAX_RADIUS:
            return v, log_mu, PathStatus.NOT_CONVERGED, (
                f"R = {given:g} is beyond {_MAX_RADIUS / self.unit:g}, where the finite part of W is below "
                "the rounding error of its growing part; use smaller radii"
            )
        target = np.log(radius)

        def evaluate(x: float, start: np.ndarray) -> tuple[float, np.ndarray, bool]:
            sol, ok = self.minimise(x, self.rescale(start, radius))
            return float(np.log(max(self.radius(sol), 1e-300)) - target), sol, ok

        x = float(np.clip(self.estimate_log_mu(self.rescale(v, radius), log_mu), _LOG_MU_MIN, _LOG_MU_MAX))
        lo: tuple[float, float, np.ndarray] | None = None  # norm too small: f < 0
        hi: tuple[float, float, np.ndarray] | None = None  # norm too large: f > 0
        step = 1.0
        side = 0
        for _ in range(200):
            f, v, ok = evaluate(x, v)
            if not ok:
                reason = f"the Newton solve did not converge at log mu = {x:.6g}"
                return v, x, PathStatus.NOT_CONVERGED, reason
            if abs(f) <= self.radius_rtol:
                return v, x, PathStatus.OPTIMAL, ""
            if f < 0.0:
                lo = (x, f, v)
                if side == -1 and hi is not None:
                    hi = (hi[0], 0.5 * hi[1], hi[2])
                side = -1
            else:
                hi = (x, f, v)
                if side == 1 and lo is not None:
                    lo = (lo[0], 0.5 * lo[1], lo[2])
                side = 1
            if lo is not None and hi is not None:
                x = hi[0] - hi[1] * (lo[0] - hi[0]) / (lo[1] - hi[1])
                if not min(lo[0], hi[0]) < x < max(lo[0], hi[0]):
                    x = 0.5 * (lo[0] + hi[0])
                v = hi[2] if abs(hi[1]) < abs(lo[1]) else lo[2]
                continue
            x, status, reason = self._expand(x, f, v, (radius, given), step)
            if status is not None:
                return v, x, status, reason
            step *= 2.0
        return v, x, PathStatus.NOT_CONVERGED, f"no multiplier matched R = {given:g} in 200 solves"

    def _expand(
        self, x: float, f: float, v: np.ndarray, radii: tuple[float, float], step: float
    ) -> tuple[float, PathStatus | None, str]:
        """The next :math:`\\log\\mu` while no sign change brackets the root (steps growing with
        ``step``), or a final status and the reason (``x`` then unchanged). ``radii`` is the radius
        in internal units and as the caller gave it."""
        radius, given = radii
        interior_possible = not self.has_outside
        guess = self.estimate_log_mu(self.rescale(v, radius), x)
        if f >= 0.0:
            if x >= _LOG_MU_MAX:
                return x, PathStatus.NOT_CONVERGED, f"||W|| > R = {given:g} even at the largest multiplier"
            new = min(max(guess, x + step / 8.0), x + 8.0 * step)
            return min(new, _LOG_MU_MAX), None, ""
        if interior_possible and x <= _LOG_MU_MIN_INTERIOR:
            return x, PathStatus.INTERIOR, ""
        new = max(min(guess, x - step / 8.0), x - 8.0 * step)
        floor = _LOG_MU_MIN_INTERIOR if interior_possible else _LOG_MU_MIN
        if new < floor and x <= floor:
            return x, PathStatus.NOT_CONVERGED, (
                f"||W|| = {self.radius(v) / self.unit:.6g} < R = {given:g} at log mu = {x:.6g}: the "
                "radius is out of numerical reach of the path solver"
            )
        return max(new, floor), None, ""

    def point(self, radius: float, log_mu: float, v: np.ndarray) -> tuple[PathPoint, np.ndarray]:
        """Solve at one radius and package the result (and the coordinates, for warm starts).

        ``log_mu`` (in and out) is the multiplier of :math:`\\tfrac{\\mu}{2}\\|W\\|^2`; internally the
        penalty is on the scaled norm, whose multiplier is :math:`\\mu / \\text{unit}^2`.
        """
        shift = 2.0 * float(np.log(self.unit))
        before = self.solves
        v, log_mu, status, message = self.solve_radius(radius, log_mu - shift, v)
        log_mu += shift
        outside, log_outside, inside = self.values(v)
        W = self.weights(v)
        norm = float(np.linalg.norm(W.data if issparse(W) else W))
        if status is PathStatus.OPTIMAL and abs(norm - radius) > max(1e-8, 10.0 * self.radius_rtol) * radius:
            status = PathStatus.NOT_CONVERGED
            message = f"||W|| = {norm:.12g} differs from R = {radius:g} (ill-conditioned embeddings)"
        solves = self.solves - before
        return PathPoint(W, log_mu, outside, log_outside, inside, norm, status, message, solves), v


def regularization_path(
    dataset: Dataset,
    radii: Sequence[float],
    *,
    prediction: Prediction | None = None,
    callback: ProgressCallback | None = None,
    W0: np.ndarray | None = None,
    time_budget: float | None = None,
) -> Trajectory:
    r"""The regularisation path :math:`W_R = \arg\min_{\|W\|_F \le R} L(W)` (log-loss) at every radius.

    A convex solve per radius, warm-started along the path (radii ascending). The loss parts
    outside and inside the label's SCC are kept apart in log-space (see docs/theory.md §6), so
    the path keeps moving where their ratio is far below :math:`10^{-16}`; radii up to
    :math:`10^8` are reached. When :math:`W^{svm} \ne 0` the loss has no minimiser, so
    :math:`\|W_R\| = R` at every radius, and a radius the solver cannot reach ends the run with
    status ``NOT_CONVERGED`` and ``Trajectory.message`` saying why. Only when :math:`W^{svm} = 0`
    (every token in its label's SCC) can :math:`\|W_R\| < R` hold: the constraint is then
    inactive and the smallest-norm minimiser is returned. Needs linearly independent
    embeddings; raises :class:`InvalidInput` when one :math:`G_k` has more than 4000 (query, token)
    variables (its dense Newton block) or non-orthonormal embeddings have :math:`K^2 > 4096`.
    ``time_budget`` (seconds) stops the path between radii (``TIME_LIMIT``).

    >>> from symattn.examples import load_example
    >>> path = regularization_path(load_example(), [1.0, 10.0])
    >>> path.status.value, path.norm.round(6).tolist()
    ('completed', [1.0, 10.0])
    """
    require_dataset(dataset, "regularization_path")
    if isinstance(radii, str) or not isinstance(radii, Sequence | np.ndarray):
        raise InvalidInput(f"radii={radii!r} must be a sequence of positive numbers, e.g. [1, 10, 100]")
    config = TrainConfig(method=TrainMethod.REGPATH, radii=tuple(radii), time_budget=time_budget)
    problem = PathProblem(dataset)
    v = np.zeros(problem.node_keys.size)
    if W0 is not None:
        emb = dataset.embeddings
        v = problem.start(check_weights(W0, emb.dim, name="W0", sparse_ok=emb.is_onehot))
    rec = Recorder()
    weights: list[np.ndarray] = []
    status, message = _walk(problem, config, prediction, callback, v, rec, weights)
    done = min(len(rec.rows), len(weights))  # an interrupt may fall between the two appends
    rec.rows, weights = rec.rows[:done], weights[:done]
    keys = sorted(rec.rows[0][3]) if rec.rows else []
    rows = rec.arrays(keys)
    d = dataset.embeddings.dim
    stacked = np.array(weights) if weights else np.zeros((0, d, d))
    return Trajectory(
        method=TrainMethod.REGPATH, status=status, steps=rows["steps"], loss=rows["loss"], norm=rows["norm"],
        metrics={k: rows[metric_key(k)] for k in keys}, W=stacked[-1] if weights else np.zeros((d, d)),
        config=config, radii=np.array((config.radii or ())[: len(weights)]), weights=stacked, message=message,
    )


def _walk(
    problem: PathProblem,
    config: TrainConfig,
    prediction: Prediction | None,
    callback: ProgressCallback | None,
    v: np.ndarray,
    rec: Recorder,
    weights: list[np.ndarray],
) -> tuple[TrainStatus, str]:
    """Solve radius after radius, recording each point; how the walk ended and why."""
    model = Model(problem.dataset)
    radii = config.radii or ()
    deadline = None if config.time_budget is None else time.monotonic() + config.time_budget
    log_mu = 0.0
    try:
        for i, radius in enumerate(radii):
            if deadline is not None and time.monotonic() >= deadline:
                return TrainStatus.TIME_LIMIT, (
                    f"stopped by the time budget of {config.time_budget:g} s before R={radius:g} "
                    f"({i} of {len(radii)} radii done)"
                )
            point, v = problem.point(radius, log_mu, v)
            if point.status is PathStatus.NOT_CONVERGED:
                message = f"the path solve did not converge at R={radius:g}: {point.message}"
                logger.warning("%s", message)
                return TrainStatus.NOT_CONVERGED, message
            log_mu = point.log_mu
            metrics = metric_row(prediction, point.W)
            metrics.update(multiplier=float(np.exp(point.log_mu)), log_multiplier=point.log_mu,
                           log_outside_loss=point.log_outside)
            rec.add(i, model.value(point.W), float(np.linalg.norm(point.W)), metrics)
            weights.append(point.W)
            logger.info("path: R=%g reached (log mu = %.6g)", radius, point.log_mu)
            if callback is not None:
                callback(i + 1, len(radii))
    except KeyboardInterrupt:
        return TrainStatus.INTERRUPTED, f"interrupted after {len(weights)} of {len(radii)} radii"
    return TrainStatus.COMPLETED, ""
