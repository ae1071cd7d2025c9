"""P5 of docs/theory.md §6: on new prompts, the path's weights at large R retrieve the predicted set.

Derivation in docs/properties.md; notation as in test_theory_path.py.
"""

from __future__ import annotations

import numpy as np
from hypothesis import event, given
from hypothesis import strategies as st
from scipy.special import logsumexp
from theory_bounds import THOROUGH_MARKS, Theory, examples, path_floor, theory_datasets

from symattn import Dataset, attention, predict, train
from symattn.strategies import prompts_for

pytestmark = THOROUGH_MARKS

PROMPTS = 4


@st.composite
def graph_prompts(draw, pred) -> list[int]:
    """A new prompt over the tokens of one G_k only (query k last), with repeated tokens: the prompts
    P5 speaks about (``symattn.strategies.prompts_for`` also draws tokens absent from G_k)."""
    graphs = pred.graphs
    k = draw(st.sampled_from(sorted(graphs)))
    others = [int(t) for t in graphs[k].nodes if t != k]
    chosen = draw(st.lists(st.sampled_from(others), unique=True)) if others else []
    copies = draw(st.lists(st.sampled_from(chosen), max_size=2)) if chosen else []
    extra_query = [k] * draw(st.integers(0, 1))
    return [*draw(st.permutations(chosen + copies + extra_query)), k]


def _composition(th: Theory, prompt: list[int], top: tuple[int, ...]):
    """Present tokens, their log counts, the top-SCC mask and log psi_P (outside/top odds under W^fin)."""
    tokens, counts = np.unique(prompt, return_counts=True)
    k = prompt[-1]
    z = th.E[tokens] @ th.W_fin @ th.E[k] + np.log(counts)
    inside = np.isin(tokens, top)
    log_psi = logsumexp(z[~inside]) - logsumexp(z[inside]) if (~inside).any() else -np.inf
    q = np.exp(z[inside] - logsumexp(z[inside]))
    return tokens, inside, log_psi, q


def _radius_for(th: Theory, cases) -> float:
    """The first radius sqrt(||W^fin||^2 + (sigma 2^j)^2) at which Lemma F guarantees every prompt's retrieval."""
    for j in range(3, 27):
        R = th.radius_at(2.0**j)
        log_eps = th.log_comparator_excess(R)
        r, mu = th.fin_radius(log_eps), th.margin(log_eps)
        if all(_guaranteed(th, mu, r, log_psi, q) for _, _, log_psi, q in cases):
            return R
    raise AssertionError("no radius up to sigma 2^26 guarantees the retrieval")


def _log_out_bound(th: Theory, mu: float, r: float, log_psi: float) -> float:
    """log of the bound psi_P e^{-mu + 2 nu r} on the odds of the mass outside C* (Lemma F)."""
    return -mu + 2 * th.nu * r + log_psi


def _guaranteed(th: Theory, mu: float, r: float, log_psi: float, q: np.ndarray) -> bool:
    """Lemma F puts every other token below q_min/2 and every token of C* above it."""
    log_out = _log_out_bound(th, mu, r, log_psi)
    if not (mu > 0 and log_out < np.log(q.min() / 2)):
        return False
    return bool(np.log1p(-np.exp(min(log_out, 0.0))) - 2 * th.nu * r > np.log(0.5))


@examples(ci=20)
@given(theory_datasets(), st.data())
def test_p5_retrieval_on_new_prompts(ds, data):
    """P5: for a new prompt with query k whose present tokens have a unique top SCC C* in G_k
    (prompts over G_k's tokens, and prompts from ``prompts_for`` that happen to qualify),
    (a) the present tokens of maximal W^svm score are exactly C* (predict_retrieval agrees with the graph);
    (b) under W_R at large R the tokens with attention mass >= q_min/2 are exactly C*, where
        q = softmax over C* of (f + log c) under W^fin (the predicted composition, docs/theory.md §6 P4).
    Lemma F: every other present token j is strictly below C* in G_k, so the part V of W_R orthogonal
    to S_fin puts it at least mu(eps(R)) (Lemma D, summed along a path of edges) below C*, on which V is
    constant; hence odds(outside C*) <= psi_P e^{-mu + 2 nu r} and each l in C* keeps
    mass >= (1 - that) q_l e^{-2 nu r}. The test solves the path at the first radius
    sqrt(||W^fin||^2 + (sigma 2^j)^2) where these guarantee (b), and checks (b), the odds bound and the
    composition bound.
    """
    pred = predict(ds)
    th = Theory(pred)
    mine = data.draw(st.lists(graph_prompts(pred), min_size=1, max_size=PROMPTS))
    public = data.draw(st.lists(prompts_for(ds, seen_query=True), max_size=PROMPTS))
    prompts = mine + [list(p.tokens) for p in public]
    cases = []
    for prompt in prompts:
        retrieval = pred.predict_retrieval(prompt)
        if retrieval.graph is None:  # several maximal SCCs: the theory fixes no single set
            continue
        assert retrieval.agrees, (prompt, retrieval)  # (a)
        cases.append((prompt, retrieval.tokens, *_composition(th, prompt, retrieval.tokens)[2:]))
    if not cases:
        return
    R = _radius_for(th, cases)
    event(f"retrieval guaranteed from R = {R / th.sigma:.0f} sigma")
    event(f"prompts with tokens below the top SCC: {sum(np.isfinite(c[2]) for c in cases)}")
    path = train(ds, method="regpath", radii=[R])
    assert path.success, path.message
    W = path.W
    R = float(np.linalg.norm(W))
    log_eps = th.log_comparator_excess(R)
    r, mu = th.fin_radius(log_eps), th.margin(log_eps)
    tol = 2 * th.nu * (path_floor(R) + pred.finite.error_bound)
    for prompt, top, _, _ in cases:
        tokens, inside, log_psi, q = _composition(th, prompt, top)
        mass = _token_mass(ds, W, prompt, tokens)
        retrieved = tuple(int(t) for t in tokens[mass >= q.min() / 2])
        assert retrieved == tuple(top), (prompt, retrieved, top, mass)  # (b)
        odds = mass[~inside].sum() / mass[inside].sum()
        assert odds <= np.exp(_log_out_bound(th, mu, r, log_psi) + tol), (prompt, odds)
        drift = np.abs(np.log(mass[inside] / mass[inside].sum()) - np.log(q))
        assert drift.max() <= 2 * th.nu * r + tol, (prompt, drift)


def _token_mass(ds, W, prompt, tokens) -> np.ndarray:
    """Attention mass of each present token, from symattn.attention on the prompt alone."""
    one = Dataset.from_samples([(prompt, prompt[-1])], vocab=ds.K, embeddings=ds.embeddings)
    s = attention(one, W)
    return np.array([s[np.asarray(prompt) == t].sum() for t in tokens])
