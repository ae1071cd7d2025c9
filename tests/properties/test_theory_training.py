"""P2 of docs/theory.md §6: gradient descent from zero and normalised gradient descent, over random graphs.

Runs are short (a few hundred steps): long enough for the bounds to bite, short enough that the
outside mass stays far above 1e-16, where the gradient is accurate (docs/theory.md §9). Every
bound is derived in docs/properties.md; notation as in test_theory_path.py, plus
m(t) = mean outside mass, a(t) = <W(t), W^svm>/sigma, e(t) = ||Pi_fin W(t) - W^fin||, and
excess(t) = L(W(t)) - L*, which bounds the outside loss, the finite error (r), the strict gaps (mu)
and the correlation at every step (Lemmas B-E, which hold for any W).
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from theory_bounds import THOROUGH, THOROUGH_MARKS, Theory, drift_bound, examples, theory_datasets

from symattn import predict, smoothness_bound, train

pytestmark = THOROUGH_MARKS

GD_STEPS = 400 if THOROUGH else 100
NGD_STEPS = 400 if THOROUGH else 160
NGD_STEP = 0.05
"""Normalised step in units of 1/nu (scores move by at most NGD_STEP per step, at any embedding scale)."""


def _every_step(ds, pred, steps: int, **options):
    """A run recorded at every step (1,000 records per decade reach every step up to 434)."""
    traj = train(ds, steps=steps, records=1000, prediction=pred, **options)
    assert traj.success and traj.steps.tolist() == list(range(steps + 1))
    return traj


def _float_tol(values: np.ndarray) -> np.ndarray:
    """Rounding of a float64 quantity recomputed at every step (relative 1e-12, absolute 1e-12)."""
    return 1e-12 * (1.0 + np.abs(values))


def _first_violation(what: str, margins: np.ndarray) -> None:
    """Fail with the first step whose margin (violated when positive) is above 0."""
    bad = np.flatnonzero(margins > 0)
    assert bad.size == 0, f"{what} at step {bad[0]} (by {margins[bad[0]]:.3g})" if bad.size else ""


def _final_bounds(th: Theory, traj, t: int, log_B: float) -> None:
    """Lemmas B-E with the a priori bound B on the excess at step t."""
    m = traj.metrics
    r = th.fin_radius(log_B)
    assert m["finite_error"][t] <= r + 1e-12, (m["finite_error"][t], r)
    assert m["outside_mass_mean"][t] <= np.exp(log_B), (m["outside_mass_mean"][t], np.exp(log_B))
    assert m["corr_svm"][t] >= th.corr_lower(log_B, traj.norm[t]) - 1e-12, m["corr_svm"][t]
    assert m["within_error"][t] <= drift_bound(2 * th.nu * r) + 1e-12, (m["within_error"][t], r)


def _excess(th: Theory, traj) -> np.ndarray:
    """L(W(t)) - L* from the recorded losses, plus the rounding of that difference (64 eps (1 + L)):
    an upper bound on the exact excess, which is all the envelopes need."""
    return traj.loss - th.L_star + 64 * np.finfo(float).eps * (1.0 + np.abs(traj.loss))


def _envelopes(th: Theory, traj, excess: np.ndarray) -> None:
    """Lemmas B-E at every recorded step: the measured metrics lie inside the envelopes of the
    measured excess loss (for gradient descent the excess never rises, so the envelopes fall)."""
    m = traj.metrics
    for t in range(traj.steps.size):
        log_eps = np.log(max(excess[t], 1e-300))
        r = th.fin_radius(log_eps)
        assert m["finite_error"][t] <= r + 1e-12, ("finite error", t, m["finite_error"][t], r)
        assert m["outside_mass_mean"][t] <= excess[t] * (1 + 1e-9), ("mean outside mass", t)
        assert m["outside_mass_max"][t] <= -np.expm1(-th.n * excess[t]) * (1 + 1e-9), ("max outside mass", t)
        if traj.norm[t] > 0:
            assert m["corr_svm"][t] >= th.corr_lower(log_eps, traj.norm[t]) - 1e-12, ("corr", t)


@examples(ci=15)
@given(theory_datasets())
def test_p2_gradient_descent_from_zero(ds):
    """P2, gradient descent with step eta = 1/beta (beta bounds the Hessian everywhere) from W = 0.

    At every step:
      (T1) L(W(t+1)) <= L(W(t)) - eta/2 ||grad||^2 (descent lemma), so excess(t) never rises;
      (T2) a(t+1) - a(t) = (eta/(n sigma)) sum_i sum_{j outside C_i} pi_j (s_y - s_j) >= eta m(t) / sigma,
           since W^svm's scores s are equal on C_i and at least 1 lower outside: the W^svm part rises;
      (T3) e(t+1) <= e(t) + 2 eta nu m(t): on S_fin the step is a gradient step on L_red (nonexpansive
           toward W^fin for eta <= 2/beta) plus eta Pi_fin grad A, and ||grad A|| <= 2 nu m(t);
           so once the outside mass is small the finite error can only fall (up to that allowance).
    Rate: for any comparator U and eta <= 1/beta, L(W(t)) - L(U) <= ||U||^2 / (2 eta t); with U = W_c(R)
    (Lemma A), excess(t) <= B(t) = min_R [eps(R) + R^2 / (2 eta t)] = O(sigma^2 log^2 t / t).
    Final values: finite error <= r(B(T)), mean outside mass <= B(T), max <= 1 - e^{-n B(T)},
    corr >= sigma mu(B(T)) / ||W(T)||, within-SCC log-drift <= 2 nu r(B(T)).
    """
    pred = predict(ds)
    th = Theory(pred)
    lr = 1.0 / smoothness_bound(ds)
    traj = _every_step(ds, pred, GD_STEPS, method="gd")
    m = traj.metrics
    _first_violation("T1: the loss rose", np.diff(traj.loss) - _float_tol(traj.loss[:-1]))
    a = np.nan_to_num(m["corr_svm"]) * traj.norm
    _first_violation("T2: a rose too little",
                     lr * m["outside_mass_mean"][:-1] / th.sigma - _float_tol(a[1:]) - np.diff(a))
    e = m["finite_error"]
    _first_violation("T3: the finite error rose too much",
                     np.diff(e) - 2 * lr * th.nu * m["outside_mass_mean"][:-1] - _float_tol(e[1:]))
    excess = _excess(th, traj)
    assert abs(th.excess(traj.W) - excess[-1]) <= 1e-12 * (1 + th.L_star), (th.excess(traj.W), excess[-1])
    bound = np.array([th.log_gd_excess(int(t), lr) for t in traj.steps[1:]])
    _first_violation("rate: excess above B(t)", np.log(np.maximum(excess[1:], 1e-300)) - bound - 1e-9)
    _envelopes(th, traj, excess)
    _final_bounds(th, traj, len(traj.steps) - 1, bound[-1])


@examples(ci=15)
@given(theory_datasets())
def test_p2_normalised_gradient_descent(ds):
    """P2, normalised gradient descent W <- W - eta grad/||grad|| from W = 0, eta = NGD_STEP / nu.

    At every step (||grad L|| <= 2 nu, since ||grad l_i|| <= nu ||pi - e_y||_1 <= 2 nu):
      (T1') L rises by at most beta eta^2 / 2 (descent lemma along a step of length eta);
      (T2') a(t+1) - a(t) >= eta m(t) / (2 nu sigma) (as T2, with the step eta/||grad||);
      (T0) ||W(t+1)|| - ||W(t)|| <= eta.
    Rate (normalised subgradient method): for any comparator U, over N steps from W(N0),
    min_t L(W(t)) - L(U) <= G (||W(N0) - U||^2 + N eta^2) / (2 eta N), G = 2 nu. With U = W_c(R) and
    the last N = T/2 steps: min_t excess(t) <= B = min_R [eps(R) + G(||W(T/2) - W_c(R)||^2 + N eta^2)/(2 eta N)],
    whose floor G eta / 2 = NGD_STEP is the oscillation of normalised steps (docs/theory.md §6).
    At that best step the distances meet Lemmas B-E with B; the last step is within
    (T - t_best) beta eta^2 / 2 of it (T1').
    """
    pred = predict(ds)
    th = Theory(pred)
    lr = NGD_STEP / th.nu
    beta = smoothness_bound(ds)
    half = NGD_STEPS // 2
    first = train(ds, method="ngd", steps=half, lr=lr, records=1)
    traj = _every_step(ds, pred, NGD_STEPS - half, method="ngd", lr=lr, W0=first.W)
    m = traj.metrics
    _first_violation("T1': the loss rose by more than beta eta^2/2",
                     np.diff(traj.loss) - beta * lr**2 / 2 - _float_tol(traj.loss[:-1]))
    a = np.nan_to_num(m["corr_svm"]) * traj.norm
    rise = lr * m["outside_mass_mean"][:-1] / (2 * th.nu * th.sigma)
    _first_violation("T2': a rose too little", rise - _float_tol(a[1:]) - np.diff(a))
    _first_violation("T0: the norm grew by more than eta", np.diff(traj.norm) - lr * (1 + 1e-12))
    excess = _excess(th, traj)
    best = int(np.argmin(excess))
    log_B = th.log_ngd_excess(first.W, NGD_STEPS - half, lr)
    assert np.log(max(excess[best], 1e-300)) <= log_B + 1e-9, (best, excess[best], np.exp(log_B))
    _envelopes(th, traj, excess)
    _final_bounds(th, traj, best, log_B)
