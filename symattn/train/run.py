r"""The training loop, its checkpoints, and the recorded :class:`Trajectory` with its files.

:func:`train` drives a pure trainer from :math:`W(0)` (zero, or Gaussian with a scale and a
seed), records the loss, :math:`\|W\|_F` and, given a :class:`~symattn.predict.Prediction`, its
distances of :math:`W(t)` from the theory at log-spaced steps, and returns a frozen
:class:`Trajectory`. The recorded steps depend only on ``records`` (per decade), never on
``steps``.

Long runs lose at most one checkpoint interval. With ``checkpoint=PATH`` the state is saved
atomically (``.npz``, never pickle) every ``checkpoint_seconds`` (default 30 s) and/or
``checkpoint_every`` steps, at the end, and when the run is interrupted (``KeyboardInterrupt``,
which the command line also raises on SIGTERM); calling :func:`train` again with the same
path resumes bit-identically, also with a larger ``steps`` (a finished run is extended and
ends where a run made in one go ends). A run whose :math:`W`, :math:`\|W\|_F` or loss stops being
finite ends with status ``DIVERGED`` and a message blaming the step size.

>>> from symattn.examples import load_example
>>> traj = train(load_example(), method="gd", steps=50)
>>> traj.status.value, int(traj.steps[-1]), bool(traj.loss[-1] < traj.loss[0])
('completed', 50, True)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from symattn._io import atomic_save_npz, atomic_write_text, read_npz
from symattn._validate import require_dataset
from symattn.data import Dataset
from symattn.errors import FileFormatError, InvalidInput
from symattn.model import Model
from symattn.results import ResultMixin
from symattn.scores import check_weights
from symattn.train.config import (
    DEFAULT_CHECKPOINT_SECONDS,
    DEFAULT_RECORDS,
    MAX_STEPS,
    RUN_ONLY,
    TrainConfig,
    TrainMethod,
    TrainStatus,
)
from symattn.train.trainers import (
    GradientDescent,
    NormalizedGradientDescent,
    TrainState,
    initial_weights,
)

if TYPE_CHECKING:
    from symattn.predict import Prediction

__all__ = [
    "CHECKPOINT_FORMAT",
    "TRAJECTORY_FORMAT",
    "ProgressCallback",
    "Trajectory",
    "record_steps",
    "train",
]

logger = logging.getLogger("symattn")

ProgressCallback = Callable[[int, int], None]
"""Called as ``callback(done, total)`` after every step (or every radius of the path)."""

CHECKPOINT_FORMAT = "symattn.checkpoint/2"
TRAJECTORY_FORMAT = "symattn.trajectory/2"
_ROW_KEYS = ("steps", "loss", "norm")


def _finite_norm(W: np.ndarray) -> float:
    """:math:`\\|W\\|_F`, ``inf`` when it overflows and ``nan`` for a non-finite ``W`` (no warnings)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.linalg.norm(W))


@dataclass(frozen=True, eq=False)
class Trajectory(ResultMixin):
    r"""A recorded run.

    Attributes
    ----------
    method : TrainMethod
        How it was trained.
    status : TrainStatus
        How it ended (``success`` only when ``COMPLETED``).
    steps : numpy.ndarray, shape (r,)
        Recorded step numbers (the index of the radius for the path).
    loss, norm : numpy.ndarray, shape (r,)
        :math:`L(W)` and :math:`\|W\|_F` at those steps.
    metrics : dict of str to numpy.ndarray, shape (r,)
        The fields of ``Prediction.distances(W)`` (when a prediction was given); for the path also
        ``multiplier`` (:math:`\mu`, which underflows to 0 far along the path), ``log_multiplier``
        (:math:`\log\mu`, always finite) and ``log_outside_loss`` (log of the mean outside part).
    W : numpy.ndarray, shape (d, d)
        The last iterate (for a stopped run: the last one computed; for a diverged run: the
        last finite one).
    config : TrainConfig
        The configuration.
    radii : numpy.ndarray or None, shape (r,)
        The radii of the regularisation path.
    weights : numpy.ndarray or None, shape (r, d, d)
        The iterates at the recorded points (kept for the path).
    message : str
        Why the run did not complete (empty when it did).
    """

    method: TrainMethod
    status: TrainStatus
    steps: np.ndarray
    loss: np.ndarray
    norm: np.ndarray
    metrics: dict[str, np.ndarray]
    W: np.ndarray
    config: TrainConfig
    radii: np.ndarray | None = None
    weights: np.ndarray | None = field(default=None, repr=False)
    message: str = ""

    @property
    def iterations(self) -> int:
        """Steps taken (radii solved for the path).

        >>> from symattn.examples import load_example
        >>> train(load_example(), steps=4).iterations
        4
        """
        if self.method is TrainMethod.REGPATH:
            return 0 if self.radii is None else int(self.radii.size)
        return int(self.steps[-1]) if self.steps.size else 0

    def final(self) -> dict[str, float]:
        """The last recorded values: loss, norm and every metric (empty when nothing was recorded).

        >>> from symattn.examples import load_example
        >>> traj = train(load_example(), method="gd", steps=3)
        >>> sorted(traj.final())
        ['loss', 'norm']
        """
        if self.steps.size == 0:
            return {}
        out = {"loss": float(self.loss[-1]), "norm": float(self.norm[-1])}
        out.update({key: float(value[-1]) for key, value in self.metrics.items()})
        return out

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary (no arrays but the final W).

        >>> from symattn.examples import load_example
        >>> summary = train(load_example(), steps=2).summary()
        >>> summary["status"], summary["records"], sorted(summary["final"])
        ('completed', 3, ['loss', 'norm'])
        """
        return {
            "format": TRAJECTORY_FORMAT,
            "method": self.method.value,
            "status": self.status.value,
            "success": self.success,
            "message": self.message,
            "config": self.config.to_json(),
            "records": int(self.steps.size),
            "final": {k: (v if np.isfinite(v) else None) for k, v in self.final().items()},
            "W": self.W.tolist(),
        }

    def save(self, directory: str | os.PathLike[str], *, stem: str = "trajectory") -> tuple[Path, Path]:
        """Write ``stem.npz`` (arrays) and ``stem.json`` (summary) atomically into ``directory``.

        >>> import tempfile
        >>> from symattn.examples import load_example
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     npz, summary = train(load_example(), steps=2).save(tmp)
        ...     print(npz.name, summary.name)
        trajectory.npz trajectory.json
        """
        base = Path(directory)
        arrays: dict[str, np.ndarray] = {
            "format": np.array(TRAJECTORY_FORMAT),
            "steps": self.steps,
            "loss": self.loss,
            "norm": self.norm,
            "W": self.W,
            "status": np.array(self.status.value),
            "message": np.array(self.message),
            "config": np.array(json.dumps(self.config.to_json())),
        }
        arrays.update({metric_key(key): value for key, value in self.metrics.items()})
        if self.radii is not None:
            arrays["radii"] = self.radii
        if self.weights is not None:
            arrays["weights"] = self.weights
        npz = atomic_save_npz(base / f"{stem}.npz", **arrays)
        summary = atomic_write_text(
            base / f"{stem}.json", json.dumps(self.summary(), indent=1, allow_nan=False) + "\n"
        )
        return npz, summary

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Trajectory:
        """Read a trajectory written by :meth:`save` (members checked before they are read, no pickle).

        >>> import tempfile
        >>> from symattn.examples import load_example
        >>> traj = train(load_example(), steps=2, lr=10.0, loss="squared")
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     back = Trajectory.load(traj.save(tmp)[0])
        >>> back.status.value, bool(np.array_equal(back.W, traj.W)), back.message == traj.message
        ('completed', True, True)
        """
        arrays = read_npz(path)
        _require(arrays, path, ("format", "status", "message", "config", "W", *_ROW_KEYS), TRAJECTORY_FORMAT)
        try:
            config = TrainConfig.from_json(_json(arrays, "config", path))
            status = TrainStatus(_text(arrays, "status", path))
        except (InvalidInput, ValueError) as exc:
            raise FileFormatError(f"{path}: malformed trajectory ({exc})") from None
        rows = _rows(arrays, path)
        W = arrays["W"]
        if W.ndim != 2 or W.shape[0] != W.shape[1] or W.dtype != np.float64:
            raise FileFormatError(f"{path}: W must be a square float64 matrix, got {W.dtype} {W.shape}")
        radii, weights = arrays.get("radii"), arrays.get("weights")
        if (radii is not None and radii.shape != rows["steps"].shape) or (
            weights is not None and weights.shape != (rows["steps"].size, *W.shape)
        ):
            raise FileFormatError(f"{path}: radii and weights must match the {rows['steps'].size} records")
        return cls(
            method=config.method,
            status=status,
            steps=rows["steps"],
            loss=rows["loss"],
            norm=rows["norm"],
            metrics=metrics_of(rows),
            W=W,
            config=config,
            radii=radii,
            weights=weights,
            message=_text(arrays, "message", path),
        )


# -- file checks shared by trajectories and checkpoints -----------------------------------------
def _require(arrays: dict[str, np.ndarray], path: object, keys: tuple[str, ...], fmt: str) -> None:
    missing = [key for key in keys if key not in arrays]
    if missing:
        raise FileFormatError(f"{path}: not a {fmt} file (missing {missing})")
    found = _text(arrays, "format", path)
    if found != fmt:
        raise FileFormatError(
            f"{path}: format {found!r}, but this version reads {fmt!r}; write it again with this version"
        )


def _text(arrays: dict[str, np.ndarray], key: str, path: object) -> str:
    value = arrays[key]
    if value.shape != () or value.dtype.kind != "U":
        raise FileFormatError(f"{path}: {key} must be one string, got {value.dtype} of shape {value.shape}")
    return str(value)


def _json(arrays: dict[str, np.ndarray], key: str, path: object) -> Any:
    try:
        return json.loads(_text(arrays, key, path))
    except json.JSONDecodeError as exc:
        raise FileFormatError(f"{path}: {key} is not valid JSON ({exc.msg})") from None


def _rows(arrays: dict[str, np.ndarray], path: object) -> dict[str, np.ndarray]:
    """The recorded columns, checked: 1-D, equal lengths, integer increasing steps, float values."""
    keys = [*_ROW_KEYS, *sorted(metric_key(k) for k in metrics_of(arrays))]
    rows = {key: arrays[key] for key in keys}
    lengths = {key: value.shape for key, value in rows.items()}
    if any(len(shape) != 1 for shape in lengths.values()) or len(set(lengths.values())) != 1:
        raise FileFormatError(f"{path}: the recorded columns must be 1-D of one length, got {lengths}")
    steps = rows["steps"]
    if steps.dtype.kind not in "iu" or np.any(np.diff(steps) <= 0) or (steps.size and steps[0] < 0):
        raise FileFormatError(f"{path}: recorded steps must be increasing non-negative integers")
    bad = [key for key in keys[1:] if rows[key].dtype != np.float64]
    if bad:
        raise FileFormatError(f"{path}: recorded values {bad} must be float64")
    rows["steps"] = steps.astype(np.int64)
    return rows


# -- recording --------------------------------------------------------------------------------
def record_steps(steps: int, records: int = DEFAULT_RECORDS) -> np.ndarray:
    r"""The recorded steps: 0, :math:`\operatorname{round}(10^{j/r})` up to ``steps`` (``r`` = ``records``),
    and ``steps``.

    The grid does not depend on ``steps``, so a run extended to more steps records what one
    made in one go would.

    >>> record_steps(1000, 1).tolist(), record_steps(1500, 1).tolist()
    ([0, 1, 10, 100, 1000], [0, 1, 10, 100, 1000, 1500])
    """
    if steps <= 0:
        return np.zeros(1, dtype=np.int64)
    top = math.floor(records * math.log10(steps)) + 2 if records else 0
    grid = [round(10.0 ** (j / records)) for j in range(top)]
    return np.unique(np.array([0, *(g for g in grid if g <= steps), steps], dtype=np.int64))


_METRIC_PREFIX = "metric_"


def metric_key(name: str) -> str:
    """The array name under which the metric ``name`` is stored (trajectory files, checkpoints).

    >>> metric_key("corr_svm")
    'metric_corr_svm'
    """
    return _METRIC_PREFIX + name


def metrics_of(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The metrics stored in ``arrays`` (see :func:`metric_key`), by name.

    >>> list(metrics_of({"loss": np.zeros(1), "metric_corr_svm": np.ones(1)}))
    ['corr_svm']
    """
    return {k.removeprefix(_METRIC_PREFIX): v for k, v in arrays.items() if k.startswith(_METRIC_PREFIX)}


def metric_row(prediction: Prediction | None, W: np.ndarray) -> dict[str, float]:
    """The fields of ``prediction.distances(W)`` but the norm (none without a prediction)."""
    if prediction is None:
        return {}
    distances = prediction.distances(W)
    return {
        f.name: float(getattr(distances, f.name))
        for f in dataclasses.fields(distances)
        if f.name != "norm" and isinstance(getattr(distances, f.name), float | np.floating)
    }


class Recorder:
    """The recorded rows of a run (also of the path); each row is appended whole, so an interrupt
    cannot leave columns of uneven length."""

    def __init__(self, rows: list[tuple[int, float, float, dict[str, float]]] | None = None) -> None:
        self.rows = rows if rows is not None else []

    def add(self, step: int, loss: float, norm: float, metrics: dict[str, float]) -> None:
        self.rows.append((step, loss, norm, metrics))

    @property
    def last_step(self) -> int:
        return self.rows[-1][0] if self.rows else -1

    def arrays(self, keys: list[str]) -> dict[str, np.ndarray]:
        out = {
            "steps": np.array([r[0] for r in self.rows], dtype=np.int64),
            "loss": np.array([r[1] for r in self.rows], dtype=np.float64),
            "norm": np.array([r[2] for r in self.rows], dtype=np.float64),
        }
        out.update({metric_key(k): np.array([r[3][k] for r in self.rows], dtype=np.float64) for k in keys})
        return out

    @classmethod
    def from_arrays(cls, rows: dict[str, np.ndarray], keys: list[str]) -> Recorder:
        columns = [rows[metric_key(k)].tolist() for k in keys]
        return cls(
            [
                (int(s), float(loss), float(norm), dict(zip(keys, (c[i] for c in columns), strict=True)))
                for i, (s, loss, norm) in enumerate(
                    zip(rows["steps"], rows["loss"], rows["norm"], strict=True)
                )
            ]
        )


# -- checkpoints ------------------------------------------------------------------------------
def _digest(dataset: Dataset) -> str:
    h = hashlib.sha256()
    emb = dataset.embeddings
    h.update(f"{emb.kind.value}:{emb.size}:{emb.dim}".encode())
    for array in (
        dataset.tokens,
        dataset.offsets,
        dataset.labels,
        *([] if emb.is_onehot else [emb.matrix()]),
    ):
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()


@dataclass
class _Run:
    """The state of one gradient run: what it trains, where it is, what it recorded, where it saves."""

    dataset: Dataset
    config: TrainConfig
    model: Model
    trainer: GradientDescent
    prediction: Prediction | None
    path: Path | None
    start: TrainState
    state: TrainState
    rec: Recorder
    wanted: frozenset[int]
    keys: list[str]
    digest: str

    def row(self, state: TrainState) -> tuple[int, float, float, dict[str, float]]:
        return (
            state.step,
            self.model.value(state.W),
            _finite_norm(state.W),
            metric_row(self.prediction, state.W),
        )

    def save(self) -> None:
        assert self.path is not None
        atomic_save_npz(
            self.path,
            W=self.state.W,
            step=np.array(self.state.step, dtype=np.int64),
            format=np.array(CHECKPOINT_FORMAT),
            config=np.array(json.dumps(self.config.to_json(), sort_keys=True)),
            dataset=np.array(self.digest),
            start=self.start.W,
            **self.rec.arrays(self.keys),
        )
        logger.info("checkpoint %s at step %d", self.path, self.state.step)

    def diverged(self, what: str) -> str:
        lr = self.trainer.lr
        return (
            f"diverged at step {self.state.step + 1}: {what}; the step size lr={lr:g} is too large for "
            f"loss={self.config.loss.value!r}: lower lr"  # type: ignore[union-attr]
        )

    def stopped(self, why: str) -> str:
        tail = f"; run again with checkpoint {self.path} to resume" if self.path is not None else ""
        return f"{why} at step {self.state.step} of {self.config.steps}{tail}"


def _check_checkpoint(run: _Run, arrays: dict[str, np.ndarray]) -> None:
    """Refuse a checkpoint of another dataset, start, configuration or prediction."""
    path = run.path
    if _text(arrays, "dataset", path) != run.digest:
        raise InvalidInput(
            f"{path} was written for another dataset; delete it or pass another checkpoint path"
        )
    start = arrays["start"]
    if start.shape != run.start.W.shape or not np.array_equal(start, run.start.W):
        raise InvalidInput(
            f"{path} was written for a run from another W(0) (W0 or init/scale/seed differ); "
            "resume with the same starting weights or pass another checkpoint path"
        )
    obj = _json(arrays, "config", path)
    try:
        saved = TrainConfig.from_json(obj).to_json()
    except InvalidInput as exc:
        raise FileFormatError(f"{path}: malformed configuration ({exc})") from None
    current = run.config.to_json()
    changed = sorted(
        k for k in set(saved) | set(current) if k not in RUN_ONLY and saved.get(k) != current.get(k)
    )
    if changed:
        raise InvalidInput(
            f"{path} was written with another configuration (differs in {changed}); "
            "resume with the same settings or pass another checkpoint path"
        )
    keys = sorted(metrics_of(arrays))
    if keys != run.keys:
        raise InvalidInput(
            f"{path} recorded the metrics {keys}, this run records {run.keys} (a prediction given to one "
            "run only); resume the same way or pass another checkpoint path"
        )


def _resume(run: _Run) -> None:
    """Continue ``run`` from its checkpoint file (checked member by member first)."""
    path = run.path
    arrays = read_npz(path)  # type: ignore[arg-type]
    _require(
        arrays, path, ("format", "W", "step", "config", "dataset", "start", *_ROW_KEYS), CHECKPOINT_FORMAT
    )
    _check_checkpoint(run, arrays)
    saved = arrays["step"]
    if saved.shape != () or saved.dtype.kind not in "iu" or not 0 <= int(saved) <= MAX_STEPS:
        raise FileFormatError(f"{path}: step must be one integer in [0, {MAX_STEPS:,}], got {saved!r}")
    step = int(saved)
    if step > run.config.steps:  # type: ignore[operator]
        raise InvalidInput(
            f"{path} is at step {step:,}, beyond steps={run.config.steps:,}; pass steps >= {step:,} to "
            "extend it, or another checkpoint path"
        )
    try:
        W = check_weights(arrays["W"], run.model.dim, name=f"W in {path}")
    except InvalidInput as exc:
        raise FileFormatError(f"{path}: corrupt checkpoint ({exc})") from None
    rows = _rows(arrays, path)
    keep = np.isin(rows["steps"], list(run.wanted)) & (rows["steps"] <= step)
    expected = sorted(s for s in run.wanted if s <= step)
    if rows["steps"][keep].tolist() != expected:
        raise FileFormatError(
            f"{path}: the recorded steps do not match the records setting; corrupt checkpoint"
        )
    run.state = TrainState(W.copy(), step)
    run.rec = Recorder.from_arrays({k: v[keep] for k, v in rows.items()}, run.keys)
    logger.info("resuming from %s at step %d", path, step)


def _prepare(
    dataset: Dataset,
    config: TrainConfig,
    prediction: Prediction | None,
    path: Path | None,
    W0: np.ndarray | None,
) -> _Run:
    model = Model(dataset, config.loss)  # type: ignore[arg-type]
    cls = GradientDescent if config.method is TrainMethod.GD else NormalizedGradientDescent
    trainer = cls(model, config.lr_value(dataset))
    blame, fix = (
        ("W0", "scale W0 down") if W0 is not None else (f"scale={config.scale!r}", "use a smaller scale")
    )
    if W0 is None:
        W0 = initial_weights(model.dim, config.init, scale=config.scale or 0.0, seed=config.seed or 0)  # type: ignore[arg-type]
    start = trainer.init(W0)
    if not math.isfinite(_finite_norm(start.W)):
        raise InvalidInput(f"{blame} gives W(0) with ||W(0)||_F = inf (float64 overflow); {fix}")
    try:
        first = (0, model.value(start.W), _finite_norm(start.W), metric_row(prediction, start.W))
    except InvalidInput as exc:
        raise InvalidInput(f"{blame} gives a W(0) the model cannot evaluate ({exc}); {fix}") from None
    run = _Run(
        dataset,
        config,
        model,
        trainer,
        prediction,
        path,
        start,
        start,
        Recorder([first]),
        frozenset(record_steps(config.steps, config.records).tolist()),  # type: ignore[arg-type]
        sorted(first[3]),
        _digest(dataset),
    )
    if path is not None and path.exists():
        _resume(run)
    return run


def _loop(run: _Run, callback: ProgressCallback | None) -> tuple[TrainStatus, str]:
    config = run.config
    total = config.steps or 0
    now = time.monotonic()
    deadline = None if config.time_budget is None else now + config.time_budget
    every = DEFAULT_CHECKPOINT_SECONDS if config.checkpoint_seconds is None else config.checkpoint_seconds
    next_save = now + every if run.path is not None and every > 0 else math.inf
    try:
        while run.state.step < total:
            if deadline is not None and time.monotonic() >= deadline:
                return TrainStatus.TIME_LIMIT, run.stopped(
                    f"stopped by the time budget of {config.time_budget:g} s"
                )
            try:
                new = run.trainer.step(run.state)
                row = run.row(new) if new.step in run.wanted else None
            except InvalidInput:  # the model refuses W(t): its potentials left the float range
                return TrainStatus.DIVERGED, run.diverged("the potentials e_j^T W e_k grew beyond 1e300")
            if not math.isfinite(_finite_norm(new.W)):
                return TrainStatus.DIVERGED, run.diverged(
                    "||W||_F overflowed (W is no longer finite in float64)"
                )
            if row is not None:
                if not math.isfinite(row[1]):
                    return TrainStatus.DIVERGED, run.diverged(f"the loss became {row[1]}")
                run.rec.add(*row)
            run.state = new
            if (
                config.checkpoint_every and new.step % config.checkpoint_every == 0
            ) or time.monotonic() >= next_save:
                run.save()
                next_save = time.monotonic() + every if every > 0 else math.inf
            if callback is not None:
                callback(new.step, total)
    except KeyboardInterrupt:
        logger.info("interrupted at step %d", run.state.step)
        return TrainStatus.INTERRUPTED, run.stopped("interrupted")
    return TrainStatus.COMPLETED, ""


def _merge(config: TrainConfig | None, options: dict[str, Any]) -> TrainConfig:
    if config is not None and not isinstance(config, TrainConfig):
        raise InvalidInput(f"config={config!r} must be a TrainConfig (or pass its fields as keywords)")
    names = [f.name for f in dataclasses.fields(TrainConfig)]
    unknown = sorted(set(options) - set(names))
    if unknown:
        raise InvalidInput(f"unknown training option(s) {unknown}; the options are {names}")
    if config is None:
        return TrainConfig(**options)
    return dataclasses.replace(config, **options)


def train(
    dataset: Dataset,
    config: TrainConfig | None = None,
    /,
    *,
    prediction: Prediction | None = None,
    callback: ProgressCallback | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    W0: np.ndarray | None = None,
    **options: Any,
) -> Trajectory:
    r"""Train on ``dataset`` and return the recorded :class:`Trajectory`.

    Parameters
    ----------
    dataset : Dataset
        Training data.
    config : TrainConfig, optional
        The configuration; keyword ``options`` (``method="ngd"``, ``steps=4000``, ``lr=0.01``,
        ``radii=(1, 10)``, ...) override its fields.
    prediction : Prediction, optional
        The theory's prediction; its ``distances(W)`` are recorded at every recorded step.
    callback : callable, optional
        ``callback(done, total)`` after every step; it may raise ``KeyboardInterrupt`` to stop.
    checkpoint : path, optional
        ``.npz`` checkpoint (gd, ngd): resumed from when it exists, written atomically every
        ``checkpoint_seconds`` (default 30) and/or ``checkpoint_every`` steps, at the end and
        on interruption.
    W0 : numpy.ndarray, optional
        The starting weights, instead of ``config.init``.

    Raises
    ------
    InvalidInput
        For an option that does not apply to the method, a checkpoint of another run, or a
        :math:`W(0)` that is not finite.

    >>> from symattn.examples import load_example
    >>> traj = train(load_example(), method="ngd", steps=10, lr=0.1)
    >>> bool(traj.norm[-1] <= 10 * 0.1), traj.status.value
    (True, 'completed')
    """
    require_dataset(dataset, "train")
    config = _merge(config, options)
    if config.method is TrainMethod.REGPATH:
        return _path(dataset, config, prediction, callback, checkpoint, W0)
    if checkpoint is None and (config.checkpoint_every is not None or config.checkpoint_seconds is not None):
        raise InvalidInput("checkpoint_every and checkpoint_seconds need a checkpoint path (checkpoint=PATH)")
    run = _prepare(dataset, config, prediction, None if checkpoint is None else Path(checkpoint), W0)
    logger.info(
        "train %s on n=%d, d=%d: steps %d to %d, lr=%g",
        *(config.method.value, dataset.n, run.model.dim, run.state.step, config.steps, run.trainer.lr),
    )
    status, message = _loop(run, callback)
    return _finish(run, status, message)


def _path(
    dataset: Dataset,
    config: TrainConfig,
    prediction: Prediction | None,
    callback: ProgressCallback | None,
    checkpoint: str | os.PathLike[str] | None,
    W0: np.ndarray | None,
) -> Trajectory:
    if checkpoint is not None:
        raise InvalidInput(
            f"checkpoint={str(checkpoint)!r} applies to gd and ngd; the regularisation path keeps none"
        )
    from symattn.train.path import regularization_path  # path.py builds on this module

    return regularization_path(
        dataset, config.radii or (), prediction=prediction, callback=callback, W0=W0,
        time_budget=config.time_budget,
    )


def _finish(run: _Run, status: TrainStatus, message: str) -> Trajectory:
    """Save the last checkpoint and return the run's trajectory (ending with its last iterate)."""
    if run.path is not None:
        run.save()
    if run.rec.last_step != run.state.step:  # the checkpoint keeps the regular records only
        run.rec.add(*run.row(run.state))
    logger.info("train %s: %s at step %d", run.config.method.value, status.value, run.state.step)
    rows = run.rec.arrays(run.keys)
    return Trajectory(
        method=run.config.method,
        status=status,
        steps=rows["steps"],
        loss=rows["loss"],
        norm=rows["norm"],
        metrics={k: rows[metric_key(k)] for k in run.keys},
        W=run.state.W,
        config=run.config,
        message=message,
    )
