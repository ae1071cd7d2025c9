from fractions import Fraction

import numpy as np
import pytest
from svm_cases import (
    DEPENDENT_QUERY,
    DEPENDENT_QUERY_ROWS,
    INFEASIBLE,
    INFEASIBLE_ROWS,
    chain_and_cycle,
    random_dataset,
)
from svm_oracles import constraint_rows, exact_stationarity_holds, svm_by_trust_constr

import symattn.svm.solve as svm_module
from symattn import Dataset, Embeddings, load_example, realise
from symattn.errors import InvalidInput
from symattn.svm import (
    SVMMethod,
    SVMStatus,
    check_complementarity,
    check_dual_signs,
    check_primal_feasibility,
    check_stationarity,
    exact_margins,
    solve_graph_svm,
    svm_constraints,
)


# -- constraints -------------------------------------------------------------------------------------------
def test_constraints_match_the_brute_force_edges():
    ds = chain_and_cycle()
    cons = svm_constraints(ds)
    _, _, listing = constraint_rows(ds)
    ours = sorted(zip(cons.query.tolist(), cons.high.tolist(), cons.low.tolist(), cons.equality.tolist(),
                      strict=True))
    assert ours == sorted(listing)
    assert cons.n_equalities == 2 and cons.n_inequalities == 8


def test_all_pairs_adds_the_transitive_pairs():
    ds = realise({3: [(0, 1), (1, 2), (0, 3), (1, 3), (2, 3)]}, vocab=4)
    assert len(svm_constraints(ds)) == 5
    assert len(svm_constraints(ds, all_pairs=True)) == 6  # plus 0 -> 2


# -- known solutions ---------------------------------------------------------------------------------------
def test_example_is_certified_with_the_hand_solution():
    res = solve_graph_svm(load_example("default"))
    assert res.status is SVMStatus.OPTIMAL and res.certified
    W = res.certificate.exact_matrix()
    # query e (4): d > a > e gives (1, 0, -1); query f (5): {b, d} > a, f gives 1/2, -1/2
    assert (W[3][4], W[0][4], W[4][4]) == (1, 0, -1)
    assert (W[1][5], W[3][5], W[0][5], W[5][5]) == (Fraction(1, 2), Fraction(1, 2), Fraction(-1, 2),
                                                      Fraction(-1, 2))
    assert res.certificate.norm_squared == 3
    assert np.allclose(res.W, np.array(W, dtype=float), atol=1e-15)


def test_two_token_solution():
    res = solve_graph_svm(Dataset.from_samples([([0, 1], 0)], vocab=2))
    assert res.certificate.exact_matrix() == [[0, Fraction(1, 2)], [0, Fraction(-1, 2)]]


def test_zero_iff_no_cross_scc_edge():
    cyclic = Dataset.from_samples([([0, 1, 2], y) for y in (0, 1, 2)], vocab=3)
    res = solve_graph_svm(cyclic)
    assert res.norm == 0 and res.certified and svm_constraints(cyclic).n_inequalities == 0
    one = Dataset.from_samples([([2], 2)], vocab=3)  # no edge at all
    assert solve_graph_svm(one).norm == 0 and len(svm_constraints(one)) == 0


# -- against independent solvers ---------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(4))
def test_agrees_with_trust_constr(seed):
    ds = random_dataset(5, 8, 4, 2, seed)
    ours = solve_graph_svm(ds)
    assert ours.certified
    assert np.max(np.abs(ours.W - svm_by_trust_constr(ds))) < 1e-7


def test_agrees_with_trust_constr_on_general_embeddings():
    ds = random_dataset(5, 8, 4, 2, 7, embeddings=Embeddings.random_unit(5, 7, seed=3))
    ours = solve_graph_svm(ds)
    assert ours.method is SVMMethod.GRAM and ours.status is SVMStatus.OPTIMAL and not ours.certified
    assert np.max(np.abs(ours.W - svm_by_trust_constr(ds))) < 1e-7


def test_exact_stationarity_by_substitution_with_oracle_listing():
    ds = chain_and_cycle()
    res = solve_graph_svm(ds)
    _, _, listing = constraint_rows(ds)
    key = {(k, i, j): c for c, (k, i, j) in enumerate(zip(res.constraints.query.tolist(),
                                                          res.constraints.high.tolist(),
                                                          res.constraints.low.tolist(), strict=True))}
    lam = [res.certificate.multipliers[key[(k, i, j)]] for k, i, j, _ in listing]
    assert exact_stationarity_holds(ds, dict(res.certificate.entries), lam, listing)
    for value, (_, _, _, same) in zip(lam, listing, strict=True):
        assert same or value >= 0


def test_orthonormal_and_gram_paths_agree():
    ds = random_dataset(6, 14, 4, 2, 11)
    rows = Embeddings.orthonormal(6, 6, seed=2)
    a = solve_graph_svm(ds.with_embeddings(rows))
    # the same rows, tilted a little, leave the orthonormal path: then the Gram QP must run
    tilted = Embeddings.given(rows.matrix() + 1e-3 * np.eye(6))
    b = solve_graph_svm(ds.with_embeddings(tilted))
    assert a.method is SVMMethod.POTENTIALS and b.method is SVMMethod.GRAM
    assert a.success and b.success
    assert abs(a.norm - solve_graph_svm(ds).norm) < 1e-12  # orthonormal rows keep the norm
    assert abs(a.norm - b.norm) < 1e-2


def test_exact_general_embeddings_are_certified_through_the_gram_path():
    ds = random_dataset(4, 6, 3, 2, 5)
    rows = [[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1], [1, 0, 0, 2]]
    res = solve_graph_svm(ds.with_embeddings(Embeddings.given(rows)))
    assert res.method is SVMMethod.GRAM and res.certified
    W_exact = np.array(res.certificate.exact_matrix(), dtype=float)
    assert np.max(np.abs(res.W - W_exact)) < 1e-9


def test_residuals_are_reported_and_tiny():
    res = solve_graph_svm(random_dataset(30, 300, 8, 3, 1), certify=False)
    assert res.certificate is None
    assert res.residuals.max <= 1e-10
    assert np.all(res.margins[~res.constraints.equality] >= 1 - 1e-10)


# -- infeasibility and bad input ---------------------------------------------------------------------------
def test_dependent_exact_embeddings_give_an_exact_farkas_certificate():
    # e_2 = e_0 + e_1, and 2 is a query too, so W e_2 = W e_0 + W e_1. Writing f(i, k) = e_iᵀ W e_k:
    # query 0 asks f(1, 0) >= 1 and f(0, 0) >= 1, query 1 asks f(0, 1) >= 1, and query 2 asks
    # f(1, 2) - f(2, 2) = -(f(0, 0) + f(0, 1)) >= 1: impossible.
    emb = Embeddings.given(DEPENDENT_QUERY_ROWS)
    ds = realise(DEPENDENT_QUERY, vocab=4, embeddings=emb)
    res = solve_graph_svm(ds)
    assert res.status is SVMStatus.INFEASIBLE and res.farkas.exact and res.farkas.verified
    lam, cons = res.farkas.multipliers, res.constraints
    assert all(isinstance(v, Fraction) for v in lam)
    assert check_dual_signs(cons, lam) and check_stationarity(cons, lam, {}, emb)
    assert sum(lam[~cons.equality]) > 0
    # independently: the multipliers combine the constraint rows (e_i - e_j) e_kᵀ to exactly zero
    rows = [[Fraction(v) for v in row] for row in DEPENDENT_QUERY_ROWS]
    total = [[Fraction(0)] * 3 for _ in range(3)]
    for value, i, j, k in zip(lam, cons.high.tolist(), cons.low.tolist(), cons.query.tolist(), strict=True):
        for r in range(3):
            for c in range(3):
                total[r][c] += value * (rows[i][r] - rows[j][r]) * rows[k][c]
    assert total == [[0] * 3 for _ in range(3)]


def test_more_tokens_than_dimensions_is_infeasible_with_a_verified_certificate():
    emb = Embeddings.given(INFEASIBLE_ROWS)
    ds = realise(INFEASIBLE, vocab=5)
    res = solve_graph_svm(ds.with_embeddings(emb))
    assert res.status is SVMStatus.INFEASIBLE and not res.success
    assert res.farkas.verified and res.farkas.exact
    assert np.isnan(res.norm)


def _float_dependent_rows(scale: float = 1.0) -> np.ndarray:
    rng = np.random.default_rng(0)
    rows = np.array([[1, 0], [0, 1], [1, 1], [1, -1], [2, 1]]) + 1e-3 * rng.standard_normal((5, 2))
    rows[2] = rows[0] + rows[1]
    rows[4] = 2 * rows[0] + rows[1]
    return scale * rows


@pytest.mark.parametrize("scale", [1e-6, 1.0, 1e6])
def test_float_dependent_embeddings_get_an_exact_farkas_certificate(scale):
    """Float rows are binary rationals: the Farkas system is re-solved and checked on them exactly."""
    res = solve_graph_svm(realise(INFEASIBLE, vocab=5, embeddings=Embeddings.given(_float_dependent_rows(scale))))
    assert res.status is SVMStatus.INFEASIBLE
    assert res.farkas.verified and res.farkas.exact


@pytest.mark.parametrize("scale", [1e-6, 1.0, 1e6])
def test_float_farkas_fallback_is_relative_to_the_data(scale, monkeypatch):
    """Without the exact re-solve the HiGHS multipliers are checked to a relative 1e-9 at any scale
    (an absolute 1e-9 accepted anything at scale 1e-6 and refused a true certificate at 1e6)."""
    monkeypatch.setattr(svm_module, "exact_farkas", lambda columns, inequality: None)
    res = solve_graph_svm(realise(INFEASIBLE, vocab=5, embeddings=Embeddings.given(_float_dependent_rows(scale))))
    assert res.status is SVMStatus.INFEASIBLE
    assert res.farkas.verified and not res.farkas.exact and res.farkas.residual <= res.farkas.tolerance


def test_non_finite_embeddings_are_refused():
    with pytest.raises(InvalidInput, match="finite"):
        Embeddings.given(np.array([[1.0, np.nan], [0.0, 1.0]]))
    with pytest.raises(InvalidInput, match="finite"):
        Embeddings.given([[1.0, float("inf")], [0.0, 1.0]])


def test_certify_needs_exact_embeddings():
    ds = random_dataset(4, 5, 3, 1, 0, embeddings=Embeddings.random_unit(4, 5, seed=0))
    with pytest.raises(InvalidInput, match="exact"):
        solve_graph_svm(ds, certify=True)


def test_not_a_dataset():
    with pytest.raises(InvalidInput, match="Dataset"):
        solve_graph_svm([([0, 1], 0)])


# -- the exact checks can fail -----------------------------------------------------------------------------
def test_each_check_rejects_a_tampered_certificate():
    ds = chain_and_cycle()
    res = solve_graph_svm(ds)
    cons, cert = res.constraints, res.certificate
    entries = dict(cert.entries)
    margins = exact_margins(cons, entries, ds.embeddings)
    assert check_primal_feasibility(cons, margins)
    bumped = dict(entries)
    key = next(iter(bumped))
    bumped[key] += Fraction(1, 10**9)
    assert not check_stationarity(cons, cert.multipliers, bumped, ds.embeddings)
    assert not check_primal_feasibility(cons, exact_margins(cons, {}, ds.embeddings))
    lam = cert.multipliers.copy()
    ineq = np.flatnonzero(~cons.equality & (lam != 0))[0]
    lam[ineq] = -lam[ineq]
    assert not check_dual_signs(cons, lam)
    slack = np.flatnonzero(~cons.equality & (margins > 1))
    lam2 = cert.multipliers.copy()
    lam2[slack[0]] = Fraction(1)
    assert not check_complementarity(cons, margins, lam2)


def test_large_instance_is_certified_without_corrections():
    ds = random_dataset(300, 2000, 16, 5, 3)
    res = solve_graph_svm(ds)
    assert res.certified and res.certificate.corrections == 0
    assert abs(float(res.certificate.norm_squared) - res.norm**2) < 1e-9 * max(1.0, res.norm**2)


def test_exact_permutation_embeddings_use_the_potential_path_and_certify():
    ds = chain_and_cycle()
    perm = [[int(j == (i + 2) % 5) for j in range(5)] for i in range(5)]
    res = solve_graph_svm(ds.with_embeddings(Embeddings.given(perm)))
    assert res.method is SVMMethod.POTENTIALS and res.certified
    E = np.array(perm, dtype=float)
    assert np.allclose(res.W, E.T @ solve_graph_svm(ds).W @ E, atol=1e-15)
    assert res.certificate.norm_squared == solve_graph_svm(ds).certificate.norm_squared


def test_a_demanded_certificate_that_fails_raises_and_an_automatic_one_is_reported(monkeypatch):
    import symattn.svm.solve as solve_module
    from symattn.errors import CertificateError
    from symattn.svm import KKTChecks

    monkeypatch.setattr(solve_module, "verify_kkt", lambda *args: KKTChecks(True, True, False, True))
    ds = chain_and_cycle()
    with pytest.raises(CertificateError, match="complementarity"):
        solve_graph_svm(ds, certify=True)
    res = solve_graph_svm(ds)
    assert not res.certified and not res.certificate.success
    assert res.certificate.message == "failed: complementarity"


# -- one-hot W^svm stays sparse -----------------------------------------------------------------------------
def test_one_hot_vocabulary_of_a_million_stays_sparse():
    samples = [([0, 7, 999_999], 7), ([7, 3, 999_999], 3), ([3, 5, 42], 5)]
    big = solve_graph_svm(Dataset.from_samples(samples, vocab=10**6))
    small = solve_graph_svm(Dataset.from_samples([([0, 1, 4], 1), ([1, 2, 4], 2), ([2, 5, 3], 5)], vocab=6))
    assert big.certified and big.W_sparse.nnz == small.W_sparse.nnz == 7  # the (token, query) nodes
    rename = {0: 0, 7: 1, 3: 2, 5: 5, 42: 3, 999_999: 4}
    assert {(rename[t], rename[k]): v for (t, k), v in big.certificate.entries.items()} == \
        dict(small.certificate.entries)
    assert big.norm == small.norm
    with pytest.raises(InvalidInput, match="W_sparse"):
        _ = big.W


def test_sparse_and_dense_residuals_agree():
    from symattn.svm.kkt import kkt_residuals

    ds = random_dataset(30, 300, 8, 3, 2)
    res = solve_graph_svm(ds, certify=False)
    margins_s, sparse_r = kkt_residuals(res.constraints, res.W_sparse, res.multipliers, ds.embeddings)
    margins_d, dense_r = kkt_residuals(res.constraints, res.W, res.multipliers, ds.embeddings)
    assert np.array_equal(margins_s, margins_d)
    for a, b in zip((sparse_r.primal, sparse_r.dual_sign, sparse_r.complementarity, sparse_r.stationarity),
                    (dense_r.primal, dense_r.dual_sign, dense_r.complementarity, dense_r.stationarity), strict=True):
        assert abs(a - b) <= 1e-15


def test_sparse_residuals_count_combination_entries_that_w_does_not_store():
    from scipy import sparse as sp

    from symattn.svm.kkt import kkt_residuals

    ds = random_dataset(12, 60, 6, 3, 5)
    res = solve_graph_svm(ds, certify=False)
    coo = res.W_sparse.tocoo()
    keep = np.arange(coo.nnz) % 3 != 0  # W loses a third of its entries: large residuals outside its storage
    W = sp.csc_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=coo.shape)
    margins_s, sparse_r = kkt_residuals(res.constraints, W, res.multipliers, ds.embeddings)
    margins_d, dense_r = kkt_residuals(res.constraints, W.toarray(), res.multipliers, ds.embeddings)
    assert np.array_equal(margins_s, margins_d) and sparse_r.stationarity > 1e-3
    assert abs(sparse_r.stationarity - dense_r.stationarity) <= 1e-14
