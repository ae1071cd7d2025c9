"""Properties of the symbolic oracles on random datasets (Hypothesis strategies of symattn)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from symattn.scores import log_token_mass
from symattn.strategies import datasets, realised_datasets
from symattn.svm import solve_graph_svm
from symattn.symbolic import ConstraintKind, KKTStatus, graph_svm_problem, numeric_model, solve_kkt


@given(realised_datasets(max_queries=2, max_tokens=4, max_repeats=2))
def test_numeric_svm_active_set_gives_the_exact_solution(ds) -> None:
    numeric = solve_graph_svm(ds)
    assert numeric.success
    cons = numeric.constraints
    tight = {
        (int(k), int(i), int(j))
        for k, i, j, eq, margin in zip(cons.query, cons.high, cons.low, cons.equality, numeric.margins, strict=True)
        if not eq and abs(margin - 1.0) < 1e-7
    }
    problem = graph_svm_problem(ds)
    assert {(c.query, c.high, c.low) for c in problem.constraints} == set(
        zip(cons.query.tolist(), cons.high.tolist(), cons.low.tolist(), strict=True)
    )
    active = [
        n for n, c in enumerate(problem.constraints)
        if c.kind is ConstraintKind.INEQUALITY and (c.query, c.high, c.low) in tight
    ]
    exact = solve_kkt(problem, active)
    assert exact.status is KKTStatus.OPTIMAL, exact.status
    np.testing.assert_allclose(np.array(exact.W, dtype=float), numeric.W, atol=1e-8)


@given(datasets(max_vocab=3, max_samples=4, max_length=4), st.integers(0, 2**32 - 1))
def test_lambdified_token_mass_equals_the_log_space_masses(ds, seed) -> None:
    W = np.random.default_rng(seed).standard_normal((ds.K, ds.K)) * 3
    model = numeric_model(ds, hessian=False)
    np.testing.assert_allclose(model.log_token_mass(W), log_token_mass(ds, W), atol=1e-10)
