from collections import Counter

import networkx as nx
import pytest
from hypothesis import find, given, settings
from hypothesis.errors import InvalidArgument

from symattn import EmbeddingKind
from symattn.strategies import datasets, embeddings_for, graph_families, realised_datasets, token_graphs


@given(token_graphs(min_tokens=2, max_tokens=5, cyclic=True))
def test_cyclic_token_graphs_have_a_cycle(drawn):
    _, graph = drawn
    assert not nx.is_directed_acyclic_graph(graph)


@given(token_graphs(max_tokens=5, cyclic=False))
def test_acyclic_token_graphs_are_dags(drawn):
    k, graph = drawn
    assert nx.is_directed_acyclic_graph(graph) and k in graph


@given(graph_families(max_queries=3, max_tokens=4, vocab_size=8))
def test_families_use_the_vocabulary(family):
    assert 1 <= len(family) <= 3
    assert all(0 <= t < 8 for g in family.values() for t in g.nodes)
    assert all(k in g for k, g in family.items())


@given(realised_datasets(max_queries=2, max_tokens=4, max_repeats=3))
def test_realised_datasets_repeat_each_label_at_most_max_repeats_times(ds):
    per_label = Counter((s.query, s.label) for s in ds)
    assert max(per_label.values()) <= 3


def test_realised_datasets_repeat_tokens_and_vary_lengths():
    quick = settings(max_examples=200, database=None, derandomize=True)
    strategy = realised_datasets(max_queries=1, max_tokens=3, max_repeats=3)
    copies = find(strategy, lambda ds: any(len(set(s.tokens)) < len(s.tokens) for s in ds), settings=quick)
    assert any(len(set(s.tokens)) < len(s.tokens) for s in copies)
    lengths = find(strategy, lambda ds: len({len(s.tokens) for s in ds if s.label == ds[0].label}) > 1,
                   settings=quick)
    assert len({len(s.tokens) for s in lengths if s.label == lengths[0].label}) > 1


@given(datasets(min_vocab=3, max_vocab=3, min_samples=4, max_samples=4, min_length=2, max_length=3, max_queries=1))
def test_dataset_bounds_hold(ds):
    assert ds.K == 3 and len(ds) == 4
    assert all(2 <= length <= 3 for length in ds.lengths)
    assert len(set(ds.queries.tolist())) == 1


@pytest.mark.parametrize("kind", list(EmbeddingKind))
def test_embeddings_for_every_kind(kind):
    @settings(max_examples=3)
    @given(embeddings_for(4, kind=kind))
    def check(E):
        assert E.kind is kind and E.size == 4
        if kind is not EmbeddingKind.RANDOM_UNIT:
            assert E.is_independent

    check()


@pytest.mark.parametrize(
    "strategy",
    [
        token_graphs(min_tokens=3, max_tokens=2),
        token_graphs(min_tokens=0),
        token_graphs(max_tokens=1, cyclic=True),
        graph_families(max_tokens=5, vocab_size=3),
        datasets(min_samples=0),
        datasets(max_length=True),
        realised_datasets(max_repeats=0),
        embeddings_for(3, kind="bogus"),
        embeddings_for(3, kind="orthonormal", dim=2),
        embeddings_for(0),
        graph_families(max_tokens=1, cyclic=True),
        graph_families(max_tokens=1, max_queries=1, vocab_size=1, cyclic=True),
        graph_families(max_tokens=1, max_queries=1, vocab_size=0),
        graph_families(max_tokens=1, max_queries=1, vocab_size="3"),
        graph_families(max_queries=0),
        realised_datasets(max_tokens=1, cyclic=True),
        realised_datasets(max_queries=0),
        realised_datasets(min_tokens=4, max_tokens=3),
        datasets(max_queries=0),
    ],
)
def test_bad_bounds_raise_invalid_argument(strategy):
    @given(strategy)
    def draw(_):
        raise AssertionError("a strategy with impossible bounds produced a value")

    with pytest.raises(InvalidArgument):
        draw()
