r"""Lambdified SymPy forms of the model of a small exact dataset: NumPy oracles for the numeric code.

>>> ds = Dataset.from_samples([([0, 1], 1)], vocab=2)
>>> round(numeric_model(ds, hessian=False).loss(np.zeros((2, 2))), 6)
0.693147
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy as sp

from symattn.data import Dataset
from symattn.errors import InvalidInput
from symattn.model import Loss
from symattn.symbolic._common import check_dim
from symattn.symbolic.model import dataset_loss, exact_embeddings, matrix_gradient, token_mass, weight_matrix

__all__ = ["NumericModel", "numeric_model"]


@dataclass(frozen=True, eq=False)
class NumericModel:
    r"""``lambdify``-ed SymPy forms of the model of one dataset, for use as NumPy oracles.

    Each callable takes a float ``(d, d)`` array ``W``.

    Attributes
    ----------
    loss : callable
        :math:`L(W)`, a float.
    gradient : callable
        :math:`\nabla L(W)`, shape ``(d, d)``.
    hessian : callable
        :math:`\nabla^2 L(W)` in the row-major vectorisation, shape ``(d*d, d*d)``.
    log_token_mass : callable
        :math:`\log \pi_j` per (sample, distinct token) entry of ``dataset.counts``, shape ``(nnz,)``,
        summed over positions (not compressed).
    """

    dim: int
    loss: Callable[[np.ndarray], float]
    gradient: Callable[[np.ndarray], np.ndarray]
    hessian: Callable[[np.ndarray], np.ndarray]
    log_token_mass: Callable[[np.ndarray], np.ndarray]


def numeric_model(dataset: Dataset, *, hessian: bool = True, loss: Loss | str = Loss.LOG) -> NumericModel:
    r"""Lambdify the symbolic loss, gradient, Hessian and token masses of a small exact dataset.

    ``loss`` chooses the loss as in :func:`dataset_loss` (default: the log-loss with the
    identity head). Sizes grow as :math:`d^4` for the Hessian: meant for
    :math:`d \le 6` or so. With ``hessian=False`` the Hessian is not built and calling it raises.

    >>> ds = Dataset.from_samples([([0, 1, 1], 1)], vocab=2)
    >>> model = numeric_model(ds)
    >>> round(model.loss(np.zeros((2, 2))), 6) == round(float(np.log(1.5)), 6)
    True
    >>> model.gradient(np.zeros((2, 2))).round(4).tolist()
    [[0.0, 0.3333], [0.0, -0.3333]]
    """
    E = exact_embeddings(dataset.embeddings)
    d = E.cols
    check_dim("d", d)
    W = weight_matrix(d)
    flat = list(W)
    expr = dataset_loss(dataset, W, loss=loss)
    grad = matrix_gradient(expr, W)
    loss_f = sp.lambdify([flat], expr, modules="numpy", cse=True)
    grad_f = sp.lambdify([flat], grad, modules="numpy", cse=True)
    if hessian:
        hess_f = sp.lambdify([flat], sp.Matrix(d * d, d * d, lambda r, c: sp.diff(grad[r], flat[c])),
                             modules="numpy", cse=True)
    masses: list[sp.Expr] = []
    for sample in dataset:
        masses.extend(sp.log(m) for m in token_mass(W, E, sample.tokens).values())
    mass_f = sp.lambdify([flat], masses, modules="numpy", cse=True)

    def _flat(value: np.ndarray) -> list[float]:
        array = np.asarray(value, dtype=np.float64)
        if array.shape != (d, d):
            raise InvalidInput(f"W has shape {array.shape}; expected ({d}, {d})")
        return array.ravel().tolist()

    def hessian_f(value: np.ndarray) -> np.ndarray:
        if not hessian:
            raise InvalidInput("this NumericModel was built with hessian=False; rebuild it with hessian=True")
        return np.asarray(hess_f(_flat(value)), dtype=np.float64)

    return NumericModel(
        d,
        lambda value: float(loss_f(_flat(value))),
        lambda value: np.asarray(grad_f(_flat(value)), dtype=np.float64),
        hessian_f,
        lambda value: np.asarray(mass_f(_flat(value)), dtype=np.float64),
    )
