r"""Sweeps that outgrow one process: the batches of a search as Dask tasks.

A search of ``examples`` examples from ``seed`` is a fixed list of batches (see
:func:`~symattn.conjecture.harness.batch_plan`); batch ``b`` draws its examples from Hypothesis
seeded with ``batch_seed(seed, b)`` and nothing else. :func:`sweep_conjecture` sends each batch to
a Dask worker as one task (generation only), keeps the failing batch of lowest index, cancels
the batches after it, waits for those before it, then runs that batch again in this process with
shrinking. So the verdict, the counterexample and the count of examples tried are those of
:func:`~symattn.conjecture.harness.check_conjecture` with the same seed; a batch that fails on a
worker and not here (or the reverse) is reported as an error of the conjecture (not deterministic).

Dask (``pip install 'symattn[sweep]'``) is imported only when a sweep starts. Conjectures and
strategies loaded from a file or the catalogue travel to the workers as their address and are
loaded there, so with ``scheduler=`` the workers must see the same file path.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis.strategies import SearchStrategy

from symattn.conjecture.declare import Conjecture, as_conjecture, dataset_strategy
from symattn.conjecture.harness import (
    BATCH_SIZE,
    BatchOutcome,
    ConjectureResult,
    ConjectureStatus,
    Counterexample,
    check_count,
    check_seed,
    finish,
    run_batch,
)
from symattn.errors import InvalidInput

__all__ = ["remote_batch", "sweep_conjecture"]


def remote_batch(
    conj: Conjecture, strategy: str | SearchStrategy | None, seed: int, index: int, size: int
) -> BatchOutcome:
    """One batch without shrinking: the body of a Dask task."""
    datasets, _ = dataset_strategy(strategy if strategy is not None else conj.strategy)
    outcome, _ = run_batch(conj, datasets, seed, index, size, shrink=False)
    return outcome


@contextmanager
def _client(workers: int | None, scheduler: str | None) -> Iterator[tuple[Any, int]]:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise InvalidInput(
            "a sweep needs Dask: install the optional extra with pip install 'symattn[sweep]'"
        ) from None
    if scheduler is not None:
        with Client(scheduler, timeout=30) as client:
            yield client, len(client.scheduler_info().get("workers", {}))
        return
    with LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
        scheduler_kwargs={"dashboard_address": ":0"}, silence_logs=logging.ERROR,
    ) as cluster, Client(cluster) as client:  # ":0": its HTTP server on a free port, not 8787
        yield client, int(workers or 0)


def _check_target(workers: object, scheduler: object) -> None:
    if (workers is None) == (scheduler is None):
        raise InvalidInput("give exactly one of workers=N (a local cluster) or scheduler=ADDRESS")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise InvalidInput(f"workers={workers!r} must be a positive integer")
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler):
        raise InvalidInput(f"scheduler={scheduler!r} must be an address such as tcp://host:8786")


def sweep_conjecture(
    conj: Conjecture | Callable[..., object],
    *,
    examples: int = 1000,
    seed: int = 0,
    strategy: str | SearchStrategy | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> ConjectureResult:
    """Search like :func:`~symattn.conjecture.harness.check_conjecture`, one Dask task per batch.

    Parameters
    ----------
    conj, examples, seed, strategy, batch_size, progress
        As for ``check_conjecture`` (``progress(n)`` after each batch of ``n`` examples).
    workers : int, optional
        Start a ``LocalCluster`` of this many worker processes (one thread each).
    scheduler : str, optional
        The address of a running Dask scheduler instead.

    Returns
    -------
    ConjectureResult
        The same verdict as the serial search with the same seed; ``workers`` says how many
        Dask workers took part.
    """
    _check_target(workers, scheduler)
    conj = as_conjecture(conj)
    seed = check_seed(seed)
    datasets, described = dataset_strategy(strategy if strategy is not None else conj.strategy)
    sizes = _Sizes(examples, batch_size)
    start = time.perf_counter()
    with _client(workers, scheduler) as (client, n_workers):
        outcomes, to_find = _run(client, conj, strategy, seed, sizes, max(8, 4 * n_workers), start, progress)
    found: Counterexample | None = None
    last = outcomes[-1]
    if last.status is not ConjectureStatus.SURVIVED:
        local, found = run_batch(conj, datasets, seed, last.index, sizes[last.index])
        if (local.status, local.tried) != (last.status, last.tried):
            local = BatchOutcome(
                last.index, ConjectureStatus.ERROR, last.tried, last.kinds,
                f"the conjecture is not deterministic: batch {last.index} gave {last.status.value} after "
                f"{last.tried} examples on a worker and {local.status.value} after {local.tried} here",
            )
            found = None
        outcomes[-1] = local
    return finish(conj, described, seed, examples, batch_size, outcomes, found, start, to_find, n_workers)


class _Sizes:
    """The sizes of the batches of :func:`batch_plan`, one at a time (a sweep may have millions)."""

    def __init__(self, examples: int, size: int) -> None:
        self.examples, self.size = check_count(examples, "examples"), check_count(size, "batch size")
        self.count = -(-self.examples // self.size)

    def __getitem__(self, index: int) -> int:
        return min(self.size, self.examples - index * self.size)


def _run(
    client: Any, conj: Conjecture, strategy: str | SearchStrategy | None, seed: int, sizes: _Sizes,
    window: int, start: float, progress: Callable[[int], None] | None,
) -> tuple[list[BatchOutcome], float | None]:
    """Run the batches, at most ``window`` in flight; return those up to the first failing one.

    Batches are submitted in order, so when batch ``b`` fails every batch before it has been
    submitted: the sweep cancels those after ``b`` and waits for those before it.
    """
    from dask.distributed import as_completed

    live: dict[Any, int] = {}

    def submit(index: int) -> Any:
        future = client.submit(remote_batch, conj, strategy, seed, index, sizes[index], pure=False,
                               priority=-index)
        live[future] = index
        return future

    queue = as_completed([submit(i) for i in range(min(window, sizes.count))])
    following = min(window, sizes.count)
    done: dict[int, BatchOutcome] = {}
    first_bad: int | None = None
    to_find = None
    for future in queue:
        live.pop(future, None)
        if future.status == "cancelled":
            continue
        outcome = future.result()
        done[outcome.index] = outcome
        if progress is not None:
            progress(outcome.tried)
        failed = outcome.status is not ConjectureStatus.SURVIVED
        if failed and (first_bad is None or outcome.index < first_bad):
            first_bad, to_find = outcome.index, time.perf_counter() - start
            client.cancel([f for f, i in live.items() if i > first_bad])
        if first_bad is not None and all(i in done for i in range(first_bad)):
            break
        if first_bad is None and following < sizes.count:
            queue.add(submit(following))
            following += 1
    client.cancel(list(live))
    last = first_bad if first_bad is not None else sizes.count - 1
    return [done[i] for i in range(last + 1)], to_find
