"""Property tests of the regularisation path: the KKT conditions on random datasets, near and far."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from symattn.embeddings import Embeddings
from symattn.graphs import priority_graphs
from symattn.model import gradient
from symattn.strategies import datasets, realised_datasets
from symattn.train import regularization_path

RADII = (0.3, 2.0, 8.0, 300.0)


def _check_kkt(ds) -> None:
    path = regularization_path(ds, RADII)
    assert path.success, path.message
    w_svm_is_zero = bool(priority_graphs(ds).in_label_scc.all())
    for R, W, norm, mu in zip(path.radii, path.weights, path.norm, path.metrics["multiplier"], strict=True):
        g = gradient(ds, W)
        scale = max(1.0, float(np.abs(g).max()))
        if norm < R * (1 - 1e-9):
            # interior: only possible when W^svm = 0 (otherwise the loss has no minimiser)
            assert w_svm_is_zero
            np.testing.assert_allclose(g, 0.0, atol=1e-8)
        else:
            assert abs(norm - R) <= 1e-8 * R
            np.testing.assert_allclose(g, -mu * W, atol=1e-8 * scale)
    if not w_svm_is_zero:
        np.testing.assert_allclose(path.norm, RADII, rtol=1e-8)
    assert np.all(np.diff(path.loss) <= 1e-12)


@given(datasets(max_vocab=5, max_samples=8, max_length=5))
def test_path_satisfies_kkt_on_random_datasets(ds):
    _check_kkt(ds)


@given(realised_datasets(max_queries=2, max_tokens=5), st.sampled_from(["onehot", "orthonormal"]))
def test_path_satisfies_kkt_on_realised_graphs(ds, kind):
    if kind == "orthonormal":
        ds = ds.with_embeddings(Embeddings.orthonormal(ds.K, ds.K + 1, seed=0))
    _check_kkt(ds)
