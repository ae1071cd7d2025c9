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

from symattn.conjecture.harness import (
    BATCH_SIZE,
    BatchOutcome,
    Conjecture,
    ConjectureResult,
    ConjectureStatus,
    Counterexample,
    as_conjecture,
    batch_plan,
    check_seed,
    dataset_strategy,
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
    plan = batch_plan(examples, batch_size)
    start = time.perf_counter()
    with _client(workers, scheduler) as (client, n_workers):
        outcomes, to_find = _run(client, conj, strategy, seed, plan, start, progress)
    found: Counterexample | None = None
    last = outcomes[-1]
    if last.status is not ConjectureStatus.SURVIVED:
        local, found = run_batch(conj, datasets, seed, last.index, plan[last.index])
        if (local.status, local.tried) != (last.status, last.tried):
            local = BatchOutcome(
                last.index, ConjectureStatus.ERROR, last.tried, last.kinds,
                f"the conjecture is not deterministic: batch {last.index} gave {last.status.value} after "
                f"{last.tried} examples on a worker and {local.status.value} after {local.tried} here",
            )
            found = None
        outcomes[-1] = local
    return finish(conj, described, seed, examples, batch_size, outcomes, found, start, to_find, n_workers)


def _run(
    client: Any, conj: Conjecture, strategy: str | SearchStrategy | None, seed: int, plan: list[int],
    start: float, progress: Callable[[int], None] | None,
) -> tuple[list[BatchOutcome], float | None]:
    """Run the batches; return those up to the first failing one (in order) and when it arrived."""
    from dask.distributed import as_completed

    futures = {
        client.submit(remote_batch, conj, strategy, seed, index, size, pure=False, priority=-index): index
        for index, size in enumerate(plan)
    }
    done: dict[int, BatchOutcome] = {}
    first_bad: int | None = None
    to_find = None
    for future in as_completed(list(futures)):
        if future.status != "finished":
            continue
        outcome = future.result()
        done[outcome.index] = outcome
        if progress is not None:
            progress(outcome.tried)
        failed = outcome.status is not ConjectureStatus.SURVIVED
        if failed and (first_bad is None or outcome.index < first_bad):
            first_bad, to_find = outcome.index, time.perf_counter() - start
            client.cancel([f for f, i in futures.items() if i > first_bad and not f.done()])
        if first_bad is not None and all(i in done for i in range(first_bad)):
            break
    client.cancel([f for f in futures if not f.done()])
    last = first_bad if first_bad is not None else len(plan) - 1
    return [done[i] for i in range(last + 1)], to_find
