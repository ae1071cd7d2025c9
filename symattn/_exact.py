"""Private: exact (rational) arrays and small exact helpers, written once.

NumPy holds :class:`fractions.Fraction` values in object arrays. Building such an array from a
list needs care (``np.array`` of an empty list or of sequences guesses another shape or dtype),
so every exact array of the package is made here.

>>> object_array([Fraction(1, 2), Fraction(-1, 3)]).tolist()
[Fraction(1, 2), Fraction(-1, 3)]
>>> object_zeros(2).tolist()
[Fraction(0, 1), Fraction(0, 1)]
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

import numpy as np

__all__ = ["object_array", "object_zeros"]


def object_array(values: Iterable[object]) -> np.ndarray:
    """A one-dimensional object array holding ``values`` as they are (no shape guessing).

    >>> object_array([]).shape, object_array([Fraction(2)]).dtype
    ((0,), dtype('O'))
    """
    items = list(values)
    return np.fromiter(items, dtype=object, count=len(items))


def object_zeros(size: int) -> np.ndarray:
    """``size`` exact zeros (``Fraction(0)``) in an object array.

    >>> object_zeros(0).shape
    (0,)
    """
    return np.full(size, Fraction(0), dtype=object)
