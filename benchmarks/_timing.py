"""Timing shared by the benchmarks: the median of repeated calls, and the last call's result."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import TypeVar

R = TypeVar("R")


def median_time(fn: Callable[[], R], reps: int) -> tuple[float, R]:
    """Call ``fn`` ``reps`` times; return the median wall time in seconds and the last result."""
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result
