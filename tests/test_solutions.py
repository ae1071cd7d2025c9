"""check_svm and check_finite on exact answers, on perturbed ones and on cvxpy (SCS, Clarabel) solutions."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from symattn import finite_component, solve_graph_svm, svm_constraints
from symattn.cases import CASES, known_case
from symattn.errors import InvalidInput
from symattn.verify.solutions import check_finite, check_svm

FEASIBLE = [c for c in CASES if c.feasible]


def _values(result):
    return {c.name: c.value for c in result.checks}


def _failed(result):
    return {c.name for c in result.checks if c.passed is False}


@pytest.mark.parametrize("case", FEASIBLE, ids=lambda c: c.name)
def test_symattns_own_solution_and_multipliers_pass(case):
    ds = case.dataset()
    res = solve_graph_svm(ds)
    result = check_svm(ds, res.W, res.multipliers)
    assert result.passed, result.message
    assert [c.name for c in result.checks] == [
        "primal feasibility", "objective gap", "distance to W^svm", "orthogonality to S_fin", "dual sign",
        "complementarity", "stationarity"]
    assert result.violations == ()


@pytest.mark.parametrize("case", [c for c in CASES if c.svm is not None], ids=lambda c: c.name)
def test_hand_derived_solutions_pass(case):
    assert check_svm(case.dataset(), case.exact_svm_matrix().astype(float)).passed


def test_a_shrunk_solution_is_reported_with_its_violations():
    ds = known_case("default-example").dataset()
    W = known_case("default-example").exact_svm_matrix().astype(float)
    result = check_svm(ds, W * (1 - 1e-5))
    assert _failed(result) == {"primal feasibility", "objective gap"}
    cons = svm_constraints(ds)
    margins = W[cons.high, cons.query] - W[cons.low, cons.query]
    tight = np.flatnonzero(~cons.equality & np.isclose(margins, 1.0))
    assert sorted(v.index for v in result.violations) == sorted(tight.tolist())
    assert all(v.kind == "ge" and v.violation == pytest.approx(1e-5) for v in result.violations)
    assert "violated" in result.message


def test_components_in_s_fin_break_orthogonality_and_equalities():
    ds = known_case("default-example").dataset()
    W = known_case("default-example").exact_svm_matrix().astype(float)
    W[0, 2] += 1e-3
    W[1, 2] -= 1e-3  # tokens 0 and 1 share an SCC of G_2: this direction lies in S_fin
    result = check_svm(ds, W)
    assert {"orthogonality to S_fin", "primal feasibility"} <= _failed(result)
    assert {v.kind for v in result.violations} == {"eq"}


@pytest.mark.parametrize(
    ("edit", "condition"),
    [("negate", "dual sign"), ("slack", "complementarity"), ("shift-eq", "stationarity")],
)
def test_kkt_conditions_one_by_one(edit, condition):
    ds = known_case("chain").dataset()  # edges 1->0, 1->2 (slack, margin 2), 0->2
    res = solve_graph_svm(ds)
    lam = res.multipliers.astype(float).copy()
    cons = res.constraints
    slack = int(np.flatnonzero((cons.high == 1) & (cons.low == 2))[0])
    if edit == "negate":
        lam = -lam
    elif edit == "slack":
        lam[slack] = 0.5
    else:
        lam[0] += 0.25
    assert condition in _failed(check_svm(ds, res.W, lam))


def test_multipliers_as_a_mapping():
    ds = known_case("chain").dataset()
    res = solve_graph_svm(ds)
    cons = res.constraints
    mapping = {(int(k), int(i), int(j)): float(v) for k, i, j, v in
               zip(cons.query, cons.high, cons.low, res.multipliers, strict=True)}
    assert check_svm(ds, res.W, mapping).passed
    with pytest.raises(InvalidInput, match="not a constraint"):
        check_svm(ds, res.W, {(2, 2, 1): 1.0})
    with pytest.raises(InvalidInput, match="multipliers for"):
        check_svm(ds, res.W, [1.0])


def test_infeasible_problem_fails_every_claim():
    ds = known_case("dependent-infeasible").dataset()
    result = check_svm(ds, np.ones((2, 2)))
    assert not result.passed and "infeasible" in result.checks[0].detail


def test_zero_reference_uses_the_unit_scale():
    ds = known_case("theory-cyclic").dataset()
    assert check_svm(ds, np.zeros((3, 3))).passed
    assert not check_svm(ds, np.full((3, 3), 1e-3)).passed


def test_float32_solution_gets_a_float32_tolerance():
    case = known_case("two-above-one")
    W = case.exact_svm_matrix().astype(np.float32)
    result = check_svm(case.dataset(), W)
    assert result.passed and result.checks[0].tolerance == pytest.approx(np.sqrt(np.finfo(np.float32).eps))


def test_bad_inputs():
    ds = known_case("chain").dataset()
    with pytest.raises(InvalidInput, match="shape"):
        check_svm(ds, np.zeros((2, 2)))
    with pytest.raises(InvalidInput, match="tolerance"):
        check_svm(ds, np.zeros((3, 3)), tolerance=0)
    with pytest.raises(InvalidInput, match="Dataset"):
        check_finite([1], np.zeros((3, 3)))
    W = known_case("chain").exact_svm_matrix().astype(float)
    for value, message in [("abc", r"multipliers\[\(2, 1, 0\)\] = 'abc' has dtype"),
                           (float("nan"), r"multipliers\[\(2, 1, 0\)\] = nan: multipliers must be finite")]:
        with pytest.raises(InvalidInput, match=message):
            check_svm(ds, W, {(2, 1, 0): value})


# -- check_finite -----------------------------------------------------------------------------------
@pytest.mark.parametrize("case", [c for c in CASES if c.finite is not None], ids=lambda c: c.name)
def test_hand_derived_finite_components_pass(case):
    assert check_finite(case.dataset(), case.finite_matrix()).passed


def test_finite_component_perturbed_inside_and_outside_s_fin():
    ds = known_case("theory-cyclic").dataset()
    W = finite_component(ds).W
    inside = W.copy()
    inside[0, 2] += 1e-3
    inside[1, 2] -= 1e-3
    assert _failed(check_finite(ds, inside)) == {"reduced gradient", "reduced loss gap", "distance to W^fin"}
    outside = W + 1e-3 * np.ones((3, 3))  # constant columns are orthogonal to the zero-sum S_fin
    assert _failed(check_finite(ds, outside)) == {"membership in S_fin"}


def test_fixed_step_normalised_gd_is_not_a_finite_component():
    """The research-code pitfall (docs/theory.md §8): W^fin as an iterate of NGD has error ~ step / 2."""
    from symattn.train import train

    ds = known_case("theory-cyclic").dataset()
    W = train(ds, method="ngd", lr=0.01, steps=500).W
    assert "reduced gradient" in _failed(check_finite(ds, W))


# -- cvxpy --------------------------------------------------------------------------------------------
def _cvxpy_svm(ds, solver, **options):
    cp = pytest.importorskip("cvxpy", reason="the cvxpy comparisons need the bench extra")
    cons = svm_constraints(ds)
    E = ds.embeddings.matrix()
    d = E.shape[1]
    W = cp.Variable((d, d))
    rows = np.einsum("ci,cj->cij", E[cons.high] - E[cons.low], E[cons.query]).reshape(len(cons), d * d)
    margins = rows @ cp.vec(W, order="C")
    eq, ge = np.flatnonzero(cons.equality), np.flatnonzero(~cons.equality)
    constraints = ([margins[eq] == 0] if eq.size else []) + ([margins[ge] >= 1] if ge.size else [])
    problem = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(W)), constraints)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        problem.solve(solver=solver, **options)
    lam = np.zeros(len(cons))
    if eq.size:
        lam[eq] = -np.asarray(constraints[0].dual_value)
    if ge.size:
        lam[ge] = np.asarray(constraints[-1].dual_value)
    return problem.status, W.value, lam


@pytest.mark.parametrize("case", FEASIBLE, ids=lambda c: c.name)
def test_clarabel_solutions_pass(case):
    ds = case.dataset()
    status, W, lam = _cvxpy_svm(ds, "CLARABEL")
    assert status == "optimal"
    result = check_svm(ds, W, lam)
    assert result.passed, result.message


@pytest.mark.parametrize("case", FEASIBLE, ids=lambda c: c.name)
def test_scs_verdicts_match_an_independent_measurement(case):
    """SCS at its default accuracy: accepted exactly when its violations and gap are within tolerance."""
    ds = case.dataset()
    status, W, lam = _cvxpy_svm(ds, "SCS")
    result = check_svm(ds, W, lam)
    cons = svm_constraints(ds)
    E = ds.embeddings.matrix()
    margins = np.array([(E[i] - E[j]) @ W @ E[k] for k, i, j in zip(cons.query, cons.high, cons.low, strict=True)])
    worst = max(np.max(np.abs(margins[cons.equality]), initial=0.0), np.max(1 - margins[~cons.equality], initial=0.0))
    assert _values(result)["primal feasibility"] == pytest.approx(max(worst, 0.0), rel=1e-9, abs=1e-15)
    assert len(result.violations) == int(np.sum(np.where(cons.equality, np.abs(margins), 1 - margins) > 1.49e-8))
    if status == "optimal" and not result.passed:
        assert result.message.startswith("failed")


@pytest.mark.parametrize("name", ["default-example", "published-1", "published-2"])
def test_a_loose_optimal_is_reported_not_accepted(name):
    ds = known_case(name).dataset()
    status, W, lam = _cvxpy_svm(ds, "SCS", eps_abs=1e-3, eps_rel=1e-3)
    assert status == "optimal"  # what the solver says
    result = check_svm(ds, W, lam)
    assert not result.passed and result.violations
    assert "primal feasibility" in _failed(result)


def test_results_as_json():
    import json

    ds = known_case("default-example").dataset()
    W = known_case("default-example").exact_svm_matrix().astype(float)
    payload = check_svm(ds, W * 0.99).to_dict()
    json.dumps(payload, allow_nan=False)
    assert payload["verdict"] == "fail" and payload["violations"][0]["kind"] == "ge"
    assert json.loads(json.dumps(check_svm(known_case("dependent-infeasible").dataset(), np.eye(2)).to_dict(),
                                 allow_nan=False))["reference_norm"] is None
