"""Property tests of symattn.model on Hypothesis-generated data (repeated tokens, unequal lengths)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from oracles import central_difference, hessian_by_differences

from symattn.embeddings import EmbeddingKind
from symattn.model import Loss, Model, direct_loss_and_gradient, smoothness_bound
from symattn.strategies import datasets, embeddings_for

KINDS = st.sampled_from([EmbeddingKind.ONEHOT, EmbeddingKind.ORTHONORMAL, EmbeddingKind.RANDOM_UNIT])


@st.composite
def problems(draw, max_vocab=5):
    K = draw(st.integers(2, max_vocab))
    kind = draw(KINDS)
    dim = K + 1 if kind is EmbeddingKind.ORTHONORMAL else (K if kind is EmbeddingKind.ONEHOT else 3)
    emb = draw(embeddings_for(K, kind=kind, dim=dim))
    ds = draw(datasets(min_vocab=K, max_vocab=K, max_samples=8, max_length=6, embeddings=emb))
    seed = draw(st.integers(0, 2**31))
    scale = draw(st.sampled_from([0.0, 0.5, 2.0]))
    W = scale * np.random.default_rng(seed).standard_normal((emb.dim, emb.dim))
    return ds, W


@given(problems(), st.sampled_from(list(Loss)))
def test_gradient_equals_direct_and_finite_differences(problem, kind):
    ds, W = problem
    m = Model(ds, kind)
    value, grad = m.value_and_gradient(W)
    direct_value, direct_grad = direct_loss_and_gradient(ds, W, kind)
    assert abs(value - direct_value) <= 1e-12 * max(1.0, abs(value))
    np.testing.assert_allclose(grad, direct_grad, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grad, central_difference(m.value, W), rtol=1e-5, atol=1e-7)


@given(problems(max_vocab=4))
def test_hessian_equals_finite_differences_and_is_bounded(problem):
    ds, W = problem
    m = Model(ds)
    H = m.hessian(W)
    fd = hessian_by_differences(m.gradient, W)
    np.testing.assert_allclose(H, fd, rtol=1e-5, atol=1e-8)
    eig = np.linalg.eigvalsh(0.5 * (H + H.T))
    assert eig[0] >= -1e-12
    assert eig[-1] <= smoothness_bound(ds) * (1 + 1e-12)


@given(problems(), st.sampled_from(list(Loss)))
def test_finite_at_norm_1e8(problem, kind):
    ds, W = problem
    W = np.random.default_rng(0).standard_normal(W.shape) if not W.any() else W
    W = W * (1e8 / np.linalg.norm(W))
    value, grad = Model(ds, kind).value_and_gradient(W)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    direct_value, direct_grad = direct_loss_and_gradient(ds, W, kind)
    assert abs(value - direct_value) <= 1e-9 * max(1.0, abs(value))
    np.testing.assert_allclose(grad, direct_grad, rtol=1e-7, atol=1e-9)
