"""The optional extra of the benchmarks: ``cp`` is cvxpy (``pip install 'symattn[bench]'``) or None.

Every benchmark that compares against cvxpy imports ``cp`` from here and, when it is None, times
symattn's side alone and says so.
"""

from __future__ import annotations

try:
    import cvxpy as cp
except ImportError:  # the optional "bench" extra
    cp = None

__all__ = ["cp"]
