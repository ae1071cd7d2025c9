import numpy as np
import pytest
import sympy as sp
from svm_cases import random_dataset
from svm_oracles import finite_by_bfgs, reduced_loss_oracle, sccs_by_oracle

from symattn import Dataset, Embeddings, load_example, realise
from symattn.errors import InvalidInput
from symattn.finite import (
    DECREMENT_TOL,
    FiniteStatus,
    fin_basis,
    finite_component,
    reduced_data,
    reduced_loss,
)
from symattn.scores import log_token_mass

CYCLIC = Dataset.from_samples([([0, 1, 2], y) for y in (0, 1, 1, 2, 2, 2)], vocab=3)


def full_loss(ds: Dataset, W: np.ndarray) -> float:
    c = ds.counts
    return float(-log_token_mass(ds, W)[c.label_entry].mean())


def test_cyclic_example_gives_one_sixth_one_third_one_half():
    fin = finite_component(CYCLIC)
    assert fin.status is FiniteStatus.CONVERGED and fin.certified
    u = fin.W[:, 2]
    pi = np.exp(u - np.logaddexp.reduce(u))
    assert np.max(np.abs(pi - [1 / 6, 1 / 3, 1 / 2])) < 1e-13
    # exactly: W^fin e_2 = log π − mean(log π) (zero-sum, so in S_fin), and there the reduced
    # gradient Σ_i (π − onehot(y_i)) vanishes symbolically
    logs = [sp.log(sp.Rational(1, 6)), sp.log(sp.Rational(1, 3)), sp.log(sp.Rational(1, 2))]
    exact = [lg - sum(logs) / 3 for lg in logs]
    assert max(abs(float(e) - v) for e, v in zip(exact, u, strict=True)) < 1e-13
    soft = [sp.exp(e) / sum(sp.exp(f) for f in exact) for e in exact]
    labels = (0, 1, 1, 2, 2, 2)
    for j in range(3):
        grad = sum(soft[j] - (1 if y == j else 0) for y in labels)
        assert sp.simplify(grad) == 0
    assert W_is_zero_off_column(fin.W, 2)


def W_is_zero_off_column(W: np.ndarray, k: int) -> bool:
    rest = np.delete(W, k, axis=1)
    return bool(np.all(rest == 0))


def test_dimension_is_sum_of_scc_sizes_minus_one():
    for seed in range(5):
        ds = random_dataset(7, 12, 4, 2, seed)
        expected = sum(len(c) - 1 for comps in sccs_by_oracle(ds).values() for c in comps)
        basis = fin_basis(ds)
        assert basis.dim == basis.expected_dim == expected
        B = basis.matrices().reshape(basis.dim, -1)
        assert np.allclose(B @ B.T, np.eye(basis.dim), atol=1e-12)


def test_acyclic_graphs_have_no_finite_part():
    ds = realise({3: [(0, 1), (1, 2), (0, 3), (1, 3), (2, 3)], 2: [(1, 0), (1, 2)]}, vocab=4)
    fin = finite_component(ds)
    assert fin.dim == 0 and fin.certified and np.all(fin.W == 0)
    assert fin.hessian_min_eig == np.inf and fin.error_bound == 0


def test_reduced_data_conventions():
    # samples 0, 1 keep {0, 1} and drop their query 2; sample 2 is left with its label only
    ds = Dataset.from_samples([([0, 1, 2], 0), ([1, 0, 2], 1), ([3, 3, 2], 3)], vocab=4)
    red = reduced_data(ds)
    assert red.n == 3
    assert red.query.tolist() == [2, 2, 2]
    kept = [red.token[a:b].tolist() for a, b in zip(red.indptr[:-1], red.indptr[1:], strict=True)]
    assert kept == [[0, 1], [0, 1], [3]]
    # the label-only sample adds zero, the normaliser stays 1/3
    W = np.zeros((4, 4))
    W[0, 2] = 0.7
    W[3, 2] = 5.0
    expected = (np.logaddexp(0.7, 0.0) - 0.7 + np.logaddexp(0.7, 0.0) - 0.0) / 3
    assert abs(reduced_loss(ds, W) - expected) < 1e-15
    assert abs(reduced_loss(ds, W) - reduced_loss_oracle(ds, W)) < 1e-14


def test_counts_enter_the_reduced_loss():
    ds = Dataset.from_samples([([0, 0, 1, 2], 1), ([0, 1, 2], 0)], vocab=3)
    W = np.zeros((3, 3))
    assert abs(reduced_loss(ds, W) - reduced_loss_oracle(ds, W)) < 1e-14
    assert abs(reduced_loss(ds, W) - (np.log(3) + np.log(2)) / 2) < 1e-14


@pytest.mark.parametrize("seed", range(3))
def test_agrees_with_bfgs_on_the_oracle_loss(seed):
    ds = random_dataset(5, 10, 4, 2, seed)
    fin = finite_component(ds)
    assert fin.certified
    assert np.max(np.abs(fin.W - finite_by_bfgs(ds))) < 1e-5
    assert abs(fin.loss - reduced_loss_oracle(ds, fin.W)) < 1e-13


def test_general_embeddings_give_the_same_reduced_optimum():
    ds = random_dataset(5, 10, 4, 2, 1)
    a = finite_component(ds)
    b = finite_component(ds.with_embeddings(Embeddings.random_unit(5, 7, seed=4)))
    assert b.certified and b.dim == a.dim
    assert abs(a.loss - b.loss) < 1e-12  # independent embeddings only reparametrise S_fin


def test_loss_chain_and_not_the_full_minimiser():
    # cycle {0, 1} (labels 0, 0, 1) above 2 and the query 3; the samples carry unequal outside mass
    ds = Dataset.from_samples([([0, 1, 2, 3], 0), ([0, 1, 2, 2, 3], 0), ([0, 1, 3], 1)], vocab=4)
    fin = finite_component(ds)
    assert fin.dim == 1
    rng = np.random.default_rng(0)
    for _ in range(5):
        W = fin.basis.expand(rng.standard_normal(fin.dim)) + rng.standard_normal((4, 4))
        assert full_loss(ds, W) >= reduced_loss(ds, W) - 1e-12 >= fin.loss - 2e-12
    # W^fin is not the minimiser of the full L over S_fin: the full gradient projected on S_fin is not 0
    eps = 1e-6
    grads = []
    for r in range(fin.dim):
        e = np.zeros(fin.dim)
        e[r] = eps
        grads.append((full_loss(ds, fin.W + fin.basis.expand(e)) - full_loss(ds, fin.W - fin.basis.expand(e)))
                     / (2 * eps))
    assert np.linalg.norm(grads) > 1e-3


def test_gradient_and_hessian_are_reported():
    fin = finite_component(load_example("default"))
    assert fin.decrement <= DECREMENT_TOL and fin.grad_norm <= 1e-14 and fin.hessian_min_eig > 0
    assert fin.error_estimate == pytest.approx(2 * fin.grad_norm / fin.hessian_min_eig)
    assert fin.proof.proven and fin.error_bound == fin.proof.bound <= 1e-14
    assert fin.iterations >= 1


def test_max_iter_is_validated():
    with pytest.raises(InvalidInput, match="max_iter"):
        finite_component(CYCLIC, max_iter=0)


def test_projection_is_orthogonal():
    ds = random_dataset(6, 20, 5, 2, 4)
    basis = fin_basis(ds)
    rng = np.random.default_rng(1)
    W = rng.standard_normal((6, 6))
    P = basis.project(W)
    assert np.allclose(basis.project(P), P, atol=1e-13)
    for B in basis.matrices():
        assert abs(np.sum((W - P) * B)) < 1e-12


def sfin_generators(ds: Dataset) -> np.ndarray:
    """S_fin spanned straight from docs/theory.md §5: (e_i - e_j) e_k^T for i, j in one SCC of G_k, vectorised."""
    E = ds.embeddings.matrix()
    rows = [
        np.outer(E[i] - E[j], E[k]).ravel()
        for k, comps in sccs_by_oracle(ds).items()
        for comp in comps
        for i in comp
        for j in comp
        if i < j
    ]
    return np.array(rows).reshape(-1, E.shape[1] ** 2)


@pytest.mark.parametrize(
    "embeddings",
    [
        None,
        Embeddings.orthonormal(6, 8, seed=2),
        Embeddings.equicorrelated(6, 0.3),
        Embeddings.random_unit(6, 6, seed=3),
    ],
    ids=["onehot", "orthonormal", "equicorrelated", "random_unit"],
)
def test_basis_spans_the_independently_built_sfin(embeddings):
    ds = random_dataset(6, 20, 5, 2, 4, embeddings=embeddings)
    G = sfin_generators(ds)
    basis = fin_basis(ds)
    B = basis.matrices().reshape(basis.dim, -1)
    assert basis.dim == np.linalg.matrix_rank(G, tol=1e-9) >= 1
    assert np.allclose(B @ B.T, np.eye(basis.dim), atol=1e-10)
    # every generator lies in span(B) and every basis matrix in span(G): the spans coincide
    assert np.abs(G - (G @ B.T) @ B).max() < 1e-10
    coef, *_ = np.linalg.lstsq(G.T, B.T, rcond=None)
    assert np.abs(G.T @ coef - B.T).max() < 1e-10
    # the projection onto S_fin agrees with least squares onto the generators
    W = np.random.default_rng(5).standard_normal((ds.embeddings.dim,) * 2)
    c, *_ = np.linalg.lstsq(G.T, W.ravel(), rcond=None)
    assert np.allclose(basis.project(W).ravel(), G.T @ c, atol=1e-10)


@pytest.mark.parametrize("value", [0, -1, 2.5, "10", None, True])
def test_max_iter_must_be_a_positive_integer(value):
    with pytest.raises(InvalidInput, match="max_iter"):
        finite_component(CYCLIC, max_iter=value)


@pytest.mark.parametrize("func", [fin_basis, reduced_data, finite_component])
@pytest.mark.parametrize("data", [None, [([0, 1], 0)], "data.txt", np.zeros(3)])
def test_non_datasets_are_refused(func, data):
    with pytest.raises(InvalidInput, match="needs a Dataset or its PriorityGraphs"):
        func(data)


def test_reduced_loss_accepts_what_its_siblings_accept():
    from symattn.graphs import priority_graphs

    W = np.random.default_rng(0).standard_normal((3, 3))
    graphs = priority_graphs(CYCLIC)
    assert reduced_loss(graphs, W) == reduced_loss(CYCLIC, W) == reduced_loss(CYCLIC, W, reduced_data(graphs))
    with pytest.raises(InvalidInput, match="reduced_loss needs a Dataset"):
        reduced_loss([([0, 1], 0)], W)
    with pytest.raises(InvalidInput, match="ReducedData"):
        reduced_loss(CYCLIC, W, reduced=graphs)
    other = reduced_data(Dataset.from_samples([([0, 1, 2], 0)], vocab=3))
    with pytest.raises(InvalidInput, match="another dataset"):
        reduced_loss(CYCLIC, W, reduced=other)
