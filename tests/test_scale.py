"""The cases where the answer used to depend on the embeddings' scale, each decided as for scale 1.

Every test here failed before the tolerances were made relative (or the decisions exact):
dim S_fin dropped for small embeddings and W^fin was then 'certified'; a feasible graph-SVM with
rows 1/100000 was 'certified infeasible'; a correct W^fin at scale 1e2..1e4 was refused; rows of
1e200 gave a raw ValueError from linprog and zero rows a division by zero in train.
"""

from __future__ import annotations

import json
import re
from fractions import Fraction

import numpy as np
import pytest

import symattn.svm.solve as solve_module
from symattn import (
    Dataset,
    Embeddings,
    finite_bound,
    finite_component,
    load_example,
    solve_graph_svm,
    train,
)
from symattn.cli import main
from symattn.embeddings import MAX_ROW_SCALE, MIN_ROW_SCALE
from symattn.errors import InvalidInput, SolverError
from symattn.svm import SVMStatus

EXAMPLE = load_example("default")
GENERAL = np.random.default_rng(7).standard_normal((EXAMPLE.K, EXAMPLE.K + 2))


def _with_rows(rows) -> Dataset:
    return EXAMPLE.with_embeddings(Embeddings.given(rows))


@pytest.mark.parametrize("scale", [1e-4, 1e-3, 1.0, 1e2, 1e4])
def test_general_embeddings_keep_dim_s_fin_and_w_fin_at_every_scale(scale):
    ref = finite_component(_with_rows(GENERAL))
    fin = finite_component(_with_rows(scale * GENERAL))
    assert ref.dim == 3 and fin.dim == ref.dim and fin.status is ref.status and fin.certified
    assert np.linalg.norm(fin.W * scale**2 - ref.W) <= 1e-9 * np.linalg.norm(ref.W)


def test_small_identity_rows_keep_dim_s_fin():
    onehot = finite_component(EXAMPLE)
    fin = finite_component(_with_rows(1e-4 * np.eye(EXAMPLE.K)))
    assert fin.dim == onehot.dim == 3 and fin.certified
    assert np.allclose(fin.W * 1e-8, onehot.W, rtol=0, atol=1e-12)


def test_exact_rows_one_hundred_thousandth_are_feasible_and_certified():
    tiny = _with_rows([["1/100000" if i == j else "0" for j in range(EXAMPLE.K)] for i in range(EXAMPLE.K)])
    res = solve_graph_svm(tiny)
    ref = solve_graph_svm(EXAMPLE)
    assert res.status is SVMStatus.OPTIMAL and res.certified and res.farkas is None
    scale = Fraction(1, 10**10)  # W^svm scales by 1/c^2 = 10^10 exactly
    assert [[v * scale for v in row] for row in res.certificate.exact_matrix()] == ref.certificate.exact_matrix()
    fin = finite_component(tiny)
    assert fin.dim == 3 and fin.certified


@pytest.mark.parametrize("scale", [1e2, 1e4])
def test_large_embeddings_give_a_certified_w_fin(scale, tmp_path, capsys):
    fin = finite_component(_with_rows(scale * GENERAL))
    assert fin.status.value == "converged" and fin.certified
    assert np.allclose(fin.W * scale**2, finite_component(_with_rows(GENERAL)).W, rtol=0, atol=1e-12)
    names = list(EXAMPLE.vocab.names)
    samples = [{"tokens": [names[t] for t in s.tokens], "label": names[s.label]} for s in EXAMPLE]
    path = tmp_path / "large.json"
    path.write_text(json.dumps({"format": "symattn.dataset/1", "vocab": names,
                                "embeddings": {"rows": (scale * GENERAL).tolist()}, "samples": samples}))
    assert main(["analyze", str(path)]) == 0
    assert "NOT certified" not in capsys.readouterr().out


@pytest.mark.parametrize("bad", [1e200, 1e-300])
def test_rows_beyond_the_limits_are_refused_naming_row_and_limit(bad, tmp_path, capsys):
    rows = np.eye(3)
    rows[1, 1] = bad
    limit = MAX_ROW_SCALE if bad > 1 else MIN_ROW_SCALE
    with pytest.raises(InvalidInput, match="embedding row 1 .* the limit " + re.escape(f"{limit:.3g}")):
        Embeddings.given(rows)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"format": "symattn.dataset/1", "vocab": 3, "embeddings": {"rows": rows.tolist()},
                                "samples": [{"tokens": [0, 1, 2], "label": 0}]}))
    assert main(["analyze", str(path)]) == 2
    assert "embedding row 1" in capsys.readouterr().err


def test_zero_rows_are_refused_by_train_with_a_message_not_a_division_by_zero():
    ds = Dataset.from_samples([([0, 1], 1), ([1, 0], 0)], vocab=2, embeddings=Embeddings.given(np.zeros((2, 2))))
    with pytest.raises(InvalidInput, match="smoothness bound is 0"):
        train(ds, method="gd", steps=3)
    assert train(ds, method="ngd", steps=3).success  # a zero gradient leaves W in place
    assert solve_graph_svm(ds).status is SVMStatus.INFEASIBLE


def test_exact_rows_never_get_a_farkas_certificate_by_tolerance(monkeypatch):
    rows = [[1, 0], [0, 1], [1, 1], [1, -1], [2, 1]]
    from symattn import realise

    infeasible = {4: [(0, 1), (1, 0), (2, 0), (2, 1), (0, 3), (1, 3), (0, 4), (1, 4), (2, 4)]}
    ds = realise(infeasible, vocab=5, embeddings=Embeddings.given(rows))
    assert solve_graph_svm(ds).farkas.exact
    monkeypatch.setattr(solve_module, "exact_farkas", lambda columns, inequality: None)
    with pytest.raises(SolverError, match="no exact Farkas certificate"):
        solve_graph_svm(ds)


# -- "certified" means proved -----------------------------------------------------------------------
def _scc_newton(members: list[int], samples: list[tuple[list[int], int]]) -> list:
    """Zero-sum potentials on one SCC minimising the reduced loss, by Newton at 50 digits (mpmath).

    Parameters x_0..x_{s-2}, u = (x, -sum x); per sample the gradient in u is pi - 1[label] and
    the Hessian diag(pi) - pi pi^T, with pi the softmax of u + log(count) over the present members.
    """
    import mpmath as mp

    s = len(members)
    J = mp.matrix(s, s - 1)
    for i in range(s - 1):
        J[i, i], J[s - 1, i] = 1, -1
    x = mp.matrix(s - 1, 1)
    for _ in range(60):
        u = [*(x[i] for i in range(s - 1)), -mp.fsum(x[i] for i in range(s - 1))]
        g, H = mp.matrix(s, 1), mp.matrix(s, s)
        for tokens, label in samples:
            present = [i for i, t in enumerate(members) if t in tokens]
            weights = {i: tokens.count(members[i]) * mp.exp(u[i]) for i in present}
            total = mp.fsum(weights.values())
            for i in present:
                g[i] += weights[i] / total - (1 if members[i] == label else 0)
                for j in present:
                    H[i, j] += (weights[i] / total if i == j else 0) - weights[i] * weights[j] / total**2
        step = mp.lu_solve(J.T * H * J, J.T * g)
        x -= step
        if mp.norm(step) < mp.mpf(10) ** -45:
            break
    return [*(x[i] for i in range(s - 1)), -mp.fsum(x[i] for i in range(s - 1))]


def _w_fin_by_mpmath(ds: Dataset) -> np.ndarray:
    """W^fin of a one-hot dataset at 50 digits, SCC by SCC (written apart from symattn.finite)."""
    import mpmath as mp

    from symattn.graphs import priority_graphs

    W = np.zeros((ds.K, ds.K))
    with mp.workdps(50):
        for k, g in priority_graphs(ds).items():
            for scc in (list(c) for c in g.sccs if len(c) > 1):
                samples = [(list(s.tokens), s.label) for s in ds if s.tokens[-1] == k and s.label in scc]
                for t, v in zip(scc, _scc_newton(scc, samples), strict=True):
                    W[t, k] = float(v)
    return W


def test_the_proven_bound_covers_the_distance_to_an_independent_w_fin():
    ds = EXAMPLE
    exact = _w_fin_by_mpmath(ds)
    fin = finite_component(ds)
    assert fin.certified and np.linalg.norm(fin.W - exact) <= fin.error_bound + 1e-15
    rng = np.random.default_rng(3)
    for size in (1e-9, 1e-6, 1e-3, 1e-1):
        wrong = fin.W + size * rng.standard_normal(fin.W.shape)
        proof = finite_bound(ds, wrong)
        distance = np.linalg.norm(wrong - exact)
        assert proof.proven and distance <= proof.bound * (1 + 1e-12) + 1e-15
        assert proof.nu * proof.bound > 1e-9  # such a W would not be certified


@pytest.mark.parametrize("scale", [1e-4, 1e4])
def test_regularisation_path_is_scale_free(scale):
    """W_R for embeddings c E is W_{R c^2} / c^2: radii, multipliers and limits follow the data's scale."""
    from symattn import regularization_path

    rows = GENERAL / np.sqrt(np.max(np.sum(GENERAL**2, axis=1)))
    radii = [1.0, 100.0, 1e6]
    ref = regularization_path(_with_rows(rows), radii)
    got = regularization_path(_with_rows(scale * rows), [r / scale**2 for r in radii])
    assert ref.success and got.success
    for W, W_ref in zip(got.weights, ref.weights, strict=True):
        assert np.linalg.norm(W * scale**2 - W_ref) <= 1e-9 * np.linalg.norm(W_ref)
    assert np.allclose(got.metrics["log_multiplier"] - 4 * np.log(scale), ref.metrics["log_multiplier"],
                       rtol=0, atol=1e-6)


def test_float_rows_with_structural_dependencies_get_a_proved_dimension():
    """Five float rows in two dimensions: 4 star generators span 2 dimensions, exactly (rows as rationals)."""
    rows = np.random.default_rng(1).standard_normal((5, 2))
    samples = [([0, 1, 2, 3, 4], y) for y in (0, 1, 1, 2, 3, 4)]
    fin = finite_component(Dataset.from_samples(samples, vocab=5, embeddings=Embeddings.given(rows)))
    assert fin.dim == 2 < fin.basis.expected_dim and fin.basis.rank_exact and fin.certified
