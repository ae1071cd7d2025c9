"""Strategies shrink along the graph structure: minimal examples are small, realizable datasets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis.errors import InvalidArgument

from symattn import Dataset, Embeddings, priority_graphs
from symattn.strategies import datasets, embeddings_for, realised_datasets, weights_for

FIND = settings(database=None, max_examples=300, phases=[Phase.generate, Phase.shrink],
                suppress_health_check=list(HealthCheck))


def samples(ds: Dataset) -> list[tuple[tuple[int, ...], int]]:
    return [(s.tokens, s.label) for s in ds]


def test_the_simplest_realised_dataset_is_one_token():
    ds = find(realised_datasets(), lambda ds: True, settings=FIND)
    assert samples(ds) == [((0,), 0)] and ds.K == 1


def test_the_simplest_dataset_with_an_edge_is_one_sample_of_two_tokens():
    for strategy in (realised_datasets(), datasets()):
        ds = find(strategy, lambda ds: priority_graphs(ds).n_edges >= 1, settings=FIND)
        assert len(ds) == 1 and ds.lengths.tolist() == [2] and ds.K == 2


def test_the_simplest_cycle_is_two_samples_of_two_tokens():
    ds = find(realised_datasets(cyclic=True), lambda ds: True, settings=FIND)
    assert len(ds) == 2 and ds.lengths.tolist() == [2, 2] and priority_graphs(ds).cyclic


def test_given_embeddings_shrink_to_the_one_hot_rows():
    E = find(embeddings_for(3, kind="given"), lambda E: True, settings=FIND)
    assert [[int(v) for v in row] for row in E.exact_matrix()] == np.eye(3, dtype=int).tolist()


@given(embeddings_for(4, kind="given", dim=5))
def test_given_embeddings_are_exact_small_and_independent(E):
    rows = np.array([[int(v) for v in row] for row in E.exact_matrix()])
    assert E.is_independent and rows.shape == (4, 5)
    assert np.all(np.abs(rows - np.eye(4, 5, dtype=int)) <= 2)


@given(realised_datasets(max_queries=2, max_tokens=4))
def test_the_vocabulary_is_the_tokens_in_use_and_a_few_more(ds):
    used = 1 + max(int(ds.tokens.max()), int(ds.labels.max()))
    assert used <= ds.K <= max(4, used)


@given(realised_datasets(max_tokens=3, embeddings=Embeddings.onehot(5)))
def test_fixed_embeddings_fix_the_vocabulary(ds):
    assert ds.K == 5


def test_embeddings_too_small_for_the_tokens_are_refused():
    @given(realised_datasets(max_tokens=4, embeddings=Embeddings.onehot(2)))
    def draw(ds):
        pass

    with pytest.raises(InvalidArgument, match="cannot embed"):
        draw()


@given(realised_datasets(max_queries=2, max_tokens=3, embeddings="orthonormal").flatmap(
    lambda ds: weights_for(ds, max_abs=0.5).map(lambda W: (ds, W))))
def test_weights_fit_the_embeddings(pair):
    ds, W = pair
    assert W.shape == (ds.embeddings.dim,) * 2 and np.all(np.abs(W) <= 0.5) and W.dtype == np.float64


def test_the_simplest_weights_are_zero():
    W = find(weights_for(Dataset.from_samples([([0, 1], 0)], vocab=2)), lambda W: True, settings=FIND)
    assert np.array_equal(W, np.zeros((2, 2)))


@pytest.mark.parametrize("strategy", [weights_for([1, 2]), weights_for(Dataset.from_samples([([0], 0)]), max_abs=0),
                                      weights_for(Dataset.from_samples([([0], 0)]), max_abs=float("inf"))])
def test_bad_weights_arguments(strategy):
    @given(strategy)
    def draw(_):
        pass

    with pytest.raises(InvalidArgument):
        draw()
