"""The theory's quantitative bounds (docs/properties.md), computed apart from symattn's solvers.

Everything here works on the raw samples with plain NumPy/SciPy: the loss split
``-log pi_y = A_i + B_i`` (outside part, inside part), the reduced Hessian at W^fin on S_fin
(from a basis of S_fin built here from the SCCs), and the a priori bounds of docs/properties.md:

* ``comparator_excess(R)``: eps(R) >= L(W_c(R)) - L*, for the comparator
  W_c(R) = W^fin + tau_R W^svm/||W^svm|| of norm R (Lemma A);
* ``fin_radius(eps)``: every W with L(W) - L* <= eps has ||Pi_fin W - W^fin|| <= r(eps) (Lemma B);
* ``margin(eps)``: ... and the part of W orthogonal to S_fin has every strict graph gap >= mu(eps)
  (Lemma D), hence corr(W, W^svm) >= sigma mu / ||W|| (Lemma E).

The only symattn values used are W^svm and W^fin (what is being tested) and the SCCs.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from scipy.optimize import brentq
from scipy.special import logsumexp

from symattn import Prediction, priority_graphs
from symattn.strategies import realised_datasets

__all__ = ["THOROUGH", "THOROUGH_MARKS", "Theory", "drift_bound", "examples", "path_floor", "theory_datasets"]

THOROUGH = settings().max_examples >= 1000
"""The ``thorough`` profile is active: larger graphs, longer runs (the ``ci`` profile stays fast)."""


THOROUGH_MARKS = [pytest.mark.timeout(4 * 3600)] if THOROUGH else []
"""Under ``thorough`` one test runs for 10-20 minutes on a shared machine: lift the 600 s timeout."""


def examples(ci: int) -> settings:
    """``ci`` examples under the fast profiles (each example trains or solves a path); the
    profile's own number (1,000) under ``thorough``."""
    return settings() if THOROUGH else settings(max_examples=min(ci, settings().max_examples))

EMBEDDINGS = ("onehot", "orthonormal", "given", "random_unit")
"""One-hot, orthonormal, exact independent integer rows, independent unit rows (dim = K)."""


def theory_datasets() -> st.SearchStrategy:
    """Realised datasets for the property suite: cyclic and acyclic graph families, several
    query tokens, every embedding kind with independent rows; larger under ``thorough``."""
    size = {"max_queries": 3, "max_tokens": 6, "max_repeats": 3} if THOROUGH else {
        "max_queries": 2, "max_tokens": 4, "max_repeats": 2}
    kinds = st.sampled_from(EMBEDDINGS)
    return st.sampled_from([True, False]).flatmap(
        lambda cyclic: realised_datasets(cyclic=cyclic, embeddings=kinds, **size)
    ).filter(_has_outside_token)


def _has_outside_token(ds) -> bool:
    """Some token lies outside its label's SCC, i.e. W^svm != 0 (else there is nothing to retrieve)."""
    return not bool(priority_graphs(ds).in_label_scc.all())


def path_floor(R: float) -> float:
    """What the path solver resolves in a distance at radius R: 100 times its Newton stopping
    tolerance 1e-12 (1 + ||v||) (symattn/_regpath.py), ||v|| ~ R; a bound below it is not testable."""
    return 1e-10 * (1.0 + R)

_TAIL = -30.0
"""Below this log-value, log(softplus(x)) = x and log(expm1(e^x)) = x to 1e-13 relative."""


@dataclass(frozen=True)
class _Sample:
    tokens: np.ndarray  # distinct present tokens
    log_counts: np.ndarray
    query: int
    label_pos: int  # index of the label in ``tokens``
    inside: np.ndarray  # bool: token in the label's SCC


def _log_softplus(x: np.ndarray) -> np.ndarray:
    """log(log(1 + e^x)), accurate for very negative x."""
    x = np.asarray(x, dtype=float)
    safe = np.where(x < _TAIL, 0.0, x)
    return np.where(x < _TAIL, x, np.log(np.logaddexp(0.0, safe)))


def _log_expm1_exp(z: float) -> float:
    """log(e^{e^z} - 1), accurate for very negative z (inf for z > ~6.5)."""
    if z < _TAIL:
        return float(z)
    return float(np.log(np.expm1(np.exp(z)))) if z < 6.5 else float(np.exp(z))


def drift_bound(log_drift: float) -> float:
    """|p - q| <= q (e^d - 1) <= expm1(d) for log-ratios at most d; capped where it is above 1
    anyway (a probability difference never is), so a vacuous bound never overflows."""
    return float(np.expm1(min(log_drift, 1.0)))


def _phi_over_tau2(x: float) -> float:
    """(x - 1 + e^{-x}) / x^2, stable near 0 (series 1/2 - x/6 + x^2/24)."""
    if x < 1e-3:
        return 0.5 - x / 6.0 + x * x / 24.0
    return (x + np.expm1(-x)) / (x * x)


class Theory:
    """Constants of one dataset and the bounds of docs/properties.md built from them."""

    def __init__(self, pred: Prediction) -> None:
        ds = pred.dataset
        self.E = ds.embeddings.matrix()
        self.n = ds.n
        pg = priority_graphs(ds)
        self.samples: list[_Sample] = []
        for i, sample in enumerate(ds):
            counts = Counter(int(t) for t in sample.tokens)
            tokens = np.array(sorted(counts))
            scc = set(pg.sample_scc(i))
            self.samples.append(_Sample(
                tokens, np.log([counts[t] for t in tokens]), int(sample.tokens[-1]),
                int(np.flatnonzero(tokens == int(sample.label))[0]),
                np.array([t in scc for t in tokens]),
            ))
        norms = np.linalg.norm(self.E, axis=1)
        used = sorted({int(t) for s in self.samples for t in s.tokens})
        queries = sorted({s.query for s in self.samples})
        self.nu = float(norms[used].max() * norms[queries].max())
        self.W_svm, self.W_fin = pred.W_svm, pred.W_fin
        self.sigma = float(np.linalg.norm(self.W_svm))
        self.fin_norm = float(np.linalg.norm(self.W_fin))
        self.basis = self._fin_basis(pg)
        log_odds, inside = self.parts(self.W_fin)
        self.L_star = float(np.mean(inside))
        self.psi = self._psi(self.W_fin)
        self.log_rho = log_odds
        self.lam0 = self._reduced_hessian_min_eig()

    # -- the loss split ---------------------------------------------------------------------
    def potentials(self, W: np.ndarray, s: _Sample) -> np.ndarray:
        return self.E[s.tokens] @ W @ self.E[s.query]

    def parts(self, W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per sample: log Z_out/Z_in (-inf without outside tokens) and B_i = lse_in - u_y - log c_y."""
        odds, inside = [], []
        for s in self.samples:
            z = self.potentials(W, s) + s.log_counts
            lse_in = logsumexp(z[s.inside])
            lse_out = logsumexp(z[~s.inside]) if (~s.inside).any() else -np.inf
            odds.append(lse_out - lse_in)
            inside.append(lse_in - z[s.label_pos])
        return np.array(odds), np.array(inside)

    def log_outside_mass(self, W: np.ndarray) -> np.ndarray:
        """Per sample log of the attention mass outside the label's SCC."""
        odds, _ = self.parts(W)
        return odds - np.logaddexp(0.0, odds)

    def excess(self, W: np.ndarray) -> float:
        """L(W) - L* = mean A_i + (mean B_i - L*), both parts non-negative."""
        odds, inside = self.parts(W)
        return float(np.mean(np.logaddexp(0.0, odds)) + max(np.mean(inside) - self.L_star, 0.0))

    def log_within(self, W: np.ndarray) -> list[np.ndarray]:
        """Per sample, log pi(j | C_y) over the present tokens of the label's SCC."""
        out = []
        for s in self.samples:
            z = (self.potentials(W, s) + s.log_counts)[s.inside]
            out.append(z - logsumexp(z))
        return out

    def _psi(self, W: np.ndarray) -> np.ndarray:
        """psi_ij = log c_j + u_j - lse_in for every (sample, outside token) pair, flattened."""
        values = []
        for s in self.samples:
            z = self.potentials(W, s) + s.log_counts
            values.extend((z[~s.inside] - logsumexp(z[s.inside])).tolist())
        return np.array(values)

    # -- S_fin and the reduced Hessian --------------------------------------------------------
    def _fin_basis(self, pg) -> np.ndarray:
        d = self.E.shape[1]
        vectors = []
        for k, graph in pg.graphs.items():
            for scc in graph.sccs:
                for a, b in itertools.pairwise(scc):
                    vectors.append(np.outer(self.E[a] - self.E[b], self.E[k]).ravel())
        if not vectors:
            return np.zeros((0, d, d))
        u, sv, _ = np.linalg.svd(np.array(vectors).T, full_matrices=False)
        rank = int(np.sum(sv > 1e-10 * sv[0]))
        return u[:, :rank].T.reshape(rank, d, d)

    def project_fin(self, W: np.ndarray) -> np.ndarray:
        return np.tensordot(np.tensordot(self.basis, W, axes=([1, 2], [0, 1])), self.basis, axes=1)

    def _reduced_hessian_min_eig(self) -> float:
        m = self.basis.shape[0]
        if m == 0:
            return np.inf
        H = np.zeros((m, m))
        for s in self.samples:
            idx = np.flatnonzero(s.inside)
            z = self.potentials(self.W_fin, s)[idx] + s.log_counts[idx]
            p = np.exp(z - logsumexp(z))
            X = np.einsum("ja,mab,b->jm", self.E[s.tokens[idx]], self.basis, self.E[s.query])
            Xc = X - p @ X
            H += (Xc * p[:, None]).T @ Xc
        return float(np.linalg.eigvalsh(H / self.n)[0])

    # -- the bounds -----------------------------------------------------------------------
    def radius_at(self, x: float) -> float:
        """The radius whose comparator has W^svm part x sigma: sqrt(||W^fin||^2 + (x sigma)^2)."""
        return float(np.hypot(self.fin_norm, x * self.sigma))

    def tau(self, R: float) -> float:
        """Length of the W^svm part of the comparator of norm R: sqrt(R^2 - ||W^fin||^2)."""
        return float(np.sqrt(max(R * R - self.fin_norm ** 2, 0.0)))

    def comparator(self, R: float) -> np.ndarray:
        return self.W_fin + (self.tau(R) / self.sigma) * self.W_svm

    def log_comparator_excess(self, R: float | np.ndarray) -> float | np.ndarray:
        """log eps(R), eps(R) = (1/n) sum_i log(1 + rho_i e^{-tau_R/sigma}) (Lemma A); vectorised in R."""
        radii = np.atleast_1d(np.asarray(R, dtype=float))
        taus = np.sqrt(np.maximum(radii**2 - self.fin_norm**2, 0.0))
        log_rho = self.log_rho[np.isfinite(self.log_rho)]
        if log_rho.size == 0:
            out = np.full(radii.shape, -np.inf)
        else:
            x = log_rho[:, None] - taus[None, :] / self.sigma
            out = logsumexp(_log_softplus(x), axis=0) - np.log(self.n)
        out = np.where(radii >= self.fin_norm, out, np.inf)  # no comparator inside a smaller ball
        return float(out[0]) if np.ndim(R) == 0 else out

    def fin_radius(self, log_eps: float) -> float:
        """r(eps): the largest tau with lam0 * phi(tau) <= eps, phi(tau) = tau^2 g(2 nu tau) (Lemma B)."""
        if self.basis.shape[0] == 0 or log_eps == -np.inf:
            return 0.0
        target = log_eps - np.log(self.lam0)

        def excess_at(log_tau: float) -> float:
            tau = np.exp(log_tau)
            return 2 * log_tau + np.log(_phi_over_tau2(2 * self.nu * tau)) - target

        lo = 0.5 * (target + np.log(2.0)) - 1.0  # phi <= tau^2/2, so below the root
        hi = lo + 2.0
        while excess_at(hi) < 0:
            hi += 2.0
        # the root, rounded up: log-tau is increasing in the target, and xtol is far below any floor
        return float(np.exp(brentq(excess_at, lo, hi, xtol=1e-13, rtol=1e-15) + 1e-12))

    def margin(self, log_eps: float) -> float:
        """mu(eps) = min psi_ij(W^fin) - 2 nu r(eps) - log expm1(n eps) (Lemma D)."""
        if self.psi.size == 0:
            return np.inf
        log_delta = _log_expm1_exp(np.log(self.n) + log_eps)
        return float(self.psi.min() - 2 * self.nu * self.fin_radius(log_eps) - log_delta)

    def log_odds_upper(self, log_eps: float) -> float:
        """log odds of every sample's outside mass <= log expm1(n eps), since A_i <= n eps (P3)."""
        return _log_expm1_exp(np.log(self.n) + log_eps)

    def corr_lower(self, log_eps: float, norm: float) -> float:
        """corr(W, W^svm) >= sigma mu(eps) / ||W|| (Lemma E; vacuous when mu <= 0)."""
        return self.sigma * self.margin(log_eps) / norm

    def logit_outside_lower(self, R: float, r: float) -> float:
        """logit of the largest outside mass on the path is >= -R/sigma + min psi - 2 nu r (P3)."""
        return float(-R / self.sigma + self.psi.min() - 2 * self.nu * r)

    @cached_property
    def _grid(self) -> tuple[np.ndarray, np.ndarray]:
        """A grid of comparator radii and log eps(R) on it (any radius gives a valid bound)."""
        radii = self.fin_norm + self.sigma * np.geomspace(1e-2, 1e3, 400)
        return radii, self.log_comparator_excess(radii)

    def log_gd_excess(self, steps: int, lr: float) -> float:
        """log of min_R [eps(R) + R^2 / (2 lr steps)] over the grid (GD from zero, P2)."""
        radii, log_eps = self._grid
        return float(np.min(np.logaddexp(log_eps, np.log(radii**2 / (2 * lr * steps)))))

    def log_ngd_excess(self, W_start: np.ndarray, steps: int, lr: float) -> float:
        """log of min_R [eps(R) + G (||W_start - W_c(R)||^2 + N lr^2) / (2 lr N)] (NGD best iterate, P2)."""
        radii, log_eps = self._grid
        G = 2.0 * self.nu
        taus = np.sqrt(np.maximum(radii**2 - self.fin_norm**2, 0.0))
        # ||W - W_fin - (tau/sigma) W_svm||^2 expanded in tau
        base = float(np.sum((W_start - self.W_fin) ** 2))
        along = float(np.sum((W_start - self.W_fin) * self.W_svm)) / self.sigma
        D2 = np.maximum(base - 2 * taus * along + taus**2, 0.0)
        return float(np.min(np.logaddexp(log_eps, np.log(G * (D2 + steps * lr**2) / (2 * lr * steps)))))
