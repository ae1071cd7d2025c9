"""The integer certificate of the graph-SVM (one-hot embeddings): agrees with the Fraction re-solve,
and every tampering - one unit of a common denominator anywhere - is rejected."""

from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from svm_cases import chain_and_cycle, random_dataset
from svm_oracles import constraint_rows, exact_stationarity_holds

import symattn.svm._scaled as scaled_module
import symattn.svm.solve as solve_module
from symattn.strategies import datasets, realised_datasets
from symattn.svm import solve_graph_svm, svm_constraints
from symattn.svm._collapse import collapse, edge_multipliers
from symattn.svm._potentials import min_norm_potentials
from symattn.svm._scaled import ScaledPotentials, ScaledValues, scaled_checks, scaled_solution
from symattn.svm.kkt import verify_kkt


def _fraction_solution(ds):
    """The exact optimum by the Fraction active set from a cold start (the path written apart)."""
    cons = svm_constraints(ds)
    prob = collapse(cons, ds.K)
    sol = min_norm_potentials(prob.weights, prob.dag_tail, prob.dag_head, exact=True,
                              block=prob.node_query[prob.reps])
    u = sol.v[prob.group]
    entries = {(t, k): v for t, k, v in zip(prob.node_token.tolist(), prob.node_query.tolist(), u, strict=True)
               if v != 0}
    return entries, edge_multipliers(prob, u, sol.multipliers)


@pytest.mark.parametrize("seed", range(3))
def test_integer_certificate_matches_the_fraction_re_solve(seed):
    ds = random_dataset(12, 60, 6, 3, seed)
    res = solve_graph_svm(ds, certify=True)
    cert = res.certificate
    assert isinstance(cert.solution, ScaledPotentials) and cert.corrections == 0
    entries, _ = _fraction_solution(ds)
    assert dict(cert.entries) == entries  # the optimum is unique
    assert cert.norm_squared == sum((v * v for v in entries.values()), Fraction(0))
    _, _, listing = constraint_rows(ds)
    key = {(k, i, j): c for c, (k, i, j) in enumerate(zip(res.constraints.query.tolist(),
                                                          res.constraints.high.tolist(),
                                                          res.constraints.low.tolist(), strict=True))}
    lam = [cert.multipliers[key[(k, i, j)]] for k, i, j, _ in listing]
    assert exact_stationarity_holds(ds, dict(cert.entries), lam, listing)
    assert all(isinstance(v, Fraction) for v in cert.multipliers)


def _scaled(ds):
    cons = svm_constraints(ds)
    cert = solve_graph_svm(ds, certify=True).certificate
    return cons, cert.solution, cert.exact_multipliers


def _bump(values: np.ndarray, i: int, by: int) -> np.ndarray:
    out = values.copy()
    out[i] += by
    return out


def test_each_potential_off_by_one_unit_is_rejected():
    ds = chain_and_cycle()
    cons, pot, lam = _scaled(ds)
    assert scaled_checks(cons, pot, lam, ds.K) == (True, True, True, True)
    for i in range(pot.token.size):
        for by in (1, -1):
            wrong = replace(pot, values=ScaledValues(_bump(pot.values.num, i, by), pot.values.den))
            assert not verify_kkt(cons, wrong, lam, ds.embeddings).holds, (i, by)


def test_each_multiplier_off_by_one_unit_is_rejected():
    ds = random_dataset(10, 40, 5, 2, 4)
    cons, pot, lam = _scaled(ds)
    for c in range(len(cons)):
        for by in (1, -1):
            wrong = ScaledValues(_bump(lam.num, c, by), lam.den)
            assert not verify_kkt(cons, pot, wrong, ds.embeddings).holds, (c, by)


def test_denominators_and_positions_are_checked():
    ds = chain_and_cycle()
    cons, pot, lam = _scaled(ds)
    nonzero = int(np.flatnonzero(pot.values.num != 0)[0])
    other_den = ScaledValues(pot.values.num, _bump(pot.values.den, nonzero, 1))
    assert not verify_kkt(cons, replace(pot, values=other_den), lam, ds.embeddings).holds
    negative = ScaledValues(-pot.values.num, -pot.values.den)  # the same values, denominators must be > 0
    assert not verify_kkt(cons, replace(pot, values=negative), lam, ds.embeddings).holds
    moved = replace(pot, token=_bump(pot.token, nonzero, 1))
    assert not verify_kkt(cons, moved, lam, ds.embeddings).holds
    floats = ScaledValues(pot.values.num.astype(float), pot.values.den)
    assert not verify_kkt(cons, replace(pot, values=floats), lam, ds.embeddings).holds
    flipped = ScaledValues(np.where(cons.equality, lam.num, -lam.num), lam.den)
    checks = verify_kkt(cons, pot, flipped, ds.embeddings)
    assert not checks.dual_signs and not checks.holds


def test_python_integers_give_the_same_verdicts(monkeypatch):
    """Beyond the int64 bound the checks run on Python ints: same verdicts, exactly."""
    ds = random_dataset(10, 40, 5, 2, 1)
    cons, pot, lam = _scaled(ds)
    monkeypatch.setattr(scaled_module, "_SAFE", 4)
    assert scaled_checks(cons, pot, lam, ds.K) == (True, True, True, True)
    wrong = replace(pot, values=ScaledValues(_bump(pot.values.num, 0, 1), pot.values.den))
    assert not all(scaled_checks(cons, wrong, lam, ds.K))
    big = 3**50  # far beyond int64: every value scaled by a huge common factor is still the optimum
    as_ints = ScaledValues(pot.values.num.astype(object) * big, pot.values.den.astype(object) * big)
    lam_ints = ScaledValues(lam.num.astype(object) * big, lam.den.astype(object) * big)
    assert scaled_checks(cons, replace(pot, values=as_ints), lam_ints, ds.K) == (True, True, True, True)
    prob = collapse(cons, ds.K)
    assert scaled_solution(prob, np.zeros(prob.dag_tail.size, dtype=bool)) is None  # no int64 bound left


def test_a_wrong_numeric_working_set_falls_back_to_the_exact_re_solve(monkeypatch):
    ds = random_dataset(12, 60, 6, 3, 0)
    honest = solve_graph_svm(ds, certify=True).certificate
    monkeypatch.setattr(solve_module, "scaled_solution",
                        lambda prob, guess, twins: scaled_solution(prob, np.zeros_like(guess), twins))
    cert = solve_graph_svm(ds, certify=True).certificate
    assert cert.checks.holds and not isinstance(cert.solution, ScaledPotentials)
    assert dict(cert.entries) == dict(honest.entries)


def test_presentation_rules_are_enforced():
    """Positions must be in range and distinct and denominators positive, even where the values
    read the same: position (t + K, k - 1) would otherwise alias (t, k)."""
    ds = chain_and_cycle()
    cons, pot, lam = _scaled(ds)
    i = int(np.flatnonzero((pot.values.num != 0) & (pot.query > 0))[0])
    aliased = replace(pot, token=_bump(pot.token, i, ds.K), query=_bump(pot.query, i, -1))
    assert not any(scaled_checks(cons, aliased, lam, ds.K))
    both_negated = (replace(pot, values=ScaledValues(-pot.values.num, -pot.values.den)),
                    ScaledValues(-lam.num, -lam.den))
    assert not any(scaled_checks(cons, *both_negated, ds.K))
    twice = ScaledPotentials(np.append(pot.token, pot.token[i]), np.append(pot.query, pot.query[i]),
                             ScaledValues(np.append(pot.values.num, 0), np.append(pot.values.den, 1)))
    assert not any(scaled_checks(cons, twice, lam, ds.K))


@given(st.one_of(realised_datasets(cyclic=True), realised_datasets(max_queries=3, max_tokens=7),
                 datasets(max_queries=3)), st.data())
def test_random_datasets_certify_in_integers_and_reject_one_unit(ds, data):
    cons, pot, lam = _scaled(ds)
    assert isinstance(pot, ScaledPotentials), "one-hot data must take the integer path"
    entries, _ = _fraction_solution(ds)
    assert ScaledPotentials.entries(pot) == entries
    i = data.draw(st.integers(0, pot.token.size - 1), label="entry") if pot.token.size else None
    if i is not None:
        by = data.draw(st.sampled_from([1, -1]), label="by")
        wrong = replace(pot, values=ScaledValues(_bump(pot.values.num, i, by), pot.values.den))
        assert not verify_kkt(cons, wrong, lam, ds.embeddings).holds
