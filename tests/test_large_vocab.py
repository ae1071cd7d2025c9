"""A vocabulary of 10**6 tokens with a few hundred in use: W^svm, W^fin, the prediction and ``analyze``
work at the default dense limit (any dense K x K array would raise), and agree entry by entry with the
same data relabelled to the tokens in use and solved densely with permutation embeddings (another code
path: the dense E^T T E route, exact rows) — an oracle written apart from the sparse one."""

import json
from fractions import Fraction

import numpy as np
import pytest

from symattn import (
    Dataset,
    Embeddings,
    InvalidInput,
    analysis,
    automaton,
    fin_basis,
    finite_bound,
    finite_component,
    generate,
    load_example,
    predict,
    reduced_loss,
    regularization_path,
)
from symattn.cli import main
from symattn.scores import entry_potentials, log_token_mass
from symattn.train.path import PathProblem

K = 10**6


@pytest.fixture(autouse=True)
def default_dense_limit(monkeypatch):
    """Run at the default limit (K, d <= 4096), whatever the environment says."""
    monkeypatch.delenv("SYMATTN_MAX_TOKENS", raising=False)


def _samples(seed: int = 3, n: int = 150, length: int = 8, used: int = 300, queries: int = 3):
    """Token sequences over ``used`` random ids below ``K`` (the query among ``queries`` of them)."""
    rng = np.random.default_rng(seed)
    pool = np.sort(rng.choice(K, size=used, replace=False))
    query_ids = rng.choice(pool, size=queries, replace=False)
    out = []
    for _ in range(n):
        tokens = rng.choice(pool[: 40], size=length).tolist()  # a small pool per sample: cyclic SCCs
        tokens[-1] = int(rng.choice(query_ids))
        out.append((tokens, int(tokens[rng.integers(length)])))
    return out


def _relabelled(samples):
    """The same samples on ids 0..u-1 (``ids`` maps old ids to new) with permutation embeddings."""
    used = sorted({t for tokens, _ in samples for t in tokens})
    ids = {t: i for i, t in enumerate(used)}
    u = len(used)
    perm = np.random.default_rng(0).permutation(u)
    rows = np.eye(u, dtype=int)[perm]  # token i is e_{perm[i]}: orthonormal, exact, not one-hot
    small = Dataset.from_samples([([ids[t] for t in tokens], ids[y]) for tokens, y in samples], vocab=u,
                                 embeddings=Embeddings.given(rows.tolist()))
    return small, ids, rows


def _token_entries(W: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Token coordinates E W E^T of a weight matrix (the dense oracle's side)."""
    return rows @ W @ rows.T


def _relabel(W, ids: dict[int, int], u: int) -> np.ndarray:
    """The stored entries of a sparse K x K matrix on the relabelled ids (u x u, dense)."""
    coo = W.tocoo()
    out = np.zeros((u, u))
    out[[ids[t] for t in coo.row.tolist()], [ids[k] for k in coo.col.tolist()]] = coo.data
    return out


def test_finite_component_sparse_matches_relabelled_dense_solve():
    samples = _samples()
    big = Dataset.from_samples(samples, vocab=K)
    fin = finite_component(big)
    assert fin.success and fin.certified and fin.dim > 10
    with pytest.raises(InvalidInput, match="W_sparse"):
        fin.W  # noqa: B018 (the dense matrix is refused at this K)
    small, ids, rows = _relabelled(samples)
    oracle = finite_component(small)
    assert oracle.success and oracle.dim == fin.dim
    U = _token_entries(oracle.W, rows)
    assert fin.W_sparse.nnz <= 40 * 3  # the pairs of S_fin only
    np.testing.assert_allclose(_relabel(fin.W_sparse, ids, len(ids)), U, rtol=0,
                               atol=1e-9 * max(1.0, float(np.abs(U).max())))
    assert fin.loss == pytest.approx(oracle.loss, rel=1e-12)
    # the reduced loss read from the sparse W by the generic scores (not the solver's potentials)
    assert reduced_loss(big, fin.W_sparse) == pytest.approx(oracle.loss, rel=1e-12)


def test_analysis_and_prediction_at_one_million_tokens():
    samples = _samples(seed=5)
    big = Dataset.from_samples(samples, vocab=K)
    result = analysis(big)
    assert result.certified
    pred = result.prediction()
    small, ids, rows = _relabelled(samples)
    oracle = analysis(small).prediction()
    assert [tuple(ids[t] for t in r) for r in pred.retrieved] == [tuple(sorted(r)) for r in oracle.retrieved]
    np.testing.assert_allclose(pred.within, oracle.within, rtol=0, atol=1e-9)
    np.testing.assert_allclose(_relabel(pred.svm.W_sparse, ids, len(ids)), _token_entries(oracle.svm.W, rows),
                               rtol=0, atol=1e-12)
    tokens, query = samples[0][0], samples[0][0][-1]
    F = _token_entries(oracle.finite.W, rows)
    np.testing.assert_allclose(pred.fin_scores(tokens, query), F[[ids[t] for t in tokens], ids[query]],
                               rtol=0, atol=1e-9)


def test_cli_analyze_json_at_one_million_tokens(tmp_path, capsys):
    samples = _samples(seed=7, n=60)
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"format": "symattn.dataset/1", "vocab": K,
                                "samples": [{"tokens": t, "label": y} for t, y in samples]}))
    assert main(["analyze", str(path), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    svm, fin = payload["svm"], payload["finite"]
    assert svm["W"] is None and fin["W"] is None  # above the dense limit: columns only
    assert svm["certified"] and fin["certified"]
    small, ids, rows = _relabelled(samples)
    oracle = analysis(small)
    F, S = _token_entries(oracle.finite.W, rows), _token_entries(oracle.svm.W, rows)
    assert fin["columns"].keys() == svm["columns"].keys() == {str(tokens[-1]) for tokens, _ in samples}
    for k, column in fin["columns"].items():
        assert column.keys() == svm["columns"][k].keys()
        for t, v in column.items():
            assert v == pytest.approx(F[ids[int(t)], ids[int(k)]], abs=1e-9)
            assert float(Fraction(svm["columns"][k][t])) == pytest.approx(S[ids[int(t)], ids[int(k)]], abs=1e-12)


def test_path_points_are_sparse_at_one_million_tokens():
    samples = _samples(seed=11, n=40, length=5, used=60, queries=2)
    big = Dataset.from_samples(samples, vocab=K)
    problem = PathProblem(big)
    small, ids, rows = _relabelled(samples)
    radii = (1.0, 20.0)
    oracle = regularization_path(small, list(radii))  # dense W = E^T U E, losses by the Model
    v = np.zeros(problem.node_keys.size)
    for radius, loss, W in zip(radii, oracle.loss.tolist(), oracle.weights, strict=True):
        point, v = problem.point(radius, 0.0, v)
        assert point.success and point.radius == pytest.approx(radius, rel=1e-10)
        with pytest.raises(InvalidInput, match="W_sparse"):
            point.W  # noqa: B018 (the dense matrix is refused at this K)
        U = _token_entries(W, rows)
        np.testing.assert_allclose(_relabel(point.W_sparse, ids, len(ids)), U, rtol=0,
                                   atol=1e-9 * max(1.0, float(np.abs(U).max())))
        c = big.counts
        label = np.flatnonzero(c.token == c.label[c.sample])
        log_p = log_token_mass(big, point.W_sparse)[label]  # the sparse W read by the generic scores
        # against the loss the solver computed from its own potentials (never from W) and the Model's
        assert -float(np.mean(log_p)) == pytest.approx(point.outside + point.inside, rel=1e-9)
        assert -float(np.mean(log_p)) == pytest.approx(loss, rel=1e-9)


@pytest.mark.parametrize("form", ["csc", "coo"])
def test_repeated_sparse_entries_mean_their_sum(form):
    """SciPy lets a sparse matrix store one (row, column) several times, meaning the sum: every reader
    of a sparse W (potentials, token masses, the reduced loss, coordinates in S_fin) sees the sum, as the
    dense matrix does."""
    from scipy import sparse

    from symattn.scores import entry_potentials, pair_potentials

    ds = Dataset.from_samples([([0, 1, 2], y) for y in (0, 1, 1, 2, 2, 2)], vocab=3)
    fin = finite_component(ds)
    dense = fin.W
    rows, cols = np.nonzero(dense)
    values = dense[rows, cols]
    halves = (np.concatenate([values / 2, values / 2]), (np.tile(rows, 2), np.tile(cols, 2)))
    split = sparse.coo_matrix(halves, shape=(3, 3))
    if form == "csc":  # a non-canonical CSC keeps the repeats (built from its raw arrays)
        order = np.lexsort((split.row, split.col))
        indptr = np.searchsorted(split.col[order], np.arange(4))
        split = sparse.csc_matrix((split.data[order], split.row[order], indptr), shape=(3, 3))
        assert not split.has_canonical_format
    assert np.allclose(entry_potentials(ds, split), entry_potentials(ds, dense), rtol=1e-14)
    emb = ds.embeddings
    tokens, queries = np.array([0, 1, 2]), np.array([2, 2, 2])
    assert np.allclose(pair_potentials(emb, split, tokens, queries), dense[tokens, queries], rtol=1e-14)
    assert np.allclose(log_token_mass(ds, split), log_token_mass(ds, dense), rtol=1e-14)
    assert reduced_loss(ds, split) == pytest.approx(reduced_loss(ds, dense), rel=1e-14)
    assert np.allclose(fin.basis.coordinates(split), fin.theta, atol=1e-14)


_FORMS = ("coo repeats", "csr unsorted", "explicit zeros", "int64 indices", "csr_array", "coo_array repeats",
          "dok", "bsr", "int32 entries", "bool entries")


def _form(dense: np.ndarray, form: str) -> tuple[object, np.ndarray]:
    """``dense`` in one of the sparse forms SciPy offers, some non-canonical (repeats meaning their sum,
    unsorted indices, explicit zeros, 64-bit indices), or the new ``sparray`` classes; with the float
    matrix it stands for."""
    from scipy import sparse

    rows, cols = np.nonzero(dense)
    values = dense[rows, cols]
    repeats = sparse.coo_matrix((np.r_[values / 4, 3 * values / 4], (np.tile(rows, 2), np.tile(cols, 2))),
                                shape=dense.shape)
    if form == "csr unsorted":
        unsorted = sparse.csr_matrix(dense)
        for i in range(dense.shape[0]):
            a, b = unsorted.indptr[i], unsorted.indptr[i + 1]
            unsorted.indices[a:b], unsorted.data[a:b] = unsorted.indices[a:b][::-1], unsorted.data[a:b][::-1]
        unsorted.has_sorted_indices = False
        return unsorted, dense
    if form == "explicit zeros":
        zero_rows, zero_cols = np.nonzero(dense == 0)
        return sparse.coo_matrix((np.r_[values, 0.0 * zero_rows], (np.r_[rows, zero_rows], np.r_[cols, zero_cols])),
                                 shape=dense.shape), dense
    if form == "int64 indices":
        csr = sparse.csr_matrix(dense)
        return sparse.csr_matrix((csr.data, csr.indices.astype(np.int64), csr.indptr.astype(np.int64)),
                                 shape=dense.shape), dense
    if form in ("int32 entries", "bool entries"):
        whole = (10 * dense).astype(np.int32 if form == "int32 entries" else bool)
        return sparse.csr_array(whole), whole.astype(float)
    build = {"coo repeats": lambda: repeats, "csr_array": lambda: sparse.csr_array(dense),
             "coo_array repeats": lambda: sparse.coo_array(repeats), "dok": lambda: sparse.dok_matrix(dense),
             "bsr": lambda: sparse.bsr_matrix(dense)}
    return build[form](), dense


def _readers(ds: Dataset) -> dict[str, object]:
    """Every public reader of a weight matrix on one dataset, as ``name -> f(W) -> array``."""
    pred, auto = predict(ds), automaton(ds)
    prompt = [int(t) for t in ds[0].tokens]

    def distances(W):
        d = pred.distances(W)
        return np.array([d.norm, d.corr_svm, d.corr_svm_perp, d.finite_error, d.log_outside_mass_max,
                         d.within_error])

    return {
        "entry_potentials": lambda W: entry_potentials(ds, W),
        "reduced_loss": lambda W: reduced_loss(ds, W),
        "coordinates": lambda W: fin_basis(ds).coordinates(W),
        "finite_bound": lambda W: finite_bound(ds, W).bound,
        "distances": distances,
        "attend": lambda W: auto.attend(prompt, W).log_probs,
        "generate": lambda W: generate(auto, [prompt], steps=3, seed=1, W=W).log_probs,
    }


@pytest.mark.parametrize("form", _FORMS)
def test_every_sparse_form_reads_as_its_dense_matrix(form):
    """A sparse W in any SciPy form (integer or boolean entries too) gives every reader the numbers of
    the dense float matrix it stands for."""
    ds = load_example()
    rng = np.random.default_rng(0)
    half = np.round(rng.normal(size=(ds.K, ds.K)), 1) * (rng.random((ds.K, ds.K)) < 0.5)  # absent entries too
    W, dense = _form(half, form)
    for name, read in _readers(ds).items():
        np.testing.assert_allclose(np.asarray(read(W), dtype=float), np.asarray(read(dense), dtype=float),
                                   rtol=1e-12, atol=1e-12, err_msg=name)


def test_sparse_W_at_one_million_tokens_reads_as_the_relabelled_dense_one():
    """distances, attend and generate take a sparse W at K = 10**6 and agree with the same data
    relabelled onto the tokens in use (K = 4, dense W); an entry on a token never seen moves only the
    norm, as it should."""
    from scipy import sparse

    used = [0, 1, 2, K - 1]
    samples = [([0, 1, K - 1], 0), ([0, 1, K - 1], 1), ([0, 1, K - 1], 1), ([1, 2, K - 1], 2), ([2, 0], 2)]
    big = Dataset.from_samples(samples, vocab=K)
    small = Dataset.from_samples([([used.index(t) for t in x], used.index(y)) for x, y in samples], vocab=4)
    dense = np.round(np.random.default_rng(1).normal(size=(4, 4)), 1)
    dense[0, 3] = dense[2, 2] = 0.0  # entries the prompts read, absent from the sparse W
    rows, cols = np.nonzero(dense)
    W = sparse.csc_matrix((dense[rows, cols], (np.array(used)[rows], np.array(used)[cols])), shape=(K, K))
    small_read, big_read = _readers(small), _readers(big)
    for name in small_read:
        np.testing.assert_allclose(big_read[name](W), small_read[name](dense), rtol=1e-12, atol=1e-12,
                                   err_msg=name)
    unseen = W + sparse.csc_matrix(([3.0], ([500000], [500000])), shape=(K, K))
    norm = predict(big).distances(unseen).norm
    assert norm == pytest.approx(np.hypot(np.linalg.norm(dense), 3.0), rel=1e-14)


@pytest.mark.parametrize(("dtype", "total"), [(np.int8, 200.0), (bool, 2.0)])
def test_repeated_sparse_entries_are_summed_as_floats(dtype, total):
    """Two stored int8 entries 100 mean 200 (SciPy would sum them in int8 and wrap to -56), two True
    entries 2: entries are made float64 before repeats are summed, whatever the sparse format."""
    from scipy import sparse

    ds = Dataset.from_samples([([0, 1], 1)], vocab=2)
    values = np.array([100, 100]).astype(dtype)
    for W in (sparse.coo_matrix((values, ([0, 0], [1, 1])), shape=(2, 2)),
              sparse.csr_matrix((values, np.array([1, 1]), np.array([0, 2, 2])), shape=(2, 2))):
        assert entry_potentials(ds, W).tolist() == [total, 0.0]
