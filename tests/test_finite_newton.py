"""The Newton system of W^fin (docs/theory.md §5, §9): its blocks, assembled in one pass over the
entries, against the per-block formula they replace, a finite-difference Hessian of the gradient,
and high-precision masses far out (where ``diag(Σπ) - Σ ππᵀ`` loses every digit); the large blocks'
matrix-free products, conjugate-gradient steps and spectrum against the same dense formula."""

import mpmath
import numpy as np
import pytest
from scipy.sparse import csc_matrix, csr_matrix
from svm_cases import random_dataset

import symattn._finnewton as newton_module
from symattn import Dataset, Embeddings
from symattn._arrays import helmert, helmert_rotate
from symattn._finnewton import objective
from symattn.finite import fin_basis, finite_component, reduced_data


def assembled(obj, theta: np.ndarray, m: int) -> np.ndarray:
    """The whole Hessian on S_fin from the system's stacked blocks (zero between blocks)."""
    _, _, pi = obj.evaluate(theta)
    H = np.zeros((m, m))
    for index, stack in obj.system(pi, matrix_free=False).blocks:
        for idx, block in zip(index, stack, strict=True):
            H[np.ix_(idx, idx)] = block
    return H


def per_block_formula(obj, basis, theta: np.ndarray) -> np.ndarray:
    """The formula the one-pass assembly replaced: every block rebuilt from an n x nnz matrix
    (``C (diag(Sᵀπ) - PᵀP) Cᵀ / n`` with ``P`` the masses spread over samples and pairs)."""
    _, _, pi = obj.evaluate(theta)
    red = obj.red
    n_pairs = basis.pair_token.size
    hit = np.flatnonzero(obj.slot < n_pairs)
    select = csc_matrix((np.ones(hit.size), (hit, obj.slot[hit])), shape=(pi.size, n_pairs))
    spread = csr_matrix((pi, (red.sample, np.arange(pi.size))), shape=(red.n, pi.size))
    H = np.zeros((basis.dim, basis.dim))
    for start, stop in basis.blocks:
        block = basis.coef[start:stop]
        lo, hi = int(block.indices.min()), int(block.indices.max()) + 1
        C = block[:, lo:hi].toarray()
        S = select[:, lo:hi]
        P = (spread @ S).toarray()
        pair = np.diag(np.asarray(S.T @ pi).ravel()) - P.T @ P
        H[start:stop, start:stop] = C @ pair @ C.T / red.n
    return H


def finite_difference(obj, theta: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Central differences of the gradient, column by column."""
    m = theta.size
    cols = []
    for j in range(m):
        e = np.zeros(m)
        e[j] = h
        cols.append((obj.evaluate(theta + e)[1] - obj.evaluate(theta - e)[1]) / (2 * h))
    return np.array(cols).T


@pytest.mark.parametrize("seed", range(6))
def test_one_pass_blocks_equal_the_per_block_formula(seed):
    rng = np.random.default_rng(seed)
    ds = random_dataset(int(rng.integers(4, 9)), int(rng.integers(6, 30)), int(rng.integers(2, 6)), 2, seed)
    basis = fin_basis(ds)
    if basis.dim == 0:
        pytest.skip("this draw has no cyclic SCC")
    obj = objective(basis, reduced_data(ds))
    theta = rng.normal(scale=2.0, size=basis.dim)
    new, old = assembled(obj, theta, basis.dim), per_block_formula(obj, basis, theta)
    scale = np.abs(old).max()
    assert np.abs(new - old).max() <= 1e-13 * scale
    assert np.abs(new - finite_difference(obj, theta)).max() <= 1e-6 * scale


@pytest.mark.parametrize("embeddings", [Embeddings.orthonormal(6, 8, seed=2), Embeddings.equicorrelated(6, 0.3),
                                        Embeddings.random_unit(6, 6, seed=3)])
def test_blocks_match_finite_differences_for_other_embeddings(embeddings):
    ds = random_dataset(6, 14, 4, 2, 1, embeddings=embeddings)
    basis = fin_basis(ds)
    assert basis.dim > 0
    obj = objective(basis, reduced_data(ds))
    theta = np.random.default_rng(0).normal(size=basis.dim)
    H = assembled(obj, theta, basis.dim)
    assert np.abs(H - finite_difference(obj, theta)).max() <= 1e-6 * np.abs(H).max()
    assert np.allclose(H, H.T, rtol=0, atol=1e-15 * np.abs(H).max())


@pytest.mark.parametrize("chunk", [1 << 21, 500])
def test_blocks_of_every_size_stack_and_solve_like_one_matrix(monkeypatch, chunk):
    # several SCC sizes per query, large enough for the dense-product and factorised path; the
    # large block's rows taken whole or a few at a time
    monkeypatch.setattr(newton_module, "_CHUNK", chunk)
    rng = np.random.default_rng(5)
    sequences = [[*rng.choice(70, size=12, replace=False).tolist(), q] for q in (70, 72) for _ in range(400)]
    samples = [(seq, seq[int(rng.integers(0, 12))]) for seq in sequences]
    samples += [([0, 1, 2, 71], y) for y in (0, 1, 2, 2)] + [([3, 4, 71], y) for y in (3, 4)]
    ds = Dataset.from_samples(samples, vocab=73)
    fin = finite_component(ds)
    sizes = sorted(b - a for a, b in fin.basis.blocks)
    assert sizes[0] == 1 and sizes[1] == 2 and sizes[-2] > 64 and sizes[-1] > 64  # two large blocks
    obj = objective(fin.basis, fin.reduced)
    H = assembled(obj, fin.theta, fin.dim)
    assert np.abs(H - per_block_formula(obj, fin.basis, fin.theta)).max() <= 1e-13 * np.abs(H).max()
    eigs = np.linalg.eigvalsh(H)
    assert fin.hessian_min_eig == pytest.approx(eigs[0], rel=1e-9)
    step = np.linalg.solve(H, -obj.evaluate(fin.theta)[1])
    assert fin.decrement <= 1e-12 and np.linalg.norm(step) <= 1e-10


def test_blocks_keep_their_accuracy_far_out():
    # SCC {0, 1} of query 2; at theta the masses are 1 - 1e-40 and 1e-40: the per-block formula
    # forms pi_0 - pi_0^2 = 0 (a quarter of the answer lost), the assembly pi_0 * pi_1 exactly
    ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3)
    basis = fin_basis(ds)
    obj = objective(basis, reduced_data(ds))
    gap = 40 * np.log(10.0)
    theta = np.array([gap / np.sqrt(2)])  # Helmert coordinate: u_0 - u_1 = sqrt(2) theta
    H = assembled(obj, theta, 1)
    with mpmath.workdps(60):
        g = mpmath.mpf(float(np.sqrt(2) * theta[0]))
        p0 = 1 / (1 + mpmath.exp(-g))
        p1 = mpmath.exp(-g) / (1 + mpmath.exp(-g))
        exact = float(2 * p0 * p1)  # two samples / n = 2, then (1, -1)/sqrt(2) on both sides: 4/2
    assert abs(H[0, 0] - exact) <= 1e-12 * exact  # exp at 92 turns rounding of u into 1e-14 relative
    assert abs(per_block_formula(obj, basis, theta)[0, 0] - exact) > 0.2 * exact


@pytest.mark.parametrize("s", [2, 3, 7, 40])
def test_helmert_rotation_is_the_two_products(s):
    H = np.random.default_rng(s).normal(size=(3, s, s))
    C = helmert(s)
    assert np.allclose(helmert_rotate(H), C @ H @ C.T, rtol=0, atol=1e-13 * s)


@pytest.mark.parametrize("seed", range(3))
def test_the_proven_curvature_is_the_smallest_eigenvalue_of_the_assembled_hessian(seed):
    # two computations written apart: ball arithmetic over the samples (symattn._finbound) and the
    # float Newton system; the proven lower bound must sit just below the float eigenvalue
    ds = random_dataset(7, 30, 5, 2, seed)
    fin = finite_component(ds)
    assert fin.proof.proven and fin.dim > 0
    assert 0.999 * fin.hessian_min_eig <= fin.proof.curvature <= fin.hessian_min_eig * (1 + 1e-9)


def free_system(monkeypatch, ds: Dataset, seed: int):
    """Every block of three or more pairs forced through the matrix-free path, at a random theta;
    with the independent per-block formula restricted to those blocks' coordinates."""
    monkeypatch.setattr(newton_module, "_EIG_EVERY", 1)
    basis = fin_basis(ds)
    obj = objective(basis, reduced_data(ds))
    theta = np.random.default_rng(seed).normal(size=basis.dim)
    free = obj.system(obj.evaluate(theta)[2]).free
    assert free is not None
    index = free.layout.index
    return free, per_block_formula(obj, basis, theta)[np.ix_(index, index)], obj, theta


@pytest.mark.parametrize("seed", range(4))
def test_matrix_free_products_solves_and_spectrum_match_the_dense_blocks(monkeypatch, seed):
    free, H, obj, theta = free_system(monkeypatch, random_dataset(8, 60, 6, 2, seed), seed)
    layout = free.layout
    v = np.random.default_rng(seed + 10).normal(size=H.shape[0])
    scale = np.abs(H).max()
    Hv = layout.to_coordinates(free.product(layout.to_pairs(v)))
    assert np.abs(Hv - H @ v).max() <= 1e-12 * scale
    h, move = 1e-5, np.zeros_like(theta)
    move[layout.index] = v
    difference = (obj.evaluate(theta + h * move)[1] - obj.evaluate(theta - h * move)[1]) / (2 * h)
    assert np.abs(Hv - difference[layout.index]).max() <= 1e-6 * scale * np.abs(v).max()
    assert np.allclose(free.solve(v, 0.0), np.linalg.solve(H, v), rtol=1e-10, atol=0)
    eigs = np.linalg.eigvalsh(H)
    assert free.spectrum() == pytest.approx((eigs[0], eigs[-1]), rel=1e-10)
    dense = np.zeros_like(H)
    at = {int(c): i for i, c in enumerate(layout.index)}
    for index, stack in free.dense():
        rows = [at[int(c)] for c in index[0]]
        dense[np.ix_(rows, rows)] = stack[0]
    assert np.abs(dense - H).max() <= 1e-13 * scale


def test_conjugate_gradients_give_up_into_the_dense_factorisation(monkeypatch):
    ds = random_dataset(8, 60, 6, 2, 0)
    free, H, _, _ = free_system(monkeypatch, ds, 0)
    monkeypatch.setattr(newton_module, "_CG_MAX_ITER", 1)
    assert free.solve(np.ones(H.shape[0]), 0.0) is None  # one step cannot reach the floor
    cut = finite_component(ds)
    monkeypatch.setattr(newton_module, "_CG_MAX_ITER", 50)
    free_run = finite_component(ds)
    monkeypatch.setattr(newton_module, "_EIG_EVERY", 64)
    direct = finite_component(ds)
    for fin in (cut, free_run):
        assert fin.status == direct.status and fin.certified and direct.certified
        assert np.abs(fin.theta - direct.theta).max() <= 1e-13 * np.abs(direct.theta).max()
        assert fin.hessian_min_eig == pytest.approx(direct.hessian_min_eig, rel=1e-10)


def test_matrix_free_products_keep_their_accuracy_far_out(monkeypatch):
    # the SCC {0, 1} forced matrix-free; masses 1 - 1e-40 and 1e-40: H v for v = 1 must be 2 p0 p1 with
    # every digit (pi_0 x_0 - pi_0 (pi^T x) would give 0)
    monkeypatch.setattr(newton_module, "_EIG_EVERY", 0)
    ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3)
    basis = fin_basis(ds)
    obj = objective(basis, reduced_data(ds))
    gap = 40 * np.log(10.0)
    free = obj.system(obj.evaluate(np.array([gap / np.sqrt(2)]))[2]).free
    with mpmath.workdps(60):
        g = mpmath.mpf(float(gap))
        exact = float(2 / (1 + mpmath.exp(-g)) * mpmath.exp(-g) / (1 + mpmath.exp(-g)))
    value = free.layout.to_coordinates(free.product(free.layout.to_pairs(np.ones(1))))[0]
    assert abs(value - exact) <= 1e-12 * exact
    assert abs(free.solve(np.ones(1), 0.0)[0] - 1 / exact) <= 1e-12 / exact


def test_convergence_is_confirmed_by_a_step_at_the_floor(monkeypatch):
    """A loose conjugate-gradient step can underestimate the Newton decrement; here every step above
    the floor is made 1e-30 of the true one, so only the confirming solve at the floor can tell that
    Newton has not converged. The result must match the direct solve."""
    ds = random_dataset(8, 60, 6, 2, 0)
    direct = finite_component(ds)
    monkeypatch.setattr(newton_module, "_EIG_EVERY", 1)
    exact_solve = newton_module._MatrixFree.solve

    def timid(self, g, forcing):
        x = exact_solve(self, g, forcing)
        return x if x is None or forcing <= newton_module._CG_FLOOR else 1e-30 * x

    monkeypatch.setattr(newton_module._MatrixFree, "solve", timid)
    fin = finite_component(ds)
    assert fin.status == direct.status and fin.certified
    assert np.abs(fin.theta - direct.theta).max() <= 1e-12 * np.abs(direct.theta).max()
