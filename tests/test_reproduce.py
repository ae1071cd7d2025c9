"""Tests of symattn.reproduce (the published experiment, shortened) and of the CLI commands
``train`` and ``reproduce``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from symattn.cli import main
from symattn.errors import InvalidInput
from symattn.graphs import priority_graphs
from symattn.reproduce import random_cyclic_dataset, reproduce

try:
    import matplotlib  # noqa: F401
except ImportError:
    HAS_MATPLOTLIB = False  # the optional plot extra: the commands then write no figures and say so
else:
    HAS_MATPLOTLIB = True


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
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert np.array(out["W"]).shape == (6, 6)
    for key in ("loss", "norm", "corr_svm", "finite_error", "outside_mass_max"):
        assert key in out["metrics"]
    assert (tmp_path / "trajectory.npz").exists() and (tmp_path / "trajectory.json").exists()
    if HAS_MATPLOTLIB:
        assert (tmp_path / "trajectory.png").stat().st_size > 0
    else:
        assert "no figures" in captured.err and not (tmp_path / "trajectory.png").exists()


def test_cli_train_path_and_bad_input(capsys):
    assert main(["train", "--example", "default", "--method", "regpath", "--radii", "1", "10",
                 "--no-progress"]) == 0
    assert "corr_svm" in capsys.readouterr().out
    assert main(["train", "--example", "default", "--method", "regpath", "--no-progress"]) == 2
    assert "radii" in capsys.readouterr().err


def test_cli_reproduce(capsys, tmp_path):
    code = main(["reproduce", "--trials", "1", "--steps", "20", "--radii", "5", "20", "--no-progress",
                 "--out", str(tmp_path)])
    assert code == 0
    text = capsys.readouterr().out
    assert "published" in text and "regularisation path" in text
    figures = (tmp_path / "reproduce_ngd.png", tmp_path / "reproduce_path.png")
    assert all(f.exists() for f in figures) is HAS_MATPLOTLIB


@pytest.mark.parametrize("trials", [0, -3, True, "2"])
def test_reproduce_refuses_bad_trial_counts(trials):
    with pytest.raises(InvalidInput, match="trials"):
        reproduce(trials, steps=5)


def test_reproduce_table_reports_the_radius_reached():
    rep = reproduce(1, steps=5, radii=(2.0, 1e9), seed=0)
    assert not rep.success and not rep.trials[0].path.success
    row = rep.table()[0]
    assert row["path_radius"] == 2.0 and row["path_norm"] == pytest.approx(2.0)


def test_cli_reproduce_exit_codes(capsys):
    assert main(["reproduce", "--trials", "0", "--no-progress"]) == 2
    assert "trials=0" in capsys.readouterr().err
    assert main(["reproduce", "--trials", "1", "--steps", "5", "--radii", "2", "1e9", "--no-progress",
                 "--json"]) == 1
    captured = capsys.readouterr()
    assert "did not complete" in captured.err
    assert json.loads(captured.out)["success"] is False


def test_cli_train_exit_codes(capsys, tmp_path):
    assert main(["train", "--example", "default", "--time-budget", "-1", "--no-progress"]) == 2
    assert "time_budget=-1.0" in capsys.readouterr().err
    blocked = tmp_path / "file"
    blocked.write_text("")
    assert main(["train", "--example", "default", "--steps", "2", "--no-progress", "--no-plot",
                 "--out", str(blocked / "x")]) == 2
    assert str(blocked) in capsys.readouterr().err
    assert main(["train", "--example", "default", "--method", "regpath", "--radii", "1e9",
                 "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "status: not_converged" in out and "reason:" in out and "nothing was recorded" in out
