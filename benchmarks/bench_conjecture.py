"""Conjecture searches: Dask's cost per task, examples per second serial and on a local cluster, the catalogue.

Three tables:

1. the cost of one Dask task (a no-op, 2 local worker processes) and of one Hypothesis run
   (a batch of one example), which together set the batch size;
2. examples per second of one conjecture (``svm-perp-fin``: graphs, graph-SVM and S_fin per
   example) in this process and on a local cluster of 2 worker processes (cluster start-up
   reported apart), with the verdicts compared;
3. every catalogue entry: verdict, examples tried, time to find a counterexample and its size
   after shrinking (samples, positions).

    python benchmarks/bench_conjecture.py [--quick] [--examples N]
"""

from __future__ import annotations

import argparse
import logging
import os
import time

from symattn.conjecture import check_conjecture
from symattn.conjecture.catalogue import CATALOGUE
from symattn.conjecture.declare import as_conjecture, dataset_strategy
from symattn.conjecture.harness import run_batch
from symattn.conjecture.sweep import sweep_conjecture


def _noop(x: int) -> int:
    return x


def dask_costs(tasks: int) -> None:
    from dask.distributed import Client, LocalCluster, as_completed

    start = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      scheduler_kwargs={"dashboard_address": ":0"}, silence_logs=logging.ERROR) as cluster, \
            Client(cluster) as client:
        started = time.perf_counter() - start
        client.submit(_noop, 0).result()
        start = time.perf_counter()
        for future in as_completed([client.submit(_noop, i, pure=False) for i in range(tasks)]):
            future.result()
        per_task = (time.perf_counter() - start) / tasks
    conj = as_conjecture(lambda ds: True, "noop")
    datasets, _ = dataset_strategy(None)
    run_batch(conj, datasets, 0, 0, 1)
    start = time.perf_counter()
    for i in range(20):
        run_batch(conj, datasets, 0, i + 1, 1)
    per_run = (time.perf_counter() - start) / 20
    print(f"local cluster of 2 processes: start-up {started:.1f} s; {tasks} no-op tasks: "
          f"{1e3 * per_task:.2f} ms a task; one Hypothesis run of one example: {1e3 * per_run:.1f} ms")


def throughput(examples: int) -> None:
    from dask.distributed import LocalCluster

    conj = CATALOGUE["svm-perp-fin"].conjecture
    start = time.perf_counter()
    serial = check_conjecture(conj, examples=examples, seed=0)
    t_serial = time.perf_counter() - start
    start = time.perf_counter()
    swept = sweep_conjecture(conj, examples=examples, seed=0, workers=2)
    t_swept = time.perf_counter() - start
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      scheduler_kwargs={"dashboard_address": ":0"}, silence_logs=logging.ERROR) as cluster:
        start = time.perf_counter()
        warm = sweep_conjecture(conj, examples=examples, seed=0, scheduler=cluster.scheduler_address)
        t_warm = time.perf_counter() - start
    same = all((r.status, r.tried, r.kinds) == (serial.status, serial.tried, serial.kinds) for r in (swept, warm))
    print(f"svm-perp-fin, {examples} examples: serial {t_serial:.1f} s ({serial.tried / t_serial:.1f} ex/s); "
          f"--workers 2: {t_swept:.1f} s with the cluster's start-up ({swept.tried / t_swept:.1f} ex/s), "
          f"{t_warm:.1f} s on a running cluster of 2 ({warm.tried / t_warm:.1f} ex/s); same verdict: {same}")


def catalogue(scale: int) -> None:
    print(f"{'entry':30} {'expect':8} {'verdict':8} {'tried':>6} {'find s':>7} {'total s':>8}  shrunk to")
    for entry in CATALOGUE.values():
        examples = entry.examples * (scale if entry.expect.value == "survives" else 1)
        result = check_conjecture(entry.conjecture, examples=examples, seed=entry.seed)
        found = result.counterexample
        size = "" if found is None else (
            f"{len(found.dataset)} samples, {int(found.dataset.lengths.sum())} positions "
            f"({found.shrink_steps} steps)"
        )
        find = "" if result.seconds_to_find is None else f"{result.seconds_to_find:.1f}"
        print(f"{entry.name:30} {entry.expect.value:8} {result.status.value:8} {result.tried:>6} "
              f"{find:>7} {result.seconds:>8.1f}  {size}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--examples", type=int, default=2000, help="examples for the throughput table")
    parser.add_argument("--scale", type=int, default=5, help="survivors search SCALE x their CI size")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    dask_costs(50 if args.quick else 500)
    throughput(200 if args.quick else args.examples)
    catalogue(1 if args.quick else args.scale)


if __name__ == "__main__":
    main()
