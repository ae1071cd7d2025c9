"""Tests of symattn.train: trainers, recording, interruption and bit-identical resume, and the
regularisation path against hand-derived W^svm / W^fin and its own optimality conditions."""

from __future__ import annotations

import json

import mpmath
import numpy as np
import pytest

from symattn.data import Dataset
from symattn.embeddings import Embeddings
from symattn.errors import FileFormatError, InvalidInput
from symattn.examples import load_example
from symattn.graphs import priority_graphs
from symattn.model import Model, attention, direct_loss_and_gradient, gradient, loss, smoothness_bound
from symattn.predict import predict
from symattn.train import (
    GradientDescent,
    NormalizedGradientDescent,
    TrainConfig,
    TrainMethod,
    TrainStatus,
    Trajectory,
    initial_weights,
    normalize,
    record_steps,
    regularization_path,
    train,
)

# Query f (token 5): a 2-cycle {b, d} above a and f, with b preferred 2:1 inside the cycle.
# Hand derivation: W^svm column f = (b, d, a, f) -> (1/2, 1/2, -1/2, -1/2) (margins 1, norm 1);
# the reduced loss 2 log(1 + e^{-t}) + log(1 + e^{t}) in t = u_b - u_d is least at t = log 2,
# so W^fin has +log(2)/2 at (b, f) and -log(2)/2 at (d, f).
CYCLIC = Dataset.from_samples(
    [(s.split(), y) for s, y in [("b d f", "b"), ("b d f", "b"), ("b d f", "d"), ("a b f", "b"), ("a d f", "d")]],
    vocab=["a", "b", "c", "d", "e", "f"],
)
A, B, D, F = 0, 1, 3, 5
W_SVM_CYCLIC = np.zeros((6, 6))
W_SVM_CYCLIC[[B, D], F] = 0.5
W_SVM_CYCLIC[[A, F], F] = -0.5
W_FIN_CYCLIC = np.zeros((6, 6))
W_FIN_CYCLIC[B, F], W_FIN_CYCLIC[D, F] = np.log(2) / 2, -np.log(2) / 2

# Query e (token 4): the strict chain d > a > e; W^svm column e = (d, a, e) -> (1, 0, -1); W^fin = 0.
ACYCLIC = Dataset.from_samples([(["a", "d", "e"], "d"), (["a", "e"], "a")], vocab=["a", "b", "c", "d", "e"])
W_SVM_ACYCLIC = np.zeros((5, 5))
W_SVM_ACYCLIC[3, 4], W_SVM_ACYCLIC[4, 4] = 1.0, -1.0


def _fin_projection_cyclic(W: np.ndarray) -> np.ndarray:
    """Π_{S_fin} for CYCLIC: S_fin = span{(e_b - e_d) e_f^T}."""
    out = np.zeros_like(W)
    half = (W[B, F] - W[D, F]) / 2
    out[B, F], out[D, F] = half, -half
    return out


def _corr(X: np.ndarray, Y: np.ndarray) -> float:
    return float(np.sum(X * Y) / (np.linalg.norm(X) * np.linalg.norm(Y)))


# -- configuration and helpers ------------------------------------------------------------
def test_record_steps_are_log_spaced_and_include_the_ends():
    steps = record_steps(4000, 10)
    assert steps[0] == 0 and steps[-1] == 4000
    assert np.all(np.diff(steps) > 0) and steps.size <= 10 * np.log10(4000) + 2
    assert record_steps(0, 10).tolist() == [0]
    assert record_steps(7, 0).tolist() == [0, 7]


def test_recorded_steps_do_not_depend_on_the_number_of_steps():
    # what makes a run extended to more steps record exactly what one run would
    short, long = record_steps(1500, 20), record_steps(10**6, 20)
    assert short[:-1].tolist() == long[long < 1500].tolist()
    grid = [round(10 ** (j / 20)) for j in range(121)]
    assert set(long.tolist()) == {0, *grid}


def test_initial_weights():
    assert not initial_weights(3).any()
    a = initial_weights(3, "gaussian", scale=0.1, seed=4)
    np.testing.assert_array_equal(a, initial_weights(3, "gaussian", scale=0.1, seed=4))
    assert 0 < np.abs(a).max() < 1


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"method": "adam"}, "adam"),
        ({"steps": -1}, "steps"),
        ({"lr": 0.0}, "lr"),
        ({"method": "regpath"}, "radii"),
        ({"method": "regpath", "radii": (1.0,), "loss": "squared"}, "convex"),
        ({"radii": (1.0, -2.0)}, "radii"),
        ({"init": "ones"}, "ones"),
    ],
)
def test_bad_configurations(options, match):
    with pytest.raises(InvalidInput, match=match):
        TrainConfig(**options)


def test_default_steps():
    ds = load_example()
    assert TrainConfig().lr_value(ds) == 1 / smoothness_bound(ds) == 2.0
    assert TrainConfig(method="ngd").lr_value(ds) == 0.01
    with pytest.raises(InvalidInput, match="explicit lr"):
        TrainConfig(loss="embed-ce").lr_value(ds)


# -- trainers ---------------------------------------------------------------------------------
def test_trainers_are_pure():
    m = Model(CYCLIC)
    for trainer in (GradientDescent(m, 0.5), NormalizedGradientDescent(m, 0.5)):
        state = trainer.init(np.zeros((6, 6)))
        before = state.W.copy()
        new = trainer.step(state)
        np.testing.assert_array_equal(state.W, before)
        assert new.step == 1 and state.step == 0
    gd = GradientDescent(m, 0.5)
    np.testing.assert_allclose(gd.step(gd.init(np.zeros((6, 6)))).W, -0.5 * gradient(CYCLIC, np.zeros((6, 6))))


def test_gd_with_default_step_decreases_the_loss_monotonically():
    ds = Dataset.from_samples([([0, 1, 2], 0), ([1, 2], 2), ([0, 0, 2], 2)], vocab=3,
                              embeddings=Embeddings.random_unit(3, 3, seed=0))
    traj = train(ds, method="gd", steps=300, records=300)
    assert traj.success
    assert np.all(np.diff(traj.loss) <= 1e-15)


def test_ngd_moves_by_the_step_size():
    traj = train(CYCLIC, method="ngd", steps=20, lr=0.1, records=20)
    assert np.all(np.abs(np.diff(traj.norm)) <= 0.1 * np.diff(traj.steps) + 1e-12)
    assert traj.norm[-1] > 1.0


def test_other_losses_train():
    traj = train(CYCLIC, method="gd", steps=50, lr=0.5, loss="squared")
    assert traj.loss[-1] < traj.loss[0]


def test_gd_from_zero_finite_part_converges_to_w_fin():
    traj = train(CYCLIC, method="gd", steps=4000, records=8)
    errors = [np.linalg.norm(_fin_projection_cyclic(W) - W_FIN_CYCLIC) for W in [traj.W]]
    assert errors[-1] <= 2e-2
    assert _corr(traj.W, W_SVM_CYCLIC) > 0.95
    early = train(CYCLIC, method="gd", steps=100)
    assert np.linalg.norm(_fin_projection_cyclic(early.W) - W_FIN_CYCLIC) > errors[-1]


# -- interruption, checkpoints, resume -------------------------------------------------------
def _interrupt_at(step_to_stop: int):
    def callback(done: int, total: int) -> None:
        if done == step_to_stop:
            raise KeyboardInterrupt

    return callback


@pytest.mark.parametrize("method", ["gd", "ngd"])
def test_interrupted_and_resumed_run_is_bit_identical(tmp_path, method):
    ds = load_example()
    config = TrainConfig(method=method, steps=400, lr=0.05 if method == "ngd" else None, records=40,
                         init="gaussian", scale=0.1, seed=3)
    full = train(ds, config)
    path = tmp_path / "ck.npz"
    part = train(ds, config, checkpoint=path, callback=_interrupt_at(137))
    assert part.status is TrainStatus.INTERRUPTED and not part.success
    assert part.steps[-1] == 137  # the stopped run ends with its last iterate
    np.testing.assert_array_equal(part.W, train(ds, config, steps=137).W)
    resumed = train(ds, config, checkpoint=path)
    assert resumed.success
    np.testing.assert_array_equal(resumed.W, full.W)
    np.testing.assert_array_equal(resumed.steps, full.steps)
    np.testing.assert_array_equal(resumed.loss, full.loss)
    np.testing.assert_array_equal(resumed.norm, full.norm)


def test_time_budget_stops_and_resume_completes(tmp_path):
    ds = load_example()
    path = tmp_path / "ck.npz"
    stopped = train(ds, steps=50, time_budget=0.0, checkpoint=path)
    assert stopped.status is TrainStatus.TIME_LIMIT
    assert stopped.steps.tolist() == [0]
    resumed = train(ds, steps=50, checkpoint=path)
    np.testing.assert_array_equal(resumed.W, train(ds, steps=50).W)


def test_periodic_checkpoints_resume_identically(tmp_path):
    ds = load_example()
    path = tmp_path / "ck.npz"
    train(ds, steps=60, checkpoint_every=25, checkpoint=path, callback=_interrupt_at(55))
    with np.load(path) as data:
        assert int(data["step"]) == 55
    np.testing.assert_array_equal(train(ds, steps=60, checkpoint=path, checkpoint_every=25).W,
                                  train(ds, steps=60).W)


def test_checkpoint_mismatches_are_refused(tmp_path):
    path = tmp_path / "ck.npz"
    train(load_example(), steps=5, checkpoint=path)
    with pytest.raises(InvalidInput, match="at step 5, beyond steps=4"):
        train(load_example(), steps=4, checkpoint=path)
    with pytest.raises(InvalidInput, match=r"differs in \['lr'\]"):
        train(load_example(), steps=5, lr=0.5, checkpoint=path)
    with pytest.raises(InvalidInput, match="another dataset"):
        train(CYCLIC, steps=5, checkpoint=path)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(FileFormatError):
        train(load_example(), steps=5, checkpoint=bad)


def test_trajectory_save_and_load(tmp_path):
    traj = regularization_path(CYCLIC, [1.0, 3.0])
    npz, summary = traj.save(tmp_path)
    back = Trajectory.load(npz)
    np.testing.assert_array_equal(back.W, traj.W)
    np.testing.assert_array_equal(back.weights, traj.weights)
    assert back.method is TrainMethod.REGPATH and back.config == traj.config
    data = json.loads(summary.read_text())
    assert data["final"]["norm"] == pytest.approx(3.0)
    assert np.array(data["W"]).shape == (6, 6)


# -- the regularisation path -----------------------------------------------------------------
@pytest.mark.parametrize("ds", [CYCLIC, ACYCLIC, load_example()], ids=["cyclic", "acyclic", "example"])
def test_path_points_satisfy_the_kkt_conditions(ds):
    path = regularization_path(ds, [0.5, 2.0, 6.0])
    assert path.success
    np.testing.assert_allclose(path.norm, [0.5, 2.0, 6.0], rtol=1e-9)
    for W, mu in zip(path.weights, path.metrics["multiplier"], strict=True):
        g = gradient(ds, W)
        np.testing.assert_allclose(g, -mu * W, atol=1e-9 * max(1.0, np.abs(g).max()))
        assert mu > 0
    assert np.all(np.diff(path.loss) < 0)


def test_path_beats_random_points_of_the_ball():
    ds = load_example()
    path = regularization_path(ds, [3.0])
    rng = np.random.default_rng(0)
    for _ in range(50):
        W = path.W + 0.3 * rng.standard_normal(path.W.shape)
        W *= 3.0 / np.linalg.norm(W)
        assert loss(ds, W) >= path.loss[-1]


def test_path_at_radius_100_cyclic():
    path = regularization_path(CYCLIC, [1, 10, 30, 100])
    assert path.success
    W = path.W
    assert np.linalg.norm(W) == pytest.approx(100, rel=1e-9)
    assert _corr(W, W_SVM_CYCLIC) >= 0.999
    assert np.linalg.norm(_fin_projection_cyclic(W) - W_FIN_CYCLIC) <= 1e-2
    assert path.metrics["log_outside_loss"][-1] < -60  # far below the 1e-16 of the inside part


def test_path_at_radius_100_acyclic():
    path = regularization_path(ACYCLIC, [1, 10, 100])
    assert path.success
    assert _corr(path.W, W_SVM_ACYCLIC) >= 0.999
    np.testing.assert_allclose(path.W / 100, W_SVM_ACYCLIC / np.sqrt(2), atol=1e-3)


def test_path_in_orthonormal_and_independent_embeddings():
    for emb in (Embeddings.orthonormal(6, 8, seed=0), Embeddings.random_unit(6, 8, seed=1)):
        ds = CYCLIC.with_embeddings(emb)
        path = regularization_path(ds, [0.5, 2.0])
        assert path.success
        np.testing.assert_allclose(path.norm, [0.5, 2.0], rtol=1e-9)
        for W, mu in zip(path.weights, path.metrics["multiplier"], strict=True):
            np.testing.assert_allclose(gradient(ds, W), -mu * W, atol=1e-9)


@pytest.mark.parametrize("condition", [1e2, 1e3, 1e4])
def test_path_matches_the_radius_with_ill_conditioned_embeddings(condition):
    """cond(E) = 1e3 made ||W_R|| miss R by 1e-6 (the metric came from the normal equations)."""
    rng = np.random.default_rng(0)
    left, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    right, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    rows = left @ np.diag(np.geomspace(1.0, 1.0 / condition, 4)) @ right
    ds = Dataset.from_samples([([0, 1, 2, 3], 0), ([0, 1, 3], 1), ([1, 3], 1), ([2, 0, 3], 2)], vocab=4,
                              embeddings=Embeddings.given(rows.tolist()))
    path = regularization_path(ds, [1.0, 10.0, 100.0])
    assert path.success, path.message
    np.testing.assert_allclose(np.linalg.norm(path.weights, axis=(1, 2)), [1.0, 10.0, 100.0], rtol=1e-8)
    for W, mu in zip(path.weights, path.metrics["multiplier"], strict=True):
        g = gradient(ds, W)
        np.testing.assert_allclose(g, -mu * W, atol=1e-7 * max(1.0, float(np.abs(g).max())))


def test_path_interior_solution_when_w_svm_is_zero():
    ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1), ([0, 1, 2], 1), ([0, 1, 2], 2)], vocab=3)
    path = regularization_path(ds, [0.1, 50.0])
    assert path.norm[0] == pytest.approx(0.1)
    assert path.norm[1] < 50
    np.testing.assert_allclose(gradient(ds, path.W), 0, atol=1e-10)
    u = path.W[:, 2]
    np.testing.assert_allclose(u - u.mean(), np.log([1, 2, 1]) - np.log([1, 2, 1]).mean(), atol=1e-9)


def _mp_mean_gradient(ds: Dataset, W: np.ndarray, dps: int) -> dict[tuple[int, int], mpmath.mpf]:
    """<grad L(W), D_C> in high precision for every SCC C of every G_k, D_C = sum_{j in C} e_j e_k^T.

    The inside part of the loss is constant along D_C, so only the outside part (of size
    e^{-R gamma}, far below double precision of the whole gradient) acts there; summing the
    probabilities with ``dps`` digits resolves it independently of the path solver's split.
    """
    graphs = priority_graphs(ds)
    out: dict[tuple[int, int], mpmath.mpf] = {}
    with mpmath.workdps(dps):
        grad: dict[tuple[int, int], mpmath.mpf] = {}
        for sample in ds:
            k, y = sample.tokens[-1], sample.label
            counts: dict[int, int] = {}
            for t in sample.tokens:
                counts[t] = counts.get(t, 0) + 1
            weights = {j: c * mpmath.exp(mpmath.mpf(float(W[j, k]))) for j, c in counts.items()}
            total = mpmath.fsum(weights.values())
            for j, w in weights.items():
                grad[(j, k)] = grad.get((j, k), mpmath.mpf(0)) + w / total - (1 if j == y else 0)
        for k, g in graphs.items():
            for c, scc in enumerate(g.sccs):
                out[(k, c)] = mpmath.fsum(grad.get((j, k), 0) for j in scc) / len(ds)
    return out


@pytest.mark.parametrize("ds", [CYCLIC, load_example()], ids=["cyclic", "example"])
def test_far_path_points_are_stationary_in_high_precision(ds):
    path = regularization_path(ds, [300.0])
    assert path.success and path.norm[-1] == pytest.approx(300.0, rel=1e-10)
    log_mu = path.metrics["log_multiplier"][-1]
    assert log_mu < -100  # mu itself is below 1e-43 here, the outside loss likewise
    mean_grad = _mp_mean_gradient(ds, path.W, dps=400)
    graphs = priority_graphs(ds)
    with mpmath.workdps(400):
        mu = mpmath.exp(mpmath.mpf(float(log_mu)))
        expected = {
            (k, c): -mu * mpmath.fsum(mpmath.mpf(float(path.W[j, k])) for j in scc)
            for k, g in graphs.items() for c, scc in enumerate(g.sccs)
        }
        scale = max(abs(v) for v in expected.values())
        assert scale > 0
        for key, value in expected.items():
            assert abs(mean_grad[key] - value) <= mpmath.mpf("1e-6") * scale, key


def test_far_radius_does_not_depend_on_the_radii_before_it():
    ds = load_example()
    runs = [regularization_path(ds, radii) for radii in ([1, 10, 100, 1000], [100, 1000], [1000])]
    for run in runs:
        assert run.success, run.message
        assert run.norm[-1] == pytest.approx(1000.0, rel=1e-10)
    np.testing.assert_allclose(runs[0].W, runs[2].W, atol=1e-8)
    np.testing.assert_allclose(runs[1].W, runs[2].W, atol=1e-8)
    assert runs[0].metrics["log_multiplier"][-1] < -500  # mu = e^{-585} underflows nothing here


@pytest.mark.parametrize("seed", [2, 3, 4, 5])
def test_path_reaches_radius_2000_on_published_datasets(seed):
    from symattn.predict import predict
    from symattn.reproduce import random_cyclic_dataset

    ds = random_cyclic_dataset(seed=seed)
    pred = predict(ds)
    for radii in ([2000.0], [10.0, 300.0, 2000.0]):
        path = regularization_path(ds, radii, prediction=pred)
        assert path.success, path.message
        assert path.norm[-1] == pytest.approx(2000.0, rel=1e-8)
        assert 1 - path.metrics["corr_svm"][-1] < 1e-5
        assert path.metrics["finite_error"][-1] < 1e-9


def test_path_says_when_a_radius_is_out_of_reach():
    path = regularization_path(CYCLIC, [10.0, 1e9])
    assert path.status is TrainStatus.NOT_CONVERGED and not path.success
    assert "1e+09" in path.message and "smaller radii" in path.message
    assert path.radii.tolist() == [10.0] and path.norm[-1] == pytest.approx(10.0)


def test_path_is_interior_only_when_w_svm_is_zero():
    # W^svm != 0 on CYCLIC: the loss has no minimiser, so every radius is reached exactly
    path = regularization_path(CYCLIC, [0.5, 50.0, 5000.0])
    assert path.success
    np.testing.assert_allclose(path.norm, [0.5, 50.0, 5000.0], rtol=1e-10)


def test_path_converges_when_the_metric_couples_means_and_deviations():
    # random unit embeddings with a Gram eigenvalue of 0.06: the norm metric couples the SCC means
    # with the deviations strongly, which alternating block steps alone resolve only slowly
    samples = [([1, 1], 1), ([0, 1, 2, 1, 2], 1), ([0], 0), ([1, 2, 2, 0], 2), ([2, 1, 1, 0, 1], 2),
               ([2], 2), ([1, 2], 2)]
    ds = Dataset.from_samples(samples, vocab=3, embeddings=Embeddings.random_unit(3, 5, seed=209))
    path = regularization_path(ds, [0.3, 5.0, 300.0])
    assert path.success, path.message
    np.testing.assert_allclose(path.norm, [0.3, 5.0, 300.0], rtol=1e-8)
    for W, mu in zip(path.weights[:2], path.metrics["multiplier"][:2], strict=True):
        np.testing.assert_allclose(gradient(ds, W), -mu * W, atol=1e-9)


def _random_multi_query(seed: int, vocab: int = 7, n: int = 14) -> Dataset:
    rng = np.random.default_rng(seed)
    queries = rng.choice(vocab, size=3, replace=False)
    samples = []
    for _ in range(n):
        tokens = [int(t) for t in rng.integers(0, vocab, size=int(rng.integers(1, 5)))]
        tokens.append(int(rng.choice(queries)))
        samples.append((tokens, tokens[int(rng.integers(0, len(tokens)))]))
    return Dataset.from_samples(samples, vocab=vocab)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("kind", ["onehot", "orthonormal"])
def test_path_block_solve_equals_the_full_solve(seed, kind, monkeypatch):
    """Query tokens solved apart (one Newton system per query) give the one-system solution."""
    from symattn.train import path as path_module

    monkeypatch.setattr(path_module, "_BLOCK_NODES", 1)  # every query its own block
    ds = _random_multi_query(seed)
    if kind == "orthonormal":
        ds = ds.with_embeddings(Embeddings.orthonormal(ds.K, ds.K + 2, seed=seed))
    split, full = path_module.PathProblem(ds), path_module.PathProblem(ds, split=False)
    assert len(split.blocks) == len(np.unique(ds.counts.query)) > 1 and len(full.blocks) == 1
    state = {id(p): (0.0, np.zeros(p.node_keys.size)) for p in (split, full)}
    for radius in (0.5, 4.0, 60.0):
        points = []
        for problem in (split, full):
            point, v = problem.point(radius, *state[id(problem)])
            assert point.success, point.message
            state[id(problem)] = (point.log_mu, v)
            points.append(point)
        assert points[0].log_mu == pytest.approx(points[1].log_mu, rel=1e-8, abs=1e-8)
        np.testing.assert_allclose(points[0].W, points[1].W, atol=1e-8 * radius)
        g = gradient(ds, points[0].W)
        np.testing.assert_allclose(g, -np.exp(points[0].log_mu) * points[0].W, atol=1e-9 * max(1.0, np.abs(g).max()))


def test_path_has_no_cap_on_the_number_of_variables():
    """Many query tokens, more variables in all than 3,000 in all (the former single-system cap)."""
    rng = np.random.default_rng(3)
    samples = []
    for k in range(300):
        for _ in range(3):
            tokens = [int(t) for t in rng.integers(300, 400, size=4)] + [k]
            samples.append((tokens, tokens[int(rng.integers(0, 5))]))
    ds = Dataset.from_samples(samples, vocab=400)
    path = regularization_path(ds, [2.0])
    assert path.success, path.message
    from symattn.train.path import PathProblem

    assert PathProblem(ds).node_keys.size > 3000
    g = gradient(ds, path.W)
    np.testing.assert_allclose(g, -path.metrics["multiplier"][-1] * path.W, atol=1e-9 * max(1.0, np.abs(g).max()))


def test_path_refuses_a_query_too_large_for_its_dense_block(monkeypatch):
    from symattn.train import path as path_module

    monkeypatch.setattr(path_module, "_MAX_QUERY_NODES", 3)
    with pytest.raises(InvalidInput, match=r"G_5 has 4 \(query, token\) variables, more than 3"):
        regularization_path(CYCLIC, [1.0])


def test_path_refuses_dependent_embeddings():
    ds = Dataset.from_samples([([0, 1, 2], 0)], vocab=3, embeddings=Embeddings.random_unit(3, 2, seed=0))
    with pytest.raises(InvalidInput, match="independent"):
        regularization_path(ds, [1.0])


def test_train_dispatches_to_the_path():
    traj = train(CYCLIC, method="regpath", radii=(2.0, 1.0))
    assert traj.radii.tolist() == [1.0, 2.0]


# -- with the theory's prediction --------------------------------------------------------------
def test_prediction_oracle_agrees_with_the_hand_derivation():
    from symattn.predict import predict

    pred = predict(CYCLIC)
    np.testing.assert_allclose(pred.W_svm, W_SVM_CYCLIC, atol=1e-6)
    np.testing.assert_allclose(pred.W_fin, W_FIN_CYCLIC, atol=1e-6)
    np.testing.assert_allclose(predict(ACYCLIC).W_svm, W_SVM_ACYCLIC, atol=1e-6)


@pytest.mark.parametrize("ds", [CYCLIC, ACYCLIC, load_example()], ids=["cyclic", "acyclic", "example"])
def test_path_at_radius_100_meets_the_prediction(ds):
    from symattn.predict import predict

    pred = predict(ds)
    path = regularization_path(ds, [1, 10, 100], prediction=pred)
    assert path.success
    assert path.metrics["corr_svm"][-1] >= 0.999
    assert path.metrics["finite_error"][-1] <= 1e-2
    assert np.all(np.diff(path.metrics["corr_svm"]) > 0)
    assert path.metrics["outside_mass_max"][-1] < 1e-20
    # the recorded distances are the prediction's own numbers
    assert path.metrics["corr_svm"][-1] == pred.distances(path.W).corr_svm


def test_gd_from_zero_finite_part_converges_with_the_prediction():
    from symattn.predict import predict

    pred = predict(CYCLIC)
    traj = train(CYCLIC, method="gd", steps=4000, prediction=pred, records=12)
    errors = traj.metrics["finite_error"]
    assert errors[-1] <= 2e-2 and errors[-1] < errors[len(errors) // 2] < errors[1]
    assert traj.metrics["corr_svm"][-1] > 0.95
    assert np.all(np.diff(traj.norm[1:]) > 0)


def test_trajectory_records_every_distance_field():
    from symattn.predict import predict

    pred = predict(load_example())
    traj = train(load_example(), method="ngd", steps=30, prediction=pred)
    expected = {f for f in ("corr_svm", "finite_error", "outside_mass_max", "outside_mass_mean")}
    assert expected <= set(traj.metrics)
    assert all(v.shape == traj.steps.shape for v in traj.metrics.values())


# -- bad input and resumption ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"time_budget": -1.0}, "time_budget=-1.0"),
        ({"time_budget": "x"}, "time_budget='x'"),
        ({"lr": "x"}, "lr='x'"),
        ({"init": "gaussian", "scale": "x"}, "scale='x'"),
        ({"init": "gaussian", "scale": float("nan")}, "scale=nan"),
        ({"init": "gaussian", "seed": "x"}, "seed='x'"),
        ({"init": "gaussian", "seed": -1}, "seed=-1"),
        ({"method": "regpath", "radii": ["x"]}, "radii='x'"),
        ({"method": "regpath", "radii": "abc"}, "radii='abc'"),
        ({"steps": True}, "steps=True"),
        ({"method": 3}, "method=3"),
    ],
)
def test_every_configuration_field_is_validated(options, match):
    with pytest.raises(InvalidInput, match=match):
        TrainConfig(**options)
    with pytest.raises(InvalidInput, match=match):
        train(load_example(), **options)


def test_unknown_training_options_are_named():
    with pytest.raises(InvalidInput, match=r"\['stepz'\].*'steps'"):
        train(load_example(), stepz=2)
    with pytest.raises(InvalidInput, match="TrainConfig"):
        train(load_example(), {"steps": 2})


@pytest.mark.parametrize(
    "call",
    [
        lambda: train(None),
        lambda: regularization_path([1, 2], [1.0]),
        lambda: smoothness_bound("ds"),
        lambda: attention(None, np.zeros((2, 2))),
        lambda: direct_loss_and_gradient(None, np.zeros((2, 2))),
    ],
    ids=["train", "path", "smoothness", "attention", "direct"],
)
def test_non_datasets_are_refused(call):
    with pytest.raises(InvalidInput, match="needs a Dataset"):
        call()


def test_path_radii_must_be_numbers():
    with pytest.raises(InvalidInput, match="radii"):
        regularization_path(CYCLIC, ["x"])
    with pytest.raises(InvalidInput, match="radii"):
        regularization_path(CYCLIC, 3.0)


def test_final_of_a_run_that_recorded_nothing():
    path = regularization_path(CYCLIC, [1e9])
    assert path.status is TrainStatus.NOT_CONVERGED and path.steps.size == 0
    assert path.final() == {}
    assert path.summary()["final"] == {}


def test_resuming_with_another_start_is_refused(tmp_path):
    ds = load_example()
    path = tmp_path / "ck.npz"
    W0 = np.full((6, 6), 0.1)
    train(ds, steps=5, W0=W0, checkpoint=path)
    with pytest.raises(InvalidInput, match="another W"):
        train(ds, steps=5, checkpoint=path)
    with pytest.raises(InvalidInput, match="another W"):
        train(ds, steps=5, W0=np.zeros((6, 6)), checkpoint=path)
    np.testing.assert_array_equal(train(ds, steps=5, W0=W0, checkpoint=path).W, train(ds, steps=5, W0=W0).W)


def test_checkpoint_with_corrupt_weights_is_refused(tmp_path):
    ds = load_example()
    path = tmp_path / "ck.npz"
    train(ds, steps=5, checkpoint=path)
    with np.load(path) as data:
        arrays = {key: data[key] for key in data.files}
    arrays["W"] = np.full((6, 6), np.nan)
    np.savez(path, **arrays)
    with pytest.raises(FileFormatError, match="corrupt"):
        train(ds, steps=5, checkpoint=path)


# -- options per method, extension, divergence, time-based checkpoints --------------------------
_VALID = {
    "steps": 3, "lr": 0.5, "loss": "log", "init": "gaussian", "scale": 0.5, "seed": 1, "radii": (1.0,),
    "records": 5, "time_budget": 10.0, "checkpoint_every": 2, "checkpoint_seconds": 1.0,
}
_APPLIES = {
    "gd": set(_VALID) - {"radii"},
    "ngd": set(_VALID) - {"radii"},
    "regpath": {"loss", "radii", "time_budget"},
}


@pytest.mark.parametrize("method", ["gd", "ngd", "regpath"])
def test_every_option_applies_to_its_methods_or_is_refused_by_name(method):
    for name, value in _VALID.items():
        options = {"method": method, name: value}
        if method == "regpath" and name != "radii":
            options["radii"] = (1.0,)
        if name in ("scale", "seed") and method != "regpath":
            options["init"] = "gaussian"
        if name in _APPLIES[method]:
            assert getattr(TrainConfig(**options), name) is not None
        else:
            with pytest.raises(InvalidInput, match=f"^{name}=.* does not apply to method='{method}'"):
                TrainConfig(**options)


def test_configurations_record_only_what_applies_and_read_back():
    path = TrainConfig(method="regpath", radii=(10, 1))
    assert path.to_json() == {"method": "regpath", "loss": "log", "radii": [1.0, 10.0], "time_budget": None}
    assert path.steps is None and path.init is None
    gd = TrainConfig(init="gaussian")
    assert (gd.steps, gd.scale, gd.seed, gd.records) == (1000, 1.0, 0, 20)
    for config in (path, gd, TrainConfig(method="ngd", lr=0.1, checkpoint_seconds=0)):
        assert TrainConfig.from_json(json.loads(json.dumps(config.to_json()))) == config


@pytest.mark.parametrize("method", ["gd", "ngd"])
@pytest.mark.parametrize("first", [64, 137])  # on the record grid of 20 per decade, and off it
def test_finished_run_extended_is_bit_identical_to_one_run(tmp_path, method, first):
    ds, path = load_example(), tmp_path / "ck.npz"
    pred = predict(ds)
    options = {"method": method, "prediction": pred, "init": "gaussian", "scale": 0.1, "seed": 2}
    short = train(ds, steps=first, checkpoint=path, **options)
    assert short.success and short.steps[-1] == first
    longer = train(ds, steps=400, checkpoint=path, **options)
    once = train(ds, steps=400, **options)
    assert longer.W.tobytes() == once.W.tobytes()
    for key in ("steps", "loss", "norm"):
        np.testing.assert_array_equal(getattr(longer, key), getattr(once, key))
    for key, value in once.metrics.items():
        np.testing.assert_array_equal(longer.metrics[key], value)


def test_periodic_checkpoints_by_time(tmp_path):
    ds = load_example()
    seen: dict[str, int | None] = {}

    def peek(name: str, path):
        def callback(done: int, total: int) -> None:
            if done == 10:
                seen[name] = int(np.load(path)["step"]) if path.exists() else None

        return callback

    every, never = tmp_path / "every.npz", tmp_path / "never.npz"
    train(ds, steps=20, checkpoint=every, checkpoint_seconds=1e-9, callback=peek("every", every))
    train(ds, steps=20, checkpoint=never, checkpoint_seconds=0, callback=peek("never", never))
    assert seen == {"every": 10, "never": None}
    assert int(np.load(never)["step"]) == 20  # saved at the end all the same
    with pytest.raises(InvalidInput, match="need a checkpoint path"):
        train(ds, steps=5, checkpoint_seconds=1.0)


def test_diverged_runs_fail_and_blame_the_step_size():
    traj = train(CYCLIC, steps=50, lr=1e200, loss="squared")
    assert traj.status is TrainStatus.DIVERGED and not traj.success
    assert "lr=1e+200 is too large for loss='squared'" in traj.message
    assert np.isfinite(traj.W).all() and np.isfinite(traj.norm).all()
    traj = train(CYCLIC, steps=50, lr=1e308)
    assert traj.status is TrainStatus.DIVERGED and "lr=1e+308" in traj.message
    with pytest.raises(InvalidInput, match=r"scale=1e\+200 gives W\(0\)"):
        train(CYCLIC, method="ngd", init="gaussian", scale=1e200)
    with pytest.raises(InvalidInput, match="W0 gives W"):
        train(CYCLIC, W0=np.full((6, 6), 1e200))


def test_normalised_gd_is_gd_followed_by_normalize():
    m = Model(CYCLIC)
    ngd = NormalizedGradientDescent(m, 0.3)
    composed = GradientDescent(m, 0.3, transforms=(normalize,))
    a, b = ngd.init(np.eye(6)), composed.init(np.eye(6))
    for _ in range(5):
        a, b = ngd.step(a), composed.step(b)
    assert a.W.tobytes() == b.W.tobytes()
    with pytest.raises(InvalidInput, match="lr=0"):
        GradientDescent(m, 0)


def test_path_time_budget_and_interrupted_messages():
    stopped = regularization_path(CYCLIC, [1.0, 10.0], time_budget=0.0)
    assert stopped.status is TrainStatus.TIME_LIMIT and stopped.steps.size == 0
    assert stopped.message.startswith("stopped by the time budget of 0 s before R=1")
    run = train(CYCLIC, steps=30, callback=_interrupt_at(7))
    assert run.message == "interrupted at step 7 of 30"
