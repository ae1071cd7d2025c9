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
from typing import Protocol, runtime_checkable

__all__ = ["Result", "ResultMixin", "Status"]


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
