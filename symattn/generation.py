r"""Generation: continue prompts token by token with the automaton or with given weights.

Each step draws the next token from the distribution of the sequence so far
(:meth:`Automaton.next <symattn.automaton.Automaton.next>` for the theory,
:meth:`Automaton.attend <symattn.automaton.Automaton.attend>` for weights :math:`W`), appends
it, and makes it the new query (docs/theory.md §7). The continuation is a Markov chain on
sequences whose transition probabilities are exactly those distributions; they depend only on
the query and the counts, and are computed once per such state in a call.

>>> from symattn.examples import load_example
>>> from symattn.automaton import automaton
>>> auto = automaton(load_example())
>>> gen = generate(auto, ["b d f", "a b c"], steps=4, seed=0, samples=2)
>>> gen.status.value, [gen.text(1, s) for s in range(2)]
('completed', ['c c c a', 'c a c b'])
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from symattn.automaton import Automaton, Source
from symattn.embeddings import SeedLike, as_generator
from symattn.errors import InvalidInput
from symattn.prompts import Prompt, PromptLike, Prompts
from symattn.results import ResultMixin, Status
from symattn.scores import check_weights

__all__ = ["Generation", "GenerationStatus", "generate"]

_MAX_STEPS = 1_000_000
_MAX_SAMPLES = 10_000_000
_MAX_TOKENS = 10**7
"""Largest number of tokens one call generates (prompts × samples × steps): a few minutes' work."""


class GenerationStatus(Status, success={"completed"}):
    """How a generation ended."""

    COMPLETED = "completed"
    """Every continuation has all its steps."""
    UNDETERMINED = "undetermined"
    """Some continuation reached a sequence whose next-token distribution the theory does not fix."""


@dataclass(frozen=True, eq=False)
class Generation(ResultMixin):
    r"""Continuations generated token by token.

    Attributes
    ----------
    status : GenerationStatus
        ``COMPLETED`` or ``UNDETERMINED``; ``success`` derives from it.
    source : Source
        ``THEORY`` or ``WEIGHTS``.
    prompts : Prompts
        The prompts continued.
    continuations : tuple of tuple of tuple of int
        ``continuations[i][s]``: the tokens generated for prompt ``i``, sample ``s``.
    log_probs : numpy.ndarray, shape (n_prompts, samples)
        Log-probability of each continuation under the chain.
    stopped : numpy.ndarray of bool, shape (n_prompts, samples)
        The continuation stopped early at a sequence whose distribution the theory does not
        fix (theory only); it then holds the tokens before that point.
    steps, samples : int
        Tokens asked for per continuation, continuations per prompt.
    greedy : bool
        The most likely token was taken each step (the smallest id among ties) instead of a draw.
    seed : int or None
        The integer seed, when one was given.
    message : str
        Why continuations stopped, or empty.
    iterations : int
        ``steps``.
    """

    status: GenerationStatus
    source: Source
    prompts: Prompts
    continuations: tuple[tuple[tuple[int, ...], ...], ...]
    log_probs: np.ndarray = field(repr=False)
    stopped: np.ndarray = field(repr=False)
    steps: int
    samples: int
    greedy: bool
    seed: int | None
    message: str = ""
    iterations: int = 0

    def text(self, i: int, s: int = 0) -> str:
        """Continuation ``s`` of prompt ``i`` as space-separated names.

        >>> from symattn.examples import load_example
        >>> from symattn.automaton import automaton
        >>> generate(automaton(load_example()), "a e", steps=3, greedy=True).text(0)
        'a a a'
        """
        return " ".join(self.prompts.vocab.name(t) for t in self.continuations[i][s])


def _check_count(value: object, what: str, limit: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not 1 <= int(value) <= limit:
        raise InvalidInput(f"{what}={value!r} must be an integer from 1 to {limit:,}")
    return int(value)


class _Chain:
    """The transitions of one call, computed once per (query, counts) state."""

    def __init__(self, auto: Automaton, W: np.ndarray | None) -> None:
        self.auto, self.W = auto, W
        self.table: dict[Any, tuple[np.ndarray, np.ndarray, np.ndarray] | None] = {}

    def step(self, query: int, counts: dict[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        tokens = tuple(sorted(counts))
        tally = tuple(counts[t] for t in tokens)
        key = (query, tokens, tally)
        if key not in self.table:
            found = self.auto.transition_state(query, tokens, tally, self.W)
            if found is None:
                self.table[key] = None
            else:
                ids, log_probs = found
                cdf = np.cumsum(np.exp(log_probs))
                self.table[key] = (ids, log_probs, cdf / cdf[-1])
        return self.table[key]

    def walk(
        self, p: Prompt, steps: int, rng: np.random.Generator, greedy: bool
    ) -> tuple[tuple[int, ...], float, bool]:
        """One continuation; the state (query and counts) is updated in place, never the sequence."""
        counts = dict(zip(*p.counts(), strict=True))
        query = p.query
        out: list[int] = []
        total = 0.0
        for _ in range(steps):
            found = self.step(query, counts)
            if found is None:
                return tuple(out), total, True
            ids, log_probs, cdf = found
            if greedy:
                i = int(np.argmax(log_probs))
            else:
                i = min(int(np.searchsorted(cdf, rng.random(), side="right")), ids.size - 1)
            total += float(log_probs[i])
            query = int(ids[i])
            out.append(query)
            counts[query] = counts.get(query, 0) + 1
        return tuple(out), total, False


def generate(
    auto: Automaton,
    prompts: Prompts | PromptLike | Iterable[PromptLike],
    *,
    steps: int,
    seed: SeedLike = None,
    samples: int = 1,
    greedy: bool = False,
    W: np.ndarray | None = None,
) -> Generation:
    """Continue each prompt token by token, by the theory's automaton or by weights ``W``.

    Draws come from one generator seeded by ``seed``, prompt by prompt, sample by sample, step
    by step (one uniform number a step, inverted through the cumulative distribution over the
    distinct tokens in ascending order), so a seed reproduces every continuation. Under the
    theory a continuation that reaches a sequence whose retrieved tokens span several groups of
    tied scores (``INCOMPARABLE``) stops there: no rule is invented for their relative weights.

    Parameters
    ----------
    auto : Automaton
        The theory's automaton of the training data (see :func:`~symattn.automaton.automaton`).
    prompts : Prompts, a prompt, or a list of prompts
        What to continue (``"a b c"``, names or ids; a string is one prompt).
    steps : int
        Tokens per continuation (at least 1).
    seed : int, numpy.random.Generator or None
        Seed of the draws.
    samples : int
        Continuations per prompt.
    greedy : bool
        Take the most likely token (the smallest id among ties) instead of drawing.
    W : numpy.ndarray, optional
        Weights (shape (d, d)) to generate with instead of the theory.

    Returns
    -------
    Generation
        The continuations, their log-probabilities and the status.

    Raises
    ------
    InvalidInput
        For a bad prompt, count, flag or weight matrix.

    >>> from symattn.examples import load_example
    >>> from symattn.automaton import automaton
    >>> auto = automaton(load_example())
    >>> gen = generate(auto, ["a f"], steps=2, seed=1)       # a, f: incomparable and tied
    >>> gen.status.value, gen.continuations, bool(gen.stopped[0, 0])
    ('undetermined', (((),),), True)
    """
    if not isinstance(auto, Automaton):
        raise InvalidInput(
            f"generate needs an Automaton (symattn.automaton(dataset)), got {type(auto).__name__}"
        )
    batch = auto.prompts(prompts)
    steps = _check_count(steps, "steps", _MAX_STEPS)
    samples = _check_count(samples, "samples", _MAX_SAMPLES)
    if len(batch) * samples * steps > _MAX_TOKENS:
        raise InvalidInput(
            f"{len(batch)} prompt(s) x {samples} sample(s) x {steps} step(s) is more than {_MAX_TOKENS:,} "
            "tokens; generate in several calls"
        )
    if not isinstance(greedy, bool):
        raise InvalidInput(f"greedy={greedy!r} must be True or False")
    emb = auto.dataset.embeddings
    weights = None if W is None else check_weights(W, emb.dim, sparse_ok=emb.is_onehot)
    chain = _Chain(auto, weights)
    rng = as_generator(seed)
    continuations = []
    log_probs = np.zeros((len(batch), samples))
    stopped = np.zeros((len(batch), samples), dtype=bool)
    for i, p in enumerate(batch):
        row = []
        for s in range(samples):
            tokens, log_probs[i, s], stopped[i, s] = chain.walk(p, steps, rng, greedy)
            row.append(tokens)
        continuations.append(tuple(row))
    message = ""
    if stopped.any():
        message = (
            f"{int(stopped.sum())} of {stopped.size} continuation(s) stopped at a sequence whose retrieved "
            "tokens span several groups with tied W^svm scores: the theory does not fix their relative "
            "weights"
        )
    return Generation(
        GenerationStatus.UNDETERMINED if stopped.any() else GenerationStatus.COMPLETED,
        Source.THEORY if weights is None else Source.WEIGHTS, batch, tuple(continuations), log_probs,
        stopped, steps, samples, greedy, int(seed) if isinstance(seed, int | np.integer) else None,
        message, steps,
    )
