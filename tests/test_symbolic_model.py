"""The NumPy model (symattn.model) against the lambdified SymPy loss, gradient and Hessian."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from symattn import model
from symattn.data import Dataset
from symattn.embeddings import Embeddings
from symattn.strategies import datasets
from symattn.symbolic import numeric_model

SAMPLES = [([0, 1, 1, 2], 1), ([2, 0, 2], 2), ([1, 2], 2), ([0, 1, 2], 0), ([3, 0, 3, 1], 0), ([3], 3)]
GIVEN: list[list[object]] = [[1, 0, 0, 0], [1, 1, 0, 0], ["1/2", 0, 1, 0], [0, 2, 1, 1]]

def _datasets() -> list[Dataset]:
    """One-hot on all samples; exact non-orthogonal rows on fewer (the embedding head is costly there)."""
    return [
        Dataset.from_samples(SAMPLES, vocab=4),
        Dataset.from_samples(SAMPLES[:4], vocab=4, embeddings=Embeddings.given(GIVEN)),
    ]


@pytest.mark.parametrize("kind", list(model.Loss), ids=lambda k: k.value)
@pytest.mark.parametrize("which", [0, 1], ids=["onehot", "given"])
def test_numpy_loss_and_gradient_equal_the_symbolic_ones(kind: model.Loss, which: int) -> None:
    ds = _datasets()[which]
    oracle = numeric_model(ds, hessian=False, loss=kind)
    rng = np.random.default_rng(10 + which)
    for _ in range(3):
        W = rng.standard_normal((4, 4))
        assert model.loss(ds, W, kind) == pytest.approx(oracle.loss(W), abs=1e-12)
        np.testing.assert_allclose(model.gradient(ds, W, kind), oracle.gradient(W), atol=1e-12)


@pytest.mark.parametrize("which", [0, 1], ids=["onehot", "given"])
def test_numpy_hessian_equals_the_symbolic_one(which: int) -> None:
    ds = _datasets()[which]
    oracle = numeric_model(ds)
    W = np.random.default_rng(20 + which).standard_normal((4, 4))
    np.testing.assert_allclose(model.hessian(ds, W), oracle.hessian(W), atol=1e-12)
    np.testing.assert_allclose(
        model.token_mass(ds, W), np.exp(oracle.log_token_mass(W)), atol=1e-12
    )


@given(datasets(max_vocab=3, max_samples=4, max_length=4), st.integers(0, 2**32 - 1))
def test_numpy_model_matches_symbolic_on_random_datasets(ds: Dataset, seed: int) -> None:
    oracle = numeric_model(ds)
    W = np.random.default_rng(seed).standard_normal((ds.K, ds.K))
    assert model.loss(ds, W) == pytest.approx(oracle.loss(W), abs=1e-12)
    np.testing.assert_allclose(model.gradient(ds, W), oracle.gradient(W), atol=1e-12)
    np.testing.assert_allclose(model.hessian(ds, W), oracle.hessian(W), atol=1e-12)
