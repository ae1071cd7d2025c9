"""Conjectures about attention's implicit bias: search, shrink, share (``docs/conjectures.md``)."""

from symattn.conjecture.harness import (
    BATCH_SIZE,
    STRATEGIES,
    Conjecture,
    ConjectureError,
    ConjectureResult,
    ConjectureStatus,
    Counterexample,
    check_conjecture,
    conjecture,
    load_conjecture,
)

__all__ = [
    "BATCH_SIZE",
    "STRATEGIES",
    "Conjecture",
    "ConjectureError",
    "ConjectureResult",
    "ConjectureStatus",
    "Counterexample",
    "check_conjecture",
    "conjecture",
    "load_conjecture",
]
