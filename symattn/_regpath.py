r"""The regularisation-path solver: :math:`W_R = \arg\min_{\|W\|_F \le R} L(W)` for the log-loss.

Private: :func:`symattn.train.regularization_path` is the public entry point.

Why a dedicated solver (THEORY §6, "Numerics along the path"). Each sample's loss splits as
:math:`-\log\pi_y = A_i + B_i` with the *outside part*
:math:`A_i = \operatorname{softplus}(r_i)`, :math:`r_i = \operatorname{lse}_{j \notin C_y}(z) -
\operatorname{lse}_{j \in C_y}(z)`, and the *inside part* :math:`B_i = \operatorname{lse}_{j\in C_y}(z)
- z_y` (the reduced loss), where :math:`z_j = u_j + \log c_j`. Along the path :math:`A` decays like
:math:`e^{-R\,\text{margin}/\|W^{svm}\|}` and falls far below the rounding error of :math:`B`; a
solver that sums them stops moving. Here they are never summed:

* the problem is written in token coordinates: one variable per (query, token) node of the
  graphs, :math:`u_{jk} = e_j^\top W e_k`; the norm of the smallest :math:`W` with these potentials
  is :math:`\|u\|_M` (``M = I`` for orthonormal embeddings, the Schur complement of
  :math:`G^{-1} \otimes G^{-1}` for independent ones);
* an orthogonal change of variables splits each SCC of each :math:`G_k` into its mean (on which
  :math:`B` does not depend) and :math:`|C| - 1` deviations; the gradient and Hessian of
  :math:`B` are assembled on the deviations only, so they are *exactly* zero on the means, where
  only :math:`A` (computed from ``log1p``/``expit`` of the log-space ratio :math:`r_i`) acts;
* the penalised problem :math:`\min A + B + \tfrac{\mu}{2}\|u\|_M^2` is solved by Newton's method
  (scale invariant, so :math:`10^{-25}`-sized curvatures are no obstacle) with a Jacobi-scaled
  linear solve and a line search on the directional derivative (never on loss values); the
  multiplier :math:`\mu` is then matched to each radius by a bracketed secant search on
  :math:`\log\mu`, warm-started along the path.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from symattn.data import Dataset
from symattn.errors import InvalidInput
from symattn.graphs import priority_graphs
from symattn.scores import segment_logsumexp

__all__ = ["PathPoint", "PathProblem", "PathStatus"]

_MAX_NODES = 3000
_MAX_METRIC_ENTRIES = 4096
_MU_MIN = 1e-300
_MU_MAX = 1e12


class PathStatus(enum.Enum):
    """How one point of the path ended."""

    OPTIMAL = "optimal"
    INTERIOR = "interior"
    NOT_CONVERGED = "not_converged"


@dataclass(frozen=True)
class PathPoint:
    """The solution at one radius: ``W`` (d, d), the multiplier ``mu``, the loss parts (mean over samples)."""

    W: np.ndarray
    mu: float
    outside: float
    inside: float
    radius: float
    status: PathStatus


def _helmert(m: int) -> np.ndarray:
    """An orthonormal basis of :math:`\\mathbf 1^\\perp` in :math:`\\mathbb R^m`, shape (m, m - 1)."""
    q, _ = np.linalg.qr(np.column_stack([np.ones(m), np.eye(m)[:, : m - 1]]))
    return q[:, 1:]


class PathProblem:
    """The log-loss of a dataset in SCC-adapted token coordinates, its parts kept apart."""

    def __init__(self, dataset: Dataset) -> None:
        emb = dataset.embeddings
        if not emb.is_independent:
            raise InvalidInput(
                f"the regularisation path needs linearly independent embeddings; these {emb.kind.value} "
                f"rows have rank {emb.rank} < K = {emb.size}. Use gradient descent instead"
            )
        self.dataset = dataset
        graphs = priority_graphs(dataset)
        c = dataset.counts
        K = dataset.K
        query = c.query[c.sample]
        keys = query * K + c.token
        self.node_keys = np.unique(keys)
        nvar = self.node_keys.size
        if nvar > _MAX_NODES:
            raise InvalidInput(
                f"the regularisation path solves a dense Newton system in {nvar} (query, token) "
                f"variables; it is built for at most {_MAX_NODES}. Use gradient descent here"
            )
        self.node = np.searchsorted(self.node_keys, keys)
        component = np.concatenate([g.component for _, g in sorted(graphs.items())])
        group = np.unique(self.node_keys // K * (K + 1) + component, return_inverse=True)[1]
        T = np.zeros((nvar, nvar))
        is_mean = np.zeros(nvar, dtype=bool)
        col = 0
        for members in np.split(np.argsort(group, kind="stable"), np.cumsum(np.bincount(group))[:-1]):
            m = members.size
            T[members, col] = 1.0 / np.sqrt(m)
            is_mean[col] = True
            T[np.ix_(members, np.arange(col + 1, col + m))] = _helmert(m)
            col += m
        self.T = T
        self.is_mean = is_mean
        self.D = np.where(is_mean[None, :], 0.0, T)
        self.metric = self._metric()
        self.n = dataset.n
        self.log_count = np.log(c.count.astype(np.float64))
        inside = graphs.in_label_scc
        self.in_idx = np.flatnonzero(inside)
        self.out_idx = np.flatnonzero(~inside)
        n_in = np.bincount(c.sample[self.in_idx], minlength=self.n)
        n_out = np.bincount(c.sample[self.out_idx], minlength=self.n)
        self.in_ptr = np.concatenate([[0], np.cumsum(n_in)])
        self.has_out = np.flatnonzero(n_out > 0)
        self.out_ptr = np.concatenate([[0], np.cumsum(n_out[self.has_out])])
        self.in_len, self.out_len = n_in, n_out[self.has_out]
        self.label_entry = c.label_entry
        self.sample = c.sample
        lengths = np.diff(c.indptr)
        first = np.repeat(np.arange(c.nnz), lengths[c.sample])
        span = lengths[c.sample]
        offset = np.arange(first.size) - np.repeat(np.cumsum(span) - span, span)
        self.pair = (first, c.indptr[c.sample[first]] + offset)

    # -- geometry ----------------------------------------------------------------------
    def _metric(self) -> np.ndarray:
        r"""The metric :math:`M`: :math:`\min\{\|W\|^2 : e_j^\top W e_k = u_{jk}\} = v^\top M v`."""
        emb = self.dataset.embeddings
        nvar = self.node_keys.size
        if emb.is_orthonormal:
            return np.eye(nvar)
        K = self.dataset.K
        if K * K > _MAX_METRIC_ENTRIES:
            raise InvalidInput(
                f"the regularisation path with non-orthonormal embeddings forms a K^2 x K^2 metric; "
                f"K = {K} is too large (K^2 <= {_MAX_METRIC_ENTRIES}). Use orthonormal embeddings"
            )
        ginv = np.linalg.inv(emb.gram())
        full = np.kron(ginv, ginv)
        used = self._u_index()
        free = np.setdiff1d(np.arange(K * K), used)
        self._free, self._free_map = free, np.linalg.solve(full[np.ix_(free, free)], full[np.ix_(free, used)])
        schur = full[np.ix_(used, used)] - full[np.ix_(used, free)] @ self._free_map
        return self.T.T @ (0.5 * (schur + schur.T)) @ self.T

    def _u_index(self) -> np.ndarray:
        K = self.dataset.K
        query, token = np.divmod(self.node_keys, K)
        return token * K + query

    def weights(self, v: np.ndarray) -> np.ndarray:
        r"""The smallest-norm :math:`W` (d, d) whose potentials are :math:`u = T v`."""
        emb = self.dataset.embeddings
        K = self.dataset.K
        flat = np.zeros(K * K)
        u = self.T @ v
        flat[self._u_index()] = u
        if not emb.is_orthonormal:
            flat[self._free] = -self._free_map @ u
        U = flat.reshape(K, K)
        if emb.is_onehot:
            return U
        E = emb.matrix()
        pinv = np.linalg.solve(emb.gram(), E).T
        return pinv @ U @ pinv.T

    def radius(self, v: np.ndarray) -> float:
        """:math:`\\|W\\|_F` of :meth:`weights` ``(v)``."""
        return float(np.sqrt(max(v @ self.metric @ v, 0.0)))

    def start(self, W: np.ndarray) -> np.ndarray:
        """Coordinates of the potentials of ``W`` (used to warm-start)."""
        emb = self.dataset.embeddings
        K = self.dataset.K
        E = emb.matrix()
        U = (E @ W @ E.T).reshape(K * K)
        return self.T.T @ U[self._u_index()]

    # -- the two parts -----------------------------------------------------------------
    def _parts(self, v: np.ndarray) -> dict[str, np.ndarray]:
        z = (self.T @ v)[self.node] + self.log_count
        z_in, z_out = z[self.in_idx], z[self.out_idx]
        lse_in = segment_logsumexp(z_in, self.in_ptr)
        pi_in = np.exp(z_in - np.repeat(lse_in, self.in_len))
        r = np.full(self.n, -np.inf)
        pi_out = np.empty(0)
        if self.has_out.size:
            lse_out = segment_logsumexp(z_out, self.out_ptr)
            r[self.has_out] = lse_out - lse_in[self.has_out]
            pi_out = np.exp(z_out - np.repeat(lse_out, self.out_len))
        return {"z": z, "lse_in": lse_in, "pi_in": pi_in, "pi_out": pi_out, "r": r}

    def values(self, v: np.ndarray) -> tuple[float, float]:
        """The outside part :math:`\\frac1n\\sum A_i` and the inside part :math:`\\frac1n\\sum B_i`, apart."""
        p = self._parts(v)
        outside = float(np.sum(np.logaddexp(0.0, p["r"][self.has_out]))) / self.n
        inside = float(np.sum(p["lse_in"] - p["z"][self.label_entry])) / self.n
        return outside, inside

    def _entry_terms(self, p: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        nnz = self.sample.size
        sigma = expit(p["r"])
        w = np.zeros(nnz)
        w[self.out_idx] = p["pi_out"]
        w[self.in_idx] = -p["pi_in"]
        g_a = sigma[self.sample] * w
        g_b = np.zeros(nnz)
        g_b[self.in_idx] = p["pi_in"]
        g_b[self.label_entry] -= 1.0
        return sigma, w, np.stack([g_a, g_b])

    def gradient(self, v: np.ndarray) -> np.ndarray:
        """Gradient of :math:`(A + B)/n` in v; the B part lies exactly on the deviation coordinates."""
        _, _, g = self._entry_terms(self._parts(v))
        nvar = self.node_keys.size
        g_a = np.bincount(self.node, weights=g[0], minlength=nvar)
        g_b = np.bincount(self.node, weights=g[1], minlength=nvar)
        return (self.T.T @ g_a + self.D.T @ g_b) / self.n

    def hessian(self, v: np.ndarray) -> np.ndarray:
        """Hessian of :math:`(A + B)/n` in v, the two parts assembled apart."""
        p = self._parts(v)
        sigma, w, _ = self._entry_terms(p)
        nnz = self.sample.size
        pi = np.zeros(nnz)
        pi[self.in_idx] = p["pi_in"]
        pi[self.out_idx] = p["pi_out"]
        side = np.zeros(nnz, dtype=np.int8)
        side[self.in_idx] = 1
        a, b = self.pair
        s = sigma[self.sample[a]]
        same = side[a] == side[b]
        block = np.where(same, np.where(a == b, pi[a], 0.0) - pi[a] * pi[b], 0.0)
        inside = side[a] == 1
        h_b = np.where(same & inside, block, 0.0)
        h_a = s * (1.0 - s) * w[a] * w[b] + s * np.where(inside, -block, block)
        nvar = self.node_keys.size
        flat = self.node[a] * nvar + self.node[b]
        H_a = np.bincount(flat, weights=h_a, minlength=nvar * nvar).reshape(nvar, nvar)
        H_b = np.bincount(flat, weights=h_b, minlength=nvar * nvar).reshape(nvar, nvar)
        return (self.T.T @ H_a @ self.T + self.D.T @ H_b @ self.D) / self.n

    # -- solvers -----------------------------------------------------------------------
    def _slope(self, v: np.ndarray, step: np.ndarray, mu: float) -> float:
        return float(self.gradient(v) @ step + mu * (v @ self.metric @ step))

    def _line_search(self, v: np.ndarray, step: np.ndarray, mu: float) -> float:
        r"""A step :math:`t \in (0, 1]` with :math:`\tfrac12 \varphi'(0) \le \varphi'(t) \le 0`, from slopes.

        :math:`\varphi(t) = F(v + t\,\Delta)` is convex, so :math:`\varphi'(t) \le 0` means the step
        decreases :math:`F` without comparing loss values (which lose the outside part).
        """
        slope0 = self._slope(v, step, mu)
        if slope0 >= 0.0:
            return 0.0
        f_hi = self._slope(v + step, step, mu)
        if f_hi <= 0.0:
            return 1.0
        lo, hi, f_lo = 0.0, 1.0, slope0
        t = lo
        for _ in range(100):
            t = hi - f_hi * (hi - lo) / (f_hi - f_lo)
            if not lo < t < hi:
                t = 0.5 * (lo + hi)
            f_t = self._slope(v + t * step, step, mu)
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
        self, mu: float, v: np.ndarray, *, tol: float = 1e-12, max_iter: int = 500
    ) -> tuple[np.ndarray, bool]:
        r"""Block Newton for :math:`\min_v (A + B)/n + \tfrac{\mu}{2} v^\top M v` from ``v``.

        Alternates a Newton step on the deviations (where :math:`B` acts, O(1) curvature) and one on
        the means (where only :math:`A` and the penalty act, curvature as small as
        :math:`e^{-R\gamma}`), each with its own line search, so the rounding noise of the
        :math:`B` gradient at its optimum never enters the tiny slopes of the means.
        """
        blocks = [b for b in (~self.is_mean, self.is_mean) if b.any()]
        for _ in range(max_iter):
            moved = 0.0
            for block in blocks:
                grad = (self.gradient(v) + mu * (self.metric @ v))[block]
                hess = (self.hessian(v) + mu * self.metric)[np.ix_(block, block)]
                scale = 1.0 / np.sqrt(np.maximum(np.diag(hess), np.finfo(float).tiny))
                scaled = hess * scale[:, None] * scale[None, :]
                step = np.zeros_like(v)
                step[block] = -scale * np.linalg.lstsq(scaled, scale * grad, rcond=None)[0]
                t = self._line_search(v, step, mu)
                v = v + t * step
                moved = max(moved, float(np.linalg.norm(t * step)))
            if moved <= tol * (1.0 + np.linalg.norm(v)):
                return v, True
        return v, False

    def solve_radius(self, radius: float, mu: float, v: np.ndarray) -> tuple[np.ndarray, float, PathStatus]:
        r"""Find :math:`\mu` with :math:`\|W_\mu\| = R` (bracketed secant on :math:`\log\mu`)."""
        target = np.log(radius)

        def residual(log_mu: float, start: np.ndarray) -> tuple[float, np.ndarray, bool]:
            sol, ok = self.minimise(float(np.exp(log_mu)), start)
            return np.log(max(self.radius(sol), 1e-300)) - target, sol, ok

        lo = hi = float(np.log(mu))
        f, v, ok = residual(lo, v)
        if not ok:
            return v, mu, PathStatus.NOT_CONVERGED
        f_lo = f_hi = f
        v_lo = v_hi = v
        while f_lo > 0.0:
            if lo >= np.log(_MU_MAX):
                return v_lo, float(np.exp(lo)), PathStatus.NOT_CONVERGED
            hi, f_hi, v_hi = lo, f_lo, v_lo
            lo += np.log(10.0)
            f_lo, v_lo, ok = residual(lo, v_lo)
        while f_hi < 0.0:
            if hi <= np.log(_MU_MIN):
                return v_hi, float(np.exp(hi)), PathStatus.INTERIOR
            lo, f_lo, v_lo = hi, f_hi, v_hi
            hi -= np.log(10.0)
            f_hi, v_hi, ok = residual(hi, v_hi)
            if not ok:
                return v_hi, float(np.exp(hi)), PathStatus.NOT_CONVERGED
        # now f(lo) <= 0 <= f(hi) with lo > hi in log mu (R decreases with mu)
        side = 0
        for _ in range(200):
            if abs(f_hi) <= 1e-11:
                return v_hi, float(np.exp(hi)), PathStatus.OPTIMAL
            if abs(f_lo) <= 1e-11:
                return v_lo, float(np.exp(lo)), PathStatus.OPTIMAL
            mid = hi - f_hi * (lo - hi) / (f_lo - f_hi)
            if not min(lo, hi) < mid < max(lo, hi):
                mid = 0.5 * (lo + hi)
            f_mid, v_mid, ok = residual(mid, v_hi)
            if not ok:
                return v_mid, float(np.exp(mid)), PathStatus.NOT_CONVERGED
            if f_mid > 0.0:
                hi, f_hi, v_hi = mid, f_mid, v_mid
                if side == 1:
                    f_lo *= 0.5
                side = 1
            else:
                lo, f_lo, v_lo = mid, f_mid, v_mid
                if side == -1:
                    f_hi *= 0.5
                side = -1
        return v_hi, float(np.exp(hi)), PathStatus.NOT_CONVERGED

    def point(self, radius: float, mu: float, v: np.ndarray) -> tuple[PathPoint, np.ndarray]:
        """Solve at one radius and package the result (and the coordinates, for warm starts)."""
        v, mu, status = self.solve_radius(radius, mu, v)
        outside, inside = self.values(v)
        return PathPoint(self.weights(v), mu, outside, inside, self.radius(v), status), v

