"""Twin SCCs merged before the graph-SVM's active-set solve: the merge is exact (the Fraction
optimum of the unmerged problem is the oracle), only true twins are merged even when hashes
collide, and the multipliers spread back satisfy the KKT conditions of the original problem,
in floats and in the integer certificate."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from svm_cases import random_dataset

import symattn.svm._twins as twins_module
from symattn.svm import solve_graph_svm, svm_constraints
from symattn.svm._collapse import collapse
from symattn.svm._potentials import min_norm_potentials
from symattn.svm._scaled import ScaledPotentials, scaled_checks, scaled_solution
from symattn.svm._twins import _match, twin_classes


@st.composite
def dags_with_twins(draw):
    """A random DAG in blocks, then copies of some nodes with the same successors and predecessors."""
    n = draw(st.integers(2, 9))
    order = draw(st.permutations(range(n)))
    pairs = [(order[a], order[b]) for a in range(n) for b in range(a + 1, n)]
    edges = draw(st.lists(st.sampled_from(pairs), max_size=3 * n, unique=True)) if pairs else []
    weights = draw(st.lists(st.integers(1, 4), min_size=n, max_size=n))
    block = [0] * n
    for copy_of in draw(st.lists(st.integers(0, n - 1), max_size=4)):
        new = len(weights)
        weights.append(draw(st.integers(1, 4)))
        block.append(0)
        edges += [(new, b) for a, b in edges if a == copy_of] + [(a, new) for a, b in edges if b == copy_of]
    edges = sorted(set(edges))
    tails = np.array([a for a, _ in edges], dtype=np.int64)
    heads = np.array([b for _, b in edges], dtype=np.int64)
    return np.array(weights, dtype=np.int64), tails, heads, np.array(block, dtype=np.int64)


def _brute_twins(n, tails, heads):
    succ = [frozenset(heads[tails == x].tolist()) for x in range(n)]
    pred = [frozenset(tails[heads == x].tolist()) for x in range(n)]
    return {(x, y) for x in range(n) for y in range(n) if succ[x] == succ[y] and pred[x] == pred[y]}


@given(dags_with_twins())
def test_classes_are_exactly_the_twins(problem):
    """Brute force over pairs: same class exactly when same successors and predecessors."""
    weights, tails, heads, block = problem
    tw = twin_classes(weights, tails, heads, block)
    n = weights.size
    same = {(x, y) for x in range(n) for y in range(n) if tw.cls[x] == tw.cls[y]}
    assert same == _brute_twins(n, tails, heads)
    assert tw.weights.sum() == weights.sum()


def test_colliding_hashes_merge_only_true_twins(monkeypatch):
    """With nodes hashed by their out-degree alone, the exact comparison keeps every non-twin apart
    (the sinks 5 and 6 differ only in their predecessors; twins that differ from the class's first
    member may then stay apart too: never wrong, only less merged)."""
    monkeypatch.setattr(twins_module, "_candidates",
                        lambda n, tails, heads, block: np.bincount(tails, minlength=n))
    tails, heads = np.array([0, 1, 2, 3, 0, 4]), np.array([5, 5, 6, 6, 6, 6])
    tw = twin_classes(np.ones(7), tails, heads, np.zeros(7))
    n = 7
    same = {(x, y) for x in range(n) for y in range(n) if tw.cls[x] == tw.cls[y]}
    assert same <= _brute_twins(n, tails, heads)
    assert len(set(tw.cls.tolist())) == 7
    full = min_norm_potentials(np.ones(7), tails, heads, exact=True)
    merged = min_norm_potentials(tw.weights, tw.tails, tw.heads, exact=True)
    assert merged.v[tw.cls].tolist() == full.v.tolist()


@given(dags_with_twins())
def test_the_merged_optimum_is_the_exact_optimum(problem):
    """Exact Fraction solves: the merged problem expanded equals the unmerged problem, entry by entry,
    and the spread multipliers satisfy stationarity, signs and complementarity exactly."""
    weights, tails, heads, block = problem
    full = min_norm_potentials(weights, tails, heads, exact=True, block=block)
    tw = twin_classes(weights, tails, heads, block)
    merged = min_norm_potentials(tw.weights, tw.tails, tw.heads, exact=True, block=tw.block)
    v = merged.v[tw.cls]
    assert v.tolist() == full.v.tolist()
    lam = tw.spread(merged.multipliers)
    assert all(isinstance(x, Fraction) and x >= 0 for x in lam.tolist())
    net = np.array([Fraction(0)] * weights.size, dtype=object)
    np.add.at(net, tails, lam)
    np.subtract.at(net, heads, lam)
    assert (net == weights * v).all()
    margin = v[tails] - v[heads]
    assert all(m >= 1 and (x == 0 or m == 1) for m, x in zip(margin.tolist(), lam.tolist(), strict=True))
    numeric = min_norm_potentials(tw.weights, tw.tails, tw.heads, block=tw.block)
    assert np.allclose(numeric.v[tw.cls], np.array(full.v, dtype=float), atol=1e-9)


def test_spread_integers_refuses_unbalanced_or_negative_flows():
    tw = twin_classes(np.ones(3), np.array([0, 0]), np.array([1, 2]), np.zeros(3))
    num = np.array([2, -1])  # class 0 = {0}, class 1 = {1, 2}: 1 * 2 = flow, 2 * (-1) = -flow
    assert tw.spread_integers(num, np.array([2])).tolist() == [1, 1]
    assert tw.spread_integers(num, np.array([3])) is None
    assert tw.spread_integers(-num, np.array([-2])) is None


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 5)), max_size=12),
       st.lists(st.integers(1, 4), min_size=1, max_size=5), st.randoms(use_true_random=False))
def test_north_west_corner_meets_both_marginals(sources, cuts, rnd):
    """Sinks drawn with the same totals per segment: every amount positive, both marginals met."""
    seg_s = np.array([s for s, _ in sources], dtype=np.int64)
    s = np.array([a for _, a in sources], dtype=np.int64)
    seg_t, t = [], []
    for g in range(4):
        total = int(s[seg_s == g].sum())
        while total:
            part = min(total, rnd.choice(cuts))
            seg_t.append(g)
            t.append(part)
            total -= part
    seg_t, t = np.array(seg_t, dtype=np.int64), np.array(t, dtype=np.int64)
    src, dst, amount = _match(seg_s, np.arange(s.size), s, seg_t, np.arange(t.size), t)
    assert np.all(amount > 0)
    assert np.bincount(src, weights=amount, minlength=s.size).tolist() == s.tolist()
    assert np.bincount(dst, weights=amount, minlength=t.size).tolist() == t.tolist()
    assert np.all(seg_s[src] == seg_t[dst])
    if t.size:
        assert _match(seg_s, np.arange(s.size), s, seg_t, np.arange(t.size), t + 1) is None


@pytest.mark.parametrize("seed", range(4))
def test_integer_certificate_of_the_merged_problem_verifies(seed):
    """Small vocabularies make many twins, some with several working edges: the integer certificate
    is built from the merged forest (no exact re-solve), verifies, and equals the Fraction optimum."""
    ds = random_dataset(8, 40, 5, 3, seed)
    cons = svm_constraints(ds)
    prob = collapse(cons, ds.K)
    tw = twin_classes(prob.weights, prob.dag_tail, prob.dag_head, prob.node_query[prob.reps])
    assert tw.weights.size < prob.weights.size
    numeric = min_norm_potentials(tw.weights, tw.tails, tw.heads, block=tw.block)
    scaled = scaled_solution(prob, numeric.working, tw)
    assert scaled is not None
    assert scaled_checks(cons, scaled.potentials, scaled.multipliers, ds.K) == (True, True, True, True)
    res = solve_graph_svm(ds, certify=True)
    assert isinstance(res.certificate.solution, ScaledPotentials) and res.certificate.corrections == 0
    exact = min_norm_potentials(prob.weights, prob.dag_tail, prob.dag_head, exact=True,
                                block=prob.node_query[prob.reps])
    u = exact.v[prob.group]
    want = {(t, k): x for t, k, x in zip(prob.node_token.tolist(), prob.node_query.tolist(), u, strict=True)
            if x != 0}
    assert dict(res.certificate.entries) == want


def test_a_class_spread_over_several_working_edges_certifies():
    """Sinks 2, 3 and the query 4 under both labels 0 and 1 (which are not twins: 5 is only under 0,
    6 only under 1): the twin class {2, 3, 4} takes flow from two working edges, and the transport
    splits it so every original multiplier is non-negative."""
    from symattn import Dataset

    ds = Dataset.from_samples([([0, 2, 3, 5, 4], 0), ([1, 2, 3, 6, 4], 1)], vocab=7)
    cons = svm_constraints(ds)
    prob = collapse(cons, ds.K)
    tw = twin_classes(prob.weights, prob.dag_tail, prob.dag_head, prob.node_query[prob.reps])
    numeric = min_norm_potentials(tw.weights, tw.tails, tw.heads, block=tw.block)
    into = np.bincount(tw.heads[numeric.working], minlength=tw.weights.size)
    assert into.max() >= 2
    res = solve_graph_svm(ds, certify=True)
    assert res.certified and isinstance(res.certificate.solution, ScaledPotentials)
    assert res.certificate.corrections == 0
