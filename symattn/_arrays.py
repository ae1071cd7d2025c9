"""Private array helpers shared across modules.

``np.unique`` without extra outputs hashes in numpy 2.x, which for int64 keys of a wide range
is tens of times slower than sorting (0.5 s against 0.01 s for 640,000 keys); the key arrays
of the graphs and the graph-SVM are such keys.

>>> unique_sorted(np.array([5, 1, 5, 3])).tolist()
[1, 3, 5]
"""

from __future__ import annotations

import numpy as np

__all__ = ["as_real_array", "unique_sorted"]


def unique_sorted(values: np.ndarray) -> np.ndarray:
    """The distinct values, ascending (the same as ``np.unique(values)``), by one sort."""
    ordered = np.sort(np.asarray(values), kind="stable")
    if ordered.size == 0:
        return ordered
    keep = np.empty(ordered.size, dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def as_real_array(value: object, name: str) -> tuple[np.ndarray, np.dtype]:
    """``value`` as a float64 array, with the dtype its numbers came in; torch tensors included.

    Tensors (anything with ``detach``) are detached and moved to the CPU first, so tensors that
    require grad are accepted; arrays of Python numbers or Fractions are read entry by entry.
    Complex, boolean, string and object values are refused with :class:`InvalidInput`.

    >>> array, dtype = as_real_array(np.eye(2, dtype=np.float32), "W")
    >>> array.dtype, dtype
    (dtype('float64'), dtype('float32'))
    >>> as_real_array([[1, 2]], "W")[1]
    dtype('int64')
    """
    from symattn.errors import InvalidInput

    kind = type(value).__name__
    try:
        detach = getattr(value, "detach", None)
        if callable(detach):
            value = detach()
            cpu = getattr(value, "cpu", None)
            if callable(cpu):
                value = cpu()
        array = np.asarray(value)
        if array.dtype == object:
            array = np.array([_real_entry(v, name) for v in array.ravel()]).reshape(array.shape)
    except (TypeError, ValueError, RuntimeError, AttributeError) as exc:
        raise InvalidInput(
            f"{name} of type {kind} cannot be read as a real matrix ({exc}); pass a NumPy array, "
            "e.g. W.detach().cpu().double().numpy() for a torch tensor"
        ) from None
    if array.dtype.kind not in "fiu":
        raise InvalidInput(
            f"{name} of type {kind} has dtype {array.dtype}; it must hold real numbers "
            "(float64, float32 or integers)"
        )
    return array.astype(np.float64), array.dtype


def _real_entry(value: object, name: str) -> float:
    from fractions import Fraction

    if isinstance(value, bool) or not isinstance(value, int | float | Fraction | np.integer | np.floating):
        raise TypeError(f"entry {value!r} of {name} is not a real number")
    return float(value)
