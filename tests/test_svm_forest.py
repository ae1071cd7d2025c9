"""Spanning forests (``forest_order``), by SciPy's graph routines and by plain Python for small
graphs, against networkx's connected components."""

import networkx as nx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import symattn.svm._potentials as potentials


@st.composite
def multigraphs(draw):
    n = draw(st.integers(1, 40))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n))
    return n, np.array([a for a, _ in pairs], dtype=np.int64), np.array([b for _, b in pairs], dtype=np.int64)


@pytest.mark.parametrize("threshold", [0, 10**6], ids=["scipy", "python"])
@given(graph=multigraphs())
def test_forest_spans_every_component_from_its_smallest_node(threshold, graph):
    n, tails, heads = graph
    saved = potentials._SMALL_FOREST
    potentials._SMALL_FOREST = threshold
    try:
        forest = potentials.forest_order(n, tails, heads)
    finally:
        potentials._SMALL_FOREST = saved
    g = nx.MultiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from(zip(tails.tolist(), heads.tolist(), strict=True))
    components = list(nx.connected_components(g))
    smallest = {x: min(c) for c in components for x in c}
    assert forest.root.tolist() == [smallest[x] for x in range(n)]
    assert sorted(forest.order.tolist()) == list(range(n))
    position = np.empty(n, dtype=np.int64)
    position[forest.order] = np.arange(n)
    children = np.flatnonzero(forest.parent >= 0)
    assert children.size == n - len(components)
    assert np.all(forest.parent[forest.root == np.arange(n)] == -1)
    for y in children.tolist():
        e, x = forest.parent_edge[y], forest.parent[y]
        assert {int(tails[e]), int(heads[e])} == {x, y}
        assert position[x] < position[y] and forest.root[x] == forest.root[y]
