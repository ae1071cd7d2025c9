"""Token-priority graphs: symattn.priority_graphs against the straightforward networkx route.

The networkx route is what a user writes by hand: loop over samples, add edges to one DiGraph
per query token, then ``nx.strongly_connected_components`` and ``nx.condensation`` with a
topological sort. Both sides run on the same instances in one process; the table reports the
medians of several repetitions, the ratio, and checks both sides found the same SCC partition.

    python benchmarks/bench_graphs.py [--quick]
"""

from __future__ import annotations

import argparse

import networkx as nx
import numpy as np
from _timing import median_time

from symattn import Dataset, priority_graphs


def instance(K: int, n: int, T: int, L: int, seed: int = 0) -> Dataset:
    """Uniform tokens, the query drawn from L tokens, the label drawn from the sequence."""
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, K, size=(n, T))
    tokens[:, -1] = rng.integers(0, L, size=n)
    labels = tokens[np.arange(n), rng.integers(0, T, size=n)]
    return Dataset.from_arrays(tokens.ravel(), np.arange(n + 1) * T, labels, vocab=K)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    args = parser.parse_args()
    sizes = [(200, 1000, 16, 5), (1000, 10_000, 64, 5), (1000, 1000, 16, 1000), (50_000, 20_000, 51, 5)]
    if args.quick:
        sizes = sizes[:1]
    print(f"{'K':>6} {'n':>6} {'T':>3} {'L':>5} {'edges':>9} {'SCCs':>7} {'symattn s':>10} {'networkx s':>11} {'ratio':>6}")
    for K, n, T, L in sizes:
        ds = instance(K, n, T, L)
        reps = 3 if n <= 10_000 else 1
        t_ours, pg = median_time(lambda ds=ds: priority_graphs(ds), reps)
        t_nx, theirs = median_time(lambda ds=ds: networkx_route(ds), reps)
        same = all({frozenset(c) for c in pg[k].sccs} == set(theirs[k]) for k in theirs)
        assert same, "the two routes disagree on the SCCs"
        n_sccs = sum(len(g.sccs) for g in pg.values())
        print(f"{K:>6} {n:>6} {T:>3} {L:>5} {pg.n_edges:>9} {n_sccs:>7} {t_ours:>10.3f} {t_nx:>11.3f} {t_nx / t_ours:>6.1f}")


if __name__ == "__main__":
    main()
