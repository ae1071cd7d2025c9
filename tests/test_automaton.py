"""The automaton on new prompts: hand-computed answers on small datasets, and the weights side."""

from fractions import Fraction

import mpmath
import numpy as np
import pytest

from symattn import (
    Dataset,
    DropReason,
    Embeddings,
    InvalidInput,
    NextStatus,
    Prompts,
    Source,
    attention,
    automaton,
    load_example,
    predict,
    regularization_path,
)

F = Fraction


@pytest.fixture(scope="module")
def auto():
    return automaton(load_example())


def _close(values, expected, tol=1e-12):
    assert len(values) == len(expected)
    for v, e in zip(values, expected, strict=True):
        assert abs(float(v) - float(e)) <= tol, (values, expected)


def test_composition_counts_copies(auto):
    # query c: one SCC {a, b, c}; W^fin gives (1/6, 1/3, 1/2) on [a, b, c] (docs/theory.md §5).
    # With b twice the mass is proportional to (1/6, 2/3, 1/2): (1/8, 1/2, 3/8).
    nxt = auto.next("a b b c")
    assert nxt.status is NextStatus.DETERMINED and nxt.success and nxt.source is Source.THEORY
    assert nxt.tokens == (0, 1, 2) and nxt.counts == (1, 2, 1) and nxt.retrieved == (0, 1, 2)
    _close(nxt.probs, [F(1, 8), F(1, 2), F(3, 8)])
    _close(nxt.attention, [F(1, 8), F(1, 4), F(1, 4), F(3, 8)])
    _close(nxt.output, [F(1, 8), F(1, 2), F(3, 8), 0, 0, 0])
    assert nxt.message == "" and nxt.iterations == 0


def test_chain_drops_by_priority_with_witnesses(auto):
    # query e: d > a > e (samples 6 "a d e -> d" and 7 "a e -> a"); W^svm e_e = (d 1, a 0, e -1).
    r = auto.retrieve("a d e")
    assert r.retrieved == (3,) and r.groups == ((3,),) and r.group_sccs == (0,) and r.graph_unique
    assert [(d.token, d.reason, d.path, d.witnesses) for d in r.dropped] == [
        (0, DropReason.PRIORITY, (3, 0), (6,)),
        (4, DropReason.PRIORITY, (3, 4), (6,)),
    ]
    _close([d.gap for d in r.dropped], [1, 2])
    _close(r.scores, [0, 1, -1])
    assert r.exact and r.graph_top == (3,) and not r.unseen_query and r.absent == ()


def test_longer_priority_path_names_each_edge():
    ds = Dataset.from_samples([(["x", "y", "q"], "x"), (["y", "z", "q"], "y")], vocab=["x", "y", "z", "q"])
    r = automaton(ds).retrieve("z x q")
    assert r.retrieved == (0,)
    paths = {d.token: (d.path, d.witnesses) for d in r.dropped}
    assert paths == {2: ((0, 1, 2), (0, 1)), 3: ((0, 3), (0,))}


def test_incomparable_case_invents_no_rule(auto):
    # query f: a and f both lie below {b, d} and are incomparable to each other; both score -1/2.
    nxt = auto.next("a f")
    assert nxt.status is NextStatus.INCOMPARABLE and not nxt.success
    assert nxt.log_probs is None and nxt.probs is None and nxt.attention is None and nxt.output is None
    assert nxt.groups == ((0,), (5,)) and nxt.retrieval.group_sccs == (1, 2)
    assert nxt.within_distributions() == ({0: 1.0}, {5: 1.0})
    assert "not fixed by the theory" in nxt.message
    with pytest.raises(InvalidInput, match="not fixed by the theory"):
        nxt.distribution()
    assert not nxt.retrieval.graph_unique and nxt.retrieval.graph_top == (0, 5)


def test_unseen_query_mixes_by_counts(auto):
    # a is never a query: W^svm e_a = W^fin e_a = 0, every token ties, the mass follows the counts.
    nxt = auto.next("a e a")
    r = nxt.retrieval
    assert r.unseen_query and r.absent == (0, 4) and r.graph_top == () and not r.graph_unique
    assert nxt.status is NextStatus.DETERMINED and nxt.retrieved == (0, 4)
    _close(nxt.probs, [F(2, 3), F(1, 3)])
    assert "never a query in training" in nxt.message


def test_absent_token_outranks_low_priority_tokens(auto):
    # c is not in G_f: its score is 0, above a and f (-1/2); the graph cannot compare them.
    r = auto.retrieve("c a f")
    assert r.retrieved == (2,) and r.absent == (2,)
    assert [(d.token, d.reason, d.path) for d in r.dropped] == [(0, DropReason.SCORE, ()), (5, DropReason.SCORE, ())]
    _close([d.gap for d in r.dropped], [F(1, 2), F(1, 2)])
    assert "not in G_f" in auto.next("c a f").message


def test_absent_tokens_form_one_group_and_can_tie_with_an_scc():
    # G_k: a > b > k with W^svm e_k = (1, 0, -1); z and w are absent (score 0 with one-hot embeddings).
    ds = Dataset.from_samples([(["a", "b", "k"], "a"), (["b", "k"], "b")], vocab=["a", "b", "k", "z", "w"])
    auto = automaton(ds)
    _close(auto.retrieve("a b k").scores, [1, 0, -1])
    tie = auto.next("b z k")
    assert tie.status is NextStatus.INCOMPARABLE and tie.groups == ((1,), (3,))
    assert tie.retrieval.group_sccs == (1, None)
    both = auto.next("z z w k")
    assert both.status is NextStatus.DETERMINED and both.groups == ((3, 4),)
    _close(both.probs, [0, F(2, 3), F(1, 3)])


def test_same_answers_for_orthonormal_and_scaled_embeddings(auto):
    ds = load_example()
    prompts = ["a b b c", "a b d f", "c a f", "a e a", "b d e f"]
    reference = [auto.next(p) for p in prompts]
    for emb in (Embeddings.orthonormal(6, 9, seed=3), Embeddings.given((2 * np.eye(6, dtype=int)).tolist())):
        other = automaton(ds.with_embeddings(emb))
        for p, ref in zip(prompts, reference, strict=True):
            nxt = other.next(p)
            assert nxt.retrieved == ref.retrieved and nxt.groups == ref.groups
            np.testing.assert_allclose(nxt.probs, ref.probs, rtol=0, atol=1e-9)


def test_attend_equals_the_model_attention_and_an_mpmath_softmax(auto):
    rng = np.random.default_rng(0)
    W = rng.normal(size=(6, 6)) * 3
    for prompt in ([0, 1, 1, 2], [5, 3, 3, 0, 5], [4]):
        out = auto.attend(prompt, W)
        one = Dataset.from_samples([(prompt, prompt[-1])], vocab=6)
        np.testing.assert_allclose(out.attention, attention(one, W), rtol=1e-13)
        scores = [mpmath.mpf(float(W[t, prompt[-1]])) for t in prompt]
        total = mpmath.fsum(mpmath.exp(s) for s in scores)
        _close(out.attention, [mpmath.exp(s) / total for s in scores], tol=1e-14)
        assert out.source is Source.WEIGHTS and out.status is NextStatus.DETERMINED
        np.testing.assert_allclose(out.output, np.eye(6)[prompt].T @ out.attention, atol=1e-15)


def test_compare_far_out_in_log_space(auto):
    pred = auto.prediction
    # ||W|| about 1e4: the outside mass underflows to 0 but its log stays exact.
    W = 2e4 * pred.W_svm + pred.W_fin
    agreement = auto.compare("a b d f", W)
    u = W[:, 5]
    expected = mpmath.log(mpmath.exp(mpmath.mpf(u[0] - u[1])) + mpmath.exp(mpmath.mpf(u[5] - u[1]))) - mpmath.log(2)
    assert abs(agreement.log_outside_mass - float(expected)) <= 1e-9 * abs(float(expected))
    # potentials of size 1e4 carry rounding errors of about 1e4 * 2.2e-16 into the within-group weights
    assert agreement.outside_mass == 0.0 and agreement.tv <= 1e4 * 1e-14 and agreement.retrieval_agrees
    assert agreement.determined and agreement.retrieved_weights == (1, 3)


def test_compare_flags_weights_that_attend_elsewhere(auto):
    pred = auto.prediction
    wrong = -30 * pred.W_svm + pred.W_fin          # reversed priorities: a and f win
    a = auto.compare("a b d f", wrong)
    assert not a.retrieval_agrees and a.tv > 0.99 and a.outside_mass > 0.99
    incomparable = auto.compare("a f", 30 * pred.W_svm)
    assert incomparable.tv is None and not incomparable.determined and incomparable.within_tv == 0.0
    with pytest.raises(InvalidInput, match="threshold"):
        auto.compare("a f", wrong, threshold=1.5)


def test_the_split_across_incomparable_groups_is_not_the_naive_rule():
    # a and b are incomparable in G_k and tie under W^svm; W^fin = 0. The rule
    # softmax(W^fin + log c) would split a b k as 1/2 : 1/2. The path does not: with two
    # samples for a and one for b its split tends to 2/3 : 1/3. The theory leaves it open.
    ds = Dataset.from_samples([(["a", "k"], "a")] * 2 + [(["b", "k"], "b")], vocab=["a", "b", "k"])
    auto = automaton(ds)
    assert auto.next("a b k").status is NextStatus.INCOMPARABLE
    path = regularization_path(ds, [100.0, 1000.0], prediction=auto.prediction)
    for W in path.weights:
        agreement = auto.compare("a b k", W)
        assert agreement.within_tv == 0.0 and agreement.outside_mass < 1e-30
        split = auto.attend("a b k", W).probs
        assert abs(split[0] - 2 / 3) < 5e-3 and abs(split[0] - 1 / 2) > 0.15


def test_bad_prompts_and_weights(auto):
    with pytest.raises(InvalidInput, match="unknown token name 'zz'"):
        auto.next("a zz")
    with pytest.raises(InvalidInput, match="out of range"):
        auto.next([0, 6])
    with pytest.raises(InvalidInput, match=r"shape \(2, 2\)"):
        auto.attend("a b", np.zeros((2, 2)))
    with pytest.raises(InvalidInput, match="must be finite"):
        auto.attend("a b", np.full((6, 6), np.nan))
    with pytest.raises(InvalidInput, match=r"overflow|exceed"):
        automaton(load_example().with_embeddings(Embeddings.equicorrelated(6, 0.5))).attend(
            "a b", np.full((6, 6), 1e308)
        )
    with pytest.raises(InvalidInput, match="needs a Dataset or its Prediction"):
        automaton([1, 2])
    other = Prompts.from_sequences(["x y"], vocab=["x", "y"])
    with pytest.raises(InvalidInput, match=r"vocabulary of 2 tokens \['x', 'y'\].*6 tokens \['a', 'b'.*vocab=auto.vocab"):
        auto.next_many(other)


def test_built_from_a_prediction_and_many_prompts():
    ds = load_example()
    pred = predict(ds)
    auto = automaton(pred)
    assert auto.prediction is pred
    results = auto.next_many(["a b c", "a f"])
    assert [r.status for r in results] == [NextStatus.DETERMINED, NextStatus.INCOMPARABLE]
    tokens, log_probs = auto.transition("a b b c")
    assert tokens.tolist() == [0, 1, 2]
    np.testing.assert_allclose(np.exp(log_probs), [1 / 8, 1 / 2, 3 / 8], atol=1e-12)
    assert auto.transition("a f") is None


def test_paths_start_at_the_nearest_retrieved_token_and_name_the_first_witness():
    # G_k: a <-> b (one SCC), a -> c (samples 2 and 3), a -> k, b -> k. For c the path from a has
    # one edge, the one from b two; for k both have one and the smaller id, a, is taken.
    ds = Dataset.from_samples(
        [(["a", "b", "k"], "a"), (["a", "b", "k"], "b"), (["a", "c", "k"], "a"), (["c", "a", "k"], "a")],
        vocab=["a", "b", "c", "k"],
    )
    r = automaton(ds).retrieve("b a c k")
    assert r.retrieved == (0, 1)
    assert {d.token: (d.path, d.witnesses) for d in r.dropped} == {2: ((0, 2), (2,)), 3: ((0, 3), (0,))}


def test_weights_retrieve_by_the_threshold(auto):
    # query b, prompt a b: a gets sigma(W[a, b] - W[b, b]) of the mass
    for mass, retrieved in [(0.02, (0, 1)), (0.005, (1,))]:
        W = np.zeros((6, 6))
        W[0, 1] = np.log(mass / (1 - mass))
        out = auto.attend("a b", W)
        assert abs(out.probs[0] - mass) < 1e-15 and out.retrieved == retrieved


def test_within_group_distance_and_a_retrieval_that_misses_a_token(auto):
    # "a b d f": the theory mixes b and d 1/2 : 1/2. Raising b's score by delta leaves the
    # retrieved set but moves the split within it to sigma(delta) : 1 - sigma(delta).
    pred = auto.prediction
    for delta in (2.0, 10.0):
        W = 40 * pred.W_svm + pred.W_fin
        W[1, 5] += delta
        a = auto.compare("a b d f", W)
        expected = float(1 / (1 + mpmath.exp(-delta)) - mpmath.mpf(1) / 2)
        assert abs(a.within_tv - expected) < 1e-12 and abs(a.tv - expected) < 1e-12
        # delta = 10 leaves d with 4.5e-5 < threshold: W drops a token the theory retrieves
        assert a.retrieval_agrees is (delta == 2.0) and a.retrieved_weights == ((1, 3) if delta == 2.0 else (1,))


def test_absent_tokens_are_one_group_each_for_non_orthogonal_embeddings():
    # e_z and e_w share a component along e_a: both score 1/4 under W^svm = (e_a - e_k) e_k^T / 2 and
    # tie. Only orthogonal embeddings make absent tokens one group; here each is its own group.
    emb = Embeddings.given([[1, 0, 0, 0], [0, 1, 0, 0], ["1/2", 0, 1, 0], ["1/2", 0, 0, 1]])
    ds = Dataset.from_samples([(["a", "k"], "a")], vocab=["a", "k", "z", "w"], embeddings=emb)
    nxt = automaton(ds).next("z w k")
    _close(nxt.retrieval.scores, [F(-1, 2), F(1, 4), F(1, 4)])  # k, z, w
    assert nxt.retrieved == (2, 3) and nxt.groups == ((2,), (3,)) and nxt.status is NextStatus.INCOMPARABLE
