"""Conjectures about attention's implicit bias: search, shrink, share (``docs/conjectures.md``).

:mod:`~symattn.conjecture.declare` (the :class:`Conjecture` type, the decorator, loading),
:mod:`~symattn.conjecture.harness` (the search), :mod:`~symattn.conjecture.bundle` (files and
replay), :mod:`~symattn.conjecture.sweep` (Dask) and :mod:`~symattn.conjecture.catalogue`.
"""

from symattn.conjecture.declare import (
    STRATEGIES,
    Conjecture,
    ConjectureError,
    conjecture,
    load_conjecture,
)
from symattn.conjecture.harness import (
    BATCH_SIZE,
    ConjectureResult,
    ConjectureStatus,
    Counterexample,
    check_conjecture,
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
