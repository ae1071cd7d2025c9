r"""The report types shared by every check of :mod:`symattn.verify`.

A verification answers with a :class:`Verdict` (``pass``, ``fail`` or ``inconclusive``) derived from
a list of named :class:`Check` rows. Each row carries the measured ``value``, what the theory
``expected``, the ``tolerance`` allowed and whether it ``passed`` (``None`` when the row could
not be judged, e.g. an asymptotic prediction at a norm too small to say anything).

>>> rows = (Check.at_most("finite part", 0.004, 0.0, 0.01),
...         Check.at_least("direction", 0.91, 1.0, 0.05, "corr after projecting onto R"))
>>> [r.passed for r in rows], Verdict.of(rows).value
([True, False], 'fail')
>>> rows[1].to_dict()["relation"]
'>='
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from symattn.results import ResultMixin, Status

__all__ = ["Check", "Diagnosis", "Relation", "Verdict", "VerdictResult"]


class Verdict(Status, success={"pass"}):
    """The outcome of a verification; only ``PASS`` counts as success.

    >>> Verdict.PASS.success, Verdict.INCONCLUSIVE.exit_code
    (True, 3)
    """

    PASS = "pass"
    """Every judged check passed and none was left unjudged."""
    FAIL = "fail"
    """At least one check failed."""
    INCONCLUSIVE = "inconclusive"
    """No check failed, but some could not be judged (e.g. the weights are too small in norm)."""

    @property
    def exit_code(self) -> int:
        """The command-line exit code: 0 pass, 1 fail, 3 inconclusive."""
        return {"pass": 0, "fail": 1, "inconclusive": 3}[self.value]

    @classmethod
    def of(cls, checks: Iterable[Check]) -> Verdict:
        """``FAIL`` if any check failed, else ``INCONCLUSIVE`` if any is unjudged, else ``PASS``.

        >>> Verdict.of([]).value, Verdict.of([Check("a", 1.0, 1.0, 0.0, None)]).value
        ('pass', 'inconclusive')
        """
        passed = [c.passed for c in checks]
        if any(p is False for p in passed):
            return cls.FAIL
        return cls.INCONCLUSIVE if any(p is None for p in passed) else cls.PASS


class VerdictResult(ResultMixin):
    """``success`` and ``passed`` of a verification result: both true only for ``Verdict.PASS``.

    The dataclass itself declares ``status`` (a :class:`Verdict`), ``message`` and ``iterations``.
    """

    status: Verdict

    @property
    def passed(self) -> bool:
        """The same as :attr:`success`: the verdict is ``PASS``."""
        return self.status.success


class Relation(enum.Enum):
    """How a check compares its ``value`` with its ``expected`` value."""

    AT_MOST = "<="
    """Passes when ``value <= expected + tolerance``."""
    AT_LEAST = ">="
    """Passes when ``value >= expected - tolerance``."""
    CLOSE = "~="
    """Passes when ``|value - expected| <= tolerance``."""


@dataclass(frozen=True)
class Check:
    """One named check: measured value, expectation, tolerance, outcome.

    Attributes
    ----------
    name : str
        Short stable name (``"direction"``, ``"finite part"``, ...).
    value : float
        What was measured. NaN never passes.
    expected : float
        What the theory predicts for these inputs (at this norm, where it depends on the norm).
    tolerance : float
        The slack allowed around ``expected`` (see ``relation``).
    passed : bool or None
        The outcome; ``None`` when the check could not be judged.
    detail : str
        A sentence for people: what was measured, where the tolerance comes from, what failed.
    relation : Relation
        How ``value`` is compared with ``expected``.
    """

    name: str
    value: float
    expected: float
    tolerance: float
    passed: bool | None
    detail: str = ""
    relation: Relation = Relation.CLOSE

    @classmethod
    def _judged(cls, name: str, value: float, expected: float, tolerance: float, detail: str,
                relation: Relation) -> Check:
        value, expected, tolerance = float(value), float(expected), float(tolerance)
        if relation is Relation.AT_MOST:
            ok = value <= expected + tolerance
        elif relation is Relation.AT_LEAST:
            ok = value >= expected - tolerance
        else:
            ok = abs(value - expected) <= tolerance
        return cls(name, value, expected, tolerance, bool(ok), detail, relation)

    @classmethod
    def at_most(cls, name: str, value: float, expected: float, tolerance: float, detail: str = "") -> Check:
        """A check that passes when ``value <= expected + tolerance``.

        >>> Check.at_most("x", float("nan"), 0.0, 1.0).passed
        False
        """
        return cls._judged(name, value, expected, tolerance, detail, Relation.AT_MOST)

    @classmethod
    def at_least(cls, name: str, value: float, expected: float, tolerance: float, detail: str = "") -> Check:
        """A check that passes when ``value >= expected - tolerance``.

        >>> Check.at_least("x", 0.95, 1.0, 0.05).passed
        True
        """
        return cls._judged(name, value, expected, tolerance, detail, Relation.AT_LEAST)

    @classmethod
    def close(cls, name: str, value: float, expected: float, tolerance: float, detail: str = "") -> Check:
        """A check that passes when ``|value - expected| <= tolerance``.

        >>> Check.close("x", 1.5, 1.0, 0.25).passed
        False
        """
        return cls._judged(name, value, expected, tolerance, detail, Relation.CLOSE)

    def unjudged(self, reason: str) -> Check:
        """The same measurement with ``passed=None`` and ``reason`` appended to the detail.

        >>> Check.close("x", 1.0, 1.0, 0.1).unjudged("norm too small").passed is None
        True
        """
        detail = f"{self.detail}; {reason}" if self.detail else reason
        return Check(self.name, self.value, self.expected, self.tolerance, None, detail, self.relation)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of this check (non-finite numbers become ``None``).

        >>> Check.at_most("x", float("inf"), 0.0, 1.0).to_dict()["value"] is None
        True
        """
        return {
            "name": self.name,
            "value": _json_number(self.value),
            "expected": _json_number(self.expected),
            "tolerance": _json_number(self.tolerance),
            "relation": self.relation.value,
            "passed": self.passed,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Diagnosis:
    """A named test for one common mistake, and what it found.

    Attributes
    ----------
    name : str
        Short stable name (``"transposed"``, ``"other labels"``, ...).
    found : bool
        Whether the evidence points to this mistake.
    detail : str
        What was measured and, when found, how to fix it.

    >>> Diagnosis("transposed", False, "W^T fits no better (corr 0.41 against 0.99)").to_dict()["found"]
    False
    """

    name: str
    found: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of this diagnosis."""
        return {"name": self.name, "found": self.found, "detail": self.detail}


def _json_number(x: float) -> float | None:
    return x if math.isfinite(x) else None
