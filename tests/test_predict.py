import math

import numpy as np
import pytest
from svm_cases import INFEASIBLE, random_dataset
from svm_oracles import sccs_by_oracle

from symattn import Dataset, Embeddings, load_example, realise
from symattn.errors import Infeasible, InvalidInput
from symattn.predict import Distances, predict

EXAMPLE = load_example("default")


def test_retrieved_sets_are_the_label_sccs():
    for ds in (EXAMPLE, random_dataset(8, 30, 5, 2, 0)):
        pred = predict(ds)
        comps = sccs_by_oracle(ds)
        for i, s in enumerate(ds):
            scc = next(c for c in comps[s.query] if s.label in c)
            assert set(pred.retrieved[i]) == scc & set(s.tokens)


def test_within_distribution_of_the_cyclic_example():
    pred = predict(EXAMPLE)
    dist = pred.within_distribution(0, digits=15)
    assert dist[0] == pytest.approx(1 / 6, abs=1e-13)
    assert dist[1] == pytest.approx(1 / 3, abs=1e-13)
    assert dist[2] == pytest.approx(1 / 2, abs=1e-13)
    with pytest.raises(InvalidInput, match="out of range"):
        pred.within_distribution(99)


def test_shapes_and_basis():
    pred = predict(EXAMPLE)
    d = EXAMPLE.embeddings.dim
    assert pred.W_svm.shape == pred.W_fin.shape == (d, d)
    assert pred.W_svm.dtype == pred.W_fin.dtype == np.float64
    B = pred.finite.basis.matrices()
    assert B.shape == (3, d, d)
    flat = B.reshape(3, -1)
    assert np.allclose(flat @ flat.T, np.eye(3), atol=1e-14)


def test_distances_of_the_predicted_path():
    pred = predict(EXAMPLE)
    W = 40.0 * pred.W_svm + pred.W_fin
    d = pred.distances(W)
    assert isinstance(d, Distances)
    assert d.norm == pytest.approx(np.linalg.norm(W))
    assert d.corr_svm == pytest.approx(np.sum(W * pred.W_svm) / (np.linalg.norm(W) * pred.svm.norm))
    assert d.corr_svm_perp == pytest.approx(1.0, abs=1e-12)  # W^svm ⟂ S_fin
    assert d.finite_error < 1e-12
    assert d.within_error < 1e-12
    # every sample with tokens outside its SCC sits exactly one margin (or more) below: mass ~ e^-40
    assert -45 < d.log_outside_mass_max < -39
    assert d.outside_mass_max == pytest.approx(math.exp(d.log_outside_mass_max))


def test_outside_mass_stays_finite_in_log_space_when_it_underflows():
    pred = predict(EXAMPLE)
    d = pred.distances(5000.0 * pred.W_svm)
    assert d.outside_mass_max == 0.0 and d.outside_mass_mean == 0.0
    assert np.isfinite(d.log_outside_mass_max) and d.log_outside_mass_max < -4000


def test_distances_at_zero():
    pred = predict(EXAMPLE)
    d = pred.distances(np.zeros((6, 6)))
    assert d.norm == 0 and math.isnan(d.corr_svm) and math.isnan(d.corr_svm_perp)
    assert d.finite_error == pytest.approx(np.linalg.norm(pred.W_fin))
    # uniform attention: sample 6 ("a d e -> d") has 2 of 3 tokens outside {d}
    assert d.outside_mass_max == pytest.approx(2 / 3)


def test_no_outside_tokens_gives_minus_infinity():
    pred = predict(Dataset.from_samples([([0, 1, 2], y) for y in (0, 1, 2)], vocab=3))
    d = pred.distances(np.ones((3, 3)))
    assert d.log_outside_mass_max == -math.inf and d.outside_mass_max == 0.0
    assert math.isnan(d.corr_svm)


def test_project_fin_matches_an_independent_projection():
    ds = random_dataset(6, 25, 5, 2, 3)
    pred = predict(ds)
    # S_fin built directly: (e_i - e_j) e_k^T for i, j in one SCC of G_k (one-hot, so e = unit vectors)
    gens = []
    for k, comps in sccs_by_oracle(ds).items():
        for comp in comps:
            for i in comp:
                for j in comp:
                    if i < j:
                        g = np.zeros((6, 6))
                        g[i, k], g[j, k] = 1.0, -1.0
                        gens.append(g.ravel())
    G = np.array(gens)
    assert pred.finite.basis.dim == np.linalg.matrix_rank(G) >= 1
    W = np.random.default_rng(0).standard_normal((6, 6))
    coef, *_ = np.linalg.lstsq(G.T, W.ravel(), rcond=None)
    assert np.allclose(pred.project_fin(W).ravel(), G.T @ coef, atol=1e-12)


def test_bad_weights_are_refused():
    pred = predict(EXAMPLE)
    with pytest.raises(InvalidInput, match="shape"):
        pred.distances(np.zeros((5, 5)))
    W = np.zeros((6, 6))
    W[1, 2] = np.nan
    with pytest.raises(InvalidInput, match="finite"):
        pred.distances(W)


def test_predict_retrieval_matches_the_graph_answer():
    pred = predict(EXAMPLE)
    r = pred.predict_retrieval([0, 3, 4])  # query e: d > a > e
    assert r.tokens == (3,) and r.exact and r.agrees
    r = pred.predict_retrieval([0, 1, 3, 5])  # query f: {b, d} on top
    assert r.tokens == (1, 3) and r.agrees
    r = pred.predict_retrieval([2, 2])  # unseen query: W^svm e_2 is 0 on every token
    assert r.tokens == (2,)
    with pytest.raises(InvalidInput, match="out of range"):
        pred.predict_retrieval([0, 9])
    with pytest.raises(InvalidInput, match="at least one"):
        pred.predict_retrieval([])


def test_predict_retrieval_with_float_embeddings():
    ds = EXAMPLE.with_embeddings(Embeddings.random_unit(6, 9, seed=5))
    pred = predict(ds)
    r = pred.predict_retrieval([0, 3, 4])
    assert not r.exact and r.tokens == (3,) and r.agrees


def test_infeasible_embeddings_raise_with_the_certificate():
    emb = Embeddings.given([[1, 0], [0, 1], [1, 1], [1, -1], [2, 1]])
    with pytest.raises(Infeasible) as info:
        predict(realise(INFEASIBLE, vocab=5, embeddings=emb))
    assert info.value.certificate.verified


def test_not_a_dataset():
    with pytest.raises(InvalidInput, match="Dataset"):
        predict("data.txt")


@pytest.mark.parametrize("sequence", [[0.5, 2.7], [0, "2"], [1.0, 2.0], "012", 7, [True, 2]])
def test_predict_retrieval_refuses_non_integer_tokens(sequence):
    pred = predict(EXAMPLE)
    with pytest.raises(InvalidInput, match="token id"):
        pred.predict_retrieval(sequence)


def test_within_distribution_refuses_a_float_index():
    with pytest.raises(InvalidInput, match=r"sample index 0\.0"):
        predict(EXAMPLE).within_distribution(0.0)


@pytest.mark.parametrize("method", ["svm_scores", "fin_scores"])
@pytest.mark.parametrize(("tokens", "query"), [([0, 3], 1), ([-1, 0], 1), ([0, 1], 3), ([0, 1], -1)])
def test_score_lookups_refuse_ids_out_of_range(method, tokens, query):
    """The sparse one-hot matrices would read a neighbouring column for an id outside 0..K-1."""
    pred = predict(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1), ([0, 1, 2], 1)], vocab=3))
    with pytest.raises(InvalidInput, match="out of range for K=3"):
        getattr(pred, method)(tokens, query)
