"""Tests of symattn.reproduce (the published experiment, shortened); its command is in test_cli_reproduce.py."""

from __future__ import annotations

import numpy as np
import pytest

from symattn.errors import InvalidInput
from symattn.graphs import priority_graphs
from symattn.reproduce import random_cyclic_dataset, reproduce


def test_random_cyclic_datasets_have_the_published_shape():
    for seed in range(5):
        ds = random_cyclic_dataset(seed=seed)
        assert (len(ds), ds.K, ds.embeddings.dim) == (6, 6, 8)
        assert np.all(ds.lengths == 4)
        assert priority_graphs(ds).cyclic
        np.testing.assert_allclose(np.linalg.norm(ds.embeddings.matrix(), axis=1), 1.0)


def test_short_reproduction_path_beats_normalised_gd():
    rep = reproduce(2, steps=300, lr=0.05, radii=(10.0, 100.0, 300.0), seed=1)
    for row in rep.table():
        assert row["path_corr_svm"] > row["ngd_corr_svm"]
        assert row["path_corr_svm"] >= 0.999
        assert row["path_finite_error"] <= 1e-3
        assert row["path_radius"] == pytest.approx(300.0)


@pytest.mark.parametrize("trials", [0, -3, True, "2"])
def test_reproduce_refuses_bad_trial_counts(trials):
    with pytest.raises(InvalidInput, match="trials"):
        reproduce(trials, steps=5)


def test_reproduce_table_reports_the_radius_reached():
    rep = reproduce(1, steps=5, radii=(2.0, 1e9), seed=0)
    assert not rep.success and not rep.trials[0].path.success
    row = rep.table()[0]
    assert row["path_radius"] == 2.0 and row["path_norm"] == pytest.approx(2.0)
