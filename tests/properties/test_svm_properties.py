from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from oracles import tpg_edges
from svm_oracles import samples_of, sccs_by_oracle

from symattn.finite import fin_basis, finite_component
from symattn.strategies import datasets, embeddings_for, realised_datasets
from symattn.svm import solve_graph_svm, svm_constraints

any_realised = realised_datasets(max_queries=3, max_tokens=6)
cyclic_or_not = st.one_of(realised_datasets(cyclic=True), realised_datasets(cyclic=False), any_realised,
                          datasets(max_queries=2))


def oracle_sccs(ds):
    return {k: [c for c in comps if len(c) > 1] for k, comps in sccs_by_oracle(ds).items()}


@given(cyclic_or_not)
def test_numeric_and_exact_agree_and_kkt_holds_exactly(ds):
    res = solve_graph_svm(ds)
    assert res.certified, res.certificate.checks
    checks = res.certificate.checks
    assert checks.primal_feasibility and checks.dual_signs and checks.complementarity and checks.stationarity
    exact = np.array(res.certificate.exact_matrix(), dtype=float)
    assert np.max(np.abs(res.W - exact)) <= 1e-12 * max(1.0, np.abs(exact).max())
    assert res.residuals.max <= 1e-10


@given(cyclic_or_not)
def test_svm_is_orthogonal_to_s_fin_exactly(ds):
    entries = solve_graph_svm(ds).certificate.entries
    for k, comps in oracle_sccs(ds).items():
        for comp in comps:
            values = {entries.get((t, k), Fraction(0)) for t in comp}
            assert len(values) == 1  # <W, (e_i - e_j) e_k^T> = W[i, k] - W[j, k] = 0 on the SCC
    basis = fin_basis(ds)
    assert np.max(np.abs(basis.coordinates(solve_graph_svm(ds).W)), initial=0.0) < 1e-12


@given(cyclic_or_not)
def test_edges_and_all_pairs_give_the_same_solution(ds):
    a = solve_graph_svm(ds).certificate
    b = solve_graph_svm(ds, constraints=svm_constraints(ds, all_pairs=True)).certificate
    assert b.checks.holds and dict(a.entries) == dict(b.entries)


@given(cyclic_or_not)
def test_zero_iff_no_cross_scc_edge(ds):
    comps = sccs_by_oracle(ds)
    cross = any(
        next(c for c in comps[k] if i in c) != next(c for c in comps[k] if j in c)
        for k, edges in tpg_edges(samples_of(ds)).items() for i, j in edges
    )
    assert (solve_graph_svm(ds).norm > 0) == cross


@given(cyclic_or_not)
def test_dimension_of_s_fin(ds):
    expected = sum(len(c) - 1 for comps in sccs_by_oracle(ds).values() for c in comps)
    fin = finite_component(ds)
    assert fin.dim == expected and fin.certified
    assert np.allclose(fin.basis.project(fin.W), fin.W, atol=1e-12)


@given(realised_datasets(cyclic=False))
def test_acyclic_graphs_have_a_trivial_s_fin(ds):
    fin = finite_component(ds)
    assert fin.dim == 0 and np.all(fin.W == 0)


@given(any_realised.flatmap(lambda ds: st.tuples(st.just(ds), embeddings_for(ds.K, kind="orthonormal"))))
def test_orthonormal_embeddings_rotate_the_onehot_solution(pair):
    ds, emb = pair
    onehot = solve_graph_svm(ds)
    rotated = solve_graph_svm(ds.with_embeddings(emb))
    E = emb.matrix()
    assert rotated.success
    assert np.allclose(rotated.W, E.T @ onehot.W @ E, atol=1e-10)


@given(any_realised.flatmap(lambda ds: st.tuples(st.just(ds), embeddings_for(ds.K, kind="given"))))
def test_exact_independent_embeddings_are_certified(pair):
    ds, emb = pair
    res = solve_graph_svm(ds.with_embeddings(emb))
    assert res.certified and res.residuals.max <= 1e-9
