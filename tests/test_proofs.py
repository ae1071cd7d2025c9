"""The proof runner, the committed pages, and proofs that must fail when broken (the `prove` command: test_cli_prove.py)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path

import pytest
import sympy as sp

import proofs
from proofs import (
    ProofFailed,
    ProofStatus,
    proof_compression,
    proof_feasibility,
    proof_finite,
    proof_finite_bound,
    proof_gradient,
    proof_hessian,
    proof_kkt,
    proof_orthogonality,
    proof_reachability,
    proof_retrieval,
)
from proofs._support import Derivation, exponentials_as_symbols, is_zero
from symattn.errors import InvalidInput
from symattn.symbolic import ConstraintKind, GraphSVMProblem, KKTSolution, compressed_log_loss, solve_kkt

ROOT = Path(__file__).resolve().parent.parent


def test_registry_matches_the_modules_on_disk() -> None:
    on_disk = sorted(p.stem.removeprefix("proof_") for p in (ROOT / "proofs").glob("proof_*.py"))
    assert sorted(proofs.NAMES) == on_disk
    for name in proofs.NAMES:
        module = proofs.module(name)
        assert name == module.NAME
        assert callable(getattr(module, f"test_{name}"))


def test_unknown_proof_is_refused() -> None:
    with pytest.raises(InvalidInput, match="unknown proof 'nope'"):
        proofs.module("nope")


@pytest.mark.parametrize("name", [*proofs.NAMES, "index"])
def test_committed_pages_are_current(name: str) -> None:
    page = ROOT / "docs" / "proofs" / f"{name}.md"
    fresh = proofs.render_index() if name == "index" else proofs.render_page(name)
    assert page.read_bytes() == fresh.encode("utf-8"), f"{page} is stale: run `symattn prove --write-docs`"


# -- every proof must fail when one ingredient is broken ------------------------------------
def _wrong_sign_gradient(X: sp.Matrix, s: sp.Matrix, q: sp.Matrix, query: sp.Matrix) -> sp.Matrix:
    return X.T * (q - s) * query.T


def _doubled_svm(problem: GraphSVMProblem, active: Sequence[int]) -> KKTSolution:
    solution = solve_kkt(problem, active)
    assert solution.W is not None
    return dataclasses.replace(solution, W=2 * solution.W)


BROKEN = {
    "gradient sign": ("gradient", lambda: proof_gradient.check(gradient_formula=_wrong_sign_gradient)),
    "token form without the label term": ("gradient", lambda: proof_gradient.check(
        token_formula=lambda E, mass, y, k: proof_gradient.token_gradient(E, mass, -1, k)
    )),
    "compression without log c_y": ("compression", lambda: proof_compression.check(
        compressed=lambda u, c, y: compressed_log_loss(u, c, y) + sp.log(c[y])
    )),
    "Hessian with + pi pi^T": ("hessian", lambda: proof_hessian.check(
        hessian_formula=lambda pi: sp.diag(*pi) + pi * pi.T
    )),
    "edge margins all zero": ("reachability", lambda: proof_reachability.check(
        edge_bound=lambda c: sp.S.Zero
    )),
    "equalities of query 2 dropped": ("orthogonality", lambda: proof_orthogonality.check(
        is_equality=lambda c: c.kind is ConstraintKind.EQUALITY and c.query != 2
    )),
    "flat levels": ("feasibility", lambda: proof_feasibility.check(
        levels=lambda g: dict.fromkeys(g.nodes, 0)
    )),
    "W^svm doubled": ("kkt", lambda: proof_kkt.check(solver=_doubled_svm)),
    "wrong claimed pi": ("finite", lambda: proof_finite.check(claimed_pi=(sp.Rational(1, 3),) * 3)),
    "closed form without centring": ("finite", lambda: proof_finite.check(
        closed_form=lambda pi: [sp.log(p) for p in pi]
    )),
    "third moment halved": ("finite_bound", lambda: proof_finite_bound.check(
        moment=lambda pi, v: proof_finite_bound.third_cumulant(pi, v) / 2
    )),
    "radius without the logarithm": ("finite_bound", lambda: proof_finite_bound.check(
        bound=lambda kappa, nu: kappa / nu
    )),
    "bound with C - 1": ("retrieval", lambda: proof_retrieval.check(
        bound=lambda T, R, norm, C: proof_retrieval.decay_bound(T, R, norm, C - 1)
    )),
    "bound with twice the rate": ("retrieval", lambda: proof_retrieval.check(
        bound=lambda T, R, norm, C: (T - 1) * sp.exp(-2 * R / norm + C)
    )),
}


@pytest.mark.parametrize("broken", sorted(BROKEN))
def test_a_broken_ingredient_makes_its_proof_fail(broken: str) -> None:
    name, run = BROKEN[broken]
    with pytest.raises(ProofFailed, match="^" + re.escape(f"{proofs.module(name).TITLE}: step failed")):
        run()


def test_every_proof_has_a_breaking_test() -> None:
    assert {name for name, _ in BROKEN.values()} == set(proofs.NAMES)


# -- support ----------------------------------------------------------------------------------
def test_is_zero_is_exact() -> None:
    x, y = sp.symbols("x y", positive=True)
    assert is_zero((x + y) ** 2 - x**2 - 2 * x * y - y**2)
    assert not is_zero(x / (x + y) - 1)
    assert is_zero(sp.Matrix([x - x, sp.log(x * y) - sp.log(x) - sp.log(y)]))


def test_exponentials_are_replaced_or_refused() -> None:
    a, b = sp.symbols("a b", real=True)
    replaced, z = exponentials_as_symbols(sp.exp(-a) + sp.exp(b / 2), {0: a, 1: b})
    assert replaced == 1 / z[0] + sp.sqrt(z[1])
    with pytest.raises(ProofFailed, match="not a rational multiple"):
        exponentials_as_symbols(sp.exp(a + b), {0: a, 1: b})


def test_derivation_counts_checks_and_renders() -> None:
    proof = Derivation("T", "S")
    proof.require(True, "one")
    proof.table(("a", "b"), [(1, 2)])
    with pytest.raises(ProofFailed, match="step failed: two"):
        proof.require(False, "two")
    text = proof.markdown()
    assert text.startswith("# T\n\n**Statement.** S\n")
    assert "| 1 | 2 |" in text and "*2 exact checks" in text


# -- runner and command line -----------------------------------------------------------------
def test_run_reports_pass_fail_and_error(monkeypatch: pytest.MonkeyPatch) -> None:
    (ok,) = proofs.run(["compression"])
    assert ok.success and ok.status is ProofStatus.PASSED and "exact checks" in ok.message

    def fails() -> None:
        raise ProofFailed("broken step")

    def crashes() -> None:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(proof_compression, "check", fails)
    (bad,) = proofs.run(["compression"])
    assert bad.status is ProofStatus.FAILED and not bad.success and "broken step" in bad.message
    monkeypatch.setattr(proof_compression, "check", crashes)
    (err,) = proofs.run(["compression"])
    assert err.status is ProofStatus.ERROR and "ZeroDivisionError" in err.message
