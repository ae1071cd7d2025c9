r"""Figures of training runs (the published experiment's three panels), with matplotlib.

matplotlib is the optional ``plot`` extra: it is imported only when a figure is drawn, and its
absence raises :class:`ModuleNotFoundError` naming the extra to install. Figures are drawn on a
private :class:`matplotlib.figure.Figure` (no pyplot state) and written atomically as PNG.

Panels, against the step (or the radius of the regularisation path), one line per run:

1. :math:`\operatorname{corr}(W, W^{svm}) = \langle W, W^{svm}\rangle / (\|W\|\|W^{svm}\|)`;
2. :math:`\|\Pi_{S_{fin}} W - W^{fin}\|_F` on a log scale;
3. the largest attention mass outside the label's SCC over the training samples, log scale.

Runs recorded without a prediction show the loss and :math:`\|W\|_F` instead.

>>> import tempfile, pathlib
>>> from symattn.examples import load_example
>>> from symattn.train import train
>>> out = pathlib.Path(tempfile.mkdtemp()) / "run.png"
>>> plot_trajectories([train(load_example(), steps=20)], out).suffix
'.png'
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from symattn._io import atomic_write_bytes
from symattn.errors import InvalidInput
from symattn.predict import HEADLINE_METRICS
from symattn.train import TrainMethod, Trajectory

__all__ = ["PANELS", "plot_trajectories"]

PANELS = tuple((m.name, m.tex, m.log_scale) for m in HEADLINE_METRICS[:3])
"""(metric, axis label, log scale) of each panel: the first three of the headline metrics."""

_FALLBACK = (("loss", "loss", True), ("norm", r"$\|W\|_F$", False))


def _figure_class() -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ModuleNotFoundError(
            "figures need matplotlib, the optional 'plot' extra: pip install 'symattn[plot]'"
        ) from exc
    return Figure


def _plain(text: str) -> str:
    """``text`` drawn as it is: matplotlib would read ``$...$`` as mathtext (and fail on ``$\\frac{$``).

    >>> _plain("cost $5 and $6")
    'cost \\\\$5 and \\\\$6'
    """
    return text.replace("$", r"\$")


def _series(traj: Trajectory, name: str) -> np.ndarray:
    if name == "loss":
        return traj.loss
    if name == "norm":
        return traj.norm
    return traj.metrics[name]


def plot_trajectories(
    trajectories: Sequence[Trajectory],
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    labels: Sequence[str] | None = None,
    reference: dict[str, float] | None = None,
) -> Path:
    """Draw the panels for one or more runs into a PNG at ``path`` and return the path.

    Parameters
    ----------
    trajectories : sequence of Trajectory
        Runs of the same method (steps or radii on the x axis).
    path : path-like
        Where to write the PNG (atomically).
    title : str, optional
        Figure title, drawn as plain text (a ``$`` is a dollar sign, not mathtext).
    labels : sequence of str, optional
        Legend entries, one per run, plain text (no legend when omitted and there are many runs).
    reference : dict of str to float, optional
        A horizontal reference line per metric (e.g. the published final values).

    Returns
    -------
    pathlib.Path
        The PNG written.

    >>> import tempfile
    >>> from symattn.examples import load_example
    >>> from symattn.train import train
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     png = plot_trajectories([train(load_example(), steps=5)], Path(tmp) / "run.png")
    ...     print(png.name, png.stat().st_size > 0)
    run.png True
    """
    runs = list(trajectories)
    if not runs:
        raise InvalidInput("plot_trajectories needs at least one trajectory")
    if labels is not None and len(labels) != len(runs):
        raise InvalidInput(f"{len(labels)} labels given for {len(runs)} trajectories")
    panels = PANELS if all(p[0] in runs[0].metrics for p in PANELS) else _FALLBACK
    Figure = _figure_class()
    fig = Figure(figsize=(4.2 * len(panels), 3.6), layout="constrained")
    axes = fig.subplots(1, len(panels))
    for ax, panel in zip(np.atleast_1d(axes), panels, strict=True):
        _draw_panel(ax, runs, panel, labels, reference)
    if title:
        fig.suptitle(_plain(title), fontsize=11)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    return atomic_write_bytes(path, buffer.getvalue())


def _draw_panel(
    ax: Any, runs: list[Trajectory], panel: tuple[str, str, bool],
    labels: Sequence[str] | None, reference: dict[str, float] | None,
) -> None:
    """One panel: the metric ``panel`` of every run against the step (or the radius of the path)."""
    name, label, log = panel
    on_path = runs[0].method is TrainMethod.REGPATH
    for i, traj in enumerate(runs):
        keep = slice(None) if on_path else traj.steps > 0
        x = traj.radii if on_path else traj.steps[keep]
        y = _series(traj, name)[keep]
        if log:
            y = np.maximum(y, np.finfo(float).tiny)
        ax.plot(x, y, lw=1.4, label=_plain(labels[i]) if labels else None)
    if reference and name in reference:
        ax.axhline(reference[name], color="0.4", ls="--", lw=1, label="published")
    ax.set_xscale("log")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("radius R" if on_path else "step")
    ax.set_title(label, fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    if labels or (reference and name in reference):
        ax.legend(fontsize=7)
