r"""Token embeddings: the rows :math:`e_j` of :math:`E \in \mathbb{R}^{K \times d}`.

One-hot embeddings (:math:`E = I_K`, the default) keep every quantity of the theory an
integer or a rational, so exact certificates apply. The other kinds are built with an
explicit seed where they are random.

>>> E = Embeddings.onehot(3)
>>> E.matrix()
array([[1., 0., 0.],
       [0., 1., 0.],
       [0., 0., 1.]])
>>> E.is_independent, E.is_orthonormal
(True, True)
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property

import numpy as np

from symattn._exact import exact_dot, exact_rank
from symattn._validate import as_count
from symattn.errors import InvalidInput

__all__ = ["MAX_ROW_SCALE", "MIN_ROW_SCALE", "EmbeddingKind", "Embeddings", "SeedLike", "as_generator"]

SeedLike = int | np.random.Generator | None

_ORTHO_TOL = 1e-12

MAX_ROW_SCALE = 2.0**200
r"""Largest accepted :math:`\max_c |E_{jc}|` of a row (about 1.6e60).

The theory is invariant under :math:`E \to cE` (docs/theory.md §2, scale), but float64 is not: Gram
products of four rows (the Hessian in :math:`W`, the norm metric of the path) scale like
:math:`c^4` and must stay finite, and :math:`W^{svm} \propto c^{-2}` must stay normal."""

MIN_ROW_SCALE = 2.0**-200
"""Smallest accepted largest entry of a non-zero row (about 6.2e-61); zero rows are allowed."""


def as_generator(seed: SeedLike) -> np.random.Generator:
    """Return a NumPy generator for ``seed`` (an int, a generator, or ``None`` for fresh entropy).

    >>> int(as_generator(0).integers(10)) == int(as_generator(0).integers(10))
    True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, int | np.integer) and not isinstance(seed, bool) and seed >= 0:
        return np.random.default_rng(int(seed))
    raise InvalidInput(f"seed={seed!r} must be a non-negative integer, a numpy Generator or None")


class EmbeddingKind(enum.Enum):
    """How the embedding rows were made; decides which exact shortcuts apply."""

    ONEHOT = "onehot"
    ORTHONORMAL = "orthonormal"
    RANDOM_UNIT = "random_unit"
    EQUICORRELATED = "equicorrelated"
    GIVEN = "given"


@dataclass(frozen=True, eq=False)
class Embeddings:
    r"""Embedding rows of ``size`` tokens in dimension ``dim``.

    Parameters
    ----------
    kind : EmbeddingKind
        How the rows were made.
    size : int
        Number of tokens :math:`K`.
    dim : int
        Embedding dimension :math:`d`.
    rows : numpy.ndarray or None
        The :math:`K \times d` float64 matrix, ``None`` for one-hot (built on demand by
        :meth:`matrix`, so a one-hot vocabulary of any size costs nothing).
    exact : tuple of tuple of Fraction or None
        The same rows as exact rationals when they are known exactly (given as integers or
        strings like ``"1/3"``); used by certificates.

    Use the constructors :meth:`onehot`, :meth:`orthonormal`, :meth:`random_unit`,
    :meth:`equicorrelated` and :meth:`given` rather than the fields.
    """

    kind: EmbeddingKind
    size: int
    dim: int
    rows: np.ndarray | None = field(default=None, repr=False)
    exact: tuple[tuple[Fraction, ...], ...] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        as_count(self.size, "size")
        as_count(self.dim, "dim")
        if self.kind is EmbeddingKind.ONEHOT:
            if self.rows is not None or self.dim != self.size:
                raise InvalidInput("one-hot embeddings have dim == size and no stored rows")
            return
        if self.rows is None:
            raise InvalidInput(f"{self.kind.value} embeddings need their rows")
        rows = np.array(self.rows, dtype=np.float64)
        if rows.shape != (self.size, self.dim):
            raise InvalidInput(
                f"embedding rows have shape {rows.shape}, expected (K, d) = ({self.size}, {self.dim})"
            )
        bad = np.argwhere(~np.isfinite(rows))
        if bad.size:
            r, c = bad[0]
            raise InvalidInput(
                f"embedding row {r} column {c} is {rows[r, c]}: embeddings must be finite numbers"
            )
        _check_row_scales(rows)
        rows.setflags(write=False)
        object.__setattr__(self, "rows", rows)

    # -- constructors -------------------------------------------------------------------
    @classmethod
    def onehot(cls, size: int) -> Embeddings:
        """One-hot rows :math:`E = I_K` (exact).

        >>> Embeddings.onehot(2).matrix().tolist()
        [[1.0, 0.0], [0.0, 1.0]]
        """
        size = as_count(size, "K")
        return cls(EmbeddingKind.ONEHOT, size, size)

    @classmethod
    def orthonormal(cls, size: int, dim: int | None = None, *, seed: SeedLike = None) -> Embeddings:
        r"""Random orthonormal rows (:math:`E E^\top = I_K`, needs :math:`K \le d`).

        >>> E = Embeddings.orthonormal(3, 5, seed=0)
        >>> bool(np.allclose(E.matrix() @ E.matrix().T, np.eye(3)))
        True
        """
        size = as_count(size, "K")
        dim = size if dim is None else as_count(dim, "d")
        if size > dim:
            raise InvalidInput(f"orthonormal embeddings need K <= d, got K={size}, d={dim}")
        gauss = as_generator(seed).standard_normal((dim, size))
        q, r = np.linalg.qr(gauss)
        q = q * np.sign(np.diag(r))
        return cls(EmbeddingKind.ORTHONORMAL, size, dim, rows=q.T)

    @classmethod
    def random_unit(cls, size: int, dim: int, *, seed: SeedLike = None) -> Embeddings:
        """Independent Gaussian rows scaled to unit norm (the published experiment's kind).

        >>> E = Embeddings.random_unit(6, 8, seed=1)
        >>> bool(np.allclose(np.linalg.norm(E.matrix(), axis=1), 1.0))
        True
        """
        size = as_count(size, "K")
        dim = as_count(dim, "d")
        gauss = as_generator(seed).standard_normal((size, dim))
        return cls(EmbeddingKind.RANDOM_UNIT, size, dim, rows=gauss / np.linalg.norm(gauss, axis=1)[:, None])

    @classmethod
    def equicorrelated(cls, size: int, rho: float) -> Embeddings:
        r"""Unit rows with :math:`e_i^\top e_j = \rho` for :math:`i \ne j`, in dimension :math:`K`.

        Needs :math:`-1/(K-1) < \rho < 1` for independent rows.

        >>> E = Embeddings.equicorrelated(3, 0.5)
        >>> bool(np.allclose(E.gram(), [[1, .5, .5], [.5, 1, .5], [.5, .5, 1]]))
        True
        """
        size = as_count(size, "K")
        if isinstance(rho, bool) or not isinstance(rho, int | float | np.integer | np.floating):
            raise InvalidInput(f"rho={rho!r} must be a real number in (-1/(K-1), 1)")
        rho = float(rho)
        low = -1.0 / (size - 1) if size > 1 else -np.inf
        if not (low < rho < 1.0):
            raise InvalidInput(f"rho={rho} must lie in ({low}, 1) for K={size}")
        gram = (1.0 - rho) * np.eye(size) + rho * np.ones((size, size))
        return cls(EmbeddingKind.EQUICORRELATED, size, size, rows=np.linalg.cholesky(gram))

    @classmethod
    def given(cls, rows: Sequence[Sequence[object]] | np.ndarray) -> Embeddings:
        """Rows given by the caller: floats, or exact entries (ints, Fractions, strings ``"1/3"``).

        >>> E = Embeddings.given([["1", "0"], ["1/2", "1/2"]])
        >>> E.exact[1][0]
        Fraction(1, 2)
        >>> E.is_independent
        True
        """
        if isinstance(rows, np.ndarray):
            try:
                array = np.array(rows, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise InvalidInput(f"embedding rows of dtype {rows.dtype} are not numbers: {exc}") from None
            if array.ndim != 2:
                raise InvalidInput(f"embedding rows must be a 2-D array, got shape {array.shape}")
            exact = None
            if np.all(np.isfinite(array)) and np.all(array == np.round(array)):
                exact = tuple(tuple(Fraction(int(v)) for v in row) for row in array)
            return cls(EmbeddingKind.GIVEN, array.shape[0], array.shape[1], rows=array, exact=exact)
        if isinstance(rows, str | bytes) or not isinstance(rows, Iterable):
            raise InvalidInput(
                f"embedding rows {rows!r} must be a list of rows (lists of numbers) or a 2-D array"
            )
        table = []
        for r, row in enumerate(rows):
            if isinstance(row, str | bytes) or not isinstance(row, Iterable):
                raise InvalidInput(f"embedding row {r} is {row!r}; each row must be a list of numbers")
            table.append(list(row))
        if not table or not table[0]:
            raise InvalidInput("embedding rows must be a non-empty list of non-empty lists")
        width = len(table[0])
        exact_rows: list[tuple[Fraction, ...]] = []
        all_exact = True
        floats = np.empty((len(table), width))
        for r, row in enumerate(table):
            if len(row) != width:
                raise InvalidInput(f"embedding row {r} has {len(row)} entries, row 0 has {width}")
            exact_row = []
            for c, value in enumerate(row):
                number = parse_number(value, where=f"embedding row {r} column {c}")
                if isinstance(number, Fraction):
                    exact_row.append(number)
                    floats[r, c] = float(number)
                else:
                    all_exact = False
                    floats[r, c] = number
            exact_rows.append(tuple(exact_row))
        return cls(
            EmbeddingKind.GIVEN, len(table), width, rows=floats,
            exact=tuple(exact_rows) if all_exact else None,
        )

    # -- views --------------------------------------------------------------------------
    @property
    def is_onehot(self) -> bool:
        """True for :math:`E = I_K`, where token and embedding coordinates coincide.

        >>> Embeddings.onehot(2).is_onehot, Embeddings.equicorrelated(2, 0.5).is_onehot
        (True, False)
        """
        return self.kind is EmbeddingKind.ONEHOT

    @property
    def is_exact(self) -> bool:
        """True when every row is known as exact rationals (one-hot, or exact given rows).

        >>> Embeddings.given([[1, 2], [0, 1]]).is_exact, Embeddings.given([[0.5, 0.1], [0, 1]]).is_exact
        (True, False)
        """
        return self.is_onehot or self.exact is not None

    def matrix(self) -> np.ndarray:
        """The :math:`K \\times d` float64 matrix (a fresh identity for one-hot).

        >>> Embeddings.given([[1, 2], [0, 1]]).matrix().tolist()
        [[1.0, 2.0], [0.0, 1.0]]
        """
        if self.rows is None:
            return np.eye(self.size)
        return self.rows

    def gram(self) -> np.ndarray:
        r"""The Gram matrix :math:`G = E E^\top` (:math:`K \times K`).

        >>> Embeddings.given([[1, 2], [0, 1]]).gram().tolist()
        [[5.0, 2.0], [2.0, 1.0]]
        """
        matrix = self.matrix()
        return matrix @ matrix.T

    def exact_matrix(self) -> tuple[tuple[Fraction, ...], ...]:
        """The rows as exact rationals; raises :class:`InvalidInput` when they are not exact.

        >>> Embeddings.given([['1/2', 0]]).exact_matrix()
        ((Fraction(1, 2), Fraction(0, 1)),)
        """
        if self.is_onehot:
            return tuple(
                tuple(Fraction(int(i == j)) for j in range(self.size)) for i in range(self.size)
            )
        if self.exact is None:
            raise InvalidInput(
                f"{self.kind.value} embeddings are floating point; exact results need one-hot "
                "embeddings or rows given as integers or strings like '1/3'"
            )
        return self.exact

    @cached_property
    def rank(self) -> int:
        """Rank of :math:`E` (exact when the rows are exact, else numpy's SVD rank).

        >>> Embeddings.given([[1, 2], [2, 4]]).rank
        1
        """
        if self.is_onehot:
            return self.size
        if self.exact is not None:
            return exact_rank(self.exact)
        return int(np.linalg.matrix_rank(self.matrix()))

    @property
    def is_independent(self) -> bool:
        """True when the rows are linearly independent (rank K): the graph-SVM is then feasible.

        >>> Embeddings.given([[1, 2], [2, 4]]).is_independent, Embeddings.onehot(3).is_independent
        (False, True)
        """
        return self.rank == self.size

    @cached_property
    def is_orthonormal(self) -> bool:
        r"""True when :math:`E E^\top = I_K` (to 1e-12; exactly for exact rows).

        >>> Embeddings.orthonormal(2, 3, seed=0).is_orthonormal
        True
        >>> Embeddings.equicorrelated(2, 0.5).is_orthonormal
        False
        """
        decided = self._decided_orthogonality(unit=True)
        if decided is not None:
            return decided
        return bool(np.max(np.abs(self.gram() - np.eye(self.size))) <= _ORTHO_TOL)

    @cached_property
    def is_orthogonal(self) -> bool:
        r"""True when distinct rows are orthogonal: :math:`e_i^\top e_j = 0` for :math:`i \ne j`.

        Exactly for exact rows; to 1e-12 of the largest squared norm otherwise. Orthonormal rows
        are orthogonal; so are rows of different lengths at right angles.

        >>> Embeddings.given([[2, 0], [0, 1]]).is_orthogonal, Embeddings.equicorrelated(2, 0.5).is_orthogonal
        (True, False)
        """
        decided = self._decided_orthogonality(unit=False)
        if decided is not None:
            return decided
        gram = self.gram()
        off = gram - np.diag(np.diag(gram))
        return bool(np.max(np.abs(off)) <= _ORTHO_TOL * float(np.max(np.diag(gram))))

    def _decided_orthogonality(self, *, unit: bool) -> bool | None:
        """Whether distinct rows are orthogonal (with ``unit``, also of norm 1) when the kind, the
        shape or exact rows decide it; ``None`` when the floating-point Gram matrix must."""
        if self.kind in (EmbeddingKind.ONEHOT, EmbeddingKind.ORTHONORMAL):
            return True
        if self.size > self.dim:
            return False
        if self.exact is None:
            return None
        return all(
            exact_dot(ri, rj) == (int(i == j) if unit else 0)
            for i, ri in enumerate(self.exact)
            for j, rj in enumerate(self.exact)
            if unit or i != j
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Embeddings):
            return NotImplemented
        if (self.size, self.dim) != (other.size, other.dim) or self.is_onehot != other.is_onehot:
            return False
        return self.is_onehot or bool(np.array_equal(self.matrix(), other.matrix()))

    __hash__ = None  # type: ignore[assignment]


def _check_row_scales(rows: np.ndarray) -> None:
    """Refuse rows whose largest entry lies outside [MIN_ROW_SCALE, MAX_ROW_SCALE] (zero rows pass)."""
    scale = np.max(np.abs(rows), axis=1, initial=0.0)
    for r in np.flatnonzero((scale > MAX_ROW_SCALE) | ((scale > 0) & (scale < MIN_ROW_SCALE))).tolist():
        side, limit = ("above", MAX_ROW_SCALE) if scale[r] > MAX_ROW_SCALE else ("below", MIN_ROW_SCALE)
        raise InvalidInput(
            f"embedding row {r} has largest entry {scale[r]:.3g}, {side} the limit {limit:.3g} "
            f"(2**{int(np.log2(limit))}): products of four embedding entries would leave float64. The "
            "theory is invariant under scaling the embeddings (W^svm and W^fin scale by 1/c^2), so "
            "rescale all rows by one factor"
        )


_MAX_DIGITS = 60


def parse_number(value: object, *, where: str) -> Fraction | float:
    """Parse one numeric entry from a file: ints and rational strings exactly, floats as floats.

    Strings are parsed by :class:`fractions.Fraction` after a shape check (digits, an
    optional ``/`` or ``.``, at most 60 digits a part, no exponent), so a hostile entry like
    ``"1e999999999"`` is refused at once instead of computed. Nothing is evaluated.

    >>> parse_number("-2/3", where="x"), parse_number(0.5, where="x"), parse_number(4, where="x")
    (Fraction(-2, 3), 0.5, Fraction(4, 1))
    """
    if isinstance(value, bool):
        raise InvalidInput(f"{where}: {value!r} is a boolean, expected a number")
    if isinstance(value, int | np.integer):
        if abs(int(value)).bit_length() > 200:
            raise InvalidInput(f"{where}: integer {value} is too large (more than 200 bits)")
        return Fraction(int(value))
    if isinstance(value, float | np.floating):
        if not np.isfinite(value):
            raise InvalidInput(f"{where}: {value!r} is not finite; entries must be finite numbers")
        return float(value)
    if isinstance(value, Fraction):
        return value
    if isinstance(value, str):
        text = value.strip()
        if _is_rational_text(text):
            return Fraction(text)
        raise InvalidInput(
            f"{where}: {value!r} is not a number; write an integer, a decimal like '0.25' or a "
            "fraction like '-2/3' (no exponents)"
        )
    raise InvalidInput(f"{where}: {value!r} of type {type(value).__name__} is not a number")


def _is_rational_text(text: str) -> bool:
    body = text[1:] if text[:1] in "+-" else text
    if "/" in body:
        num, _, den = body.partition("/")
        return _digits(num) and _digits(den) and int(den) != 0
    if "." in body:
        whole, _, frac = body.partition(".")
        return (whole == "" or _digits(whole)) and _digits(frac)
    return _digits(body)


def _digits(part: str) -> bool:
    return 0 < len(part) <= _MAX_DIGITS and part.isascii() and part.isdigit()
