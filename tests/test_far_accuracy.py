"""Loss, gradient, Hessian and Hessian-vector products far out (docs/theory.md §9, "accuracy far out").

At points where the attention mass outside the label is 1e-5 ... 1e-300, every quantity must keep
its relative accuracy. The oracle is written here from the textbook formulas (per position,
probabilities first, ``1 - p`` as a plain difference) and evaluated with mpmath at 400 digits,
enough to absorb the 300 digits that the difference loses and still carry 100 correct ones.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

from symattn.data import Dataset
from symattn.embeddings import Embeddings
from symattn.finite import reduced_loss
from symattn.model import Loss, Model, direct_loss_and_gradient
from symattn.train.path import PathProblem

DIGITS = 400
RTOL = 1e-12
TINY = 1e-290
"""Below this an exact value is not representable to full precision in float64 (subnormal range)."""
OUTSIDE = (1e-5, 1e-20, 1e-50, 1e-100, 1e-200, 1e-300)


# -- the oracle (mpmath, naive formulas, no symattn code) -------------------------------------
def _mp(matrix: np.ndarray) -> list[list[mp.mpf]]:
    return [[mp.mpf(float(v)) for v in row] for row in np.asarray(matrix, dtype=float)]


def _sample_terms(E, W, tokens, label, head):
    """p, dp/da (per position), s, f and the potentials of one sample."""
    d = len(W)
    k = tokens[-1]
    Wk = [mp.fsum(W[r][c] * E[k][c] for c in range(d)) for r in range(d)]
    a = [mp.fsum(E[t][r] * Wk[r] for r in range(d)) for t in tokens]
    top = max(a)
    ex = [mp.exp(v - top) for v in a]
    total = mp.fsum(ex)
    s = [v / total for v in ex]
    if head == "identity":
        p = mp.fsum(s[t] for t in range(len(tokens)) if tokens[t] == label)
        dp_da = [s[t] * ((1 if tokens[t] == label else 0) - p) for t in range(len(tokens))]
        return p, dp_da
    f = [mp.fsum(s[t] * E[tokens[t]][r] for t in range(len(tokens))) for r in range(d)]
    z = [mp.fsum(E[j][r] * f[r] for r in range(d)) for j in range(len(E))]
    zt = max(z)
    q = [mp.exp(v - zt) for v in z]
    qs = mp.fsum(q)
    q = [v / qs for v in q]
    p = q[label]
    dp_dz = [p * ((1 if j == label else 0) - q[j]) for j in range(len(E))]
    dp_df = [mp.fsum(dp_dz[j] * E[j][r] for j in range(len(E))) for r in range(d)]
    dp_da = [s[t] * mp.fsum((E[tokens[t]][r] - f[r]) * dp_df[r] for r in range(d)) for t in range(len(tokens))]
    return p, dp_da


_OUTER = {
    "log": (lambda p: -mp.log(p), lambda p: -1 / p),
    "linear": (lambda p: -p, lambda p: mp.mpf(-1)),
    "squared": (lambda p: (1 - p) ** 2, lambda p: -2 * (1 - p)),
}


def oracle_loss_and_gradient(ds: Dataset, W: np.ndarray, kind: Loss, digits: int = DIGITS):
    """L(W) and its gradient at ``digits`` digits, from probabilities (chain rule by hand)."""
    head = "identity" if kind in (Loss.LOG, Loss.LINEAR, Loss.SQUARED) else "embedding"
    outer = {"log": "log", "linear": "linear", "squared": "squared", "embed-ce": "log",
             "embed-squared": "squared"}[kind.value]
    value, slope = _OUTER[outer]
    with mp.workdps(digits):
        E, Wm = _mp(ds.embeddings.matrix()), _mp(W)
        d = len(Wm)
        total = mp.mpf(0)
        grad = [[mp.mpf(0)] * d for _ in range(d)]
        for sample in ds:
            tokens, label = list(sample.tokens), sample.label
            p, dp_da = _sample_terms(E, Wm, tokens, label, head)
            total += value(p)
            k = tokens[-1]
            for t, x in enumerate(tokens):
                coef = slope(p) * dp_da[t]
                for r in range(d):
                    for c in range(d):
                        grad[r][c] += coef * E[x][r] * E[k][c]
        n = len(ds)
        return total / n, [[g / n for g in row] for row in grad]


def oracle_hessian(ds: Dataset, W: np.ndarray):
    """The log-loss Hessian in the d^2 entries of W (row-major), per position at 400 digits.

    Per sample, in the scores a: (diag s - s s^T) - (diag q - q q^T) with q = s 1[x = y] / p.
    """
    with mp.workdps(DIGITS):
        E, Wm = _mp(ds.embeddings.matrix()), _mp(W)
        d = len(Wm)
        H = [[mp.mpf(0)] * (d * d) for _ in range(d * d)]
        for sample in ds:
            tokens, label = list(sample.tokens), sample.label
            k = tokens[-1]
            Wk = [mp.fsum(Wm[r][c] * E[k][c] for c in range(d)) for r in range(d)]
            a = [mp.fsum(E[t][r] * Wk[r] for r in range(d)) for t in tokens]
            top = max(a)
            s = [mp.exp(v - top) for v in a]
            tot = mp.fsum(s)
            s = [v / tot for v in s]
            p = mp.fsum(s[t] for t in range(len(tokens)) if tokens[t] == label)
            q = [s[t] / p if tokens[t] == label else mp.mpf(0) for t in range(len(tokens))]
            rows = [[E[x][r] * E[k][c] for r in range(d) for c in range(d)] for x in tokens]
            T = len(tokens)
            for t in range(T):
                for u in range(T):
                    h = (s[t] if t == u else 0) - s[t] * s[u] - ((q[t] if t == u else 0) - q[t] * q[u])
                    if h == 0:
                        continue
                    for i in range(d * d):
                        if rows[t][i] != 0:
                            for j in range(d * d):
                                H[i][j] += h * rows[t][i] * rows[u][j]
        n = len(ds)
        return [[v / n for v in row] for row in H]


# -- comparisons ---------------------------------------------------------------------------------
def relative_errors(computed, exact) -> tuple[float, float]:
    """(largest elementwise relative error over representable entries, normwise relative error)."""
    computed = np.asarray(computed, dtype=float).ravel()
    flat = [v for row in exact for v in row] if isinstance(exact, list) and isinstance(exact[0], list) else (
        list(exact) if isinstance(exact, list) else [exact])
    worst = 0.0
    diff2, norm2 = mp.mpf(0), mp.mpf(0)
    with mp.workdps(DIGITS):
        for value, truth in zip(computed.tolist(), flat, strict=True):
            err = abs(mp.mpf(value) - truth)
            diff2 += err**2
            norm2 += truth**2
            if abs(truth) >= TINY:
                worst = max(worst, float(err / abs(truth)))
            else:
                assert err <= 1e-295, (value, truth)
        # an exact value below the double range must come out (near) zero, checked above
        normwise = float(mp.sqrt(diff2 / norm2)) if mp.sqrt(norm2) >= TINY else 0.0
    return worst, normwise


def one_hot_point(outside: float) -> tuple[Dataset, np.ndarray]:
    """One sample (query 3, label 2) whose mass outside the label is about ``outside``."""
    ds = Dataset.from_samples([([0, 1, 2, 1, 3], 2)], vocab=4)
    t = -np.log(outside)
    W = np.random.default_rng(0).standard_normal((4, 4))
    W[:, 3] = [-t, -t - 1.5, 0.25, -t + 0.7]
    return ds, W


def many_queries_point(outside: float, embeddings: Embeddings | None = None) -> tuple[Dataset, np.ndarray]:
    """Four samples on four queries, at outside masses ``outside`` ... ``outside**0.25``-ish."""
    samples = [([0, 1, 2, 0], 0), ([2, 3, 1, 1], 1), ([0, 3, 2], 2), ([1, 2, 0, 3], 3)]
    ds = Dataset.from_samples(samples, vocab=4, embeddings=embeddings)
    rng = np.random.default_rng(1)
    t = -np.log(outside)
    U = -t * (1.0 + 0.2 * rng.random((4, 4)))
    for tokens, label in samples:
        U[label, tokens[-1]] = 0.1 * rng.standard_normal()
    if embeddings is None:
        return ds, U
    E = embeddings.matrix()
    pinv = E.T @ np.linalg.inv(E @ E.T)  # E pinv = I: the potentials E W E^T are U
    return ds, pinv @ U @ pinv.T


def _outside_mass(ds: Dataset, W: np.ndarray) -> float:
    with mp.workdps(DIGITS):
        E, Wm = _mp(ds.embeddings.matrix()), _mp(W)
        masses = []
        for sample in ds:
            p, _ = _sample_terms(E, Wm, list(sample.tokens), sample.label, "identity")
            masses.append(float(1 - p))
    return max(masses)


# -- the tests -------------------------------------------------------------------------------------
def _model(ds: Dataset, kind: Loss, layout: str) -> Model:
    """A model using the padded slots of its samples, or (``"entries"``) the flat entries."""
    model = Model(ds, kind)
    assert model._slots is not None
    if layout == "entries":
        object.__setattr__(model, "_slots", None)
    return model


@pytest.mark.parametrize("outside", OUTSIDE)
@pytest.mark.parametrize("kind", [Loss.LOG, Loss.LINEAR, Loss.SQUARED])
@pytest.mark.parametrize("layout", ["slots", "entries"])
def test_identity_head_far_out_one_hot(outside, kind, layout):
    ds, W = one_hot_point(outside)
    assert outside / 10 < _outside_mass(ds, W) < outside * 10
    value, grad = _model(ds, kind, layout).value_and_gradient(W)
    exact_value, exact_grad = oracle_loss_and_gradient(ds, W, kind)
    assert relative_errors([value], [exact_value])[0] <= RTOL
    assert max(relative_errors(grad, exact_grad)) <= RTOL
    direct_value, direct_grad = direct_loss_and_gradient(ds, W, kind)
    assert relative_errors([direct_value], [exact_value])[0] <= RTOL
    assert max(relative_errors(direct_grad, exact_grad)) <= RTOL


@pytest.mark.parametrize("outside", OUTSIDE)
def test_hessian_and_products_far_out_one_hot(outside):
    ds, W = one_hot_point(outside)
    model = Model(ds)
    exact = oracle_hessian(ds, W)
    assert max(relative_errors(model.hessian(W), exact)) <= RTOL
    V = np.random.default_rng(5).standard_normal(W.shape)
    with mp.workdps(DIGITS):
        v = [mp.mpf(float(x)) for x in V.ravel()]
        product = [mp.fsum(row[j] * v[j] for j in range(len(v))) for row in exact]
    assert max(relative_errors(model.hessian_vector_product(W, V), product)) <= RTOL


EMBEDDED = {
    "onehot": None,
    "orthonormal": Embeddings.orthonormal(4, 5, seed=3),
    "general": Embeddings.given(np.array([[1.0, 0.2, 0.0, 0.1], [0.0, 1.0, 0.3, 0.0],
                                          [0.1, 0.0, 1.0, -0.2], [0.0, -0.1, 0.0, 1.0]])),
}


@pytest.mark.parametrize("outside", [1e-5, 1e-100, 1e-300])
@pytest.mark.parametrize("emb", sorted(EMBEDDED))
@pytest.mark.parametrize("layout", ["slots", "entries"])
def test_every_sample_far_out(outside, emb, layout):
    ds, W = many_queries_point(outside, EMBEDDED[emb])
    assert _outside_mass(ds, W) < outside**0.5
    model = _model(ds, Loss.LOG, layout)
    value, grad = model.value_and_gradient(W)
    exact_value, exact_grad = oracle_loss_and_gradient(ds, W, Loss.LOG)
    assert relative_errors([value], [exact_value])[0] <= RTOL
    assert relative_errors(grad, exact_grad)[1] <= RTOL
    exact_h = oracle_hessian(ds, W)
    assert relative_errors(model.hessian(W), exact_h)[1] <= RTOL
    V = np.random.default_rng(6).standard_normal(W.shape)
    with mp.workdps(DIGITS):
        v = [mp.mpf(float(x)) for x in V.ravel()]
        product = [mp.fsum(row[j] * v[j] for j in range(len(v))) for row in exact_h]
    assert relative_errors(model.hessian_vector_product(W, V), product)[1] <= RTOL


@pytest.mark.parametrize("outside", [1e-5, 1e-100, 1e-300])
@pytest.mark.parametrize("kind", [Loss.EMBED_CE, Loss.EMBED_SQUARED])
def test_embedding_head_far_out(outside, kind):
    """Attention far out (one-hot), and logits far out too (embeddings 25 I: 1 - p about 3e-271)."""
    for embeddings in (None, Embeddings.given(25.0 * np.eye(4))):
        ds, W = one_hot_point(outside)
        if embeddings is not None:
            ds = ds.with_embeddings(embeddings)
            W = W / 625.0
        value, grad = Model(ds, kind).value_and_gradient(W)
        exact_value, exact_grad = oracle_loss_and_gradient(ds, W, kind)
        assert relative_errors([value], [exact_value])[0] <= RTOL
        assert max(relative_errors(grad, exact_grad)) <= RTOL
        direct_value, direct_grad = direct_loss_and_gradient(ds, W, kind)
        assert relative_errors([direct_value], [exact_value])[0] <= RTOL
        assert relative_errors(direct_grad, exact_grad)[1] <= RTOL


@pytest.mark.parametrize("outside", OUTSIDE)
def test_reduced_loss_far_out(outside):
    """Labels far apart inside one SCC: L_red (log-space, label split) against the oracle."""
    ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3)
    t = -np.log(outside)
    W = np.zeros((3, 3))
    W[:, 2] = [t, 0.0, 3.0]
    with mp.workdps(DIGITS):
        u = [mp.mpf(float(x)) for x in W[:, 2]]
        total = mp.exp(u[0]) + mp.exp(u[1])
        exact = (-2 * mp.log(mp.exp(u[0]) / total) - mp.log(mp.exp(u[1]) / total)) / 3
    assert relative_errors([reduced_loss(ds, W)], [exact])[0] <= RTOL


@pytest.mark.parametrize("outside", OUTSIDE)
def test_path_split_parts_far_out(outside):
    """The path's outside part and the gradient of its SCC means (where only that part acts)."""
    samples = [([0, 1, 2, 3], 0), ([0, 1, 2, 3], 1), ([2, 3], 2)]  # SCCs {0, 1}, {2}, {3} of G_3
    ds = Dataset.from_samples(samples, vocab=4)
    problem = PathProblem(ds)
    t = -np.log(outside)
    U = np.zeros((4, 4))
    U[:, 3] = [0.4, -0.3, -t, -2.0 * t]
    v = problem.start(U)
    outside_part, log_outside, inside_part = problem.values(v)
    grad = problem.gradient(v)
    with mp.workdps(DIGITS):
        u = [mp.mpf(float(x)) for x in problem.potentials(v)[np.searchsorted(problem.node_keys, 3 * 4 + np.arange(4))]]
        outs, ins, g = [], [], [mp.mpf(0)] * 4
        for tokens, label in samples:
            z = {j: u[j] for j in set(tokens)}
            tot = mp.fsum(mp.exp(x) for x in z.values())
            scc = [j for j in z if j in (0, 1)] if label in (0, 1) else [label]
            p_scc = mp.fsum(mp.exp(z[j]) for j in scc) / tot
            outs.append(-mp.log(p_scc))
            ins.append(-mp.log(mp.exp(z[label]) / mp.fsum(mp.exp(z[j]) for j in scc)))
            for j in z:  # gradient of the outside part -log p_scc in the potentials
                g[j] += mp.exp(z[j]) / tot - (mp.exp(z[j]) / tot / p_scc if j in scc else 0)
        exact_out, exact_in = mp.fsum(outs) / 3, mp.fsum(ins) / 3
        keys = 3 * 4 + np.arange(4)
        cols = np.searchsorted(problem.node_keys, keys)
        mean_rows = problem.potentials(np.eye(v.size)[:, problem.is_mean])[cols]  # d u / d(mean coordinates)
        exact_mean = [mp.fsum(g[j] * mp.mpf(float(mean_rows[j, m])) for j in range(4)) / 3
                      for m in range(mean_rows.shape[1])]
    assert relative_errors([outside_part], [exact_out])[0] <= RTOL
    assert relative_errors([inside_part], [exact_in])[0] <= RTOL
    assert abs(log_outside - float(mp.log(exact_out))) <= 1e-12 * abs(float(mp.log(exact_out)))
    assert max(relative_errors(grad[problem.is_mean], exact_mean)) <= RTOL


@pytest.mark.parametrize("log_outside", [-800.0, -2000.0])
@pytest.mark.parametrize("kind", [Loss.LOG, Loss.LINEAR, Loss.SQUARED])
def test_gradient_direction_survives_underflow(log_outside, kind):
    """Past outside mass 1e-308 the gradient underflows to 0; its direction (what NGD needs) does not."""
    ds, W = many_queries_point(1e-300)
    W = W * (log_outside / np.log(1e-300))
    model = Model(ds, kind)
    assert np.abs(model.gradient(W)).max() < 1e-300
    direction = model.gradient_direction(W).ravel()
    _, exact = oracle_loss_and_gradient(ds, W, kind, digits=DIGITS + int(-2 * log_outside / 2.3))
    with mp.workdps(DIGITS):
        flat = [v for row in exact for v in row]
        norm = mp.sqrt(mp.fsum(v * v for v in flat))
        unit = np.array([float(v / norm) for v in flat])
    assert np.linalg.norm(direction / np.linalg.norm(direction) - unit) <= RTOL
