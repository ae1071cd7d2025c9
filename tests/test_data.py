import logging

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from oracles import counts_of

from symattn import Dataset, InvalidInput, Sample, Vocabulary
from symattn.embeddings import Embeddings
from symattn.strategies import datasets


def test_sample_query_and_types():
    s = Sample([3, 1, 2], 1)
    assert s.tokens == (3, 1, 2) and s.query == 2
    with pytest.raises(InvalidInput, match="at least one token"):
        Sample([], 0)
    with pytest.raises(InvalidInput, match="not an integer"):
        Sample([1.5], 1)


@pytest.mark.parametrize(
    ("samples", "kwargs", "message"),
    [
        ([([0, 1], 2)], {"vocab": 3}, r"sample 0: label=2 is not in the sequence \[0, 1\]"),
        ([([0, 1], 1), ([0, 7], 0)], {"vocab": 3}, r"sample 1: token 7 at position 1 is out of range for K=3"),
        ([([0, 1], 5)], {"vocab": 3}, r"sample 0: label 5 is out of range"),
        ([([0, -1], 0)], {"vocab": 3}, r"token -1 .* out of range"),
        ([], {"vocab": 3}, "at least one sample"),
        ([([], 0)], {"vocab": 3}, "sample 0 has no tokens"),
        ([(["a", "z"], "a")], {"vocab": ["a", "b"]}, r"sample 0: unknown token name 'z'"),
        ([(["a"], "a")], {"vocab": 2}, "has no names"),
        ([([0], 0)], {"vocab": 0}, "between 1 and"),
        ([([0], 0)], {"vocab": ["a", "a"]}, "duplicate token name 'a'"),
        ([([0], 0)], {"vocab": ["a b"]}, "whitespace"),
        ([([0], 0)], {"vocab": 2, "embeddings": Embeddings.onehot(3)}, "3 rows but the vocabulary has K=2"),
        ([("ab", 0)], {"vocab": 2}, "expected a Sample or a"),
        ([([True], 0)], {"vocab": 2}, "not an integer"),
    ],
)
def test_bad_datasets_raise_clear_errors(samples, kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        Dataset.from_samples(samples, **kwargs)


def test_bad_arrays():
    with pytest.raises(InvalidInput, match="offsets must have"):
        Dataset.from_arrays([0, 1], [0, 1], [0], vocab=2)
    with pytest.raises(InvalidInput, match="integer token ids"):
        Dataset.from_arrays([0.5], [0, 1], [0], vocab=2)
    with pytest.raises(InvalidInput, match="one-dimensional"):
        Dataset.from_arrays([[0]], [0, 1], [0], vocab=2)


def test_drop_unrealizable_counts_and_logs(caplog):
    with caplog.at_level(logging.INFO, logger="symattn"):
        ds = Dataset.from_samples(
            [([0, 1], 1), ([0, 1], 2), ([2, 2], 2), ([1, 2], 0)], vocab=3, drop_unrealizable=True
        )
    assert len(ds) == 2 and ds.n_dropped == 2
    assert [s.label for s in ds] == [1, 2]
    assert "dropped 2 unrealizable" in caplog.text
    with pytest.raises(InvalidInput, match="all 1 samples"):
        Dataset.from_samples([([0], 1)], vocab=2, drop_unrealizable=True)


def test_dataset_is_immutable():
    ds = Dataset.from_samples([([0, 1], 1)], vocab=2)
    with pytest.raises(ValueError, match="read-only"):
        ds.tokens[0] = 1
    with pytest.raises(AttributeError):
        ds.labels = np.array([0])  # type: ignore[misc]


@given(datasets(max_vocab=6, max_samples=10))
def test_counts_view_matches_counter(ds):
    c = ds.counts
    assert c.n == len(ds)
    for i, sample in enumerate(ds):
        entries = range(c.indptr[i], c.indptr[i + 1])
        got = {int(c.token[e]): int(c.count[e]) for e in entries}
        assert got == counts_of(sample.tokens)
        assert list(got) == sorted(got)
        assert int(c.token[c.label_entry[i]]) == sample.label
        assert int(c.query[i]) == sample.query
        assert all(int(c.sample[e]) == i for e in entries)


@given(datasets(max_vocab=5, max_samples=6))
def test_subset_and_iteration_round_trip(ds):
    again = Dataset.from_samples(list(ds), vocab=ds.vocab)
    assert again == ds
    idx = list(range(len(ds)))[::-1]
    rev = ds.subset(idx)
    assert [s for s in rev] == [ds[i] for i in idx]


def test_vocabulary():
    v = Vocabulary(3)
    assert v.is_default and v.names == ("0", "1", "2")
    assert not Vocabulary.from_names(["x", "y"]).is_default
    with pytest.raises(InvalidInput, match="unknown token name"):
        v.index("q")
    with pytest.raises(InvalidInput, match="out of range"):
        v.name(3)


_NAME_EDGES = ["vocab:x", "a->b", "#", "x y", "x\ty", "\x85", "\x7f", "\u2028", "\ud800", "a\nb", "", "ok", "vocab", "-", ">"]


def _scan_agrees(names: list[str]) -> None:
    """The regular-expression scan that accepts a vocabulary at once agrees with the name-by-name checks."""
    from symattn.data import _check_names_one_by_one, _names_pass

    try:
        _check_names_one_by_one(tuple(names))
        accepted = True
    except InvalidInput:
        accepted = False
    assert _names_pass(tuple(names)) == accepted


@pytest.mark.parametrize("name", _NAME_EDGES)
def test_one_scan_agrees_on_each_kind_of_name(name):
    _scan_agrees(["ok", name])


@given(st.lists(st.one_of(st.text(max_size=6), st.sampled_from(_NAME_EDGES)), min_size=1, max_size=5))
def test_one_scan_agrees_on_any_names(names):
    _scan_agrees(names)
