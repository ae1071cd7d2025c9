r"""Reference trainers: gradient descent, normalised gradient descent, the regularisation path.

Trainers are pure ``init``/``step`` objects (state in, state out). :func:`train` drives one
from :math:`W(0)` (zero, or Gaussian with a scale and a seed), records the loss, :math:`\|W\|_F`
and, when a :class:`~symattn.predict.Prediction` is given, its distances of :math:`W(t)` from the
theory at log-spaced steps, and returns a frozen :class:`Trajectory`. A run stopped by
``KeyboardInterrupt`` or by its time budget returns what it computed with a status saying so;
with ``checkpoint=PATH`` it saves its state atomically (``.npz``, never pickle) and a later call
with the same path resumes bit-identically.

Step size (THEORY §2): the log-loss Hessian is :math:`\frac1n\sum_i A_i^\top(\operatorname{diag}\pi -
\pi\pi^\top) A_i \preceq \beta I` with :math:`\beta` from :func:`~symattn.model.smoothness_bound`
(:math:`\beta = 1/2` for one-hot or orthonormal embeddings); the default step of gradient descent
is :math:`1/\beta`, which decreases the loss at every step.

>>> from symattn.examples import load_example
>>> traj = train(load_example(), method="gd", steps=50)
>>> traj.status.value, int(traj.steps[-1]), bool(traj.loss[-1] < traj.loss[0])
('completed', 50, True)
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from symattn._checks import parse_enum, require_dataset
from symattn._io import atomic_save_npz, atomic_write_text
from symattn.data import Dataset
from symattn.embeddings import SeedLike, as_generator
from symattn.errors import FileFormatError, InvalidInput
from symattn.model import Loss, Model, smoothness_bound
from symattn.scores import check_weights
from symattn.train.path import PathProblem, PathStatus

if TYPE_CHECKING:
    from symattn.predict import Prediction

__all__ = [
    "GradientDescent",
    "Init",
    "NormalizedGradientDescent",
    "TrainConfig",
    "TrainMethod",
    "TrainState",
    "TrainStatus",
    "Trainer",
    "Trajectory",
    "initial_weights",
    "record_steps",
    "regularization_path",
    "train",
]

logger = logging.getLogger("symattn")

ProgressCallback = Callable[[int, int], None]
"""Called as ``callback(done, total)`` after every step (or every radius of the path)."""

CHECKPOINT_FORMAT = "symattn.checkpoint/1"
TRAJECTORY_FORMAT = "symattn.trajectory/1"
NGD_DEFAULT_LR = 0.01
_RUN_ONLY = frozenset({"time_budget", "checkpoint_every"})
"""Configuration fields that may change between a run and its resumption (they never change W(t))."""


class TrainMethod(enum.Enum):
    """The training method."""

    GD = "gd"
    NGD = "ngd"
    REGPATH = "regpath"


class Init(enum.Enum):
    """How :math:`W(0)` is drawn."""

    ZERO = "zero"
    GAUSSIAN = "gaussian"


class TrainStatus(enum.Enum):
    """How a run ended; ``success`` only for ``COMPLETED``."""

    COMPLETED = "completed"
    INTERRUPTED = "interrupted"
    TIME_LIMIT = "time_limit"
    NOT_CONVERGED = "not_converged"


def _real(name: str, value: object, *, allow_zero: bool = False) -> float:
    """``value`` as a finite positive (or non-negative) float, else :class:`InvalidInput` naming ``name``."""
    kind = "non-negative" if allow_zero else "positive"
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InvalidInput(f"{name}={value!r} must be a {kind} finite number")
    number = float(value)
    if not np.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        raise InvalidInput(f"{name}={value!r} must be a {kind} finite number")
    return number


@dataclass(frozen=True)
class TrainConfig:
    r"""Everything that decides a run (and nothing that does not, so resumed runs can be checked).

    Parameters
    ----------
    method : TrainMethod
        ``gd``, ``ngd`` (:math:`W \leftarrow W - \eta \nabla L/\|\nabla L\|`) or ``regpath``.
    steps : int
        Number of steps (gradient methods).
    lr : float or None
        Step size :math:`\eta`; ``None`` means :math:`1/\beta` for ``gd`` with the log-loss and
        0.01 (the published value) for ``ngd``. Other losses need an explicit ``lr`` for ``gd``.
    loss : Loss
        The loss (default: log-loss, identity readout).
    init : Init
        ``zero`` or ``gaussian`` (entries :math:`\mathcal N(0, \text{scale}^2)`).
    scale : float
        Standard deviation of the Gaussian initialisation.
    seed : int or None
        Seed of the Gaussian initialisation.
    radii : tuple of float
        Radii of the regularisation path (ascending after sorting).
    records : int
        About how many log-spaced steps are recorded (step 0 and the last step always are).
    time_budget : float or None
        Wall-clock seconds after which the run stops with ``TrainStatus.TIME_LIMIT``.
    checkpoint_every : int
        Save a checkpoint every this many steps (0: only at the end or on interruption).

    >>> TrainConfig(method="ngd").lr_value(None)
    0.01
    """

    method: TrainMethod = TrainMethod.GD
    steps: int = 1000
    lr: float | None = None
    loss: Loss = Loss.LOG
    init: Init = Init.ZERO
    scale: float = 1.0
    seed: int | None = 0
    radii: tuple[float, ...] = ()
    records: int = 60
    time_budget: float | None = None
    checkpoint_every: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", parse_enum(TrainMethod, self.method, "method"))
        object.__setattr__(self, "init", parse_enum(Init, self.init, "init"))
        object.__setattr__(self, "loss", parse_enum(Loss, self.loss, "loss"))
        for name in ("steps", "records", "checkpoint_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
                raise InvalidInput(f"{name}={value!r} must be a non-negative integer")
        if self.lr is not None:
            _real("lr", self.lr)
        _real("scale", self.scale, allow_zero=True)
        if self.seed is not None and (
            isinstance(self.seed, bool) or not isinstance(self.seed, int | np.integer) or self.seed < 0
        ):
            raise InvalidInput(f"seed={self.seed!r} must be a non-negative integer or None")
        if self.time_budget is not None:
            _real("time_budget", self.time_budget, allow_zero=True)
        if isinstance(self.radii, str) or not isinstance(self.radii, Sequence | np.ndarray):
            raise InvalidInput(
                f"radii={self.radii!r} must be a sequence of positive numbers, e.g. (1, 10, 100)"
            )
        radii = tuple(_real("radii", r) for r in self.radii)
        object.__setattr__(self, "radii", tuple(sorted(radii)))
        if self.method is TrainMethod.REGPATH:
            if not radii:
                raise InvalidInput("the regularisation path needs radii, e.g. radii=(1, 10, 100)")
            if self.loss is not Loss.LOG:
                raise InvalidInput(
                    f"the regularisation path is the convex log-loss path; loss={self.loss.value!r} "
                    "is not convex (train it with gd or ngd)"
                )

    def lr_value(self, dataset: Dataset | None) -> float:
        """The step size used: ``lr``, or the method's default (needs the dataset for ``gd``).

        >>> from symattn.examples import load_example
        >>> TrainConfig().lr_value(load_example()), TrainConfig(lr=0.3).lr_value(None)
        (2.0, 0.3)
        """
        if self.lr is not None:
            return float(self.lr)
        if self.method is TrainMethod.NGD:
            return NGD_DEFAULT_LR
        if self.loss is not Loss.LOG:
            raise InvalidInput(
                f"gradient descent on loss={self.loss.value!r} needs an explicit lr; the default "
                "1/smoothness step is proved for the log-loss only"
            )
        if dataset is None:
            raise InvalidInput("the default gd step 1/smoothness needs the dataset")
        beta = smoothness_bound(dataset)
        if beta == 0.0:
            raise InvalidInput(
                "the smoothness bound is 0: the embedding rows of every query token (or of every token "
                "in the samples) are zero, so every score e_j^T W e_k is 0 and the loss does not depend "
                "on W; there is no default step 1/beta. Give non-zero embedding rows"
            )
        return 1.0 / beta

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (enums as their values).

        >>> TrainConfig(method="ngd", steps=5).to_json()["method"]
        'ngd'
        """
        out = dataclasses.asdict(self)
        for key, value in out.items():
            if isinstance(value, enum.Enum):
                out[key] = value.value
        out["radii"] = list(self.radii)
        return out


@dataclass(frozen=True)
class TrainState:
    """The state of a gradient trainer: the weights ``W`` (d, d) after ``step`` steps."""

    W: np.ndarray
    step: int


class Trainer(Protocol):
    """A pure trainer: ``init(W0)`` gives the state, ``step(state)`` the next one."""

    def init(self, W0: np.ndarray) -> TrainState:
        """The state at step 0.

        >>> from symattn.data import Dataset
        >>> trainer: Trainer = GradientDescent(Model(Dataset.from_samples([([0, 1], 1)], vocab=2)), lr=1.0)
        >>> trainer.init(np.zeros((2, 2))).step
        0
        """

    def step(self, state: TrainState) -> TrainState:
        """One step; never modifies ``state``.

        >>> from symattn.data import Dataset
        >>> trainer: Trainer = GradientDescent(Model(Dataset.from_samples([([0, 1], 1)], vocab=2)), lr=1.0)
        >>> trainer.step(trainer.init(np.zeros((2, 2)))).step
        1
        """


@dataclass(frozen=True)
class GradientDescent:
    r"""Gradient descent :math:`W \leftarrow W - \eta \nabla L(W)`.

    >>> from symattn.data import Dataset
    >>> gd = GradientDescent(Model(Dataset.from_samples([([0, 1], 1)], vocab=2)), lr=2.0)
    >>> gd.step(gd.init(np.zeros((2, 2)))).W[:, 1].tolist()
    [-1.0, 1.0]
    """

    model: Model
    lr: float

    def init(self, W0: np.ndarray) -> TrainState:
        """The state at step 0 (a private copy of ``W0``).

        >>> from symattn.data import Dataset
        >>> W0 = np.ones((2, 2))
        >>> GradientDescent(Model(Dataset.from_samples([([0, 1], 1)], vocab=2)), lr=1.0).init(W0).W is W0
        False
        """
        return TrainState(check_weights(W0, self.model.dim).copy(), 0)

    def step(self, state: TrainState) -> TrainState:
        """One gradient step.

        >>> from symattn.data import Dataset
        >>> gd = GradientDescent(Model(Dataset.from_samples([([0, 1], 1)], vocab=2)), lr=2.0)
        >>> gd.step(TrainState(np.zeros((2, 2)), 7)).step
        8
        """
        return TrainState(state.W - self.lr * self.model.gradient(state.W), state.step + 1)


@dataclass(frozen=True)
class NormalizedGradientDescent:
    r"""Normalised gradient descent :math:`W \leftarrow W - \eta \nabla L/\|\nabla L\|_F`.

    A zero gradient leaves :math:`W` where it is.

    >>> from symattn.data import Dataset
    >>> ngd = NormalizedGradientDescent(Model(Dataset.from_samples([([0, 1], 1)], vocab=2)), lr=1.0)
    >>> round(float(np.linalg.norm(ngd.step(ngd.init(np.zeros((2, 2)))).W)), 12)
    1.0
    """

    model: Model
    lr: float

    def init(self, W0: np.ndarray) -> TrainState:
        """The state at step 0 (a private copy of ``W0``).

        >>> from symattn.data import Dataset
        >>> ngd = NormalizedGradientDescent(Model(Dataset.from_samples([([0, 1], 1)], vocab=2)), lr=1.0)
        >>> ngd.init(np.eye(2)).W.tolist()
        [[1.0, 0.0], [0.0, 1.0]]
        """
        return TrainState(check_weights(W0, self.model.dim).copy(), 0)

    def step(self, state: TrainState) -> TrainState:
        """One normalised step (a zero gradient leaves ``W`` in place).

        >>> from symattn.data import Dataset
        >>> ngd = NormalizedGradientDescent(Model(Dataset.from_samples([([0], 0)], vocab=1)), lr=1.0)
        >>> ngd.step(ngd.init(np.zeros((1, 1)))).W.tolist()
        [[0.0]]
        """
        g = self.model.gradient(state.W)
        norm = float(np.linalg.norm(g))
        if norm == 0.0:
            return TrainState(state.W.copy(), state.step + 1)
        return TrainState(state.W - (self.lr / norm) * g, state.step + 1)


@dataclass(frozen=True, eq=False)
class Trajectory:
    r"""A recorded run.

    Attributes
    ----------
    method : TrainMethod
        How it was trained.
    status : TrainStatus
        How it ended.
    steps : numpy.ndarray, shape (r,)
        Recorded step numbers (the index of the radius for the path).
    loss, norm : numpy.ndarray, shape (r,)
        :math:`L(W)` and :math:`\|W\|_F` at those steps.
    metrics : dict of str to numpy.ndarray, shape (r,)
        The fields of ``Prediction.distances(W)`` (when a prediction was given); for the path also
        ``multiplier`` (:math:`\mu`, which underflows to 0 far along the path), ``log_multiplier``
        (:math:`\log\mu`, always finite) and ``log_outside_loss`` (log of the mean outside part).
    W : numpy.ndarray, shape (d, d)
        The last iterate (for an interrupted run: the last one computed).
    radii : numpy.ndarray or None, shape (r,)
        The radii of the regularisation path.
    weights : numpy.ndarray or None, shape (r, d, d)
        The iterates at the recorded points (kept for the path).
    config : TrainConfig
        The configuration.
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
    def success(self) -> bool:
        """True when the run completed.

        >>> from symattn.examples import load_example
        >>> train(load_example(), steps=2).success
        True
        """
        return self.status is TrainStatus.COMPLETED

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
            "steps": self.steps, "loss": self.loss, "norm": self.norm, "W": self.W,
            "status": np.array(self.status.value), "config": np.array(json.dumps(self.config.to_json())),
        }
        arrays.update({f"metric_{key}": value for key, value in self.metrics.items()})
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
        """Read a trajectory written by :meth:`save` (``allow_pickle=False``).

        >>> import tempfile
        >>> from symattn.examples import load_example
        >>> traj = train(load_example(), steps=2)
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     back = Trajectory.load(traj.save(tmp)[0])
        >>> back.status.value, bool(np.array_equal(back.W, traj.W))
        ('completed', True)
        """
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {key: data[key] for key in data.files}
        except (OSError, ValueError) as exc:
            raise FileFormatError(f"{path}: not a trajectory file ({exc})") from None
        try:
            config = TrainConfig(**json.loads(str(arrays["config"])))
            return cls(
                method=config.method, status=TrainStatus(str(arrays["status"])), steps=arrays["steps"],
                loss=arrays["loss"], norm=arrays["norm"],
                metrics={k[7:]: v for k, v in arrays.items() if k.startswith("metric_")},
                W=arrays["W"], config=config, radii=arrays.get("radii"), weights=arrays.get("weights"),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise FileFormatError(f"{path}: malformed trajectory ({exc})") from None


# -- helpers ---------------------------------------------------------------------------------
def record_steps(steps: int, records: int) -> np.ndarray:
    """The recorded steps: 0, about ``records`` log-spaced steps, and ``steps``.

    >>> record_steps(1000, 4).tolist()
    [0, 1, 10, 100, 1000]
    """
    if steps == 0:
        return np.zeros(1, dtype=np.int64)
    spaced = np.round(np.geomspace(1, steps, max(records, 2))).astype(np.int64)
    return np.unique(np.concatenate([[0], spaced, [steps]]))


def initial_weights(
    dim: int, init: Init | str = Init.ZERO, *, scale: float = 1.0, seed: SeedLike = 0
) -> np.ndarray:
    r""":math:`W(0)`: zeros, or i.i.d. :math:`\mathcal N(0, \text{scale}^2)` entries from ``seed``.

    >>> initial_weights(2).tolist(), initial_weights(2, "gaussian", seed=1).shape
    ([[0.0, 0.0], [0.0, 0.0]], (2, 2))
    """
    init = parse_enum(Init, init, "init")
    if init is Init.ZERO:
        return np.zeros((dim, dim))
    return scale * as_generator(seed).standard_normal((dim, dim))


def _digest(dataset: Dataset) -> str:
    h = hashlib.sha256()
    for array in (dataset.tokens, dataset.offsets, dataset.labels, dataset.embeddings.matrix()):
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()


def _metric_row(prediction: Prediction | None, W: np.ndarray) -> dict[str, float]:
    if prediction is None:
        return {}
    distances = prediction.distances(W)
    return {
        f.name: float(getattr(distances, f.name))
        for f in dataclasses.fields(distances)
        if f.name != "norm" and isinstance(getattr(distances, f.name), float | np.floating)
    }


class _Recorder:
    """Accumulates the recorded rows of a run."""

    def __init__(self) -> None:
        self.steps: list[int] = []
        self.loss: list[float] = []
        self.norm: list[float] = []
        self.metrics: dict[str, list[float]] = {}

    def add(self, step: int, loss: float, W: np.ndarray, metrics: dict[str, float]) -> None:
        self.steps.append(step)
        self.loss.append(loss)
        self.norm.append(float(np.linalg.norm(W)))
        for key, value in metrics.items():
            self.metrics.setdefault(key, []).append(value)

    def arrays(self) -> dict[str, np.ndarray]:
        out = {"steps": np.array(self.steps, dtype=np.int64), "loss": np.array(self.loss),
               "norm": np.array(self.norm)}
        out.update({f"metric_{k}": np.array(v) for k, v in self.metrics.items()})
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> _Recorder:
        rec = cls()
        rec.steps = arrays["steps"].tolist()
        rec.loss = arrays["loss"].tolist()
        rec.norm = arrays["norm"].tolist()
        rec.metrics = {k[7:]: v.tolist() for k, v in arrays.items() if k.startswith("metric_")}
        return rec


def _save_checkpoint(
    path: Path, state: TrainState, rec: _Recorder, config: TrainConfig, digest: str, start: np.ndarray
) -> None:
    atomic_save_npz(
        path, W=state.W, step=np.array(state.step), format=np.array(CHECKPOINT_FORMAT),
        config=np.array(json.dumps(config.to_json(), sort_keys=True)), dataset=np.array(digest),
        start=start, **rec.arrays(),
    )


def _load_checkpoint(
    path: Path, config: TrainConfig, digest: str, start: np.ndarray
) -> tuple[TrainState, _Recorder]:
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError) as exc:
        raise FileFormatError(f"{path}: not a checkpoint file ({exc})") from None
    if str(arrays.get("format")) != CHECKPOINT_FORMAT or "start" not in arrays or "W" not in arrays:
        raise FileFormatError(f"{path}: not a {CHECKPOINT_FORMAT} file")
    if str(arrays["dataset"]) != digest:
        raise InvalidInput(
            f"{path} was written for another dataset; delete it or pass another checkpoint path"
        )
    if arrays["start"].shape != start.shape or not np.array_equal(arrays["start"], start):
        raise InvalidInput(
            f"{path} was written for a run from another W(0) (W0 or init/scale/seed differ); "
            "resume with the same starting weights or pass another checkpoint path"
        )
    saved = json.loads(str(arrays["config"]))
    current = config.to_json()
    changed = sorted(k for k in current if k not in _RUN_ONLY and saved.get(k) != current[k])
    if changed:
        raise InvalidInput(
            f"{path} was written with another configuration (differs in {changed}); "
            "resume with the same settings or pass another checkpoint path"
        )
    try:
        W = check_weights(arrays["W"], start.shape[0], name=f"W in {path}")
    except InvalidInput as exc:
        raise FileFormatError(f"{path}: corrupt checkpoint ({exc})") from None
    return TrainState(W.copy(), int(arrays["step"])), _Recorder.from_arrays(arrays)


# -- drivers ---------------------------------------------------------------------------------
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
        ``.npz`` checkpoint: resumed from when it exists, written atomically every
        ``checkpoint_every`` steps, at the end and on interruption.
    W0 : numpy.ndarray, optional
        The starting weights, instead of ``config.init``.

    >>> from symattn.examples import load_example
    >>> traj = train(load_example(), method="ngd", steps=10, lr=0.1)
    >>> bool(traj.norm[-1] <= 10 * 0.1), traj.status.value
    (True, 'completed')
    """
    require_dataset(dataset, "train")
    if config is not None and not isinstance(config, TrainConfig):
        raise InvalidInput(f"config={config!r} must be a TrainConfig (or pass its fields as keywords)")
    fields = [f.name for f in dataclasses.fields(TrainConfig)]
    unknown = sorted(set(options) - set(fields))
    if unknown:
        raise InvalidInput(f"unknown training option(s) {unknown}; the options are {fields}")
    config = dataclasses.replace(config or TrainConfig(), **options)
    if config.method is TrainMethod.REGPATH:
        return regularization_path(dataset, config.radii, prediction=prediction, callback=callback, W0=W0)
    model = Model(dataset, config.loss)
    lr = config.lr_value(dataset)
    trainer: GradientDescent | NormalizedGradientDescent = (
        GradientDescent(model, lr)
        if config.method is TrainMethod.GD
        else NormalizedGradientDescent(model, lr)
    )
    digest = _digest(dataset)
    path = Path(checkpoint) if checkpoint is not None else None
    if W0 is None:
        W0 = initial_weights(model.dim, config.init, scale=config.scale, seed=config.seed)
    start = trainer.init(W0)
    if path is not None and path.exists():
        state, rec = _load_checkpoint(path, config, digest, start.W)
        logger.info("resuming from %s at step %d", path, state.step)
    else:
        state, rec = start, _Recorder()
        rec.add(0, model.value(state.W), state.W, _metric_row(prediction, state.W))
    wanted = set(record_steps(config.steps, config.records).tolist())
    deadline = None if config.time_budget is None else time.monotonic() + config.time_budget
    status = TrainStatus.COMPLETED
    last = state
    try:
        while state.step < config.steps:
            if deadline is not None and time.monotonic() >= deadline:
                status = TrainStatus.TIME_LIMIT
                break
            new = trainer.step(state)
            if new.step in wanted:
                rec.add(new.step, model.value(new.W), new.W, _metric_row(prediction, new.W))
            state = last = new
            if path is not None and config.checkpoint_every and state.step % config.checkpoint_every == 0:
                _save_checkpoint(path, state, rec, config, digest, start.W)
            if callback is not None:
                callback(state.step, config.steps)
    except KeyboardInterrupt:
        status = TrainStatus.INTERRUPTED
        logger.info("interrupted at step %d", last.step)
    if path is not None:
        _save_checkpoint(path, last, rec, config, digest, start.W)
    if rec.steps[-1] != last.step:
        # the stopped run ends with its last iterate; the checkpoint keeps the regular records only
        rec.add(last.step, model.value(last.W), last.W, _metric_row(prediction, last.W))
    arrays = rec.arrays()
    return Trajectory(
        method=config.method, status=status, steps=arrays["steps"], loss=arrays["loss"],
        norm=arrays["norm"], metrics={k[7:]: v for k, v in arrays.items() if k.startswith("metric_")},
        W=last.W, config=config,
    )


def regularization_path(
    dataset: Dataset,
    radii: Sequence[float],
    *,
    prediction: Prediction | None = None,
    callback: ProgressCallback | None = None,
    W0: np.ndarray | None = None,
) -> Trajectory:
    r"""The regularisation path :math:`W_R = \arg\min_{\|W\|_F \le R} L(W)` (log-loss) at every radius.

    A convex solve per radius, warm-started along the path (radii ascending). The loss parts
    outside and inside the label's SCC are kept apart in log-space (see THEORY §6), so the path
    keeps moving where their ratio is far below :math:`10^{-16}`; radii up to :math:`10^8` are
    reached. When :math:`W^{svm} \ne 0` the loss has no minimiser, so :math:`\|W_R\| = R` at every
    radius, and a radius the solver cannot reach ends the run with status ``NOT_CONVERGED`` and
    ``Trajectory.message`` saying why. Only when :math:`W^{svm} = 0` (every token in its label's
    SCC) can :math:`\|W_R\| < R` hold: the constraint is then inactive and the smallest-norm
    minimiser is returned. Needs linearly independent embeddings.

    >>> from symattn.examples import load_example
    >>> path = regularization_path(load_example(), [1.0, 10.0])
    >>> path.status.value, path.norm.round(6).tolist()
    ('completed', [1.0, 10.0])
    """
    require_dataset(dataset, "regularization_path")
    if isinstance(radii, str) or not isinstance(radii, Sequence | np.ndarray):
        raise InvalidInput(f"radii={radii!r} must be a sequence of positive numbers, e.g. [1, 10, 100]")
    config = TrainConfig(method=TrainMethod.REGPATH, radii=tuple(radii), steps=0)
    problem = PathProblem(dataset)
    model = Model(dataset)
    v = problem.start(check_weights(W0, dataset.embeddings.dim)) if W0 is not None else np.zeros(
        problem.T.shape[0]
    )
    rec = _Recorder()
    weights: list[np.ndarray] = []
    done: list[float] = []
    status = TrainStatus.COMPLETED
    message = ""
    log_mu = 0.0
    try:
        for i, radius in enumerate(config.radii):
            point, v = problem.point(radius, log_mu, v)
            if point.status is PathStatus.NOT_CONVERGED:
                status = TrainStatus.NOT_CONVERGED
                message = f"the path solve did not converge at R={radius:g}: {point.message}"
                logger.warning("%s", message)
                break
            log_mu = point.log_mu
            metrics = _metric_row(prediction, point.W)
            metrics["multiplier"] = float(np.exp(point.log_mu))
            metrics["log_multiplier"] = point.log_mu
            metrics["log_outside_loss"] = point.log_outside
            rec.add(i, model.value(point.W), point.W, metrics)
            weights.append(point.W)
            done.append(radius)
            if callback is not None:
                callback(i + 1, len(config.radii))
    except KeyboardInterrupt:
        status = TrainStatus.INTERRUPTED
    arrays = rec.arrays()
    d = dataset.embeddings.dim
    stacked = np.array(weights) if weights else np.zeros((0, d, d))
    return Trajectory(
        method=TrainMethod.REGPATH, status=status, steps=arrays["steps"], loss=arrays["loss"],
        norm=arrays["norm"], metrics={k[7:]: v for k, v in arrays.items() if k.startswith("metric_")},
        W=stacked[-1] if weights else np.zeros((d, d)), config=config,
        radii=np.array(done), weights=stacked, message=message,
    )
