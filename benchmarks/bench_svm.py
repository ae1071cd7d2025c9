"""Graph-SVM: symattn's structured solver against cvxpy (Clarabel, and SCS as the research code uses it).

Both sides solve the same constraints in the same process: cvxpy in token coordinates, one
variable vector per query token and one sparse row per TPG edge. Reported per instance: the
number of inequalities and equalities, the objective ||W^svm||^2, the time to build the graphs,
symattn's numeric solve and exact certificate, each cvxpy solver's time and the ratio, and both
sides' accuracy (max constraint violation on the full edge set, objective gap to symattn).

Instances: the standard generator of BENCHMARKS.md (uniform tokens, the last one from L query
tokens, the label drawn from the sequence; L = 5 "few" or L = K "many"), and planted instances
(per query token a random DAG of SCCs of sizes 1-20 and depth 5-50, realised with
symattn.graphs.realise), so the hierarchy is rich at every size.

    python benchmarks/bench_svm.py --quick              # about a minute
    python benchmarks/bench_svm.py --sizes 1000:10000:64 --queries few
    python benchmarks/bench_svm.py --profile 1000:10000:64   # cProfile of symattn's side
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _timing import median_time

from symattn import Dataset, priority_graphs, realise
from symattn.graphs import realisable_graph
from symattn.svm import solve_graph_svm, svm_constraints

try:
    import cvxpy as cp
    import scipy.sparse as sparse
except ImportError:  # the optional "bench" extra
    cp = None

FULL_K = (6, 50, 200, 1000)
FULL_N = (6, 1_000, 10_000)
FULL_T = (4, 16, 64)


def uniform(K: int, n: int, T: int, L: int, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    queries = rng.choice(K, size=min(L, K), replace=False)
    tokens = rng.integers(0, K, size=(n, T))
    tokens[:, -1] = queries[rng.integers(0, queries.size, size=n)]
    labels = tokens[np.arange(n), rng.integers(0, T, size=n)]
    return Dataset.from_arrays(tokens.ravel(), np.arange(n + 1) * T, labels, vocab=K)


def planted(K: int, L: int, seed: int = 0) -> Dataset:
    """Per query token: levels of SCCs (sizes 1-20, depth 5-50), edges only downwards, cycles inside."""
    rng = np.random.default_rng(seed)
    queries = rng.choice(K, size=min(L, K), replace=False)
    graphs = {}
    for k in queries.tolist():
        pool = rng.permutation(np.setdiff1d(np.arange(K), [k])).tolist()
        depth = int(rng.integers(5, 51))
        levels: list[list[list[int]]] = []
        for _ in range(depth):
            level = []
            for _ in range(int(rng.integers(1, 4))):
                size = min(int(rng.integers(1, 21)), len(pool))
                if size == 0:
                    break
                level.append([pool.pop() for _ in range(size)])
            if not level:
                break
            levels.append(level)
        g = nx.DiGraph()
        for li, level in enumerate(levels):
            for scc in level:
                g.add_nodes_from(scc)
                if len(scc) > 1:
                    g.add_edges_from(zip(scc, scc[1:] + scc[:1], strict=True))
                if li + 1 < len(levels):
                    below = [s for lower in levels[li + 1:] for s in lower]
                    targets = [levels[li + 1][int(rng.integers(len(levels[li + 1])))]]
                    targets += [below[int(rng.integers(len(below)))] for _ in range(int(rng.integers(0, 3)))]
                    for target in targets:
                        g.add_edge(scc[int(rng.integers(len(scc)))], target[int(rng.integers(len(target)))])
        graphs[k] = realisable_graph(g, k)
    return realise(graphs, vocab=K)


@dataclass
class Row:
    name: str
    n_in: int
    n_eq: int
    objective: float
    graphs_s: float
    ours_s: float
    cert_s: float
    viol_ours: float
    cvx: dict[str, tuple[float, float, float, str]]  # solver -> (seconds, violation, gap, status)


def _violation(cons, potentials_of: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> float:
    margins = potentials_of(cons.high, cons.query) - potentials_of(cons.low, cons.query)
    eq = cons.equality
    return max(float(np.abs(margins[eq]).max(initial=0.0)), float(np.max(1.0 - margins[~eq], initial=0.0)))


def _cvxpy(cons, K: int, solver: str) -> tuple[float, np.ndarray | None, str]:
    queries = np.unique(cons.query)
    q = np.searchsorted(queries, cons.query)
    m = len(cons)
    rows = np.concatenate([np.arange(m), np.arange(m)])
    cols = np.concatenate([q * K + cons.high, q * K + cons.low])
    vals = np.concatenate([np.ones(m), -np.ones(m)])
    A = sparse.csr_matrix((vals, (rows, cols)), shape=(m, queries.size * K))
    x = cp.Variable(queries.size * K)
    eq = cons.equality
    constraints = []
    if eq.any():
        constraints.append(A[eq] @ x == 0)
    if (~eq).any():
        constraints.append(A[~eq] @ x >= 1)
    problem = cp.Problem(cp.Minimize(cp.sum_squares(x)), constraints)
    t0 = time.perf_counter()
    try:
        problem.solve(solver=solver)
    except cp.error.SolverError as exc:
        return time.perf_counter() - t0, None, f"error: {exc}"[:30]
    seconds = time.perf_counter() - t0
    if x.value is None:
        return seconds, None, str(problem.status)
    U = np.zeros((K, K))
    U[:, queries] = x.value.reshape(queries.size, K).T
    return seconds, U, str(problem.status)


def run(name: str, ds: Dataset, reps: int, solvers: tuple[str, ...]) -> Row:
    graphs_s, graphs = median_time(lambda: priority_graphs(ds), reps)
    cons = svm_constraints(graphs)
    ours_s, res = median_time(lambda: solve_graph_svm(ds, constraints=cons, certify=False), reps)
    cert_s, cert = median_time(lambda: solve_graph_svm(ds, constraints=cons, certify=True), 1)
    assert cert.certified, f"{name}: certificate failed"
    objective = res.norm**2
    row = Row(name, cons.n_inequalities, cons.n_equalities, objective, graphs_s, ours_s, cert_s,
              _violation(cons, lambda t, k: res.W[t, k]), {})
    for solver in solvers:
        seconds, U, status = _cvxpy(cons, ds.K, solver)
        if U is None:
            row.cvx[solver] = (seconds, float("nan"), float("nan"), status)
            continue
        gap = (float(np.sum(U**2)) - objective) / max(1.0, objective)
        row.cvx[solver] = (seconds, _violation(cons, lambda t, k, U=U: U[t, k]), gap, status)
    return row


def print_table(rows: list[Row], solvers: tuple[str, ...]) -> None:
    head = (f"{'instance':<28} {'ineq':>8} {'eq':>8} {'||W||^2':>10} {'graphs':>7} {'ours':>7} {'exact':>7}"
            f" {'viol':>8}")
    for s in solvers:
        head += f" | {s[:8]:>8} {'ratio':>6} {'viol':>8} {'gap':>9} {'status':>10}"
    print(head)
    print("-" * len(head))
    for r in rows:
        line = (f"{r.name:<28} {r.n_in:>8} {r.n_eq:>8} {r.objective:>10.4g} {r.graphs_s:>7.3f} {r.ours_s:>7.3f}"
                f" {r.cert_s:>7.3f} {r.viol_ours:>8.1e}")
        for s in solvers:
            seconds, viol, gap, status = r.cvx[s]
            line += (f" | {seconds:>8.3f} {seconds / max(r.graphs_s + r.ours_s, 1e-9):>6.1f} {viol:>8.1e}"
                     f" {gap:>9.1e} {status[:10]:>10}")
        print(line)
    print("\nratio = cvxpy seconds / (symattn graphs + numeric solve seconds); exact = numeric solve plus "
          "the exact rational certificate; viol = max constraint violation over every TPG edge; "
          "gap = (cvxpy objective - symattn objective) / max(1, symattn objective).")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a subset that runs in about a minute")
    parser.add_argument("--sizes", nargs="*", default=None, help="K:n:T triples to run (default: the grid)")
    parser.add_argument("--queries", choices=("few", "many", "both"), default="both")
    parser.add_argument("--no-planted", action="store_true", help="skip the planted instances")
    parser.add_argument("--no-cvxpy", action="store_true", help="time symattn only")
    parser.add_argument("--reps", type=int, default=3, help="repetitions for symattn's medians")
    parser.add_argument("--profile", metavar="K:n:T", help="cProfile symattn on one uniform instance (L=5)")
    args = parser.parse_args(argv)
    if args.profile:
        K, n, T = (int(float(v)) for v in args.profile.split(":"))
        ds = uniform(K, n, T, 5)
        for certify in (False, True):
            prof = cProfile.Profile()
            prof.enable()
            priority_graphs(ds)
            solve_graph_svm(ds, certify=certify)
            prof.disable()
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(18)
            print(f"== graphs + solve, certify={certify} ==\n{out.getvalue()}")
        return 0
    solvers: tuple[str, ...] = ()
    if not args.no_cvxpy:
        if cp is None:
            print("cvxpy is not installed (pip install 'symattn[bench]'): timing symattn only\n")
        else:
            solvers = ("CLARABEL", "SCS")
    if args.sizes:
        grid = [tuple(int(float(v)) for v in s.split(":")) for s in args.sizes]
    elif args.quick:
        grid = [(6, 6, 4), (50, 1000, 16), (200, 1000, 16), (1000, 1000, 16)]
    else:
        grid = [(K, n, T) for K in FULL_K for n in FULL_N for T in FULL_T]
    rows = []
    for K, n, T in grid:
        for label, L in (("few", 5), ("many", K)):
            if args.queries not in (label, "both") or (label == "many" and K <= 5):
                continue
            rows.append(run(f"K={K} n={n} T={T} L={min(L, K)}", uniform(K, n, T, L), args.reps, solvers))
            print(f"done {rows[-1].name}", file=sys.stderr)
    if not args.no_planted:
        for K, L in ((50, 5), (200, 5), (1000, 5)) if not args.quick else ((50, 5), (200, 5)):
            ds = planted(K, L)
            rows.append(run(f"planted K={K} L={L} n={len(ds)}", ds, args.reps, solvers))
            print(f"done {rows[-1].name}", file=sys.stderr)
    print_table(rows, solvers)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
