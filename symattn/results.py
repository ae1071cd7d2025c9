"""The one result protocol shared by every solver, trainer and checker result.

Every result type of symattn is a frozen dataclass that answers the same four questions, like
SciPy's ``OptimizeResult``: ``status`` (a member of a :class:`Status` enum), ``success`` (derived
from the status, never stored), ``message`` (a sentence for people, empty when there is nothing
to say) and ``iterations`` (how many iterations the method ran; 0 for direct methods).

>>> from dataclasses import dataclass
>>> class Demo(Status, success={"optimal"}):
...     OPTIMAL = "optimal"
...     STALLED = "stalled"
>>> @dataclass(frozen=True)
... class DemoResult(ResultMixin):
...     status: Demo
...     message: str = ""
...     iterations: int = 0
>>> r = DemoResult(Demo.STALLED, "no progress in 10 steps", 10)
>>> r.success, isinstance(r, Result)
(False, True)
"""

from __future__ import annotations

import enum
from functools import cached_property
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np
from scipy import sparse

from symattn._validate import require_dense_size

__all__ = ["Result", "ResultMixin", "SparseWeights", "Status"]


class Status(enum.Enum):
    """Base class of every status enum; subclasses name their successful members.

    A subclass names the values that count as success in its class statement,
    ``class SVMStatus(Status, success={"optimal"})``; a status enum that names none has no
    successful member.
    """

    def __init_subclass__(cls, *, success: frozenset[str] | set[str] = frozenset(), **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls._success_values = frozenset(success)

    @classmethod
    def successes(cls) -> frozenset[Status]:
        """The members of this enum that count as success."""
        return frozenset(m for m in cls if m.value in getattr(cls, "_success_values", ()))

    @property
    def success(self) -> bool:
        """Whether this status counts as success."""
        return self in type(self).successes()


@runtime_checkable
class Result(Protocol):
    """What every symattn result answers: ``status``, ``success``, ``message``, ``iterations``."""

    @property
    def status(self) -> Status: ...

    @property
    def success(self) -> bool: ...

    @property
    def message(self) -> str: ...

    @property
    def iterations(self) -> int: ...


class ResultMixin:
    """Derives ``success`` from ``status`` for a frozen result dataclass.

    The dataclass itself declares the fields ``status``, ``message`` and ``iterations``.
    """

    status: Status

    @property
    def success(self) -> bool:
        """Whether the status counts as success (see :meth:`Status.successes`)."""
        return self.status.success


class SparseWeights:
    """``W`` and ``W_sparse`` of a result whose ``weights`` field is a SciPy sparse matrix (one-hot
    embeddings: one column per query token, only the tokens of its graph stored, whatever
    :math:`K`) or a dense (d, d) array; ``WEIGHTS_NAME`` names the matrix in messages.

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Demo(SparseWeights):
    ...     weights: object
    >>> d = Demo(sparse.csc_matrix(([2.0], ([0], [1])), shape=(10**6, 10**6)))
    >>> d.W_sparse.nnz, d.W_sparse[0, 1]
    (1, np.float64(2.0))
    >>> Demo(np.eye(2)).W.tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """

    weights: np.ndarray | sparse.csc_matrix
    WEIGHTS_NAME: ClassVar[str] = "W"

    @cached_property
    def W(self) -> np.ndarray:
        """The matrix as a dense (d, d) float64 array, formed on the first request.

        Raises :class:`~symattn.errors.InvalidInput` when ``d`` exceeds the dense limit
        (:func:`~symattn._validate.max_dense`); :attr:`W_sparse` has no such limit.
        """
        if not sparse.issparse(self.weights):
            return self.weights
        require_dense_size(f"the dense {self.WEIGHTS_NAME} (use W_sparse)", d=int(self.weights.shape[0]))
        return self.weights.toarray()

    @property
    def W_sparse(self) -> sparse.csc_matrix:
        """The matrix as a SciPy CSC matrix (stored as such for one-hot embeddings, converted otherwise)."""
        return self.weights if sparse.issparse(self.weights) else sparse.csc_matrix(self.weights)
