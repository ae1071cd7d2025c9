"""Scaling sweeps: how each stage's time and memory grow with n, K, T and L, and their log-log slopes.

Four sweeps, one variable at a time (``_instances``):

* n = 10^3 ... 10^6 - planted, K = 1000, T = 16, L = 5;
* K = 50 ... 10^6 - planted, n = 10^3, T = 16, L = 5 (a few thousand tokens in use at most);
* T = 4 ... 256 - planted, K = 1000, n = 10^4, L = 5;
* L = 5 ... K - uniform, K = 1000, n = 10^4, T = 64.

Stages per point: loading the dataset from a ``.txt`` and a ``.json`` file (``load_dataset``),
"graphs" (``priority_graphs`` + ``svm_constraints``), "solve" (``solve_graph_svm``, numeric),
"certificate" (``solve_graph_svm(certify=True)``: the solve plus the exact certificate), "W^fin"
(``finite_component`` of the graphs). Each stage's time (median of ``--reps`` for the cheap
stages, one run for the certificate and W^fin) and peak added memory are reported with the
counts (pairs, inequalities, equalities), then the log-log slope of each stage over the sweep
(least squares over the measured points, and between the last two).

Caps: a stage is skipped at a point, with the reason, when its time or memory extrapolated from
the previous two points (power law) exceeds ``--time-cap`` or ``--mem-cap``, or when it already
hit a cap at a smaller point; a call that passes the time cap is stopped, an allocation past the
memory cap fails (``_timing``). Every stage but the graphs runs in a forked child process, so a
library that aborts on a failed allocation (python-flint) ends only that stage.

    python benchmarks/bench_scaling.py [--quick] [--sweeps n K T L] [--time-cap 120] [--mem-cap 6]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _instances import planted, shape, uniform
from _report import Column, Table, loglog_slope, predict_power, run_module
from _timing import Measurement, measure, measure_isolated

from symattn import (
    Dataset,
    finite_component,
    load_dataset,
    priority_graphs,
    save_dataset,
    solve_graph_svm,
    svm_constraints,
)

STAGES = ("load .txt", "load .json", "graphs", "solve", "certificate", "W^fin")
SINGLE_RUN = {"certificate", "W^fin"}
IN_PROCESS = {"graphs"}
"""Stages measured in the process itself (their results are needed); the others run in a forked
child (``_timing.measure_isolated``), so that a C library aborting past the memory cap ends only it."""


@dataclass(frozen=True)
class Sweep:
    """One variable swept over ``values``; ``make(value)`` builds the instance."""

    name: str
    values: tuple[int, ...]
    make: Callable[[int], Dataset]
    fixed: str


FULL = {
    "n": Sweep("n", (1_000, 10_000, 100_000, 1_000_000), lambda n: planted(1000, n, 16, 5), "planted K=1000 T=16 L=5"),
    "K": Sweep("K", (50, 200, 1_000, 10_000, 100_000, 1_000_000), lambda K: planted(K, 1000, 16, 5),
               "planted n=1e3 T=16 L=5"),
    "T": Sweep("T", (4, 16, 64, 256), lambda T: planted(1000, 10_000, T, 5), "planted K=1000 n=1e4 L=5"),
    "L": Sweep("L", (5, 50, 500, 1000), lambda L: uniform(1000, 10_000, 64, L), "uniform K=1000 n=1e4 T=64"),
}
QUICK = {
    "n": Sweep("n", (300, 1000, 3000), lambda n: planted(200, n, 8, 3), "planted K=200 T=8 L=3"),
    "K": Sweep("K", (50, 200, 800), lambda K: planted(K, 300, 8, 3), "planted n=300 T=8 L=3"),
    "T": Sweep("T", (4, 8, 16), lambda T: planted(200, 300, T, 3), "planted K=200 n=300 L=3"),
    "L": Sweep("L", (3, 10, 100), lambda L: uniform(100, 500, 8, L), "uniform K=100 n=500 T=8"),
}


def smallest_instances() -> list[Dataset]:
    """The instances of the smallest configuration (``--quick``): each sweep's first point."""
    return [sweep.make(sweep.values[0]) for sweep in QUICK.values()]


class Budget:
    """Per stage: the points measured so far, and whether a cap was hit (then larger points skip)."""

    def __init__(self, time_cap: float | None, mem_cap_gib: float | None) -> None:
        self.time_cap, self.mem_cap_mb = time_cap, (mem_cap_gib or 0) * 1024
        self.x: dict[str, list[float]] = {s: [] for s in STAGES}
        self.t: dict[str, list[float]] = {s: [] for s in STAGES}
        self.mb: dict[str, list[float]] = {s: [] for s in STAGES}
        self.stopped: dict[str, str] = {}

    def refuse(self, stage: str, x: float) -> str | None:
        """Why ``stage`` should not run at ``x`` (None: run it)."""
        if stage in self.stopped:
            return self.stopped[stage]
        seconds = predict_power(self.x[stage], self.t[stage], x)
        if self.time_cap and seconds > self.time_cap:
            return f"skipped: predicted {seconds:.3g} s > time cap {self.time_cap:g} s"
        memory = predict_power(self.x[stage], self.mb[stage], x, default_slope=1.0)
        if self.mem_cap_mb and memory > self.mem_cap_mb:
            return f"skipped: predicted {memory:.0f} MB > memory cap {self.mem_cap_mb / 1024:g} GiB"
        return None

    def record(self, stage: str, x: float, m: Measurement) -> None:
        if m.ok:
            self.x[stage].append(x)
            self.t[stage].append(m.seconds)
            self.mb[stage].append(max(m.peak_mb, 1.0))
        elif m.status != "skipped":
            self.stopped[stage] = f"skipped: {m.status} at a smaller point"


def _loader(ds: Dataset, path: Path) -> Callable[[], object]:
    """Write ``ds`` to ``path`` (untimed) and return the timed load."""
    save_dataset(ds, path)
    return lambda: load_dataset(path)


def run_point(sweep: Sweep, x: int, budget: Budget, args: argparse.Namespace) -> dict[str, object]:
    t0 = time.perf_counter()
    ds = sweep.make(x)
    sh = shape(ds)
    row: dict[str, object] = {"sweep": sweep.name, "x": x, "nnz": sh.nnz, "in_use": sh.in_use}
    results: dict[str, Measurement] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for stage, suffix in (("load .txt", ".txt"), ("load .json", ".json")):
            if args.no_loading or budget.refuse(stage, x):
                results[stage] = _run(stage, None, x, budget, args)
            else:
                results[stage] = _run(stage, _loader(ds, Path(tmp) / f"data{suffix}"), x, budget, args)
    graphs = _run("graphs", lambda: (lambda g: (g, svm_constraints(g)))(priority_graphs(ds)), x, budget, args)
    results["graphs"] = graphs
    if graphs.ok:
        g, cons = graphs.result
        row.update(ineq=cons.n_inequalities, eq=cons.n_equalities)
        results["solve"] = _run("solve", lambda: solve_graph_svm(ds, constraints=cons, certify=False), x, budget, args)
        results["certificate"] = _run("certificate", lambda: solve_graph_svm(ds, constraints=cons, certify=True), x,
                                      budget, args)
        results["W^fin"] = _run("W^fin", lambda: finite_component(g), x, budget, args)
    for stage in STAGES:
        m = results.get(stage, Measurement.skipped("skipped: no graphs"))
        row[stage] = m.seconds if m.ok else None
        row[stage + " MB"] = m.peak_mb if m.ok else None
        if not m.ok:
            row.setdefault("notes", []).append(f"{stage}: {m.message or m.status}")
    row["notes"] = "; ".join(row.get("notes", []))
    print(f"  {sweep.name}={x}: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    return row


def _run(stage: str, fn: Callable[[], object] | None, x: int, budget: Budget, args: argparse.Namespace) -> Measurement:
    reason = budget.refuse(stage, x)
    if reason:
        return Measurement.skipped(reason)
    if fn is None:
        return Measurement.skipped("not run (--no-loading)")
    reps = 1 if stage in SINGLE_RUN else args.reps
    m = measure(fn, reps, args.time_cap) if stage in IN_PROCESS else measure_isolated(fn, reps, args.time_cap)
    budget.record(stage, x, m)
    return m


def sweep_tables(sweep: Sweep, args: argparse.Namespace) -> tuple[Table, dict[str, object]]:
    budget = Budget(args.time_cap, args.mem_cap)
    cols = [Column("x", sweep.name, "d"), Column("in_use", "in use", "d"), Column("nnz", "pairs", "d"),
            Column("ineq", "ineq", "d"), Column("eq", "eq", "d")]
    cols += [Column(s, f"{s} s", ".3g") for s in STAGES] + [Column(s + " MB", f"{s} MB", ".0f") for s in STAGES]
    table = Table(f"sweep in {sweep.name} ({sweep.fixed})", [*cols, Column("notes", "skipped / failed", "str")])
    for x in sweep.values:
        table.rows.append(run_point(sweep, x, budget, args))
    slopes: dict[str, object] = {"sweep": f"{sweep.name} ({sweep.fixed})"}
    for stage in STAGES:
        xs, ts = budget.x[stage], budget.t[stage]
        slopes[stage] = loglog_slope(xs, ts)
        slopes[stage + " last"] = loglog_slope(xs[-2:], ts[-2:])
        slopes[stage + " range"] = f"{xs[0]:g}-{xs[-1]:g}" if xs else "-"
    return table, slopes


def tables(args: argparse.Namespace) -> Iterator[Table]:
    sweeps = QUICK if args.quick else FULL
    cols = [Column("sweep", "sweep", "str")]
    for stage in STAGES:
        cols += [Column(stage, f"{stage} fit", ".2f"), Column(stage + " last", "last", ".2f")]
    slope_table = Table("log-log slopes of each stage (fit: least squares over the measured points; last: the last two)",
                        cols)
    for name in args.sweeps:
        table, slopes = sweep_tables(sweeps[name], args)
        table.notes = [f"seconds: medians of {args.reps} runs (certificate and W^fin: one run); MB: peak added memory."]
        yield table
        slope_table.rows.append(slopes)
    slope_table.notes = ["a slope is taken only over the points measured (a skipped point leaves the fit)."]
    yield slope_table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sweeps", nargs="*", default=list(FULL), choices=list(FULL), help="which sweeps to run")
    parser.add_argument("--no-loading", action="store_true", help="skip the loading stages (no files written)")


def main(argv: list[str] | None = None) -> int:
    return run_module(__doc__, add_arguments, tables, argv, time_cap=120.0)


if __name__ == "__main__":
    raise SystemExit(main())
