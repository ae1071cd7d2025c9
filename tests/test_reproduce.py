"""Tests of symattn.reproduce (the published experiment, shortened) and of the CLI commands
``train`` and ``reproduce``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from symattn.cli import main
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


def test_cli_train_json(capsys, tmp_path):
    code = main(["train", "--example", "default", "--method", "ngd", "--steps", "200", "--no-progress",
                 "--json", "--out", str(tmp_path)])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert np.array(out["W"]).shape == (6, 6)
    for key in ("loss", "norm", "corr_svm", "finite_error", "outside_mass_max"):
        assert key in out["metrics"]
    assert (tmp_path / "trajectory.npz").exists() and (tmp_path / "trajectory.json").exists()
    assert (tmp_path / "trajectory.png").stat().st_size > 0


def test_cli_train_path_and_bad_input(capsys):
    assert main(["train", "--example", "default", "--method", "regpath", "--radii", "1", "10",
                 "--no-progress"]) == 0
    assert "corr_svm" in capsys.readouterr().out
    assert main(["train", "--example", "default", "--method", "regpath", "--no-progress"]) == 2
    assert "radii" in capsys.readouterr().err


def test_cli_reproduce(capsys, tmp_path):
    code = main(["reproduce", "--trials", "1", "--steps", "100", "--radii", "5", "20", "--no-progress",
                 "--out", str(tmp_path)])
    assert code == 0
    text = capsys.readouterr().out
    assert "published" in text and "regularisation path" in text
    assert (tmp_path / "reproduce_ngd.png").exists() and (tmp_path / "reproduce_path.png").exists()
