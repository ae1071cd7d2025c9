"""Long normalised-GD runs must not drift away from W^svm (docs/theory.md §9 accuracy far out, §6 P2).

On the planted-DAG datasets (tests/planted.py) every graph is acyclic, so corr(W(t), W^svm) must
rise towards 1 and never fall back. With the label term of the gradient formed as pi_y - 1 it
rose to 0.997-0.999 and then fell to 0.50-0.62 once the outside masses dropped below 1e-16.

The CI run takes 5000 steps at lr 0.1 (the norm the published lr 0.01 reaches in 5e4 steps, a
few seconds); the full 1e5 steps at lr 0.01 run under the ``thorough`` Hypothesis profile or
with ``SYMATTN_LONG=1``.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import settings
from planted import planted_datasets

from symattn import predict, train

LONG = settings().max_examples >= 1000 or os.environ.get("SYMATTN_LONG") == "1"


def _corr_never_falls(name: str, steps: int, lr: float, floor: float) -> np.ndarray:
    ds = planted_datasets(0)[name]
    pred = predict(ds)
    assert pred.finite.dim == 0 and pred.svm.success
    traj = train(ds, method="ngd", steps=steps, lr=lr, prediction=pred, records=30)
    corr = traj.metrics["corr_svm"][1:]
    assert np.all(np.diff(corr) >= -1e-7), dict(zip(traj.steps[1:].tolist(), corr.tolist(), strict=True))
    assert corr[-1] >= floor
    assert traj.metrics["outside_mass_max"][-1] < 1e-16  # far out: where pi_y - 1 cancels
    return corr


@pytest.mark.parametrize("name", ["orthonormal", "general"])
def test_normalised_gd_does_not_drift(name):
    _corr_never_falls(name, steps=5000, lr=0.1, floor=0.9998)


@pytest.mark.skipif(not LONG, reason="1e5 NGD steps: runs under the thorough profile or SYMATTN_LONG=1")
@pytest.mark.parametrize("name", ["orthonormal", "general"])
def test_normalised_gd_hundred_thousand_steps(name):
    _corr_never_falls(name, steps=100_000, lr=0.01, floor=0.9999)
