"""Conformance vectors: contents against independent oracles, export, and run_conformance on good and bad code."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from gradient_variants import embedding_head, per_position
from oracles import central_difference

import symattn.cli.checkcert as checkcert
from symattn import finite_component, predict, solve_graph_svm
from symattn.cases import CASES, known_case
from symattn.cli import main
from symattn.errors import FileFormatError, InvalidInput
from symattn.formats import dataset_from_json
from symattn.model import Model
from symattn.verify.vectors import (
    VECTORS_FORMAT,
    build_vectors,
    export_vectors,
    load_vectors,
    run_conformance,
)

ALL_LOSSES = ("log", "linear", "squared", "embed-ce", "embed-squared")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    directory = tmp_path_factory.mktemp("vectors")
    return directory, export_vectors(directory)


class Reference:
    """symattn itself, as an implementation under test."""

    losses = ALL_LOSSES

    def loss_and_gradient(self, case, W, loss):
        return Model(case.dataset, loss).value_and_gradient(W)

    def hessian_vector_product(self, case, W, V):
        return Model(case.dataset).hessian_vector_product(W, V)

    def graph_svm(self, case):
        res = solve_graph_svm(case.dataset)
        return None if res.status.value == "infeasible" else (res.W, res.multipliers)

    def finite_component(self, case):
        return finite_component(case.dataset).W

    def retrieve(self, case, tokens):
        return predict(case.dataset).predict_retrieval(tokens).tokens


def test_export_layout(exported):
    directory, index = exported
    assert index["format"] == VECTORS_FORMAT
    assert [c["name"] for c in index["cases"]] == [c.name for c in CASES]
    assert (directory / "checkcert.py").read_text() == Path(checkcert.__file__).read_text()
    assert not list(directory.rglob("*.tmp"))
    for entry in index["cases"]:
        vector = json.loads((directory / entry["file"]).read_text())
        assert vector["format"] == VECTORS_FORMAT and vector["name"] == entry["name"]
        assert set(vector) == {"format", "name", "description", "tags", "dataset", "tolerances", "points", "svm",
                               "finite", "prompts"}
        assert (entry["certificate"] is not None) == dataset_from_json(vector["dataset"]).embeddings.is_exact


def test_every_exported_certificate_is_accepted(exported):
    directory, index = exported
    certificates = [c["certificate"] for c in index["cases"] if c["certificate"]]
    assert len(certificates) == sum(c.embeddings.is_exact for c in CASES)
    for name in certificates:
        assert all(ok for _, ok, _ in checkcert.check(json.loads((directory / name).read_text())))
    result = subprocess.run([sys.executable, "-I", str(directory / "checkcert.py"),
                             str(directory / certificates[0])], capture_output=True, text=True)
    assert result.returncode == 0


def test_reference_implementation_conforms(exported):
    directory, _ = exported
    table = run_conformance(Reference(), directory)
    assert table.passed, [(r.case, r.check.name, r.check.detail) for r in table.failures]
    names = {r.check.name for r in table.rows}
    assert {"log loss at far-40", "embed-squared gradient at random-10", "hvp at zero", "svm stationarity",
            "finite reduced gradient", "svm infeasibility"} <= names
    assert any(n.startswith("retrieve") for n in names)
    assert len(table.table()) == len(table.rows) and table.table()[0]["case"] == "single-edge"


def test_in_memory_vectors_equal_the_exported_ones(exported):
    directory, _ = exported
    assert build_vectors() == load_vectors(directory)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_stored_values_match_an_independent_implementation(case):
    (vector,) = build_vectors([case.name])
    ds = dataset_from_json(vector["dataset"])
    for point in vector["points"]:
        W = np.array(point["W"])
        for loss, ref in point["losses"].items():
            if loss in ("log", "linear", "squared"):
                value, grad = per_position(ds, W, loss, precise=loss == "log")
                if loss != "log" and point["name"].startswith("far"):
                    continue  # the textbook variants are not accurate far out
            else:
                value, grad = embedding_head(ds, W, loss)
            assert abs(value - ref["loss"]) <= 1e-9 * ref["loss_scale"]
            assert np.all(np.abs(grad - np.array(ref["gradient"])) <= 1e-9 * np.array(ref["gradient_scale"]) + 1e-300)
        if point["name"] == "random-1":  # finite differences of the independent gradient
            (hvp,) = point["hvp"]
            V = np.array(hvp["V"])
            fd = np.tensordot(central_difference(lambda A: per_position(ds, A, precise=True)[1], W, 1e-5), V,
                              axes=([0, 1], [0, 1]))
            assert np.allclose(np.array(hvp["value"]), fd, rtol=0, atol=1e-7)


@pytest.mark.parametrize("case", [c for c in CASES if c.svm is not None], ids=lambda c: c.name)
def test_stored_svm_is_the_hand_derived_one(case):
    (vector,) = build_vectors([case.name])
    stored = np.array([[Fraction(v) for v in row] for row in vector["svm"]["W"]], dtype=object)
    assert vector["svm"]["exact"] and np.array_equal(stored, case.exact_svm_matrix())


@pytest.mark.parametrize("name", ["default-example", "chain", "three-cycle"])
def test_stored_retrievals_are_the_top_scoring_present_tokens(name):
    (vector,) = build_vectors([name])
    W = [[Fraction(v) for v in row] for row in vector["svm"]["W"]]  # one-hot: scores are entries
    assert vector["prompts"]
    for prompt in vector["prompts"]:
        k = prompt["tokens"][-1]
        present = set(prompt["tokens"])
        best = max(W[j][k] for j in present)
        assert sorted(prompt["retrieved"]) == sorted(j for j in present if W[j][k] == best)


class SummedLoss(Reference):
    losses = ("log",)

    def loss_and_gradient(self, case, W, loss):
        value, grad = super().loss_and_gradient(case, W, loss)
        return value * case.dataset.n, grad * case.dataset.n


class LooseSolver:
    def graph_svm(self, case):
        res = solve_graph_svm(case.dataset)
        return None if res.status.value == "infeasible" else res.W * (1 - 1e-5)


class Crashing:
    def finite_component(self, case):
        raise RuntimeError("out of memory")


def test_buggy_implementations_fail_where_they_should():
    table = run_conformance(SummedLoss(), cases=["chain", "repeated-tokens"])
    bad = {r.check.name for r in table.failures}
    assert not table.passed and "log loss at zero" in bad and "log gradient at random-1" in bad
    loose = run_conformance(LooseSolver(), cases=["default-example", "published-1", "theory-cyclic"])
    failed = {(r.case, r.check.name) for r in loose.failures}
    assert ("default-example", "svm primal feasibility") in failed and ("published-1", "svm objective gap") in failed
    assert not any(case == "theory-cyclic" for case, _ in failed)  # W^svm = 0: nothing to shrink
    crash = run_conformance(Crashing(), cases=["chain"])
    assert crash.rows[0].check.passed is False and "RuntimeError: out of memory" in crash.rows[0].check.detail


def test_a_wrong_retrieval_fails_its_rows():
    class EveryToken:
        def retrieve(self, case, tokens):
            return set(tokens)

    table = run_conformance(EveryToken(), cases=["chain"])
    wrong = [r.check for r in table.failures]
    assert not table.passed and wrong and all(c.name.startswith("retrieve") and c.value == 1.0 for c in wrong)
    assert len(wrong) < len(table.rows)  # prompts whose present tokens all tie still pass


def test_malformed_vectors_and_losses_are_refused():
    with pytest.raises(InvalidInput, match=r"vectors\[0\] is not a symattn.vectors/1 case"):
        run_conformance(Reference(), [{"name": "x"}])
    with pytest.raises(InvalidInput, match="vectors must be a directory or a list of cases"):
        run_conformance(Reference(), 5)

    class OneLoss(Reference):
        losses = "log"

    with pytest.raises(InvalidInput, match=r"impl.losses='log' must be a list of loss names such as \('log',\)"):
        run_conformance(OneLoss(), cases=["chain"])


def test_an_infeasible_claim_must_match():
    class AlwaysInfeasible:
        def graph_svm(self, case):
            return None

    table = run_conformance(AlwaysInfeasible(), cases=["chain", "dependent-infeasible"])
    assert [(r.case, r.check.passed) for r in table.rows] == [("chain", False), ("dependent-infeasible", True)]


def test_bad_implementations_and_options_are_refused(tmp_path):
    with pytest.raises(InvalidInput, match="none of the methods"):
        run_conformance(object())

    class Odd(Reference):
        losses = ("nll",)

    with pytest.raises(InvalidInput, match="unknown losses"):
        run_conformance(Odd())
    with pytest.raises(InvalidInput, match="unknown case"):
        run_conformance(Reference(), cases=["nope"])
    with pytest.raises(FileFormatError):
        run_conformance(Reference(), tmp_path)
    (tmp_path / "index.json").write_text('{"format": "other"}')
    with pytest.raises(InvalidInput, match="refusing to overwrite"):
        export_vectors(tmp_path, ["chain"])
    file = tmp_path / "file"
    file.write_text("x")
    with pytest.raises(InvalidInput, match="file: a file is in the way; give a directory"):
        export_vectors(file, ["chain"])


def test_export_to_an_unwritable_place_or_with_a_bad_seed_is_bad_input(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InvalidInput, match=r"file/v: cannot create the directory .*choose a writable place"):
        export_vectors(blocker / "v", ["chain"])
    for seed in (-1, 1.5, None):
        with pytest.raises(InvalidInput, match=rf"seed={seed!r} must be a non-negative integer"):
            export_vectors(tmp_path / "v", ["chain"], seed=seed)
    assert not (tmp_path / "v").exists()  # refused before anything was created
    assert main(["vectors", "export", str(tmp_path / "v"), "--cases", "chain", "--seed", "-1"]) == 2
    with pytest.raises(InvalidInput, match="cases is empty; give case names such as 'chain'"):
        build_vectors([])


def test_export_never_mixes_with_other_files(tmp_path, capsys):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "checkcert.py").write_text("my own file")
    with pytest.raises(InvalidInput, match="mine is not empty and holds no conformance vectors"):
        export_vectors(tmp_path / "mine", ["chain"])
    assert (tmp_path / "mine" / "checkcert.py").read_text() == "my own file"
    # re-exporting over an export is fine; the reported size counts the files written, nothing else
    assert main(["vectors", "export", str(tmp_path / "v"), "--cases", "chain"]) == 0
    capsys.readouterr()
    (tmp_path / "v" / "notes.bin").write_bytes(b"x" * 10**6)
    assert main(["vectors", "export", str(tmp_path / "v"), "--cases", "chain", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    written = ["index.json", "checkcert.py", "cases/chain.json", "certificates/chain.json"]
    assert payload["bytes"] == sum((tmp_path / "v" / f).stat().st_size for f in written)


def test_corrupted_case_file_is_reported(tmp_path):
    export_vectors(tmp_path, ["chain"])
    (tmp_path / "cases" / "chain.json").write_text("{")
    with pytest.raises(FileFormatError, match="cannot read"):
        load_vectors(tmp_path)


def test_vectors_of_a_case_are_deterministic():
    name = known_case("published-0").name
    assert build_vectors([name], seed=3) == build_vectors([name], seed=3)
    assert build_vectors([name], seed=3)[0]["points"][1]["W"] != build_vectors([name], seed=4)[0]["points"][1]["W"]
