"""The standalone certificate checker: accepts every exported certificate, rejects tampered ones."""

from __future__ import annotations

import ast
import copy
import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

import symattn.cli.checkcert as checkcert
from symattn import Dataset, Embeddings
from symattn.cases import CASES, known_case
from symattn.errors import CertificateError, FileFormatError, InvalidInput
from symattn.svm import solve_graph_svm
from symattn.verify.certificates import certificate_json, export_certificate

CHECKER = Path(checkcert.__file__)
EXACT = [c for c in CASES if c.embeddings.is_exact]


def _failed(cert) -> set[str]:
    return {name for name, ok, _ in checkcert.check(cert) if not ok}


def _run(path: Path) -> subprocess.CompletedProcess:
    """The checker as a script in isolated mode (no site packages, no PYTHONPATH, no script dir)."""
    return subprocess.run([sys.executable, "-I", str(CHECKER), str(path)], capture_output=True, text=True,
                          cwd=path.parent)


def test_checker_is_standard_library_only_and_short():
    source = CHECKER.read_text()
    assert len(source.splitlines()) <= 200
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported == {"json", "sys", "fractions"}


@pytest.mark.parametrize("case", EXACT, ids=lambda c: c.name)
def test_accepts_every_exported_certificate(case):
    cert = certificate_json(case.dataset())
    assert cert["status"] == ("optimal" if case.feasible else "infeasible")
    assert _failed(cert) == set()


def test_script_accepts_and_rejects_with_exit_codes(tmp_path):
    good = export_certificate(known_case("default-example").dataset(), tmp_path / "good.json")
    result = _run(good)
    assert result.returncode == 0, result.stderr
    assert "certificate accepted" in result.stdout and "PASS  stationarity" in result.stdout
    cert = json.loads(good.read_text())
    cert["W"][0][2] = "7"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(cert))
    result = _run(bad)
    assert result.returncode == 1 and "FAIL  stationarity" in result.stdout
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = _run(broken)
    assert result.returncode == 2 and "unreadable certificate" in result.stderr
    assert _run(tmp_path / "missing.json").returncode == 2


def _optimal(name="default-example"):
    ds = known_case(name).dataset()
    return ds, solve_graph_svm(ds), certificate_json(ds)


def test_rejects_broken_primal_feasibility():
    _, _, cert = _optimal()
    tampered = copy.deepcopy(cert)
    half = lambda v: str(Fraction(v) / 2)  # noqa: E731
    tampered["W"] = [[half(v) for v in row] for row in cert["W"]]
    tampered["multipliers"] = [half(v) for v in cert["multipliers"]]
    assert "primal feasibility" in _failed(tampered)
    assert "stationarity" not in _failed(tampered)  # W = sum lambda a still holds


def test_rejects_a_negative_inequality_multiplier():
    _, _, cert = _optimal()
    c = next(i for i, (lam, con) in enumerate(zip(cert["multipliers"], cert["constraints"], strict=True))
             if con[3] == "ge" and Fraction(lam) > 0)
    tampered = copy.deepcopy(cert)
    tampered["multipliers"][c] = str(-Fraction(cert["multipliers"][c]))
    assert "dual sign" in _failed(tampered)


def test_rejects_a_multiplier_on_a_slack_constraint():
    ds = known_case("chain").dataset()  # edge 1 -> 2 has margin 2: its multiplier must be 0
    cert = certificate_json(ds)
    slack = cert["constraints"].index([2, 1, 2, "ge"])
    assert cert["multipliers"][slack] == "0"
    tampered = copy.deepcopy(cert)
    tampered["multipliers"][slack] = "1"
    assert "complementarity" in _failed(tampered)


def test_rejects_broken_stationarity_alone():
    _, _, cert = _optimal()
    c = next(i for i, con in enumerate(cert["constraints"]) if con[3] == "eq")
    tampered = copy.deepcopy(cert)
    tampered["multipliers"][c] = str(Fraction(cert["multipliers"][c]) + 1)  # equality multipliers are free
    assert _failed(tampered) == {"stationarity"}


def test_rejects_a_constraint_list_that_does_not_match_the_samples():
    _, _, cert = _optimal()
    dropped = copy.deepcopy(cert)
    del dropped["constraints"][0], dropped["multipliers"][0]
    assert "constraints match the samples" in _failed(dropped)
    relabelled = copy.deepcopy(cert)
    c = next(i for i, con in enumerate(cert["constraints"]) if con[3] == "eq")
    relabelled["constraints"][c][3] = "ge"
    assert "constraints match the samples" in _failed(relabelled)
    other = copy.deepcopy(cert)
    other["samples"][0][1] = other["samples"][0][0][1]
    assert "constraints match the samples" in _failed(other)


def test_rejects_tampered_farkas_certificates():
    cert = certificate_json(known_case("dependent-infeasible").dataset())
    assert _failed(cert) == set()
    unbalanced = copy.deepcopy(cert)
    c = next(i for i, v in enumerate(cert["multipliers"]) if Fraction(v) > 0)
    unbalanced["multipliers"][c] = str(Fraction(cert["multipliers"][c]) * 2)
    assert "Farkas combination is zero" in _failed(unbalanced)
    scaled = copy.deepcopy(cert)
    scaled["multipliers"] = [str(Fraction(v) * 3) for v in cert["multipliers"]]
    assert _failed(scaled) == {"inequality multipliers sum to 1"}
    negative = copy.deepcopy(cert)
    negative["multipliers"] = [str(-Fraction(v)) for v in cert["multipliers"]]
    assert "dual sign" in _failed(negative)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c.update(format="symattn.certificate/2"), "format"),
        (lambda c: c.pop("multipliers"), "multipliers"),
        (lambda c: c.update(status="maybe"), "status"),
        (lambda c: c["W"][0].__setitem__(0, 0.5), "not an integer or a string"),
        (lambda c: c["W"][0].__setitem__(0, "1e3"), "exact rational"),
        (lambda c: c["W"][0].__setitem__(0, "1/0"), "exact rational"),
        (lambda c: c["W"].pop(), "list of 6 rows"),
        (lambda c: c["multipliers"].pop(), "multipliers for"),
        (lambda c: c["samples"][0].__setitem__(1, 5), "not in its sequence"),
        (lambda c: c["samples"][0][0].__setitem__(0, 99), "integer in"),
        (lambda c: c["constraints"][0].__setitem__(3, ">="), "constraint 0"),
        (lambda c: c.update(dim=True), "dim"),
        (lambda c: c.update(embeddings="identity"), "embeddings"),
        (lambda c: c.update(vocab=2000, dim=2000), r"vocab \* dim at most 10\*\*6"),  # was 4e6 Fractions
    ],
)
def test_malformed_files_are_refused(edit, message):
    _, _, cert = _optimal()
    edit(cert)
    with pytest.raises(checkcert.Malformed, match=message):
        checkcert.check(cert)


def test_not_an_object_is_refused():
    with pytest.raises(checkcert.Malformed, match="format"):
        checkcert.check([1, 2])


def test_exporter_refuses_float_embeddings_and_uncertified_results():
    with pytest.raises(InvalidInput, match="exact embeddings"):
        certificate_json(known_case("published-0").dataset())
    ds = Dataset.from_samples([([0, 1], 0)], vocab=2)
    with pytest.raises(CertificateError, match="no verified exact certificate"):
        certificate_json(ds, solve_graph_svm(ds, certify=False))
    with pytest.raises(InvalidInput, match="edge constraints"):
        from symattn.svm import svm_constraints
        certificate_json(ds, solve_graph_svm(ds, constraints=svm_constraints(ds, all_pairs=True)))


def test_exact_embeddings_given_as_fractions_round_trip():
    ds = Dataset.from_samples([([0, 1, 2], 0), ([1, 2], 1)],
                              embeddings=Embeddings.given([["1/2", 0, 0], [0, "3", 0], [1, 1, "1/3"]]))
    cert = certificate_json(ds)
    assert cert["embeddings"][0] == ["1/2", "0", "0"]
    assert _failed(json.loads(json.dumps(cert))) == set()


def test_export_to_a_directory_or_an_unwritable_place_is_bad_input(tmp_path):
    ds = Dataset.from_samples([([0, 1], 0)], vocab=2)
    with pytest.raises(FileFormatError, match=rf"{tmp_path}: is a directory; give a file name"):
        export_certificate(ds, tmp_path)
    with pytest.raises(InvalidInput, match="non-empty"):
        export_certificate(ds, "")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(FileFormatError, match=r"file/c\.json: cannot write .*writable directory"):
        export_certificate(ds, blocker / "c.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # no temporary file left
