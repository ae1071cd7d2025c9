"""Generation is the Markov chain whose transitions are ``next``'s: counted over many draws."""

from collections import Counter

import numpy as np
import pytest
from scipy.stats import chi2

from symattn import GenerationStatus, InvalidInput, Prompt, Source, automaton, generate, load_example

N = 20_000
LEVEL = 1e-6  # a right chain fails with probability 1e-6 (the seed is fixed, so it never flakes)


@pytest.fixture(scope="module")
def auto():
    return automaton(load_example())


def _chi2_pvalue(observed: Counter, expected: dict, n: int) -> float:
    cells = [c for c in expected if expected[c] > 0]
    assert set(observed) <= set(cells), "a draw the chain cannot make"
    stat = sum((observed.get(c, 0) - n * expected[c]) ** 2 / (n * expected[c]) for c in cells)
    return float(chi2.sf(stat, len(cells) - 1))


def _two_step_law(auto, prompt, step):
    """P(t1, t2) = step(prompt)[t1] * step(prompt + t1)[t2] for a one-step law ``step``."""
    law = {}
    for t1, p1 in step(Prompt(prompt)).items():
        for t2, p2 in step(Prompt((*prompt, t1))).items():
            law[(t1, t2)] = p1 * p2
    return law


def _theory_step(auto):
    return lambda p: auto.next(p).distribution()


@pytest.mark.parametrize("prompt", [(0, 1, 2), (3, 1, 5), (0, 3, 4)])
def test_two_steps_follow_next_and_a_wrong_chain_is_rejected(auto, prompt):
    gen = generate(auto, [list(prompt)], steps=2, samples=N, seed=11)
    assert gen.status is GenerationStatus.COMPLETED and gen.success and gen.source is Source.THEORY
    observed = Counter(gen.continuations[0])
    right = _two_step_law(auto, prompt, _theory_step(auto))
    assert _chi2_pvalue(observed, right, N) > LEVEL
    # wrong chains: the new token not appended (two draws from the first law), or appended
    # without becoming the query (the prompt's query kept)
    first = auto.next(list(prompt)).distribution()
    frozen = {(a, b): first[a] * first[b] for a in first for b in first}

    def keep_query(p):
        tokens = p.tokens if p.tokens[-1] == prompt[-1] else (*p.tokens, prompt[-1])
        return auto.next(list(tokens)).distribution()

    stale = _two_step_law(auto, prompt, keep_query)
    for wrong in (frozen, stale):
        support_ok = all(wrong.get(c, 0) > 0 for c in observed)
        assert not support_ok or _chi2_pvalue(observed, wrong, N) < 1e-12


def test_log_probs_are_the_chain_probabilities(auto):
    gen = generate(auto, ["a b c", "b d f"], steps=4, samples=5, seed=3)
    for i, prompt in enumerate(gen.prompts):
        for s, tokens in enumerate(gen.continuations[i]):
            seq, total = list(prompt.tokens), 0.0
            for t in tokens:
                total += np.log(auto.next(seq).distribution()[t])
                seq.append(t)
            assert abs(total - gen.log_probs[i, s]) <= 1e-12


def test_seed_reproduces_and_greedy_follows_the_mode(auto):
    one = generate(auto, ["a b c", "d f"], steps=6, samples=4, seed=5)
    two = generate(auto, ["a b c", "d f"], steps=6, samples=4, seed=np.random.default_rng(5))
    assert one.continuations == two.continuations and one.seed == 5 and two.seed is None
    assert generate(auto, ["a b c", "d f"], steps=6, samples=4, seed=6).continuations != one.continuations
    # greedy: a b c -> c (1/2); a b c c -> c (query c: 1/6, 1/3, 2*1/2 -> c 3/5), and so on
    greedy = generate(auto, "a b c", steps=3, greedy=True)
    assert greedy.text(0) == "c c c" and greedy.greedy


def test_weights_chain_matches_attend(auto):
    rng = np.random.default_rng(2)
    W = rng.normal(size=(6, 6))
    gen = generate(auto, ["e a"], steps=1, samples=N, seed=4, W=W)
    assert gen.source is Source.WEIGHTS
    observed = Counter(t for (t,) in gen.continuations[0])
    law = dict(zip(*(v.tolist() for v in auto.transition("e a", W)), strict=True))
    law = {t: float(np.exp(lp)) for t, lp in law.items()}
    observed = Counter({(t,): c for t, c in observed.items()})
    assert _chi2_pvalue(observed, {(t,): p for t, p in law.items()}, N) > LEVEL


def test_undetermined_continuations_stop(auto):
    gen = generate(auto, ["a f", "a b c"], steps=3, seed=0)
    assert gen.status is GenerationStatus.UNDETERMINED and not gen.success
    assert gen.stopped.tolist() == [[True], [False]] and gen.continuations[0] == ((),)
    assert len(gen.continuations[1][0]) == 3 and "does not fix" in gen.message
    # the same prompt under weights always continues
    assert generate(auto, "a f", steps=3, seed=0, W=np.zeros((6, 6))).success


def test_a_long_continuation_costs_linear_time(auto, monkeypatch):
    # each step must not rebuild and revalidate the whole sequence (that made 16,000 steps take
    # 500 s): count the tokens passed through Prompt validation and the transitions computed
    validated, computed = [0], [0]
    post_init, state = Prompt.__post_init__, type(auto).transition_state

    def counting_post_init(self):
        validated[0] += len(self.tokens)
        post_init(self)

    def counting_state(self, *args, **kwargs):
        computed[0] += 1
        return state(self, *args, **kwargs)

    monkeypatch.setattr(Prompt, "__post_init__", counting_post_init)
    monkeypatch.setattr(type(auto), "transition_state", counting_state)
    gen = generate(auto, "a b c", steps=2000, seed=0)
    assert gen.success and len(gen.continuations[0][0]) == 2000
    assert validated[0] <= 10 * 2000 and computed[0] <= 2000  # before: 4e6 tokens validated


def test_transition_state_checks_the_state(auto):
    tokens, log_probs = auto.transition_state(2, (0, 1, 2), (1, 2, 1))
    assert tokens.tolist() == [0, 1, 2]
    np.testing.assert_allclose(np.exp(log_probs), [1 / 8, 1 / 2, 3 / 8], atol=1e-12)
    assert auto.transition_state(5, (0, 5), (1, 1)) is None
    for args, match in [((2, (0, 1), (1, 1)), "query 2 is not among"), ((2, (1, 0, 2), (1, 1, 1)), "ascending"),
                        ((2, (0, 2), (1,)), "one count per token"), ((2, (0, 2), (0, 1)), "positive"),
                        ((9, (0, 9), (1, 1)), "out of range")]:
        with pytest.raises(InvalidInput, match=match):
            auto.transition_state(*args)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"steps": 0}, "steps=0"), ({"steps": 2.5}, "steps=2.5"), ({"steps": 1, "samples": 0}, "samples=0"),
     ({"steps": 1, "greedy": 1}, "greedy=1"), ({"steps": 1, "W": np.zeros((2, 2))}, "shape"),
     ({"steps": 10**6, "samples": 10**6}, "several calls"), ({"steps": 10**6, "samples": 11}, "10,000,000"),
     ({"steps": 1, "seed": -1}, "seed=-1")],
)
def test_bad_arguments(auto, kwargs, match):
    with pytest.raises(InvalidInput, match=match):
        generate(auto, "a b", **kwargs)
    with pytest.raises(InvalidInput, match="needs an Automaton"):
        generate(load_example(), "a b", steps=1)
