"""The conjecture harness: verdicts, shrinking a person accepts, errors that are never refutations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume
from hypothesis import strategies as st

from symattn import Dataset, priority_graphs, solve_graph_svm
from symattn.conjecture import ConjectureError, ConjectureStatus, check_conjecture, conjecture
from symattn.conjecture.declare import STRATEGIES, as_conjecture, dataset_strategy, load_conjecture
from symattn.conjecture.harness import batch_plan, batch_seed, run_batch
from symattn.errors import InvalidInput
from symattn.strategies import prompts_for


@conjecture
def svm_is_zero(ds):
    """W^svm = 0 (false as soon as one sample has a token outside its label's SCC)."""
    assert solve_graph_svm(ds).norm == 0, "W^svm is not zero"


def samples(ds: Dataset) -> list[tuple[tuple[int, ...], int]]:
    return [(s.tokens, s.label) for s in ds]


@pytest.mark.parametrize(("strategy", "seed"), [("realised", 0), ("realised", 1), ("uniform", 2), ("acyclic", 3),
                                                ("orthonormal", 4)])
def test_a_single_edge_shrinks_to_one_sample_of_two_tokens(strategy, seed):
    result = check_conjecture(svm_is_zero, examples=200, seed=seed, strategy=strategy)
    assert result.status is ConjectureStatus.REFUTED
    ds = result.counterexample.dataset
    assert len(ds) == 1 and ds.lengths.tolist() == [2] and ds.K == 2
    (tokens, label), = samples(ds)
    assert len(set(tokens)) == 2 and label in tokens
    assert priority_graphs(ds).n_edges == 1
    assert result.counterexample.shrink_steps > 0


def test_given_embeddings_shrink_to_the_one_hot_rows():
    result = check_conjecture(svm_is_zero, examples=200, seed=0, strategy="given")
    rows = result.counterexample.dataset.embeddings.exact_matrix()
    assert [[int(v) for v in row] for row in rows] == [[1, 0], [0, 1]]


def test_a_cyclic_counterexample_keeps_its_cycle_and_is_small():
    result = check_conjecture(svm_is_zero, examples=200, seed=0, strategy="cyclic")
    ds = result.counterexample.dataset
    assert priority_graphs(ds).cyclic
    assert len(ds) <= 3 and int(ds.lengths.sum()) <= 6


def test_the_same_seed_gives_the_same_search_and_another_seed_another():
    a = check_conjecture(svm_is_zero, examples=50, seed=5)
    b = check_conjecture(svm_is_zero, examples=50, seed=5)
    assert (a.tried, a.kinds, a.message) == (b.tried, b.kinds, b.message)
    assert a.counterexample.dataset == b.counterexample.dataset
    survivors = [check_conjecture(lambda ds: True, examples=30, seed=s).kinds for s in range(3)]
    assert survivors[0] != survivors[1] or survivors[1] != survivors[2]


def test_a_survivor_says_how_many_examples_of_what_kind():
    result = check_conjecture(lambda ds: len(ds) >= 1, examples=120, seed=0, batch_size=50)
    assert result.status is ConjectureStatus.SURVIVED and result.success
    assert result.tried == 120 and result.counterexample is None
    assert result.message == "no counterexample in 120 examples"
    kinds = result.kinds
    assert kinds["cyclic"] + kinds["acyclic"] == 120
    assert 0 < kinds["cyclic"] < 120 and kinds["repeated_tokens"] > 0 and kinds["unequal_lengths"] > 0
    assert kinds["several_queries"] > 0 and kinds["max_samples"] > 1


def test_returning_false_refutes_and_a_bare_assert_names_its_line(tmp_path):
    false = check_conjecture(lambda ds: len(ds) < 4, examples=100, seed=0)
    assert false.status is ConjectureStatus.REFUTED and false.counterexample.message == "the conjecture returned False"
    assert len(false.counterexample.dataset) == 4
    path = tmp_path / "bare.py"  # a file of the user's, so pytest does not rewrite its asserts
    path.write_text("def bare(ds):\n    assert len(ds) < 3\n", encoding="utf-8")
    result = check_conjecture(load_conjecture(f"{path}::bare"), examples=100, seed=0)
    assert result.counterexample.message == "assertion failed: assert len(ds) < 3"
    assert "AssertionError" in result.counterexample.traceback


def test_numpy_false_refutes_and_other_values_hold():
    assert check_conjecture(lambda ds: np.bool_(len(ds) < 2), examples=50, seed=0).status is ConjectureStatus.REFUTED
    assert check_conjecture(lambda ds: 0, examples=30, seed=0).status is ConjectureStatus.SURVIVED


def test_an_exception_is_an_error_of_the_conjecture_not_a_refutation():
    def crashes(ds):
        return 1 / (len(ds) - 2) > -10

    result = check_conjecture(crashes, examples=100, seed=0)
    assert result.status is ConjectureStatus.ERROR and not result.success
    assert "ZeroDivisionError" in result.message and "ZeroDivisionError" in result.counterexample.traceback
    assert len(result.counterexample.dataset) == 2


@pytest.mark.parametrize("seed", range(4))
def test_shrinking_never_slips_between_an_error_and_a_refutation(seed):
    def mixed(ds):
        if len(ds) >= 4:
            raise ZeroDivisionError("big")
        assert len(ds) < 2, "two or three samples"

    datasets, _ = dataset_strategy(None)
    conj = as_conjecture(mixed)
    first, _ = run_batch(conj, datasets, seed, 0, 200, shrink=False)
    final, found = run_batch(conj, datasets, seed, 0, 200)
    assert final.status is first.status and final.tried == first.tried
    assert len(found.dataset) == (4 if first.status is ConjectureStatus.ERROR else 2)


def test_a_nondeterministic_conjecture_is_an_error():
    seen = set()

    def flaky(ds):
        key = repr([(s.tokens, s.label) for s in ds])
        first_time = key not in seen
        seen.add(key)
        assert len(ds) < 3 or not first_time

    result = check_conjecture(flaky, examples=200, seed=0)
    assert result.status is ConjectureStatus.ERROR


def test_assume_in_a_conjecture_restricts_the_examples():
    def only_cyclic(ds):
        assume(priority_graphs(ds).cyclic)
        assert len(ds) < 3

    result = check_conjecture(only_cyclic, examples=200, seed=0)
    assert result.status is ConjectureStatus.REFUTED and priority_graphs(result.counterexample.dataset).cyclic


def test_declared_arguments_are_drawn_per_dataset_and_shrink():
    @conjecture(strategy="acyclic", prompt=lambda ds: prompts_for(ds, seen_query=True), R=st.integers(0, 100))
    def prompts_are_short(ds, prompt, R):
        assert prompt.query in ds.queries.tolist()
        assert len(prompt) < 3 or R < 50

    result = check_conjecture(prompts_are_short, examples=200, seed=0)
    assert result.status is ConjectureStatus.REFUTED
    found = result.counterexample
    assert found.arguments["prompt"].tokens == (0, 0, 0) and found.arguments["R"] == 50
    assert len(found.dataset) <= 3 and found.dataset.lengths.max() <= 2


def test_the_strategy_argument_overrides_the_declared_one():
    @conjecture(strategy="cyclic")
    def always_cyclic(ds):
        assert priority_graphs(ds).cyclic

    assert check_conjecture(always_cyclic, examples=60, seed=0).status is ConjectureStatus.SURVIVED
    assert check_conjecture(always_cyclic, examples=60, seed=0, strategy="acyclic").status is ConjectureStatus.REFUTED


def test_declarations_are_checked():
    with pytest.raises(ConjectureError, match="cannot be called"):
        conjecture(prompt=st.just((0,)))(lambda ds: True)
    with pytest.raises(ConjectureError, match="strategy or a function"):
        conjecture(R=3.0)(lambda ds, R: True)
    with pytest.raises(ConjectureError, match="unknown strategy"):
        conjecture(strategy="nope")(lambda ds: True)
    with pytest.raises(ConjectureError, match="must be a function"):
        as_conjecture(42)
    assert isinstance(ConjectureError("x"), InvalidInput)


def test_loading_from_a_file_and_refusing_what_is_not_there(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text("CONSTANT = 3\n\ndef holds(ds):\n    return True\n", encoding="utf-8")
    conj = load_conjecture(f"{path}::holds")
    assert conj.name == "holds" and conj.origin == f"{path.resolve()}::holds"
    with pytest.raises(ConjectureError, match="has no 'missing'"):
        load_conjecture(f"{path}::missing")
    with pytest.raises(ConjectureError, match="not a function"):
        load_conjecture(f"{path}::CONSTANT")
    with pytest.raises(ConjectureError, match="does not exist"):
        load_conjecture(f"{tmp_path / 'absent.py'}::holds")
    with pytest.raises(ConjectureError, match=r"FILE\.py::NAME"):
        load_conjecture(str(path))
    with pytest.raises(ConjectureError, match="no conjecture"):
        load_conjecture("catalogue:absent")


def test_batches_and_their_seeds():
    assert batch_plan(5, 2) == [2, 2, 1] and batch_plan(4, 200) == [4]
    assert len({batch_seed(0, i) for i in range(100)} | {batch_seed(1, 0)}) == 101
    for bad in (0, -3, 2.5, True):
        with pytest.raises(InvalidInput):
            batch_plan(bad, 10)
    with pytest.raises(InvalidInput, match="seed"):
        check_conjecture(lambda ds: True, examples=1, seed=-1)


def test_every_named_strategy_draws_datasets():
    for name in STRATEGIES:
        result = check_conjecture(lambda ds: isinstance(ds, Dataset), examples=5, seed=0, strategy=name)
        assert result.status is ConjectureStatus.SURVIVED, name


def test_the_search_prints_nothing(capsys):
    check_conjecture(svm_is_zero, examples=50, seed=0)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_progress_counts_every_example_tried():
    seen = []
    result = check_conjecture(lambda ds: len(ds) < 6, examples=100, seed=2, batch_size=30, progress=seen.append)
    assert sum(seen) == result.tried and set(seen) == {1}
