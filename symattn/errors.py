"""The exception tree of symattn.

Every error the library raises on purpose is a :class:`SymAttnError`. Errors caused by the
caller's input are also :class:`ValueError` (``InvalidInput`` and its subclasses), so code
that already catches ``ValueError`` keeps working.

>>> from symattn.errors import InvalidInput, SymAttnError
>>> issubclass(InvalidInput, SymAttnError) and issubclass(InvalidInput, ValueError)
True
"""

from __future__ import annotations

__all__ = [
    "CertificateError",
    "FileFormatError",
    "Infeasible",
    "InvalidInput",
    "NotConverged",
    "SolverError",
    "SymAttnError",
]


class SymAttnError(Exception):
    """Base class of every error raised by symattn on purpose."""


class InvalidInput(SymAttnError, ValueError):
    """The caller's input is malformed: the message names the bad value and the fix."""


class FileFormatError(InvalidInput):
    """A dataset, weight, trajectory or checkpoint file cannot be read: the message names the file
    and what is wrong in it (the sample, member or key where there is one)."""


class Infeasible(SymAttnError):
    """An optimisation problem has no feasible point; ``certificate`` proves it when available."""

    def __init__(self, message: str, certificate: object | None = None) -> None:
        super().__init__(message)
        self.certificate = certificate


class SolverError(SymAttnError, RuntimeError):
    """A numerical solver failed to reach the accuracy it promises."""


class NotConverged(SolverError):
    """An iterative method stopped short of its tolerance; ``result`` holds where it stopped.

    Raised only where a method cannot return a status instead (a result with a status is
    preferred). ``iterations`` says how many iterations ran.
    """

    def __init__(self, message: str, iterations: int, result: object | None = None) -> None:
        super().__init__(message)
        self.iterations = iterations
        self.result = result


class CertificateError(SymAttnError):
    """A claimed certificate does not verify: the message names the violated condition."""
