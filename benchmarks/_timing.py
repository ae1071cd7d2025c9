"""Timing and memory shared by the benchmarks.

* :func:`median_time` - the median wall time of repeated calls and the last call's result.
* :func:`measure` - the same with the peak resident memory the calls added, under a time cap:
  it returns a :class:`Measurement` whose ``status`` says ``ok``, ``time cap``, ``memory cap``
  or ``error`` instead of raising, so one failed side never ends a run.
* :func:`limit_memory` - the memory cap: an address-space limit (``RLIMIT_AS``) of the current
  size plus the cap, so an allocation beyond it raises ``MemoryError`` instead of swapping.
* :func:`copy_bandwidth` - this machine's single-thread copy bandwidth (NumPy copy of a large
  array, read plus write bytes per second, the STREAM convention), for bandwidth bounds.

Peak memory is the growth of the kernel's high-water mark of resident memory (``VmHWM``),
reset before each measurement through ``/proc/self/clear_refs``; it counts every allocator
(NumPy, SciPy, Clarabel, SCS, PyTorch), not only Python's. Before each measurement the C
allocator returns its free pages (``malloc_trim``), so memory freed by an earlier call is not
silently reused. Where the reset is not available (not Linux) the peak is reported as NaN.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import math
import os
import resource
import select
import signal
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

R = TypeVar("R")

__all__ = [
    "Measurement", "TimeCap", "copy_bandwidth", "limit_memory", "measure", "measure_isolated", "median_time",
    "release_free_memory", "rss_mb", "time_cap",
]


def median_time(fn: Callable[[], R], reps: int) -> tuple[float, R]:
    """Call ``fn`` ``reps`` times; return the median wall time in seconds and the last result."""
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


class TimeCap(Exception):
    """Raised inside a measured call when its time cap passes."""


def _status_value(key: str) -> float:
    """A ``/proc/self/status`` field in MiB (NaN where there is none)."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def rss_mb() -> float:
    """The current resident set size in MiB."""
    return _status_value("VmRSS")


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


_LIBC = _libc()


def release_free_memory() -> None:
    """Return the C allocator's free pages to the system (glibc ``malloc_trim``), so that the
    resident size counts live data and a new allocation shows as growth, not as reuse."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


@contextmanager
def time_cap(seconds: float | None, error: type[BaseException] = TimeCap) -> Iterator[None]:
    """Raise ``error`` (default :class:`TimeCap`) in the block once ``seconds`` of wall time pass.

    Main thread only. The signal is delivered when control returns to Python; a call inside a
    compiled solver ends first (give solvers their own time limit as well). ``error=KeyboardInterrupt``
    stops a loop that keeps its partial result on an interrupt (``regularization_path``).
    """
    if not seconds or seconds <= 0:
        yield
        return

    def _raise(signum: int, frame: object) -> None:
        raise error(f"over the time cap of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Measurement:
    """Median wall time and peak added memory of repeated calls, or why there are none.

    ``seconds`` is the median (NaN unless ``status == "ok"``), ``times`` every repetition,
    ``peak_mb`` the largest growth of resident memory over one call (MiB), ``result`` the last
    call's return value (not serialised).
    """

    seconds: float = float("nan")
    times: list[float] = field(default_factory=list)
    peak_mb: float = float("nan")
    status: str = "ok"
    message: str = ""
    result: Any = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def as_dict(self) -> dict[str, object]:
        return {"seconds": self.seconds, "times": self.times, "peak_mb": self.peak_mb,
                "status": self.status, "message": self.message}

    @classmethod
    def skipped(cls, message: str) -> Measurement:
        return cls(status="skipped", message=message)


def measure(fn: Callable[[], R], reps: int = 1, cap_seconds: float | None = None,
            enough: float = 60.0) -> Measurement:
    """Call ``fn`` up to ``reps`` times under a time cap; the median time and the peak memory added.

    Repetitions stop early once they have taken ``enough`` seconds in all (a slow call is timed
    once or twice, not ``reps`` times). ``MemoryError`` (the :func:`limit_memory` cap), :class:`TimeCap` and any other exception end
    the measurement with that status and the message; earlier repetitions are discarded.
    """
    out = Measurement()
    peaks = []
    try:
        for _ in range(max(1, reps)):
            release_free_memory()
            base = rss_mb()
            tracked = _reset_peak()
            start = time.perf_counter()
            with time_cap(cap_seconds):
                out.result = fn()
            out.times.append(time.perf_counter() - start)
            peaks.append(max(0.0, _status_value("VmHWM") - base) if tracked else float("nan"))
            if sum(out.times) >= enough:
                break
    except TimeCap as exc:
        return Measurement(status="time cap", message=str(exc))
    except MemoryError as exc:
        return Measurement(status="memory cap", message=f"MemoryError {exc}".strip()[:120])
    except Exception as exc:  # a failed side is a row of the table, not the end of the run
        return Measurement(status="error", message=f"{type(exc).__name__}: {exc}"[:160])
    out.seconds = statistics.median(out.times)
    out.peak_mb = max(peaks)
    return out


def measure_isolated(fn: Callable[[], R], reps: int = 1, cap_seconds: float | None = None,
                     summary: Callable[[R], object] | None = None) -> Measurement:
    """:func:`measure` in a forked child process, for calls that may crash the process.

    A C library that aborts on a failed allocation (python-flint does, under the memory cap)
    then ends only the child, reported as ``crashed``; a child still running a minute past the
    time cap is killed. The child's result stays there: ``result`` is ``summary(result)`` (a
    JSON value), or None. Falls back to :func:`measure` where there is no ``fork``.
    """
    if not hasattr(os, "fork"):
        m = measure(fn, reps, cap_seconds)
        m.result = summary(m.result) if summary and m.ok else None
        return m
    sys.stdout.flush()
    sys.stderr.flush()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: measure, send the numbers, leave without running the parent's handlers
        os.close(read)
        try:
            m = measure(fn, reps, cap_seconds)
            payload = {**m.as_dict(), "result": summary(m.result) if summary and m.ok else None}
            data = json.dumps(payload).encode()
        except BaseException as exc:  # anything at all must reach the parent
            data = json.dumps({"status": "error", "message": repr(exc)[:160]}).encode()
        with os.fdopen(write, "wb") as pipe:
            pipe.write(data)
        os._exit(0)
    os.close(write)
    return _collect(pid, read, None if not cap_seconds else cap_seconds + 60.0)


def _collect(pid: int, read: int, timeout: float | None) -> Measurement:
    chunks = []
    deadline = None if timeout is None else time.monotonic() + timeout
    with os.fdopen(read, "rb") as pipe:
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([pipe], [], [], left)
            if not ready:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return Measurement(status="time cap", message="killed a minute past the time cap")
            chunk = os.read(pipe.fileno(), 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    _, code = os.waitpid(pid, 0)
    if not chunks:
        reason = f"signal {os.WTERMSIG(code)}" if os.WIFSIGNALED(code) else f"exit {os.WEXITSTATUS(code)}"
        return Measurement(status="crashed", message=f"the process died ({reason}): a C library aborted, "
                                                     "e.g. on an allocation past the memory cap")
    payload = json.loads(b"".join(chunks))
    return Measurement(seconds=payload.get("seconds", float("nan")), times=payload.get("times", []),
                       peak_mb=payload.get("peak_mb", float("nan")), status=payload["status"],
                       message=payload.get("message", ""), result=payload.get("result"))


def limit_memory(gib: float | None) -> str:
    """Cap the address space at its current size plus ``gib`` GiB; say what was set.

    A NumPy allocation past the cap raises ``MemoryError`` (reported as ``memory cap``). The
    limit stays for the life of the process.
    """
    if not gib or gib <= 0:
        return "no memory cap"
    current = _status_value("VmSize")
    if math.isnan(current):
        return "no memory cap (no /proc/self/status)"
    limit = int((current / 1024.0 + gib) * 2**30)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    if soft != resource.RLIM_INFINITY and soft < limit:
        return f"memory cap: the existing address-space limit of {soft / 2**30:.1f} GiB"
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    return f"memory cap {gib:g} GiB of address space beyond the {current / 1024:.1f} GiB at start"


def copy_bandwidth(megabytes: int = 256, reps: int = 5) -> float:
    """Single-thread copy bandwidth in GB/s: ``2 * size / time`` of ``np.copyto`` (read + write).

    The array (default 256 MB) is far larger than any cache, so this is the DRAM figure; the
    best of ``reps`` copies.
    """
    src = np.ones(megabytes * 2**20 // 8)
    dst = np.empty_like(src)
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - start)
    return 2.0 * src.nbytes / best / 1e9
