"""Token-priority graphs: symattn.priority_graphs against the straightforward networkx route.

The networkx route is what a user writes by hand: loop over samples, add edges to one DiGraph
per query token, then ``nx.strongly_connected_components`` and ``nx.condensation`` with a
topological sort. Both sides run on the same instances in one process; the table reports the
medians of several repetitions, the ratio, and checks both sides found the same SCC partition.

    python benchmarks/bench_graphs.py [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

import networkx as nx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _instances import uniform
from _report import Column, Table, run_module
from _timing import measure

from symattn import Dataset, priority_graphs

FULL = [(200, 1000, 16, 5), (1000, 10_000, 64, 5), (1000, 1000, 16, 1000), (50_000, 20_000, 51, 5)]
QUICK = [(200, 1000, 16, 5)]


def smallest_instances() -> list[Dataset]:
    """The instances of the smallest configuration (``--quick``)."""
    return [uniform(*size) for size in QUICK]


def networkx_route(ds: Dataset) -> dict[int, list[frozenset[int]]]:
    graphs: dict[int, nx.DiGraph] = {}
    for i in range(len(ds)):
        seq = ds.tokens[ds.offsets[i] : ds.offsets[i + 1]].tolist()
        y, k = int(ds.labels[i]), seq[-1]
        graph = graphs.setdefault(k, nx.DiGraph())
        graph.add_nodes_from(seq)
        graph.add_edges_from((y, j) for j in set(seq) if j != y)
    out = {}
    for k, graph in graphs.items():
        cond = nx.condensation(graph)
        order = list(nx.topological_sort(cond))
        out[k] = [frozenset(cond.nodes[c]["members"]) for c in order]
    return out


COLUMNS = [Column("K", "K", "d"), Column("n", "n", "d"), Column("T", "T", "d"), Column("L", "L", "d"),
           Column("edges", "edges", "d"), Column("sccs", "SCCs", "d"), Column("ours", "symattn s", ".3g"),
           Column("ours_mb", "MB", ".0f"), Column("theirs", "networkx s", ".3g"), Column("theirs_mb", "MB", ".0f"),
           Column("ratio", "ratio", ".1f"), Column("same", "same SCCs", "str")]


def tables(args: argparse.Namespace) -> Iterator[Table]:
    table = Table("token-priority graphs: symattn against the networkx route", COLUMNS)
    for K, n, T, L in QUICK if args.quick else FULL:
        ds = uniform(K, n, T, L)
        reps = args.reps if n <= 10_000 else 1
        ours = measure(lambda ds=ds: priority_graphs(ds), reps, args.time_cap)
        theirs = measure(lambda ds=ds: networkx_route(ds), reps, args.time_cap)
        row: dict[str, object] = {"K": K, "n": n, "T": T, "L": L, "ours": ours.seconds, "ours_mb": ours.peak_mb,
                                  "theirs": theirs.seconds, "theirs_mb": theirs.peak_mb}
        if ours.ok:
            pg = ours.result
            row.update(edges=pg.n_edges, sccs=sum(len(g.sccs) for g in pg.values()))
        if ours.ok and theirs.ok:
            row["ratio"] = theirs.seconds / ours.seconds
            same = all({frozenset(c) for c in pg[k].sccs} == set(v) for k, v in theirs.result.items())
            row["same"] = "yes" if same else "NO: the routes disagree"
        else:
            row["same"] = "; ".join(f"{side}: {m.status}" for side, m in (("symattn", ours), ("networkx", theirs))
                                    if not m.ok)
        table.rows.append(row)
    table.notes = ["ratio = networkx seconds / symattn seconds (medians); MB: peak added memory."]
    yield table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No options beyond the shared ones."""


def main(argv: list[str] | None = None) -> int:
    return run_module(__doc__, add_arguments, tables, argv)


if __name__ == "__main__":
    raise SystemExit(main())
