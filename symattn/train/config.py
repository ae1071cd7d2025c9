r"""The training configuration: what decides a run, every option checked against its method.

:class:`TrainConfig` holds the options of all three methods; each option means something for
the methods it applies to and is refused by name for the others (``radii`` under ``gd``,
``steps`` under ``regpath``, ``scale`` with a zero :math:`W(0)`, ...). Options left out take
the method's default, so ``TrainConfig(method="ngd").steps == 1000`` while
``TrainConfig(method="regpath", radii=(1, 10)).steps is None``.

>>> TrainConfig(method="ngd").lr_value(None)
0.01
>>> TrainConfig(method="gd", radii=(1.0,))  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
symattn.errors.InvalidInput: radii=(1.0,) does not apply to method='gd': ...; drop it or use method='regpath'
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from symattn._validate import as_real, parse_enum
from symattn.data import Dataset
from symattn.errors import InvalidInput
from symattn.model import Loss, smoothness_bound
from symattn.results import Status

__all__ = [
    "DEFAULT_CHECKPOINT_SECONDS",
    "DEFAULT_RECORDS",
    "DEFAULT_STEPS",
    "MAX_RECORDS",
    "MAX_STEPS",
    "NGD_DEFAULT_LR",
    "Init",
    "TrainConfig",
    "TrainMethod",
    "TrainStatus",
]

NGD_DEFAULT_LR = 0.01
DEFAULT_STEPS = 1000
DEFAULT_RECORDS = 20
"""Recorded steps per decade of steps (log-spaced; step 0 and the last step always are)."""
MAX_STEPS = 10**12
MAX_RECORDS = 1000
DEFAULT_CHECKPOINT_SECONDS = 30.0
"""With a checkpoint, gd and ngd save it at least this often (wall clock) unless told otherwise."""


class TrainMethod(enum.Enum):
    """The training method."""

    GD = "gd"
    NGD = "ngd"
    REGPATH = "regpath"


class Init(enum.Enum):
    """How :math:`W(0)` is drawn."""

    ZERO = "zero"
    GAUSSIAN = "gaussian"


class TrainStatus(Status, success={"completed"}):
    """How a run ended; ``success`` only for ``COMPLETED``.

    ``DIVERGED``: :math:`W`, :math:`\\|W\\|_F` or the loss stopped being finite (the message says
    which option to lower); ``NOT_CONVERGED``: a path radius out of the solver's reach.
    """

    COMPLETED = "completed"
    INTERRUPTED = "interrupted"
    TIME_LIMIT = "time_limit"
    NOT_CONVERGED = "not_converged"
    DIVERGED = "diverged"


_GRADIENT = frozenset(
    {
        "steps",
        "lr",
        "loss",
        "init",
        "scale",
        "seed",
        "records",
        "time_budget",
        "checkpoint_every",
        "checkpoint_seconds",
    }
)
_APPLIES = {
    TrainMethod.GD: _GRADIENT,
    TrainMethod.NGD: _GRADIENT,
    TrainMethod.REGPATH: frozenset({"loss", "radii", "time_budget"}),
}
_PURPOSE = {
    "steps": "the number of gradient steps",
    "lr": "the step size of gd and ngd",
    "init": "how gd and ngd draw W(0)",
    "scale": "the spread of a Gaussian W(0)",
    "seed": "the seed of a Gaussian W(0)",
    "radii": "the radii of the regularisation path",
    "records": "how often gd and ngd record",
    "checkpoint_every": "how many steps of gd and ngd pass between checkpoints",
    "checkpoint_seconds": "how many seconds of gd and ngd pass between checkpoints",
}
RUN_ONLY = frozenset({"steps", "time_budget", "checkpoint_every", "checkpoint_seconds"})
"""Options that may change when a run is resumed: they never change :math:`W(t)` (``steps`` may grow)."""


def _count(name: str, value: object, top: int, unit: str = "") -> int:
    """``value`` as an integer in ``[0, top]``, else :class:`InvalidInput` naming ``name`` and the limit."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InvalidInput(f"{name}={value!r} must be a non-negative integer")
    if not 0 <= value <= top:
        raise InvalidInput(f"{name}={value!r} must be a non-negative integer of at most {top:,}{unit}")
    return int(value)


@dataclass(frozen=True)
class TrainConfig:
    r"""Everything that decides a run, and the run-only options of :data:`RUN_ONLY`.

    A resumed run is checked against every field except those of :data:`RUN_ONLY` (``steps``,
    ``time_budget``, ``checkpoint_every``, ``checkpoint_seconds``), which never change :math:`W(t)`.

    Parameters
    ----------
    method : TrainMethod
        ``gd``, ``ngd`` (:math:`W \leftarrow W - \eta \nabla L/\|\nabla L\|`) or ``regpath``.
    steps : int
        Number of steps, at most :data:`MAX_STEPS` (gd, ngd; default 1000).
    lr : float or None
        Step size :math:`\eta` (gd, ngd); ``None`` means :math:`1/\beta` for ``gd`` with the
        log-loss and 0.01 (the published value) for ``ngd``. Other losses need an explicit ``lr``.
    loss : Loss
        The loss (default: log-loss, identity readout; the path takes the log-loss only).
    init : Init
        ``zero`` (default) or ``gaussian`` (entries :math:`\mathcal N(0, \text{scale}^2)`) (gd, ngd).
    scale : float
        Standard deviation of a Gaussian :math:`W(0)` (``init="gaussian"`` only; default 1).
    seed : int
        Seed of a Gaussian :math:`W(0)` (``init="gaussian"`` only; default 0).
    radii : tuple of float
        Radii of the regularisation path (``regpath`` only, required; sorted ascending).
    records : int
        Log-spaced recorded steps per decade (gd, ngd; default 20, at most 1000); the recorded
        steps do not depend on ``steps``, so a run extended later records what one run would.
    time_budget : float or None
        Wall-clock seconds after which the run stops with ``TrainStatus.TIME_LIMIT``.
    checkpoint_every : int or None
        With a checkpoint: also save it every this many steps (gd, ngd).
    checkpoint_seconds : float or None
        With a checkpoint: save it at least every this many seconds (gd, ngd; default 30;
        0 saves only at the end and on interruption).

    >>> TrainConfig(method="ngd", steps=5).to_json()["method"]
    'ngd'
    >>> TrainConfig(scale=2.0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    symattn.errors.InvalidInput: scale=2.0 applies to init='gaussian' only (W(0) is zero here); ...
    """

    method: TrainMethod = TrainMethod.GD
    steps: int | None = None
    lr: float | None = None
    loss: Loss | None = None
    init: Init | None = None
    scale: float | None = None
    seed: int | None = None
    radii: tuple[float, ...] | None = None
    records: int | None = None
    time_budget: float | None = None
    checkpoint_every: int | None = None
    checkpoint_seconds: float | None = None

    def __post_init__(self) -> None:
        method = parse_enum(TrainMethod, self.method, "method")
        object.__setattr__(self, "method", method)
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name != "method" and value is not None and f.name not in _APPLIES[method]:
                fix = "use method='regpath'" if f.name == "radii" else "use method='gd' or 'ngd'"
                raise InvalidInput(
                    f"{f.name}={value!r} does not apply to method={method.value!r}: it sets "
                    f"{_PURPOSE[f.name]}; drop it or {fix}"
                )
        self._set("loss", parse_enum(Loss, Loss.LOG if self.loss is None else self.loss, "loss"))
        if self.time_budget is not None:
            self._set("time_budget", as_real(self.time_budget, "time_budget", allow_zero=True))
        if method is TrainMethod.REGPATH:
            self._check_path()
        else:
            self._check_gradient()

    def _set(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)

    def _check_path(self) -> None:
        radii = self.radii
        if radii is None or (
            isinstance(radii, Sequence | np.ndarray) and not isinstance(radii, str) and not len(radii)
        ):
            raise InvalidInput("the regularisation path needs radii, e.g. radii=(1, 10, 100)")
        if isinstance(radii, str) or not isinstance(radii, Sequence | np.ndarray):
            raise InvalidInput(f"radii={radii!r} must be a sequence of positive numbers, e.g. (1, 10, 100)")
        self._set("radii", tuple(sorted(as_real(r, "radii") for r in radii)))
        if self.loss is not Loss.LOG:
            raise InvalidInput(
                f"the regularisation path is the convex log-loss path; loss={self.loss.value!r} "  # type: ignore[union-attr]
                "is not convex (train it with gd or ngd)"
            )

    def _check_gradient(self) -> None:
        self._set("steps", _count("steps", DEFAULT_STEPS if self.steps is None else self.steps, MAX_STEPS))
        records = DEFAULT_RECORDS if self.records is None else self.records
        self._set("records", _count("records", records, MAX_RECORDS, " per decade"))
        if self.lr is not None:
            self._set("lr", as_real(self.lr, "lr"))
        init = parse_enum(Init, Init.ZERO if self.init is None else self.init, "init")
        self._set("init", init)
        if init is Init.ZERO:
            for name in ("scale", "seed"):
                if getattr(self, name) is not None:
                    raise InvalidInput(
                        f"{name}={getattr(self, name)!r} applies to init='gaussian' only (W(0) is zero "
                        "here); drop it or pass init='gaussian'"
                    )
        else:
            self._set("scale", as_real(1.0 if self.scale is None else self.scale, "scale", allow_zero=True))
            seed = 0 if self.seed is None else self.seed
            if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
                raise InvalidInput(f"seed={seed!r} must be a non-negative integer")
            self._set("seed", int(seed))
        if self.checkpoint_every is not None:
            self._set("checkpoint_every", _count("checkpoint_every", self.checkpoint_every, MAX_STEPS))
        if self.checkpoint_seconds is not None:
            self._set(
                "checkpoint_seconds", as_real(self.checkpoint_seconds, "checkpoint_seconds", allow_zero=True)
            )

    def lr_value(self, dataset: Dataset | None) -> float:
        """The step size used: ``lr``, or the method's default (needs the dataset for ``gd``).

        >>> from symattn.examples import load_example
        >>> TrainConfig().lr_value(load_example()), TrainConfig(lr=0.3).lr_value(None)
        (2.0, 0.3)
        """
        if self.method is TrainMethod.REGPATH:
            raise InvalidInput("the regularisation path has no step size")
        if self.lr is not None:
            return float(self.lr)
        if self.method is TrainMethod.NGD:
            return NGD_DEFAULT_LR
        if self.loss is not Loss.LOG:
            raise InvalidInput(
                f"gradient descent on loss={self.loss.value!r} needs an explicit lr; the default "  # type: ignore[union-attr]
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
        """A JSON-ready dict of the options that apply to the method (enums as their values).

        >>> TrainConfig(method="regpath", radii=(10, 1)).to_json()
        {'method': 'regpath', 'loss': 'log', 'radii': [1.0, 10.0], 'time_budget': None}
        """
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name == "method" or f.name in _APPLIES[self.method]:
                value = getattr(self, f.name)
                out[f.name] = value.value if isinstance(value, enum.Enum) else value
        if "radii" in out:
            out["radii"] = list(self.radii or ())
        return out

    @classmethod
    def from_json(cls, obj: object) -> TrainConfig:
        """The configuration :meth:`to_json` wrote (``None`` entries are the defaults).

        >>> TrainConfig.from_json(TrainConfig(method="ngd", steps=7).to_json()).steps
        7
        """
        if not isinstance(obj, dict) or not all(isinstance(k, str) for k in obj):
            raise InvalidInput(f"a training configuration must be a JSON object, got {str(obj)[:80]!r}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(obj) - names)
        if unknown:
            raise InvalidInput(f"unknown training option(s) {unknown}; the options are {sorted(names)}")
        given = {k: v for k, v in obj.items() if v is not None}
        if isinstance(given.get("radii"), list):
            given["radii"] = tuple(given["radii"])
        return cls(**given)
