"""The catalogue: the theory's claims survive a CI-sized search, the known-false ones are refuted and replay."""

from __future__ import annotations

import json

import pytest
from hypothesis import settings

from symattn import Dataset, load_dataset, load_example
from symattn.conjecture import ConjectureStatus, check_conjecture
from symattn.conjecture import catalogue as cat
from symattn.conjecture.bundle import REPORT_FORMAT, replay
from symattn.conjecture.catalogue import CATALOGUE, Expectation, counterexample_path

SURVIVORS = [e for e in CATALOGUE.values() if e.expect is Expectation.SURVIVES]
FALSE = [e for e in CATALOGUE.values() if e.expect is Expectation.REFUTED]
# The thorough profile (1,000 examples a test) searches ten times as far.
SCALE = 10 if settings().max_examples >= 1000 else 1
# Training inside the conjecture makes shrinking slow: CI checks the search finds a failure, and
# the committed counterexample (shrunk once) replays.
SHRINK_IN_CI = {"wfin-minimises-full-loss", "prompt-top-scc-unique"}


def test_the_catalogue_has_the_theory_and_the_known_false_statements():
    names = set(CATALOGUE)
    assert {"p1-path", "p2-gd", "p3-outside-mass", "p4-within-scc", "p5-retrieval", "svm-perp-fin",
            "loss-chain", "label-top-scc"} <= names
    assert {e.name for e in FALSE} == {"wfin-minimises-full-loss", "embed-squared-gd-global-svm",
                                       "prompt-top-scc-unique"}
    for entry in CATALOGUE.values():
        assert entry.conjecture.origin == f"catalogue:{entry.name}" and entry.conjecture.description
        assert entry.cites.startswith("docs/theory.md §")


@pytest.mark.parametrize("entry", SURVIVORS, ids=lambda e: e.name)
def test_the_theory_survives_a_ci_sized_search(entry):
    result = check_conjecture(entry.conjecture, examples=SCALE * entry.examples, seed=entry.seed)
    found = result.counterexample
    assert result.status is ConjectureStatus.SURVIVED, f"{result.message}\n{found.traceback if found else ''}"
    if entry.examples >= 20:  # the search met both kinds of graph
        assert result.kinds["cyclic"] > 0 and result.kinds["acyclic"] > 0


@pytest.mark.parametrize("entry", FALSE, ids=lambda e: e.name)
def test_the_known_false_statements_are_refuted(entry):
    shrink = entry.name in SHRINK_IN_CI
    result = check_conjecture(entry.conjecture, examples=entry.examples, seed=entry.seed, shrink=shrink)
    assert result.status is ConjectureStatus.REFUTED, result.message
    report = json.loads(counterexample_path(entry.name).with_suffix(".report.json").read_text(encoding="utf-8"))
    assert result.tried == report["examples_tried"]
    if shrink:
        assert result.counterexample.dataset == load_dataset(counterexample_path(entry.name))


@pytest.mark.parametrize("entry", FALSE, ids=lambda e: e.name)
def test_the_committed_counterexamples_replay(entry):
    data = counterexample_path(entry.name)
    report_path = data.with_suffix(".report.json")
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["format"] == REPORT_FORMAT and report["verdict"] == "refuted"
    assert report["conjecture"]["origin"] == f"catalogue:{entry.name}"
    assert (report["seed"], report["examples_requested"]) == (entry.seed, entry.examples)
    ds = load_dataset(data)
    assert report["size"]["samples"] == len(ds) and report["size"]["positions"] == int(ds.lengths.sum())
    again = replay(entry.conjecture, report_path)
    assert again.status is ConjectureStatus.REFUTED and again.counterexample.message == report["message"]


def test_the_committed_counterexamples_are_small():
    sizes = {e.name: load_dataset(counterexample_path(e.name)) for e in FALSE}
    assert all(len(ds) <= 4 and int(ds.lengths.sum()) <= 8 for ds in sizes.values())


def test_refuted_entries_have_no_counterexample_when_true():
    with pytest.raises(cat.ConjectureError, match="claim of the theory"):
        counterexample_path("p1-path")
    with pytest.raises(cat.ConjectureError, match="no conjecture"):
        cat.catalogue_entry("p9")


# -- the checks can fail: each catalogue check, given a broken oracle, refutes ----------------------
@pytest.fixture
def cyclic() -> Dataset:
    return load_example("default")


def test_p1_fails_when_the_path_points_the_other_way(monkeypatch, cyclic):
    original = cat._path
    monkeypatch.setattr(cat, "_path", lambda ds, radii: -original(ds, radii))
    with pytest.raises(AssertionError, match="corr"):
        cat.p1_path(cyclic)


def test_p3_fails_when_the_outside_mass_does_not_fall(monkeypatch, cyclic):
    original = cat._path
    monkeypatch.setattr(cat, "_path", lambda ds, radii: original(ds, radii[:1]).repeat(2, axis=0))
    with pytest.raises(AssertionError, match="falls at"):
        cat.p3_outside_mass(cyclic)


def test_p4_fails_when_the_finite_part_is_off(monkeypatch, cyclic):
    original = cat._path
    basis = cat.fin_basis(cyclic).matrices()
    monkeypatch.setattr(cat, "_path", lambda ds, radii: original(ds, radii) + 1e-3 * basis[0])
    with pytest.raises(AssertionError, match="within-SCC attention"):
        cat.p4_within_scc(cyclic)


def test_p2_fails_with_a_step_beyond_the_smoothness_bound(monkeypatch, cyclic):
    monkeypatch.setattr(cat, "smoothness_bound", lambda ds: 0.01)
    with pytest.raises(AssertionError, match="descent lemma"):
        cat.p2_gd(cyclic)


def test_the_loss_chain_fails_with_a_wrong_reduced_loss(monkeypatch, cyclic):
    W_fin, ones = cat.finite_component(cyclic).W, [1.0] * cat.fin_basis(cyclic).dim
    cat.loss_chain(cyclic, W=W_fin, direction=ones, step=1e-3)
    original = cat.reduced_loss
    monkeypatch.setattr(cat, "reduced_loss", lambda ds, W: original(ds, W) - 1e-9)
    with pytest.raises(AssertionError, match=r"L_red\(W\) = .* < L_red\(W\^fin\)"):
        cat.loss_chain(cyclic, W=W_fin, direction=ones, step=1e-3)


def test_svm_zero_iff_fails_with_the_svm_of_another_dataset(monkeypatch, cyclic):
    zero = Dataset.from_samples([([0, 1], 0), ([0, 1], 1)], vocab=cyclic.K)
    original = cat.solve_graph_svm
    monkeypatch.setattr(cat, "solve_graph_svm", lambda ds: original(zero))
    with pytest.raises(AssertionError, match="W\\^svm"):
        cat.svm_zero_iff_no_outside(cyclic)
