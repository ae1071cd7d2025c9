"""Tests of symattn.model: the fast compressed model against the per-position oracle, finite
differences, hand-computed values, the Hessian and the smoothness bound."""

from __future__ import annotations

import numpy as np
import pytest
from oracles import central_difference, hessian_by_differences

import symattn.model as model_module
from symattn.data import Dataset
from symattn.embeddings import Embeddings
from symattn.errors import InvalidInput
from symattn.examples import load_example
from symattn.model import (
    Head,
    Loss,
    Model,
    Outer,
    attention,
    direct_loss_and_gradient,
    gradient,
    hessian,
    hessian_vector_product,
    loss,
    smoothness_bound,
    token_mass,
)

SAMPLES = [([0, 1, 1, 2], 1), ([2, 0, 3], 3), ([1, 1, 1], 1), ([3, 2, 0, 1, 2], 0), ([0, 2], 2), ([3], 3)]
EMBEDDINGS = {
    "onehot": None,
    "orthonormal": Embeddings.orthonormal(4, 6, seed=1),
    "random_unit": Embeddings.random_unit(4, 3, seed=2),
    "equicorrelated": Embeddings.equicorrelated(4, 0.3),
}


def _dataset(kind: str) -> Dataset:
    return Dataset.from_samples(SAMPLES, vocab=4, embeddings=EMBEDDINGS[kind])


def _per_position_loss(ds: Dataset, W: np.ndarray) -> float:
    """−log π_y straight from probabilities (fine at moderate W): an independent value oracle."""
    E = ds.embeddings.matrix()
    total = 0.0
    for sample in ds:
        tokens = np.array(sample.tokens)
        a = E[tokens] @ W @ E[tokens[-1]]
        s = np.exp(a - a.max())
        s /= s.sum()
        total -= np.log(s[tokens == sample.label].sum())
    return total / len(ds)


@pytest.mark.parametrize("emb", sorted(EMBEDDINGS))
@pytest.mark.parametrize("kind", list(Loss))
def test_fast_equals_direct_and_finite_differences(emb, kind):
    ds = _dataset(emb)
    W = np.random.default_rng(3).standard_normal((ds.embeddings.dim,) * 2)
    value, grad = Model(ds, kind).value_and_gradient(W)
    direct_value, direct_grad = direct_loss_and_gradient(ds, W, kind)
    assert value == pytest.approx(direct_value, rel=1e-12, abs=1e-14)
    np.testing.assert_allclose(grad, direct_grad, rtol=1e-10, atol=1e-13)
    fd = central_difference(lambda V: Model(ds, kind).value(V), W)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("emb", sorted(EMBEDDINGS))
def test_log_loss_matches_plain_probabilities(emb):
    ds = _dataset(emb)
    W = np.random.default_rng(4).standard_normal((ds.embeddings.dim,) * 2)
    assert loss(ds, W) == pytest.approx(_per_position_loss(ds, W), rel=1e-12)


def test_loss_at_zero_is_mean_log_ratio():
    ds = _dataset("onehot")
    expected = np.mean([np.log(len(t) / t.count(y)) for t, y in SAMPLES])
    assert loss(ds, np.zeros((4, 4))) == pytest.approx(expected, rel=1e-14)


def test_variant_values_by_hand():
    ds = Dataset.from_samples([([0, 1, 1], 1)], vocab=2)
    W = np.zeros((2, 2))
    assert loss(ds, W, Loss.LINEAR) == pytest.approx(-2 / 3)
    assert loss(ds, W, "squared") == pytest.approx(1 / 9)
    f = np.array([1 / 3, 2 / 3])
    p = np.exp(f) / np.exp(f).sum()
    assert loss(ds, W, Loss.EMBED_CE) == pytest.approx(-np.log(p[1]))
    assert loss(ds, W, Loss.EMBED_SQUARED) == pytest.approx((1 - p[1]) ** 2)


@pytest.mark.parametrize("emb", sorted(EMBEDDINGS))
def test_hessian_equals_finite_differences_of_the_gradient(emb):
    ds = _dataset(emb)
    d = ds.embeddings.dim
    W = np.random.default_rng(5).standard_normal((d, d))
    H = hessian(ds, W)
    fd = hessian_by_differences(lambda V: gradient(ds, V), W)
    np.testing.assert_allclose(H, fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(H, H.T, atol=1e-15)
    V = np.random.default_rng(6).standard_normal((d, d))
    np.testing.assert_allclose(hessian_vector_product(ds, W, V).ravel(), H @ V.ravel(), atol=1e-13)


@pytest.mark.parametrize("emb", sorted(EMBEDDINGS))
def test_smoothness_bound_dominates_the_hessian(emb):
    ds = _dataset(emb)
    d = ds.embeddings.dim
    beta = smoothness_bound(ds)
    rng = np.random.default_rng(7)
    worst = max(np.linalg.eigvalsh(hessian(ds, s * rng.standard_normal((d, d))))[-1] for s in (0, 0.3, 1, 3))
    assert 0 < worst <= beta


def test_smoothness_bound_is_half_for_orthonormal_and_tight_enough():
    assert smoothness_bound(_dataset("onehot")) == 0.5
    assert smoothness_bound(_dataset("orthonormal")) == 0.5
    # two tokens, label mass 1/2: diag(pi) - pi pi^T has top eigenvalue 1/2 exactly
    ds = Dataset.from_samples([([0, 1], 1)], vocab=2)
    assert np.linalg.eigvalsh(hessian(ds, np.zeros((2, 2))))[-1] == pytest.approx(0.5)


@pytest.mark.parametrize("emb", ["onehot", "orthonormal"])
@pytest.mark.parametrize("kind", list(Loss))
def test_finite_at_huge_weights(emb, kind):
    ds = _dataset(emb)
    d = ds.embeddings.dim
    W = 1e8 * np.random.default_rng(8).standard_normal((d, d))
    W *= 1e8 / np.linalg.norm(W)
    value, grad = Model(ds, kind).value_and_gradient(W)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    direct_value, direct_grad = direct_loss_and_gradient(ds, W, kind)
    assert value == pytest.approx(direct_value, rel=1e-12)
    np.testing.assert_allclose(grad, direct_grad, atol=1e-12)


def test_huge_weights_give_exact_hard_retrieval_values():
    ds = Dataset.from_samples([([0, 1], 1), ([0, 1], 0)], vocab=2)
    W = np.zeros((2, 2))
    W[1, 1] = 1e8
    # sample 1 puts all mass on token 1, sample 2 loses 1e8 nats
    assert loss(ds, W) == pytest.approx(0.5e8)
    np.testing.assert_allclose(gradient(ds, W)[:, 1], [-0.5, 0.5])
    assert np.all(np.isfinite(hessian(ds, W)))


def test_sparse_path_equals_token_coordinates(monkeypatch):
    ds = _dataset("random_unit")
    W = np.random.default_rng(9).standard_normal((3, 3))
    dense = Model(ds).value_and_gradient(W)
    monkeypatch.setattr(model_module, "_DENSE_LIMIT", 0)
    sparse_model = Model(ds)
    assert not sparse_model.token_coordinates
    value, grad = sparse_model.value_and_gradient(W)
    assert value == pytest.approx(dense[0], rel=1e-13)
    np.testing.assert_allclose(grad, dense[1], atol=1e-14)


def test_attention_and_mass():
    ds = _dataset("orthonormal")
    W = np.random.default_rng(10).standard_normal((6, 6))
    s = attention(ds, W)
    E = ds.embeddings.matrix()
    for i, sample in enumerate(ds):
        tokens = np.array(sample.tokens)
        a = E[tokens] @ W @ E[tokens[-1]]
        expected = np.exp(a - a.max()) / np.exp(a - a.max()).sum()
        np.testing.assert_allclose(s[ds.offsets[i] : ds.offsets[i + 1]], expected, rtol=1e-12)
    pi = token_mass(ds, W)
    c = ds.counts
    np.testing.assert_allclose(np.add.reduceat(pi, c.indptr[:-1]), 1.0)


def test_loss_kinds():
    assert Loss.LOG.convex and not Loss.EMBED_CE.convex
    assert Loss.EMBED_SQUARED.head is Head.EMBEDDING and Loss.LINEAR.outer is Outer.LINEAR
    with pytest.raises(InvalidInput, match="hinge"):
        loss(_dataset("onehot"), np.zeros((4, 4)), "hinge")


def test_hessian_refusals():
    ds = _dataset("onehot")
    with pytest.raises(InvalidInput, match="log-loss"):
        Model(ds, Loss.SQUARED).hessian(np.zeros((4, 4)))
    big = Dataset.from_samples([([0, 1], 1)], vocab=65)
    with pytest.raises(InvalidInput, match="hessian_vector_product"):
        hessian(big, np.zeros((65, 65)))


def test_bad_weights_are_refused():
    ds = _dataset("onehot")
    with pytest.raises(InvalidInput, match="shape"):
        loss(ds, np.zeros((3, 3)))
    W = np.zeros((4, 4))
    W[1, 2] = np.nan
    with pytest.raises(InvalidInput, match=r"W\[1, 2\]"):
        gradient(ds, W)
    with pytest.raises(InvalidInput, match="Dataset"):
        Model("data")  # type: ignore[arg-type]


def test_example_gradient_is_a_k_by_k_matrix_with_query_columns():
    ds = load_example()
    grad = gradient(ds, np.zeros((ds.K, ds.K)))
    used = set(ds.queries.tolist())
    for k in range(ds.K):
        assert (np.abs(grad[:, k]).max() > 0) == (k in used)
