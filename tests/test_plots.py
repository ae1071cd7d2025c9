"""Tests of symattn.plots: files are written, panels fall back without a prediction, errors."""

from __future__ import annotations

import builtins

import pytest

from symattn.errors import InvalidInput
from symattn.examples import load_example
from symattn.plots import plot_trajectories
from symattn.train import regularization_path, train

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_writes_a_png_for_runs_and_paths(tmp_path):
    pytest.importorskip("matplotlib", reason="figures need the optional plot extra (matplotlib)")
    ds = load_example()
    gd = plot_trajectories([train(ds, steps=20), train(ds, method="ngd", steps=20)], tmp_path / "a.png",
                           labels=["gd", "ngd"], title="runs")
    path = plot_trajectories([regularization_path(ds, [1.0, 2.0])], tmp_path / "b.png")
    for file in (gd, path):
        assert file.read_bytes()[:8] == PNG_MAGIC


def test_bad_arguments(tmp_path):
    with pytest.raises(InvalidInput, match="at least one"):
        plot_trajectories([], tmp_path / "x.png")
    with pytest.raises(InvalidInput, match="labels"):
        plot_trajectories([train(load_example(), steps=2)], tmp_path / "x.png", labels=["a", "b"])


def test_missing_matplotlib_is_named(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("no matplotlib")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ModuleNotFoundError, match=r"symattn\[plot\]"):
        plot_trajectories([train(load_example(), steps=2)], tmp_path / "x.png")
