"""The gradient and compression proofs hold on random sequences, not only on their stated cases."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from proofs import proof_compression, proof_feasibility, proof_gradient
from symattn.data import Dataset
from symattn.strategies import realised_datasets
from symattn.symbolic import ConstraintKind, graph_svm_problem


@st.composite
def labelled_sequences(draw: st.DrawFn, max_vocab: int = 3, max_length: int = 4) -> tuple[tuple[int, ...], int]:
    tokens = tuple(draw(st.lists(st.integers(0, max_vocab - 1), min_size=1, max_size=max_length)))
    return tokens, draw(st.sampled_from(tokens))


@given(labelled_sequences())
def test_gradient_identity_on_random_one_hot_sequences(sequence: tuple[tuple[int, ...], int]) -> None:
    tokens, label = sequence
    proof_gradient.check(cases=(proof_gradient.Case(tokens, label, False, 3),))


@given(labelled_sequences(max_vocab=4, max_length=7))
def test_count_compression_on_random_sequences(sequence: tuple[tuple[int, ...], int]) -> None:
    proof_compression.check(cases=(sequence,))


@given(realised_datasets(max_queries=3, max_tokens=6))
def test_level_potential_is_feasible_on_random_graph_families(ds: Dataset) -> None:
    U = proof_feasibility.level_potential(ds)
    for c in graph_svm_problem(ds).constraints:
        gap = U[c.high, c.query] - U[c.low, c.query]
        assert gap == 0 if c.kind is ConstraintKind.EQUALITY else gap >= 1
