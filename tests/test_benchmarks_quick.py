"""The benchmarks cannot rot: every module imports, its smallest instances build, and the
baselines it times compute what they claim (checked against symattn's certified answers and
finite differences). No timing runs here."""

from __future__ import annotations

import importlib
import os
import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from symattn import Dataset, priority_graphs, reduced_loss, solve_graph_svm, svm_constraints

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

MODULES = ("bench_svm", "bench_finite", "bench_path", "bench_train", "bench_graphs", "bench_scaling",
           "bench_automaton")


@pytest.mark.parametrize("name", MODULES)
def test_each_benchmark_imports_and_builds_its_smallest_instances(name):
    module = importlib.import_module(name)
    for attr in ("tables", "add_arguments", "main", "smallest_instances"):
        assert callable(getattr(module, attr)), f"{name}.{attr}"
    built = module.smallest_instances()
    assert built and all(isinstance(ds, Dataset) and ds.n > 0 for ds in built)


def test_runner_knows_every_benchmark():
    run = importlib.import_module("run")
    assert {f"bench_{m}" for m in run.MODULES} == set(MODULES)


def test_planted_realises_a_hierarchy_of_small_sccs():
    from _instances import deep_dag, planted

    ds = planted(300, 600, 8, 3, seed=1)
    for g in priority_graphs(ds).values():
        assert max(len(c) for c in g.sccs) <= 20
        assert (g.query,) in g.sccs and g.graph.out_degree(g.query) == 0  # the query is a sink
        assert nx.dag_longest_path_length(nx.condensation(g.graph)) >= 4
    (g,) = priority_graphs(deep_dag(1000, 2000, 8, 40)).values()
    assert nx.dag_longest_path_length(nx.condensation(g.graph)) >= 40


def test_uniform_with_few_tokens_in_use():
    from _instances import shape, uniform

    sh = shape(uniform(10**5, 50, 6, 2, used=40))
    assert (sh.K, sh.L) == (10**5, 2) and sh.in_use <= 40


def test_pair_coordinates_agree_with_symattn():
    from _instances import planted
    from _pairs import fin_projection, full_loss, pair_data
    from _pairs import reduced_loss as pair_reduced

    ds = planted(60, 200, 6, 2, seed=3)
    pd = pair_data(ds)
    graphs = priority_graphs(ds)
    for k, g in graphs.items():  # the same SCC partition per query (csgraph against symattn)
        mine = pd.scc[pd.query == k]
        tokens = pd.token[pd.query == k]
        theirs = g.component[np.searchsorted(g.nodes, tokens)]
        assert len(set(zip(mine.tolist(), theirs.tolist(), strict=True))) == len(set(theirs.tolist()))
    rng = np.random.default_rng(0)
    W = rng.standard_normal((ds.K, ds.K))
    loss, pairs = pair_reduced(pd)
    u = W[pd.token[pairs], pd.query[pairs]]
    assert np.isclose(loss.value(u), reduced_loss(ds, W), rtol=1e-12)
    full = full_loss(pd)
    v = rng.standard_normal(full.nvar)
    step = 1e-6 * rng.standard_normal(full.nvar)
    _, grad = full.value_and_grad(v)
    assert np.isclose(full.value(v + step) - full.value(v - step), 2 * grad @ step, rtol=1e-5)
    hv = full.hessp(v, step)
    assert np.allclose(full.grad(v + step) - full.grad(v - step), 2 * hv, rtol=1e-4, atol=1e-14)
    assert np.allclose(fin_projection(pd, np.ones(pd.query.size)), 0.0)
    values = rng.standard_normal(pd.query.size)  # projecting a subset of pairs = the full projection there
    sub = pairs[pd.scc[pairs] < pd.scc[pairs].max()]  # whole SCCs, not the last one
    assert np.allclose(fin_projection(pd, values[sub], sub), fin_projection(pd, values)[sub])


def test_svm_formulations_reach_symattns_certified_optimum():
    pytest.importorskip("cvxpy", reason="the cvxpy formulations need the bench extra")
    from _instances import planted
    from bench_svm import FORM_FUNCTIONS, max_violation

    ds = planted(40, 120, 6, 2, seed=2)
    cons = svm_constraints(priority_graphs(ds))
    res = solve_graph_svm(ds, constraints=cons, certify=True)
    assert res.certified
    objective = res.norm**2
    for form, solve in FORM_FUNCTIONS.items():
        high, low, value, _, _, status = solve(cons, ds.K, "CLARABEL", None)
        assert status == "optimal", form
        assert abs(value - objective) <= 1e-6 * max(1.0, objective), form
        assert max_violation(cons, high, low) <= 1e-6, form


def test_training_sides_compute_the_same_loss_and_gradient():
    pytest.importorskip("torch", reason="the PyTorch loops need the bench extra")
    from bench_train import gather_side, padded_side, start_weights, symattn_side

    (ds,) = importlib.import_module("bench_train").smallest_instances()
    W0 = start_weights(ds.K)
    value, grad = symattn_side(ds)[1](W0)
    for side in (padded_side, gather_side):
        theirs, their_grad = side(ds)[1](W0)
        assert np.isclose(theirs, value, rtol=1e-12)
        assert np.allclose(their_grad, grad, rtol=1e-9, atol=1e-15)


def test_measure_reports_caps_instead_of_raising():
    from _report import loglog_slope, predict_power
    from _timing import measure, measure_isolated

    def spin() -> None:
        end = time.perf_counter() + 5
        while time.perf_counter() < end:
            pass

    assert measure(spin, 1, cap_seconds=0.05).status == "time cap"

    def allocate() -> None:
        raise MemoryError("simulated")

    assert measure(allocate).status == "memory cap"
    ok = measure(lambda: 3, reps=2)
    assert ok.ok and ok.result == 3 and len(ok.times) == 2
    isolated = measure_isolated(lambda: [4], reps=2, summary=len)
    assert isolated.ok and isolated.result == 1 and len(isolated.times) == 2
    assert measure_isolated(os.abort).status == "crashed"
    assert measure_isolated(spin, cap_seconds=0.05).status == "time cap"
    xs = [1.0, 10.0, 100.0]
    assert np.isclose(loglog_slope(xs, [x**2 for x in xs]), 2.0)
    assert np.isclose(predict_power(xs, [x**2 for x in xs], 1000.0), 1e6)
