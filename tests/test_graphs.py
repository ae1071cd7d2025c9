import networkx as nx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from oracles import reachability, tpg_edges, tpg_nodes

from symattn import Dataset, InvalidInput, Priority, priority_graphs, realisable_graph, realise
from symattn.strategies import datasets, graph_families, realised_datasets, token_graphs


def _samples(ds):
    return [(s.tokens, s.label) for s in ds]


def test_single_sample_single_token():
    pg = priority_graphs(Dataset.from_samples([([0], 0)], vocab=1))
    g = pg[0]
    assert g.sccs == ((0,),) and g.dag == () and g.edges.shape == (0, 2)
    assert pg.label_scc.tolist() == [0] and not pg.cyclic


def test_query_is_preferred_below_labels():
    g = priority_graphs(Dataset.from_samples([([1, 0], 1)], vocab=2))[0]
    assert g.edges.tolist() == [[1, 0]]
    assert g.compare(1, 0) is Priority.HIGHER and g.compare(0, 1) is Priority.LOWER


def test_incomparable_tokens():
    ds = Dataset.from_samples([([1, 0], 0), ([2, 0], 0)], vocab=3)
    g = priority_graphs(ds)[0]
    assert g.compare(1, 2) is Priority.INCOMPARABLE
    top = g.top_sccs([1, 2])
    assert not top.unique and top.tokens == (1, 2)


def test_unknown_query_and_token_errors():
    pg = priority_graphs(Dataset.from_samples([([1, 0], 0)], vocab=3))
    with pytest.raises(InvalidInput, match="no sample has query token 2"):
        pg[2]
    with pytest.raises(InvalidInput, match="token 2 is not a node of G_0"):
        pg[0].scc_of(2)
    top = pg[0].top_sccs([2, 1, 0])
    assert top.unseen == (2,) and not top.unique


@given(datasets(max_vocab=7, max_samples=10, max_queries=2))
def test_graphs_match_brute_force(ds):
    pg = priority_graphs(ds)
    samples = _samples(ds)
    edges, nodes = tpg_edges(samples), tpg_nodes(samples)
    assert sorted(pg) == sorted(edges)
    for k, g in pg.items():
        assert set(map(tuple, g.edges.tolist())) == edges[k]
        assert set(g.nodes.tolist()) == nodes[k]
        node_list = sorted(nodes[k])
        reach = reachability(node_list, edges[k])
        for a in node_list:
            for b in node_list:
                expected = (
                    Priority.SAME if reach[a, b] and reach[b, a]
                    else Priority.HIGHER if reach[a, b]
                    else Priority.LOWER if reach[b, a]
                    else Priority.INCOMPARABLE
                )
                assert g.compare(a, b) is expected
        # SCCs: same partition as networkx's, listed in a topological order.
        expected_sccs = {frozenset(c) for c in nx.strongly_connected_components(nx.DiGraph(list(edges[k])))}
        expected_sccs |= {frozenset([t]) for t in node_list if not any(t in c for c in expected_sccs)}
        assert {frozenset(c) for c in g.sccs} == expected_sccs
        assert all(a < b for a, b in g.dag)
        assert all(list(scc) == sorted(scc) for scc in g.sccs)


@given(datasets(max_vocab=6, max_samples=8, max_queries=2))
def test_label_scc_and_in_label_scc(ds):
    pg = priority_graphs(ds)
    c = ds.counts
    for i, (tokens, label) in enumerate(_samples(ds)):
        g = pg[tokens[-1]]
        assert label in pg.sample_scc(i)
        # The label lies in the highest SCC among its own sequence's tokens (docs/theory.md §3, "the label is on top").
        assert all(g.reaches(label, t) for t in tokens)
        entries = range(c.indptr[i], c.indptr[i + 1])
        assert [bool(pg.in_label_scc[e]) for e in entries] == [
            g.same_scc(int(c.token[e]), label) for e in entries
        ]


@given(datasets(max_vocab=6, max_samples=8, max_queries=2), st.data())
def test_top_sccs_brute_force(ds, data):
    pg = priority_graphs(ds)
    k = data.draw(st.sampled_from(sorted(pg)))
    g = pg[k]
    present = data.draw(st.lists(st.sampled_from(g.nodes.tolist()), min_size=1, max_size=5))
    top = g.top_sccs(present)
    maximal = {t for t in present if not any(g.higher(o, t) for o in present)}
    assert set(top.tokens) == maximal
    assert top.unique == (len({g.scc_of(t) for t in maximal}) == 1)


@given(token_graphs(max_tokens=6))
def test_realise_round_trips_single_graph(drawn):
    k, graph = drawn
    g = priority_graphs(realise({k: graph}))[k]
    assert set(map(tuple, g.edges.tolist())) == set(graph.edges)
    assert set(g.nodes.tolist()) == set(graph.nodes)


@pytest.mark.parametrize("cyclic", [True, False, None])
def test_realised_datasets_realise_their_family(cyclic):
    @given(graph_families(max_queries=3, max_tokens=5, cyclic=cyclic))
    def check(family):
        pg = priority_graphs(realise(family))
        assert sorted(pg) == sorted(family)
        for k, graph in family.items():
            assert set(map(tuple, pg[k].edges.tolist())) == set(graph.edges)
        if cyclic is not None:
            assert pg.cyclic == cyclic

    check()


@given(realised_datasets(max_queries=2, max_tokens=5, cyclic=False))
def test_acyclic_realised_dataset_has_only_singletons(ds):
    pg = priority_graphs(ds)
    assert all(len(scc) == 1 for g in pg.values() for scc in g.sccs)


@pytest.mark.parametrize(
    ("graph", "message"),
    [
        (nx.DiGraph([(0, 1)]), r"node 0 has out-edges but no edge \(0, 2\)"),
        (nx.DiGraph([(0, 0), (0, 2)]), "self-loop"),
        (nx.DiGraph([(3, 1), (1, 2)]), r"node 3 has out-edges but no edge \(3, 2\)"),
        (nx.DiGraph([(-1, 2)]), "not a token id"),
    ],
)
def test_realise_refuses_unrealisable_graphs(graph, message):
    with pytest.raises(InvalidInput, match=message):
        realise({2: graph})


def test_realise_refuses_isolated_non_query_node():
    graph = nx.DiGraph()
    graph.add_nodes_from([2, 5])
    with pytest.raises(InvalidInput, match="node 5 has no edge"):
        realise({2: graph})
    fixed = realisable_graph(graph, 2)
    assert set(fixed.edges) == {(5, 2)}
    assert set(map(tuple, priority_graphs(realise({2: fixed}))[2].edges.tolist())) == {(5, 2)}


def test_long_chain_has_no_recursion_limit():
    # A chain 0 > 1 > ... > m-1 > query: depth far beyond Python's recursion limit.
    m = 5000
    k = m
    samples = [([i + 1, i, k], i) for i in range(m - 1)] + [([m - 1, k], m - 1)]
    pg = priority_graphs(Dataset.from_samples(samples, vocab=m + 1))
    g = pg[k]
    assert len(g.sccs) == m + 1
    assert [scc[0] for scc in g.sccs] == [*range(m), k]
    assert g.higher(0, m - 1)


def test_fifty_thousand_tokens_and_a_million_edges():
    rng = np.random.default_rng(0)
    K, n, T = 50_000, 20_000, 51
    tokens = rng.integers(0, K, size=(n, T))
    tokens[:, -1] = rng.integers(0, 5, size=n)
    labels = tokens[np.arange(n), rng.integers(0, T, size=n)]
    ds = Dataset.from_arrays(tokens.ravel(), np.arange(n + 1) * T, labels, vocab=K)
    pg = priority_graphs(ds)
    assert pg.n_edges > 900_000
    for g in pg.values():
        ranks = g.component[np.searchsorted(g.nodes, g.edges)]
        assert np.all(ranks[:, 0] <= ranks[:, 1])  # every edge points down the priority order
        assert sum(len(scc) for scc in g.sccs) == g.nodes.size


def test_networkx_views():
    ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3)
    g = priority_graphs(ds)[2]
    assert set(g.graph.edges) == {(0, 1), (1, 0), (0, 2), (1, 2)}
    assert g.graph.nodes[0]["scc"] == 0
    assert list(g.condensation.edges) == [(0, 1)]
    assert g.condensation.nodes[0]["members"] == (0, 1)
