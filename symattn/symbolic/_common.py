"""Private: helpers shared by the symbolic modules (the inner product and the size limit)."""

from __future__ import annotations

import sympy as sp

from symattn._validate import as_count
from symattn.errors import InvalidInput

__all__ = ["MAX_SYMBOLIC_DIM", "check_dim", "inner"]

MAX_SYMBOLIC_DIM = 12
"""Largest vocabulary or embedding dimension accepted for symbolic work."""


def inner(A: sp.Matrix, B: sp.Matrix) -> sp.Expr:
    """The Frobenius inner product :math:`\\langle A, B\\rangle_F` of two SymPy matrices.

    >>> inner(sp.Matrix([[1, 2]]), sp.Matrix([[3, 4]]))
    11
    """
    return sum((a * b for a, b in zip(A, B, strict=True)), sp.S.Zero)


def check_dim(name: str, value: int) -> int:
    """``value`` as a positive integer no larger than :data:`MAX_SYMBOLIC_DIM`.

    >>> check_dim("d", 3)
    3
    """
    value = as_count(value, name)
    if value > MAX_SYMBOLIC_DIM:
        raise InvalidInput(
            f"{name}={value} is too large for symbolic work (at most {MAX_SYMBOLIC_DIM}); "
            "use the numeric model for larger instances"
        )
    return value
