"""symattn.symbolic against independent oracles: finite differences, the package's numeric code, exact cases."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from oracles import central_difference, hessian_by_differences

from symattn.data import Dataset
from symattn.embeddings import Embeddings
from symattn.errors import Infeasible, InvalidInput
from symattn.examples import load_example
from symattn.finite import fin_basis, finite_component, reduced_loss
from symattn.graphs import realise
from symattn.model import Loss
from symattn.scores import log_token_mass
from symattn.svm import solve_graph_svm
from symattn.symbolic import (
    ConstraintKind,
    KKTStatus,
    compressed_log_loss,
    dataset_loss,
    exact_graph_svm,
    graph_svm_problem,
    kkt_residuals,
    log_loss,
    numeric_model,
    sequence_scores,
    solve_kkt,
    symbolic_embeddings,
    token_mass,
    weight_matrix,
)
from symattn.symbolic import (
    fin_basis as symbolic_fin_basis,
)

SAMPLES = [([0, 1, 1, 2], 1), ([2, 0, 2], 2), ([1, 2], 2), ([0, 1, 2], 0), ([3, 0, 3, 1], 0), ([3], 3)]
GIVEN: list[list[object]] = [[1, 0, 0, 0], [1, 1, 0, 0], ["1/2", 0, 1, 0], [0, 2, 1, 1]]


def _datasets() -> list[Dataset]:
    onehot = Dataset.from_samples(SAMPLES, vocab=4)
    return [onehot, onehot.with_embeddings(Embeddings.given(GIVEN))]


@pytest.fixture(scope="module")
def models() -> list:
    return [(ds, numeric_model(ds)) for ds in _datasets()]


def test_lambdified_token_mass_matches_scores_module(models) -> None:
    rng = np.random.default_rng(0)
    for ds, model in models:
        for _ in range(5):
            W = rng.standard_normal((4, 4))
            np.testing.assert_allclose(model.log_token_mass(W), log_token_mass(ds, W), rtol=0, atol=1e-12)


def test_gradient_matches_finite_differences(models) -> None:
    rng = np.random.default_rng(1)
    for _ds, model in models:
        W = rng.standard_normal((4, 4))
        np.testing.assert_allclose(model.gradient(W), central_difference(model.loss, W), atol=1e-7)


def test_hessian_matches_finite_differences_and_is_psd(models) -> None:
    rng = np.random.default_rng(2)
    for _ds, model in models:
        W = rng.standard_normal((4, 4))
        H = model.hessian(W)
        np.testing.assert_allclose(H, hessian_by_differences(model.gradient, W), atol=1e-6)
        np.testing.assert_allclose(H, H.T, atol=1e-12)
        assert np.linalg.eigvalsh(H).min() > -1e-10


def test_loss_matches_the_compressed_log_space_form(models) -> None:
    rng = np.random.default_rng(3)
    for ds, model in models:
        W = rng.standard_normal((4, 4))
        c = ds.counts
        expected = -np.mean(log_token_mass(ds, W)[c.label_entry])
        assert model.loss(W) == pytest.approx(expected, abs=1e-12)


def test_reduced_loss_matches_the_finite_module() -> None:
    rng = np.random.default_rng(4)
    for ds in _datasets():
        W = weight_matrix(4)
        f = sp.lambdify([list(W)], dataset_loss(ds, W, reduced=True), modules="numpy")
        for _ in range(3):
            value = rng.standard_normal((4, 4))
            assert f(value.ravel().tolist()) == pytest.approx(reduced_loss(ds, value), abs=1e-12)


def test_reduced_loss_drops_samples_left_with_their_label_only() -> None:
    ds = Dataset.from_samples([([0, 1], 0), ([0, 0, 1], 0)], vocab=2)
    assert dataset_loss(ds, weight_matrix(2), reduced=True) == 0


def test_numeric_model_without_hessian_refuses_it() -> None:
    model = numeric_model(Dataset.from_samples([([0, 1], 0)], vocab=2), hessian=False)
    with pytest.raises(InvalidInput, match="hessian=False"):
        model.hessian(np.zeros((2, 2)))
    with pytest.raises(InvalidInput, match="shape"):
        model.loss(np.zeros((3, 3)))


def test_token_mass_groups_repeated_tokens() -> None:
    mass = token_mass(sp.zeros(3, 3), sp.eye(3), [2, 0, 2, 2])
    assert mass == {0: sp.Rational(1, 4), 2: sp.Rational(3, 4)}


def test_scores_with_symbolic_embeddings_are_bilinear() -> None:
    E = symbolic_embeddings(2, 2)
    W = weight_matrix(2)
    a = sequence_scores(W, E, [0, 1])
    assert sp.expand(a[0] - (E[0, :] * W * E[1, :].T)[0, 0]) == 0


def test_bad_inputs_are_refused_with_the_value() -> None:
    with pytest.raises(InvalidInput, match="d=0"):
        weight_matrix(0)
    with pytest.raises(InvalidInput, match="too large"):
        weight_matrix(50)
    with pytest.raises(InvalidInput, match="token 5 is out of range"):
        sequence_scores(weight_matrix(2), sp.eye(2), [0, 5])
    with pytest.raises(InvalidInput, match="label=1"):
        log_loss(weight_matrix(2), sp.eye(2), [0, 0], 1)
    u = sp.symbols("u0 u1")
    with pytest.raises(InvalidInput, match="counts"):
        compressed_log_loss({0: u[0]}, {0: 1, 1: 1}, 0)


# -- graph-SVM ------------------------------------------------------------------------------
def test_constraints_follow_the_priority_graphs() -> None:
    problem = graph_svm_problem(load_example("default"))
    kinds = [c.kind for c in problem.constraints]
    assert kinds.count(ConstraintKind.EQUALITY) == 8 and kinds.count(ConstraintKind.INEQUALITY) == 7
    lagrangian_gradient = problem.stationarity
    assert sp.expand(lagrangian_gradient[0, 0] - problem.W[0, 0]) == 0


def test_exact_svm_matches_the_numeric_solver_on_the_default_example() -> None:
    ds = load_example("default")
    exact = exact_graph_svm(graph_svm_problem(ds))
    assert exact.success and exact.residuals is not None and exact.residuals.satisfied
    numeric = solve_graph_svm(ds)
    np.testing.assert_allclose(np.array(exact.W, dtype=float), numeric.W, atol=1e-9)


def test_exact_svm_with_non_orthogonal_embeddings_matches_the_numeric_solver() -> None:
    ds = realise({2: [(0, 1), (0, 2), (1, 2)]}, embeddings=Embeddings.given([[1, 1], [1, 0], [0, 2]]))
    exact = exact_graph_svm(graph_svm_problem(ds))
    assert exact.success
    np.testing.assert_allclose(np.array(exact.W, dtype=float), solve_graph_svm(ds).W, atol=1e-9)


def test_kkt_statuses_name_what_is_wrong() -> None:
    problem = graph_svm_problem(realise({2: [(0, 1), (0, 2), (1, 2)]}))
    index = {(c.high, c.low): n for n, c in enumerate(problem.constraints)}
    assert solve_kkt(problem, [index[0, 1], index[1, 2]]).status is KKTStatus.OPTIMAL
    assert solve_kkt(problem, [index[0, 2]]).status is KKTStatus.PRIMAL_INFEASIBLE
    assert solve_kkt(problem, list(index.values())).status is KKTStatus.INCONSISTENT
    skewed = realise({2: [(0, 1), (0, 2), (1, 2)]}, embeddings=Embeddings.given([[-1, -1], [-1, 0], [0, 2]]))
    sk = graph_svm_problem(skewed)
    sk_index = {(c.high, c.low): n for n, c in enumerate(sk.constraints)}
    dual = solve_kkt(sk, [sk_index[0, 1], sk_index[1, 2]])
    assert dual.status is KKTStatus.DUAL_INFEASIBLE and not dual.success
    assert min(dual.multipliers) < 0


def test_active_sets_must_be_inequalities() -> None:
    ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3)
    problem = graph_svm_problem(ds)
    equality = next(n for n, c in enumerate(problem.constraints) if c.kind is ConstraintKind.EQUALITY)
    with pytest.raises(InvalidInput, match="not inequality constraints"):
        solve_kkt(problem, [equality])
    with pytest.raises(InvalidInput, match="multipliers given"):
        kkt_residuals(problem, sp.zeros(3, 3), [0])


def test_dependent_embeddings_are_infeasible() -> None:
    ds = Dataset.from_samples([([0, 1], 0)], vocab=2, embeddings=Embeddings.given([[1], [1]]))
    with pytest.raises(Infeasible, match="no active set"):
        exact_graph_svm(graph_svm_problem(ds))


def test_enumeration_is_bounded() -> None:
    problem = graph_svm_problem(load_example("default"))
    with pytest.raises(InvalidInput, match="max_inequalities=3"):
        exact_graph_svm(problem, max_inequalities=3)


# -- finite component -----------------------------------------------------------------------
def test_symbolic_fin_basis_has_the_dimension_of_s_fin() -> None:
    ds = load_example("default")
    basis = symbolic_fin_basis(ds)
    assert len(basis) == 3 == fin_basis(ds).dim
    stacked = sp.Matrix([list(B) for B in basis])
    assert stacked.rank() == 3


def test_cyclic_example_closed_form_matches_newton() -> None:
    ds = Dataset.from_samples([([0, 1, 2], y) for y in (0, 1, 1, 2, 2, 2)], vocab=3)
    expected = np.array([np.log(1 / 6), np.log(4 / 3), np.log(9 / 2)]) / 3
    np.testing.assert_allclose(finite_component(ds).W[:, 2], expected, atol=1e-9)


def _numpy_embedding_head_loss(ds: Dataset, W: np.ndarray, outer) -> float:
    E = ds.embeddings.matrix()
    total = 0.0
    for sample in ds:
        X = E[list(sample.tokens)]
        a = X @ W @ E[sample.query]
        s = np.exp(a - a.max())
        s /= s.sum()
        z = E @ (X.T @ s)
        q = np.exp(z - z.max())
        total += outer(q[sample.label] / q.sum())
    return total / len(ds)


@pytest.mark.parametrize(
    ("loss", "np_outer"),
    [(Loss.EMBED_CE, lambda p: -np.log(p)), (Loss.EMBED_SQUARED, lambda p: (1 - p) ** 2)],
    ids=["log", "squared"],
)
def test_embedding_head_variants_match_numpy_and_finite_differences(loss, np_outer) -> None:
    rng = np.random.default_rng(5)
    ds = Dataset.from_samples(SAMPLES[:3], vocab=4, embeddings=Embeddings.given(GIVEN))
    model = numeric_model(ds, hessian=False, loss=loss)
    W = rng.standard_normal((4, 4))
    assert model.loss(W) == pytest.approx(_numpy_embedding_head_loss(ds, W, np_outer), abs=1e-12)
    np.testing.assert_allclose(model.gradient(W), central_difference(model.loss, W), atol=1e-7)


def test_linear_outer_on_the_identity_head_is_minus_the_mean_mass() -> None:
    ds = _datasets()[0]
    W = np.random.default_rng(6).standard_normal((4, 4))
    model = numeric_model(ds, hessian=False, loss=Loss.LINEAR)
    masses = np.exp(log_token_mass(ds, W))[ds.counts.label_entry]
    assert model.loss(W) == pytest.approx(-masses.mean(), abs=1e-12)
