"""Graph-SVM: symattn against cvxpy with Clarabel in three formulations, and SCS.

Every side solves the same constraint set in the same process, in token coordinates (one-hot
embeddings: the potentials u_jk = e_j^T W e_k, ||W||_F^2 = sum u^2):

* symattn: ``priority_graphs`` + ``svm_constraints`` ("graphs"), ``solve_graph_svm(certify=False)``
  ("solve"), and ``solve_graph_svm(certify=True)`` ("exact": the solve plus the exact certificate);
* ``bench``: cvxpy with one variable for each of the K tokens of every query token, one sparse row
  per TPG edge (the form the earlier anchors of BENCHMARKS.md were measured with);
* ``compact``: one variable per (query, token) pair occurring in a constraint, one row per edge;
* ``condensation``: ``networkx.condensation`` of each G_k, one variable per SCC weighted by its
  size, one row per condensation edge (equalities vanish);
* SCS on the compact form (``--scs-forms`` for others).

The cvxpy sides receive the TPG edges and their equality flags from symattn for free; their time
is the problem construction (the condensation included) plus ``problem.solve``. Reported beside
every timing: inequalities and equalities, variables and rows of each form, the objective
||W^svm||^2, the max violation over every TPG edge (computed here from each side's potentials),
the objective gap to symattn, and the peak resident memory the side added (``_timing``).

Instances (``_instances``): the rows of issue 14's table - uniform and planted K=1000, n=10^4,
T=64 (L=5 and L=1000), uniform K=1000, n=10^3, T=16, L=1000, planted K=10^4 and K=10^5 (few
thousand tokens in use), the deep single-query DAG (K=10^4, depth 400); ``--quick`` runs small
versions of the same kinds.

    python benchmarks/bench_svm.py --quick
    python benchmarks/bench_svm.py --only "planted K=1e4" --time-cap 120 --json svm.json
    python benchmarks/bench_svm.py --add planted:10000:1000:16:5 --no-scs
    python benchmarks/bench_svm.py --profile uniform:1000:10000:64:5
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import numpy as np
import scipy.sparse as sparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _extras import cp
from _instances import Factory, deep_dag, planted, shape, uniform
from _report import Column, Table, run_module
from _timing import Measurement, measure, measure_isolated, release_free_memory, rss_mb

from symattn import Dataset, SVMConstraints, priority_graphs, solve_graph_svm, svm_constraints

FORMS = ("bench", "compact", "condensation")

FULL: list[tuple[str, Factory]] = [
    ("uniform K=1000 n=1e4 T=64 L=5", lambda: uniform(1000, 10_000, 64, 5)),
    ("planted K=1000 n=1e4 T=64 L=5", lambda: planted(1000, 10_000, 64, 5)),
    ("uniform K=1000 n=1e4 T=64 L=1000", lambda: uniform(1000, 10_000, 64, 1000)),
    ("uniform K=1000 n=1e3 T=16 L=1000", lambda: uniform(1000, 1000, 16, 1000)),
    ("planted K=1e4 n=1e3 T=16 L=5", lambda: planted(10_000, 1000, 16, 5)),
    ("planted K=1e5 n=1e3 T=16 L=5", lambda: planted(100_000, 1000, 16, 5)),
    ("deep DAG K=1e4 n=2e4 T=16 depth 400", lambda: deep_dag(10_000, 20_000, 16, 400)),
]
QUICK: list[tuple[str, Factory]] = [
    ("uniform K=200 n=1e3 T=16 L=5", lambda: uniform(200, 1000, 16, 5)),
    ("planted K=200 n=1e3 T=16 L=5", lambda: planted(200, 1000, 16, 5)),
    ("uniform K=200 n=1e3 T=16 L=200", lambda: uniform(200, 1000, 16, 200)),
    ("planted K=2000 n=300 T=8 L=5", lambda: planted(2000, 300, 8, 5)),
    ("deep DAG K=1000 n=2000 T=8 depth 40", lambda: deep_dag(1000, 2000, 8, 40)),
]


def smallest_instances() -> list[Dataset]:
    """The instances of the smallest configuration (``--quick``)."""
    return [factory() for _, factory in QUICK]


# -- the three cvxpy formulations ----------------------------------------------------------------
# Each returns (potential at every constraint's high token, at its low token, ||W||^2, variables,
# rows, status) for the constraint set ``cons`` of a dataset with K tokens.
Solved = tuple[np.ndarray, np.ndarray, float, int, int, str]


def _incidence(m: int, plus: np.ndarray, minus: np.ndarray, cols: int) -> sparse.csr_matrix:
    rows = np.concatenate([np.arange(m), np.arange(m)])
    vals = np.concatenate([np.ones(m), -np.ones(m)])
    return sparse.csr_matrix((vals, (rows, np.concatenate([plus, minus]))), shape=(m, cols))


def _solve(objective: object, constraints: list, solver: str, cap: float | None) -> str:
    options = {}
    if cap:
        options = {"time_limit": cap} if solver == "CLARABEL" else {"time_limit_secs": cap}
    problem = cp.Problem(cp.Minimize(objective), constraints)
    problem.solve(solver=solver, **options)
    return str(problem.status)


def _rows(A: sparse.csr_matrix, x: object, eq: np.ndarray) -> list:
    out = []
    if eq.any():
        out.append(A[eq] @ x == 0)
    if (~eq).any():
        out.append(A[~eq] @ x >= 1)
    return out


def bench_form(cons: SVMConstraints, K: int, solver: str, cap: float | None) -> Solved:
    """A variable for each of the K tokens of every query token, a row per edge."""
    queries, q = np.unique(cons.query, return_inverse=True)
    m = len(cons)
    A = _incidence(m, q * K + cons.high, q * K + cons.low, queries.size * K)
    x = cp.Variable(queries.size * K)
    status = _solve(cp.sum_squares(x), _rows(A, x, cons.equality), solver, cap)
    if x.value is None:
        return np.zeros(0), np.zeros(0), float("nan"), x.size, m, status
    v = x.value
    return v[q * K + cons.high], v[q * K + cons.low], float(v @ v), x.size, m, status


def compact_form(cons: SVMConstraints, K: int, solver: str, cap: float | None) -> Solved:
    """A variable per (query, token) pair occurring in a constraint, a row per edge."""
    m = len(cons)
    keys, inv = np.unique(np.concatenate([cons.query * K + cons.high, cons.query * K + cons.low]),
                          return_inverse=True)
    hi, lo = inv[:m], inv[m:]
    A = _incidence(m, hi, lo, keys.size)
    x = cp.Variable(keys.size)
    status = _solve(cp.sum_squares(x), _rows(A, x, cons.equality), solver, cap)
    if x.value is None:
        return np.zeros(0), np.zeros(0), float("nan"), x.size, m, status
    v = x.value
    return v[hi], v[lo], float(v @ v), x.size, m, status


def condensation_form(cons: SVMConstraints, K: int, solver: str, cap: float | None) -> Solved:
    """``networkx.condensation`` per query: a variable per SCC weighted by its size, a row per
    condensation edge."""
    starts = np.searchsorted(cons.query, np.unique(cons.query))
    bounds = np.append(starts, len(cons))
    scc_of: dict[tuple[int, int], int] = {}
    sizes: list[int] = []
    tails: list[int] = []
    heads: list[int] = []
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        k = int(cons.query[a])
        graph = nx.DiGraph()
        graph.add_edges_from(zip(cons.high[a:b].tolist(), cons.low[a:b].tolist(), strict=True))
        cond = nx.condensation(graph)
        base = len(sizes)
        for c, data in cond.nodes(data=True):
            sizes.append(len(data["members"]))
            for token in data["members"]:
                scc_of[(k, token)] = base + c
        for c, d in cond.edges():
            tails.append(base + c)
            heads.append(base + d)
    x = cp.Variable(len(sizes))
    D = _incidence(len(tails), np.array(tails, dtype=np.int64), np.array(heads, dtype=np.int64), len(sizes))
    constraints = [D @ x >= 1] if tails else []
    status = _solve(cp.sum_squares(cp.multiply(np.sqrt(np.array(sizes, dtype=float)), x)), constraints, solver, cap)
    if x.value is None:
        return np.zeros(0), np.zeros(0), float("nan"), x.size, len(tails), status
    v = x.value
    hi = np.array([scc_of[(k, t)] for k, t in zip(cons.query.tolist(), cons.high.tolist(), strict=True)])
    lo = np.array([scc_of[(k, t)] for k, t in zip(cons.query.tolist(), cons.low.tolist(), strict=True)])
    return v[hi], v[lo], float(np.sum(np.array(sizes) * v**2)), x.size, len(tails), status


FORM_FUNCTIONS = {"bench": bench_form, "compact": compact_form, "condensation": condensation_form}


# -- accuracy, computed here from each side's potentials -------------------------------------------
def max_violation(cons: SVMConstraints, high: np.ndarray, low: np.ndarray) -> float:
    """max(|margin| on equalities, 1 - margin on inequalities), 0 when all hold."""
    margins = high - low
    eq = cons.equality
    return max(float(np.abs(margins[eq]).max(initial=0.0)), float(np.max(1.0 - margins[~eq], initial=0.0)))


def entries(W: object, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``W[rows, cols]`` of a dense array or a SciPy sparse matrix."""
    if sparse.issparse(W):
        return np.asarray(W.tocsr()[rows, cols]).ravel()
    return np.asarray(W)[rows, cols]


# -- one instance -------------------------------------------------------------------------------
def _symattn(ds: Dataset, reps: int, cap: float | None) -> dict[str, object]:
    release_free_memory()
    before = rss_mb()
    graphs = measure(lambda: (lambda g: (g, svm_constraints(g)))(priority_graphs(ds)), reps, cap)
    if not graphs.ok:
        return {"graphs": graphs}
    retained = rss_mb() - before
    _, cons = graphs.result
    solve = measure(lambda: solve_graph_svm(ds, constraints=cons, certify=False), reps, cap)
    exact = (measure_isolated(lambda: solve_graph_svm(ds, constraints=cons, certify=True), 1, cap,
                              summary=lambda res: bool(res.certified)) if solve.ok
             else Measurement.skipped("the numeric solve failed"))
    return {"graphs": graphs, "solve": solve, "exact": exact, "cons": cons,
            "peak_mb": max(graphs.peak_mb, retained + solve.peak_mb)}


def _cvx_row(name: str, form: str, solver: str, cons: SVMConstraints, K: int, objective: float,
             cap: float | None) -> dict[str, object]:
    m = measure(lambda: FORM_FUNCTIONS[form](cons, K, solver, cap), 1, cap)
    row: dict[str, object] = {"instance": name, "side": f"{solver.lower()} {form}", "seconds": m.seconds,
                              "peak_mb": m.peak_mb, "status": m.status if not m.ok else ""}
    if not m.ok:
        row["status"] = f"{m.status}: {m.message}"[:60]
        return row
    high, low, obj, nvar, nrow, status = m.result
    row.update(vars=nvar, rows=nrow, status=status)
    if high.size or not len(cons):
        row.update(objective=obj, viol=max_violation(cons, high, low),
                   gap=(obj - objective) / max(1.0, objective))
    return row


def _symattn_rows(name: str, ours: dict[str, object], cons: SVMConstraints) -> tuple[list[dict], dict]:
    graphs: Measurement = ours["graphs"]
    solve: Measurement = ours["solve"]
    exact: Measurement = ours["exact"]
    rows = [{"instance": name, "side": "symattn graphs", "seconds": graphs.seconds, "peak_mb": graphs.peak_mb}]
    summary: dict[str, object] = {"ineq": cons.n_inequalities, "eq": cons.n_equalities}
    if not solve.ok:
        rows.append({"instance": name, "side": "symattn solve", "status": f"{solve.status}: {solve.message}"[:60]})
        summary["verdict"] = f"symattn {solve.status}"
        return rows, summary
    res = solve.result
    objective = float(res.norm) ** 2
    W = res.W_sparse  # one-hot W^svm stays sparse at any K
    viol = max_violation(cons, entries(W, cons.high, cons.query), entries(W, cons.low, cons.query))
    certified = exact.ok and bool(exact.result)
    rows += [{"instance": name, "side": "symattn solve", "seconds": solve.seconds, "peak_mb": solve.peak_mb,
              "objective": objective, "viol": viol, "status": res.status.value},
             {"instance": name, "side": "symattn exact", "seconds": exact.seconds, "peak_mb": exact.peak_mb,
              "status": ("certified" if certified else "NOT certified") if exact.ok
              else f"{exact.status}: {exact.message}"[:60]}]
    summary.update(objective=objective, viol=viol, ours=graphs.seconds + solve.seconds,
                   exact=graphs.seconds + exact.seconds, cert_over_solve=exact.seconds / solve.seconds,
                   ours_mb=ours["peak_mb"])
    return rows, summary


def run_instance(name: str, ds: Dataset, args: argparse.Namespace) -> tuple[list[dict], dict]:
    """Every side on one instance: the detail rows and the summary row."""
    ours = _symattn(ds, args.reps, args.time_cap)
    sh = shape(ds)
    summary: dict[str, object] = {"instance": name, "in_use": sh.in_use, "nnz": sh.nnz}
    graphs: Measurement = ours["graphs"]
    if not graphs.ok:
        summary["verdict"] = f"symattn graphs {graphs.status}: {graphs.message}"[:70]
        return [], summary
    cons: SVMConstraints = ours["cons"]
    rows, more = _symattn_rows(name, ours, cons)
    summary.update(more)
    objective = float(summary.get("objective", float("nan")))
    if cp is not None and not args.no_cvxpy:
        for form in args.forms:
            rows.append(_cvx_row(name, form, "CLARABEL", cons, ds.K, objective, args.time_cap))
            print(f"  {name}: clarabel {form} {rows[-1]['seconds']:.3g} s", file=sys.stderr, flush=True)
        for form in args.scs_forms:
            rows.append(_cvx_row(name, form, "SCS", cons, ds.K, objective, args.time_cap))
        _verdict(summary, rows)
    return rows, summary


def _verdict(summary: dict[str, object], rows: list[dict]) -> None:
    clarabel = [r for r in rows if str(r["side"]).startswith("clarabel") and r.get("status") == "optimal"]
    if not clarabel:
        summary["verdict"] = "no Clarabel form solved it"
        return
    best = min(clarabel, key=lambda r: r["seconds"])
    summary.update(best=str(best["side"]).split()[1], best_s=best["seconds"], best_mb=best["peak_mb"])
    if "ours" not in summary:
        summary["verdict"] = f"NOT met ({summary.get('verdict', 'symattn failed')})"
        return
    ratio = best["seconds"] / summary["ours"]
    summary.update(ratio=ratio, ratio_exact=best["seconds"] / summary["exact"])
    goal = 30.0 if best["seconds"] >= 1.0 else 1.0
    summary["verdict"] = f"{'met' if ratio >= goal else 'NOT met'} (goal >= {goal:g}x)"


DETAIL = [Column("instance", "instance", "str"), Column("side", "side", "str"), Column("vars", "vars", "d"),
          Column("rows", "rows", "d"), Column("seconds", "seconds", ".3g"), Column("objective", "||W||^2", ".6g"),
          Column("viol", "max viol", ".1e"), Column("gap", "obj gap", ".1e"), Column("peak_mb", "peak MB", ".0f"),
          Column("status", "status", "str")]
SUMMARY = [Column("instance", "instance", "str"), Column("in_use", "in use", "d"), Column("ineq", "ineq", "d"),
           Column("eq", "eq", "d"), Column("objective", "||W||^2", ".5g"), Column("ours", "graphs+solve s", ".3g"),
           Column("exact", "+cert s", ".3g"), Column("cert_over_solve", "cert/solve", ".1f"),
           Column("viol", "viol", ".0e"), Column("ours_mb", "MB", ".0f"), Column("best", "fastest Clarabel", "str"),
           Column("best_s", "s", ".3g"), Column("best_mb", "MB", ".0f"), Column("ratio", "ratio", ".2f"),
           Column("ratio_exact", "ratio w/ cert", ".2f"), Column("verdict", "goal", "str")]


def _parse_spec(spec: str) -> tuple[str, Factory]:
    kind, *values = spec.split(":")
    K, n, T, L = (int(float(v)) for v in values)
    maker = {"uniform": uniform, "planted": planted}[kind]
    return f"{kind} K={K} n={n} T={T} L={L}", lambda: maker(K, n, T, L)


def instances(args: argparse.Namespace) -> list[tuple[str, Factory]]:
    chosen = QUICK if args.quick else FULL
    if args.only:
        chosen = [(name, f) for name, f in FULL + QUICK if any(o in name for o in args.only)]
    return chosen + [_parse_spec(s) for s in args.add]


def tables(args: argparse.Namespace) -> Iterator[Table]:
    if cp is None and not args.no_cvxpy:
        print("cvxpy is not installed (pip install 'symattn[bench]'): timing symattn only", file=sys.stderr)
    detail = Table("graph-SVM: every side on every instance", DETAIL)
    summary = Table("graph-SVM: symattn against the fastest Clarabel formulation", SUMMARY)
    for name, factory in instances(args):
        t0 = time.perf_counter()
        ds = factory()
        print(f"{name}: generated in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
        rows, summ = run_instance(name, ds, args)
        detail.rows.extend(rows)
        summary.rows.append(summ)
    detail.notes = [
        "seconds: symattn medians of --reps runs (exact: one run); cvxpy one run, construction + solve.",
        "max viol over every TPG edge from each side's own potentials; obj gap = (cvxpy - symattn) / max(1, symattn).",
        "peak MB: growth of the resident high-water mark during the call (graphs retained during solve).",
    ]
    summary.notes = [
        "ratio = fastest Clarabel form with status optimal / symattn graphs+solve; 'w/ cert' uses graphs+exact.",
        "goal (issue 14): >= 30x where the fastest Clarabel form takes >= 1 s, never slower (>= 1x) below.",
    ]
    yield summary
    yield detail


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--only", nargs="*", default=[], help="run the instances whose name contains one of these")
    parser.add_argument("--add", nargs="*", default=[], metavar="KIND:K:n:T:L",
                        help="extra instances, e.g. planted:10000:1000:16:5 or uniform:1000:10000:64:1000")
    parser.add_argument("--forms", nargs="*", default=list(FORMS), choices=FORMS, help="Clarabel formulations")
    parser.add_argument("--scs-forms", nargs="*", default=["compact"], choices=FORMS,
                        help="formulations SCS solves (default compact)")
    parser.add_argument("--no-cvxpy", action="store_true", help="time symattn only")
    parser.add_argument("--profile", metavar="KIND:K:n:T:L", help="cProfile symattn's graphs + solve on one instance")


def profile(spec: str) -> None:
    name, factory = _parse_spec(spec)
    ds = factory()
    for certify in (False, True):
        prof = cProfile.Profile()
        prof.enable()
        solve_graph_svm(ds, constraints=svm_constraints(priority_graphs(ds)), certify=certify)
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(18)
        print(f"== {name}: graphs + solve, certify={certify} ==\n{out.getvalue()}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--profile" in argv:
        profile(argv[argv.index("--profile") + 1])
        return 0
    return run_module(__doc__, add_arguments, tables, argv)


if __name__ == "__main__":
    raise SystemExit(main())
