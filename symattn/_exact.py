"""Private: exact (rational) arrays and exact linear algebra, written once.

NumPy holds :class:`fractions.Fraction` values in object arrays. Building such an array from a
list needs care (``np.array`` of an empty list or of sequences guesses another shape or dtype),
so every exact array of the package is made here. Exact linear algebra (rank, row reduction)
runs in python-flint's ``fmpq_mat``; results come back as Fractions.

>>> object_array([Fraction(1, 2), Fraction(-1, 3)]).tolist()
[Fraction(1, 2), Fraction(-1, 3)]
>>> exact_rank([[Fraction(1), Fraction(2)], [Fraction(2), Fraction(4)]])
1
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction

import flint
import numpy as np

__all__ = [
    "exact_dot",
    "exact_pullback",
    "exact_rank",
    "fmpq_matrix",
    "object_array",
    "object_zeros",
    "pivot_columns",
    "to_fraction",
    "zeros",
]


def object_array(values: Iterable[object]) -> np.ndarray:
    """A one-dimensional object array holding ``values`` as they are (no shape guessing).

    >>> object_array([]).shape, object_array([Fraction(2)]).dtype
    ((0,), dtype('O'))
    """
    items = list(values)
    return np.fromiter(items, dtype=object, count=len(items))


def object_zeros(size: int) -> np.ndarray:
    """``size`` exact zeros (``Fraction(0)``) in an object array.

    >>> object_zeros(2).tolist()
    [Fraction(0, 1), Fraction(0, 1)]
    """
    return np.full(size, Fraction(0), dtype=object)


def zeros(size: int, exact: bool) -> np.ndarray:
    """``size`` zeros: exact (:func:`object_zeros`) or float64.

    >>> zeros(1, False).dtype, zeros(1, True).dtype
    (dtype('float64'), dtype('O'))
    """
    return object_zeros(size) if exact else np.zeros(size)


def exact_dot(a: Iterable[Fraction], b: Iterable[Fraction]) -> Fraction:
    """:math:`\\sum_i a_i b_i` in exact arithmetic (``Fraction(0)`` for empty sequences).

    >>> exact_dot([Fraction(1, 2), Fraction(1)], [Fraction(2), Fraction(-1, 3)])
    Fraction(2, 3)
    """
    return sum((x * y for x, y in zip(a, b, strict=True)), Fraction(0))


def exact_pullback(
    coef: Mapping[tuple[int, int], Fraction], rows: Sequence[Sequence[Fraction]]
) -> dict[tuple[int, int], Fraction]:
    r"""Exactly :math:`E^\top T E` for the sparse token matrix :math:`T` given as ``{(t, k): value}``.

    Entry :math:`(r, c)` is :math:`\sum_{(t, k)} T_{tk} E_{tr} E_{kc}`; zero entries are dropped.
    The exact twin of :func:`symattn.scores.pullback`.

    >>> exact_pullback({(0, 1): Fraction(1, 2)}, [[Fraction(1), Fraction(1)], [Fraction(0), Fraction(2)]])
    {(0, 1): Fraction(1, 1), (1, 1): Fraction(1, 1)}
    """
    combined: dict[tuple[int, int], Fraction] = {}
    for (t, k), value in coef.items():
        if value == 0:
            continue
        for r, er in enumerate(rows[t]):
            if er == 0:
                continue
            for c, ek in enumerate(rows[k]):
                if ek != 0:
                    combined[(r, c)] = combined.get((r, c), Fraction(0)) + value * er * ek
    return {key: v for key, v in combined.items() if v != 0}


def to_fraction(value: flint.fmpq) -> Fraction:
    """A python-flint rational as a :class:`fractions.Fraction`.

    >>> to_fraction(flint.fmpq(-2, 3))
    Fraction(-2, 3)
    """
    return Fraction(int(value.p), int(value.q))


def fmpq_matrix(rows: Sequence[Sequence[Fraction]], ncols: int) -> flint.fmpq_mat:
    """The rows (Fractions) as a python-flint rational matrix with ``ncols`` columns.

    >>> fmpq_matrix([[Fraction(1, 2), Fraction(3)]], 2).ncols()
    2
    """
    flat = [flint.fmpq(v.numerator, v.denominator) for row in rows for v in row]
    return flint.fmpq_mat(len(rows), ncols, flat)


def pivot_columns(reduced: flint.fmpq_mat, rank: int) -> list[int]:
    """The pivot column of each of the first ``rank`` rows of a reduced row echelon form.

    >>> reduced, rank = fmpq_matrix([[Fraction(0), Fraction(2)]], 2).rref()
    >>> pivot_columns(reduced, rank)
    [1]
    """
    pivots = []
    for r in range(rank):
        for c in range(reduced.ncols()):
            if reduced[r, c] != 0:
                pivots.append(c)
                break
    return pivots


def exact_rank(rows: Sequence[Sequence[Fraction]]) -> int:
    """The rank of a matrix of Fractions, exactly (row reduction over the rationals).

    >>> exact_rank([]), exact_rank([[Fraction(0)]])
    (0, 0)
    """
    if not rows or not rows[0]:
        return 0
    return int(fmpq_matrix(rows, len(rows[0])).rref()[1])
