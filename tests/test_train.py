"""Tests of symattn.train: trainers, recording, interruption and bit-identical resume, and the
regularisation path against hand-derived W^svm / W^fin and its own optimality conditions."""

from __future__ import annotations

import json

import numpy as np
import pytest

from symattn.data import Dataset
from symattn.embeddings import Embeddings
from symattn.errors import FileFormatError, InvalidInput
from symattn.examples import load_example
from symattn.model import Model, gradient, loss, smoothness_bound
from symattn.train import (
    GradientDescent,
    NormalizedGradientDescent,
    TrainConfig,
    TrainMethod,
    TrainStatus,
    Trajectory,
    initial_weights,
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
    steps = record_steps(4000, 30)
    assert steps[0] == 0 and steps[-1] == 4000
    assert np.all(np.diff(steps) > 0) and steps.size <= 32
    assert record_steps(0, 10).tolist() == [0]


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
    with pytest.raises(InvalidInput, match="steps"):
        train(load_example(), steps=6, checkpoint=path)
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


def test_path_interior_solution_when_w_svm_is_zero():
    ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1), ([0, 1, 2], 1), ([0, 1, 2], 2)], vocab=3)
    path = regularization_path(ds, [0.1, 50.0])
    assert path.norm[0] == pytest.approx(0.1)
    assert path.norm[1] < 50
    np.testing.assert_allclose(gradient(ds, path.W), 0, atol=1e-10)
    u = path.W[:, 2]
    np.testing.assert_allclose(u - u.mean(), np.log([1, 2, 1]) - np.log([1, 2, 1]).mean(), atol=1e-9)


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
