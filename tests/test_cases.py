"""The known-answer catalogue: hand-derived answers against the solvers and independent oracles."""

from __future__ import annotations

import numpy as np
import pytest
from svm_oracles import finite_by_bfgs, svm_by_trust_constr

from symattn import finite_component, load_example, priority_graphs, solve_graph_svm
from symattn.cases import CASES, known_case
from symattn.errors import InvalidInput
from symattn.reproduce import random_cyclic_dataset
from symattn.svm import SVMStatus

EXACT_SVM = [c for c in CASES if c.svm is not None]
KNOWN_FIN = [c for c in CASES if c.finite is not None]


@pytest.mark.parametrize("case", EXACT_SVM, ids=lambda c: c.name)
def test_hand_derived_svm_is_the_certified_solution(case):
    res = solve_graph_svm(case.dataset())
    assert res.certified
    assert np.array_equal(np.array(res.certificate.exact_matrix(), dtype=object), case.exact_svm_matrix())


@pytest.mark.parametrize("case", [c for c in CASES if c.feasible], ids=lambda c: c.name)
def test_svm_agrees_with_trust_constr_oracle(case):
    ds = case.dataset()
    oracle = svm_by_trust_constr(ds)
    res = solve_graph_svm(ds)
    # an interior-point oracle: objective to 1e-6, the point itself to about its square root
    scale = max(1.0, res.norm)
    assert abs(np.linalg.norm(oracle) - res.norm) <= 1e-6 * scale
    assert np.linalg.norm(res.W - oracle) <= 1e-3 * scale
    if case.svm is not None:
        assert np.linalg.norm(case.exact_svm_matrix().astype(float) - oracle) <= 1e-3 * scale


@pytest.mark.parametrize("case", KNOWN_FIN, ids=lambda c: c.name)
def test_hand_derived_finite_component(case):
    ds = case.dataset()
    assert np.abs(finite_component(ds).W - case.finite_matrix()).max() <= 1e-12
    assert np.abs(finite_by_bfgs(ds) - case.finite_matrix()).max() <= 1e-5


def test_infeasible_case_is_infeasible():
    res = solve_graph_svm(known_case("dependent-infeasible").dataset())
    assert res.status is SVMStatus.INFEASIBLE and res.farkas.exact and res.farkas.verified


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_published_cases_are_the_published_draws(seed):
    ours = known_case(f"published-{seed}").dataset()
    theirs = random_cyclic_dataset(seed=seed)
    assert ours == theirs


def test_default_example_is_the_packaged_example():
    ours = known_case("default-example").dataset()
    theirs = load_example()
    assert [(s.tokens, s.label) for s in ours] == [(s.tokens, s.label) for s in theirs]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_tags_describe_the_case(case):
    ds = case.dataset()
    emb = ds.embeddings
    tags = case.tags
    assert ("cyclic" in tags) == priority_graphs(ds).cyclic != ("acyclic" in tags)
    assert ("onehot" in tags) == emb.is_onehot
    assert ("dependent" in tags) == (not emb.is_independent)
    assert ("exact" in tags) == emb.is_exact
    assert ("infeasible" in tags) == (not case.feasible)
    assert ("repeated-tokens" in tags) == any(len(set(s.tokens)) < len(s.tokens) for s in ds)
    assert ("unequal-lengths" in tags) == (len(set(ds.lengths.tolist())) > 1)
    assert ("multi-query" in tags) == (len(set(ds.queries.tolist())) > 1)


def test_catalogue_covers_what_the_vectors_promise():
    tags = set().union(*(c.tags for c in CASES))
    assert {"onehot", "orthonormal", "independent", "dependent", "cyclic", "acyclic", "repeated-tokens",
            "unequal-lengths", "published", "infeasible"} <= tags
    assert len({c.name for c in CASES}) == len(CASES)


def test_unknown_case_and_missing_answers_are_refused():
    with pytest.raises(InvalidInput, match="unknown case"):
        known_case("nope")
    with pytest.raises(InvalidInput, match="no hand-derived W\\^svm"):
        known_case("published-0").exact_svm_matrix()
    with pytest.raises(InvalidInput, match="no hand-derived W\\^fin"):
        known_case("dependent-infeasible").finite_matrix()
