r"""Reproduction of the published experiment (docs/theory.md §8), then the same data pushed further.

The published setup: random unit-norm embeddings, :math:`n = 6` samples of length
:math:`T = 4` over :math:`K = 6` tokens in :math:`d = 8` dimensions, 10 trials, normalised
gradient descent with step 0.01 for 4000 steps from :math:`W = 0`, log-loss with identity
readout; a dataset is redrawn until some :math:`G_k` has a cycle. Reported: final
:math:`\operatorname{corr}(W, W^{svm})` between 0.976 and 0.993 and
:math:`\|\Pi_{S_{fin}} W - W^{fin}\| \approx 0.005`.

Normalised GD cannot do better than about half its step on the finite part (it oscillates), and
its direction converges slowly. With symattn's exact references the same datasets are then solved
along the regularisation path :math:`W_R = \arg\min_{\|W\| \le R} L(W)`, which shows how close the
theory's prediction is when the optimisation error is taken out.

>>> rep = reproduce(trials=1, steps=50, radii=(2.0,), seed=0)
>>> len(rep.trials), sorted(rep.trials[0].ngd.final())[:2]
(1, ['corr_svm', 'corr_svm_perp'])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from symattn._validate import as_count
from symattn.data import Dataset
from symattn.embeddings import Embeddings, SeedLike, as_generator
from symattn.errors import InvalidInput
from symattn.graphs import priority_graphs
from symattn.predict import Prediction, predict
from symattn.results import Status
from symattn.train import Trajectory, regularization_path, train

__all__ = ["PUBLISHED", "Reproduction", "ReproductionStatus", "Trial", "random_cyclic_dataset", "reproduce"]

PUBLISHED: dict[str, Any] = {"corr_svm": (0.976, 0.993), "finite_error": 0.005}
"""The published final values: the range of correlations and the typical finite-part error."""

_MAX_DRAWS = 10_000


def random_cyclic_dataset(
    n: int = 6, T: int = 4, K: int = 6, d: int = 8, *, seed: SeedLike = None
) -> Dataset:
    """A random dataset of the published kind: uniform tokens, the label drawn from the sequence,
    random unit-norm embeddings; redrawn until some token-priority graph has a cycle.

    >>> ds = random_cyclic_dataset(seed=0)
    >>> len(ds), ds.K, ds.embeddings.dim, priority_graphs(ds).cyclic
    (6, 6, 8, True)
    """
    rng = as_generator(seed)
    embeddings = Embeddings.random_unit(K, d, seed=rng)
    for _ in range(_MAX_DRAWS):
        tokens = rng.integers(0, K, size=(n, T))
        labels = tokens[np.arange(n), rng.integers(0, T, size=n)]
        ds = Dataset.from_samples(
            [(row.tolist(), int(y)) for row, y in zip(tokens, labels, strict=True)],
            vocab=K, embeddings=embeddings,
        )
        if priority_graphs(ds).cyclic:
            return ds
    raise InvalidInput(
        f"no dataset with a cyclic token-priority graph in {_MAX_DRAWS} draws of n={n}, T={T}, K={K}; "
        "use more samples or longer sequences"
    )


class ReproductionStatus(Status, success={"completed"}):
    """Whether every trial's runs completed; only ``COMPLETED`` counts as success."""

    COMPLETED = "completed"
    """Every normalised GD run and every path completed."""
    INCOMPLETE = "incomplete"
    """Some run stopped early (see the trials' own statuses)."""


@dataclass(frozen=True, eq=False)
class Trial:
    """One trial: its dataset, the theory's prediction, the published run and the path."""

    dataset: Dataset
    prediction: Prediction
    ngd: Trajectory
    path: Trajectory


@dataclass(frozen=True, eq=False)
class Reproduction:
    """All trials, with the settings used."""

    trials: tuple[Trial, ...]
    steps: int
    lr: float
    radii: tuple[float, ...]

    def table(self) -> list[dict[str, float]]:
        """One row per trial: final correlation and finite-part error of normalised GD and of the path.

        ``path_radius`` is the last radius the path reached, ``path_norm`` its :math:`\\|W\\|`
        (equal unless :math:`W^{svm} = 0`); NaN where a run recorded nothing.

        >>> row = reproduce(trials=1, steps=5, radii=(2.0,)).table()[0]
        >>> row["path_radius"], round(row["path_norm"], 9)
        (2.0, 2.0)
        """
        nan = float("nan")
        rows = []
        for trial in self.trials:
            ngd, path = trial.ngd.final(), trial.path.final()
            radii = trial.path.radii
            rows.append({
                "ngd_corr_svm": ngd.get("corr_svm", nan), "ngd_finite_error": ngd.get("finite_error", nan),
                "ngd_norm": ngd.get("norm", nan),
                "path_corr_svm": path.get("corr_svm", nan),
                "path_finite_error": path.get("finite_error", nan),
                "path_radius": float(radii[-1]) if radii is not None and radii.size else nan,
                "path_norm": path.get("norm", nan),
            })
        return rows

    @property
    def failed(self) -> tuple[int, ...]:
        """Indices of the trials whose normalised GD run or path did not complete.

        >>> reproduce(trials=1, steps=5, radii=(1.0,)).failed
        ()
        """
        return tuple(i for i, t in enumerate(self.trials) if not (t.ngd.success and t.path.success))

    @property
    def status(self) -> ReproductionStatus:
        """``COMPLETED`` when every run of every trial completed, else ``INCOMPLETE``."""
        return ReproductionStatus.INCOMPLETE if self.failed else ReproductionStatus.COMPLETED

    @property
    def success(self) -> bool:
        """True when every trial's normalised GD run and path completed.

        >>> reproduce(trials=1, steps=5, radii=(1.0,)).success
        True
        """
        return self.status.success

    @property
    def message(self) -> str:
        """Which trials did not complete (empty when all did)."""
        return f"trial(s) {list(self.failed)} did not complete (see their status)" if self.failed else ""

    @property
    def iterations(self) -> int:
        """The number of trials run."""
        return len(self.trials)


def reproduce(
    trials: int = 10,
    *,
    steps: int = 4000,
    lr: float = 0.01,
    radii: Sequence[float] = (10.0, 40.0, 100.0, 300.0),
    seed: SeedLike = 0,
    callback: Callable[[int, int], None] | None = None,
) -> Reproduction:
    """Run the published experiment on ``trials`` random cyclic datasets, then the path on each.

    ``callback(done, total)`` is called after each trial.

    >>> rep = reproduce(trials=1, steps=20, radii=(1.0, 5.0), seed=0)
    >>> rep.success, rep.table()[0]["path_radius"]
    (True, 5.0)
    """
    trials = as_count(trials, "trials")
    rng = as_generator(seed)
    done: list[Trial] = []
    for i in range(trials):
        ds = random_cyclic_dataset(seed=rng)
        prediction = predict(ds)
        ngd = train(ds, method="ngd", steps=steps, lr=lr, prediction=prediction)
        path = regularization_path(ds, radii, prediction=prediction)
        done.append(Trial(ds, prediction, ngd, path))
        if callback is not None:
            callback(i + 1, trials)
    return Reproduction(tuple(done), steps, lr, tuple(float(r) for r in radii))
