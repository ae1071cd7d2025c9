r"""Pure trainers: ``init(W0)`` gives a state, ``step(state)`` the next one; nothing else changes.

Gradient descent moves by :math:`-\eta\,u` where the update :math:`u` is the gradient passed
through a chain of *transforms* (optax style). Normalised gradient descent is gradient descent
followed by the :func:`normalize` transform, :math:`u = \nabla L / \|\nabla L\|_F`, not a
second trainer; both share one ``init``.

Step size (docs/theory.md §2): the log-loss Hessian is :math:`\frac1n\sum_i A_i^\top(\operatorname{diag}\pi
- \pi\pi^\top) A_i \preceq \beta I` with :math:`\beta` from :func:`~symattn.model.smoothness_bound`
(:math:`\beta = 1/2` for one-hot or orthonormal embeddings); the default step of gradient descent
is :math:`1/\beta`, which decreases the loss at every step.

>>> from symattn.data import Dataset
>>> gd = GradientDescent(Model(Dataset.from_samples([([0, 1], 1)], vocab=2)), lr=2.0)
>>> gd.step(gd.init(np.zeros((2, 2)))).W[:, 1].tolist()
[-1.0, 1.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from symattn._validate import parse_enum
from symattn.embeddings import SeedLike, as_generator
from symattn.errors import InvalidInput
from symattn.model import Model
from symattn.scores import check_weights
from symattn.train.config import Init

__all__ = [
    "GradientDescent",
    "NormalizedGradientDescent",
    "TrainState",
    "Trainer",
    "Transform",
    "initial_weights",
    "normalize",
]

Transform = Callable[[np.ndarray], np.ndarray]
"""An update transform: the update (d, d) in, a new update out (never modified in place)."""


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


def normalize(update: np.ndarray) -> np.ndarray:
    r"""The update divided by its Frobenius norm, :math:`u/\|u\|_F`; a zero update stays zero.

    Marked ``scale_invariant``: as a first transform it needs only the gradient's direction, so
    :meth:`GradientDescent.raw_update` hands it that (exact where the gradient underflows).

    >>> normalize(np.array([[3.0, 4.0]])).tolist(), normalize(np.zeros((1, 2))).tolist()
    ([[0.6, 0.8]], [[0.0, 0.0]])
    """
    norm = float(np.linalg.norm(update))
    return update if norm == 0.0 else update / norm


normalize.scale_invariant = True  # type: ignore[attr-defined]


@dataclass(frozen=True)
class GradientDescent:
    r"""Gradient descent :math:`W \leftarrow W - \eta\,u`, :math:`u` the gradient after ``transforms``.

    >>> from symattn.data import Dataset
    >>> gd = GradientDescent(Model(Dataset.from_samples([([0, 1], 1)], vocab=2)), lr=2.0)
    >>> gd.step(gd.init(np.zeros((2, 2)))).W[:, 1].tolist()
    [-1.0, 1.0]
    """

    model: Model
    lr: float
    transforms: tuple[Transform, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.model, Model):
            raise InvalidInput(f"model={self.model!r} must be a symattn Model")
        lr = self.lr
        if (
            isinstance(lr, bool)
            or not isinstance(lr, int | float | np.integer | np.floating)
            or not (math.isfinite(lr) and lr > 0)
        ):
            raise InvalidInput(f"lr={lr!r} must be a positive finite number")

    def init(self, W0: np.ndarray) -> TrainState:
        """The state at step 0 (a private copy of ``W0``).

        >>> from symattn.data import Dataset
        >>> W0 = np.ones((2, 2))
        >>> GradientDescent(Model(Dataset.from_samples([([0, 1], 1)], vocab=2)), lr=1.0).init(W0).W is W0
        False
        """
        return TrainState(check_weights(W0, self.model.dim, name="W0").copy(), 0)

    def raw_update(self, W: np.ndarray) -> np.ndarray:
        """The update before the transforms: the gradient :math:`\\nabla L(W)`, or only its direction
        (:meth:`Model.gradient_direction`, exact where the gradient itself underflows; docs/theory.md
        §9) when the first transform is scale invariant, as :func:`normalize` is.

        >>> from symattn.data import Dataset
        >>> GradientDescent(Model(Dataset.from_samples([([0, 1], 1)], vocab=2)), lr=1.0).raw_update(
        ...     np.zeros((2, 2)))[:, 1].tolist()
        [0.5, -0.5]
        """
        if self.transforms and getattr(self.transforms[0], "scale_invariant", False):
            return self.model.gradient_direction(W)
        return self.model.gradient(W)

    def step(self, state: TrainState) -> TrainState:
        """One step from ``state`` (which is left as it is).

        >>> from symattn.data import Dataset
        >>> gd = GradientDescent(Model(Dataset.from_samples([([0, 1], 1)], vocab=2)), lr=2.0)
        >>> gd.step(TrainState(np.zeros((2, 2)), 7)).step
        8
        """
        update = self.raw_update(state.W)
        for transform in self.transforms:
            update = transform(update)
        return TrainState(state.W - self.lr * update, state.step + 1)


@dataclass(frozen=True)
class NormalizedGradientDescent(GradientDescent):
    r"""Normalised gradient descent :math:`W \leftarrow W - \eta \nabla L/\|\nabla L\|_F`: gradient
    descent followed by :func:`normalize`. A zero gradient leaves :math:`W` where it is.

    >>> from symattn.data import Dataset
    >>> ngd = NormalizedGradientDescent(Model(Dataset.from_samples([([0, 1], 1)], vocab=2)), lr=1.0)
    >>> round(float(np.linalg.norm(ngd.step(ngd.init(np.zeros((2, 2)))).W)), 12)
    1.0
    """

    transforms: tuple[Transform, ...] = field(default=(normalize,), init=False)


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
