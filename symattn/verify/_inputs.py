"""Reading values returned by other implementations: arrays, tensors, floats."""

from __future__ import annotations

import math

import numpy as np

from symattn.errors import InvalidInput

__all__ = ["as_float_array", "json_float"]


def as_float_array(value: object, what: str) -> np.ndarray:
    """``value`` as a real NumPy array, keeping its dtype (tensors are detached and moved to the CPU).

    Anything :func:`numpy.asarray` reads is accepted, and objects with a ``detach`` method (PyTorch
    tensors, also ones that require grad) are detached first; complex, boolean and object values are
    refused with :class:`~symattn.errors.InvalidInput` naming ``what``.

    >>> as_float_array([[1, 2]], "W").dtype, as_float_array(np.float32(0.5), "loss").dtype
    (dtype('int64'), dtype('float32'))
    >>> as_float_array("x", "the loss")
    Traceback (most recent call last):
    ...
    symattn.errors.InvalidInput: the loss has dtype <U1; pass real floating-point values
    """
    detach = getattr(value, "detach", None)
    if callable(detach):
        value = detach()
        cpu = getattr(value, "cpu", None)
        value = cpu() if callable(cpu) else value
    try:
        array = np.asarray(value)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise InvalidInput(f"{what} cannot be read as an array: {exc}") from None
    if array.dtype.kind not in "fiu":
        raise InvalidInput(f"{what} has dtype {array.dtype}; pass real floating-point values")
    return array


def json_float(value: float) -> float | None:
    """``value`` as a JSON number, ``None`` when it is not finite (JSON has no inf or NaN).

    >>> json_float(float("-inf")), json_float(2)
    (None, 2.0)
    """
    return float(value) if math.isfinite(value) else None
