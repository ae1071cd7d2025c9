"""Private: helpers shared by the symbolic modules (inner product, size and token guards)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import sympy as sp

from symattn.errors import InvalidInput

__all__ = ["MAX_SYMBOLIC_DIM", "check_dim", "check_tokens", "inner"]

MAX_SYMBOLIC_DIM = 12
"""Largest vocabulary or embedding dimension accepted for symbolic work."""


def inner(A: sp.Matrix, B: sp.Matrix) -> sp.Expr:
    """The Frobenius inner product :math:`\\langle A, B\\rangle_F` of two SymPy matrices.

    >>> inner(sp.Matrix([[1, 2]]), sp.Matrix([[3, 4]]))
    11
    """
    return sum((a * b for a, b in zip(A, B, strict=True)), sp.S.Zero)


def check_dim(name: str, value: int) -> None:
    """Refuse a size that is not a positive integer or too large for symbolic work."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise InvalidInput(f"{name}={value!r} must be a positive integer")
    if value > MAX_SYMBOLIC_DIM:
        raise InvalidInput(
            f"{name}={value} is too large for symbolic work (at most {MAX_SYMBOLIC_DIM}); "
            "use the numeric model for larger instances"
        )


def check_tokens(tokens: Sequence[int], K: int) -> list[int]:
    """The tokens as ints, refusing an empty sequence and ids outside ``0..K-1``."""
    out = [int(t) for t in tokens]
    if not out:
        raise InvalidInput("a sequence needs at least one token (its query)")
    bad = [t for t in out if not 0 <= t < K]
    if bad:
        raise InvalidInput(f"token {bad[0]} is out of range for K={K} embedding rows (ids 0..{K - 1})")
    return out
