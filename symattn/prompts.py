r"""Prompts: label-free token sequences for the automaton (docs/theory.md §7).

A prompt is a token sequence :math:`x_1..x_T` (:math:`T \ge 1`) without a label; its query is the
last token :math:`k = x_T`. Like a sample it depends, for every score, only on its query and the
counts :math:`c_j` of its distinct tokens (docs/theory.md §2). :class:`Prompts` holds prompts over
one vocabulary and validates them like samples: token ids in range, or names of a named
vocabulary; a prompt given as one string is its tokens separated by spaces.

>>> from symattn.data import Vocabulary
>>> ps = Prompts.from_sequences(["a b a c", ["c", "b"]], vocab=Vocabulary.from_names("abc"))
>>> ps[0].tokens, ps[0].query, ps[0].counts()
((0, 1, 0, 2), 2, ((0, 1, 2), (2, 1, 1)))
>>> ps.text(1)
'c b'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence, Sized
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import overload

import numpy as np

from symattn._validate import as_int
from symattn.data import Vocabulary
from symattn.errors import InvalidInput

__all__ = ["MAX_PROMPT_LENGTH", "Prompt", "PromptLike", "Prompts"]

MAX_PROMPT_LENGTH = 1_000_000
"""Longest prompt accepted (tokens); generation may extend a prompt beyond it."""


@dataclass(frozen=True)
class Prompt:
    """A label-free token sequence (ids); the query is the last token.

    Range checks need the vocabulary: :class:`Prompts` and :meth:`Prompt.parse` do them.

    >>> p = Prompt((3, 1, 3))
    >>> p.query, len(p), p.counts()
    (3, 3, ((1, 3), (1, 2)))
    """

    tokens: tuple[int, ...]

    def __post_init__(self) -> None:
        if isinstance(self.tokens, str | bytes) or not isinstance(self.tokens, Iterable):
            raise InvalidInput(f"prompt tokens {self.tokens!r} must be a sequence of token ids")
        _refuse_unordered(self.tokens)
        if isinstance(self.tokens, Sized):
            _check_length(len(self.tokens))
        tokens = tuple(as_int(t, "token") for t in self.tokens)
        if not tokens:
            raise InvalidInput("a prompt needs at least one token (its query, the last token)")
        _check_length(len(tokens))
        object.__setattr__(self, "tokens", tokens)

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def query(self) -> int:
        """The query token :math:`k = x_T` (the last token).

        >>> Prompt((0, 2)).query
        2
        """
        return self.tokens[-1]

    def counts(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The distinct tokens (ascending) and how often each occurs.

        >>> Prompt((2, 0, 2)).counts()
        ((0, 2), (1, 2))
        """
        tally = sorted(Counter(self.tokens).items())
        return tuple(t for t, _ in tally), tuple(c for _, c in tally)

    def extend(self, token: int) -> Prompt:
        """This prompt with ``token`` appended (it becomes the query).

        >>> Prompt((0, 1)).extend(0).tokens
        (0, 1, 0)
        """
        return Prompt((*self.tokens, token))

    def names(self, vocab: Vocabulary) -> tuple[str, ...]:
        """The token names under ``vocab``.

        >>> Prompt((1, 0)).names(Vocabulary.from_names(["x", "y"]))
        ('y', 'x')
        """
        return tuple(vocab.name(t) for t in self.tokens)

    @classmethod
    def parse(cls, value: PromptLike, vocab: Vocabulary) -> Prompt:
        """A prompt from ``value``: a Prompt, a string of space-separated names, names or ids.

        Names are resolved in ``vocab`` (the ids of a default vocabulary are its names, so
        ``"0 2 1"`` works there); integers are ids. Every id is checked against ``vocab``.

        >>> v = Vocabulary.from_names(["a", "b"])
        >>> Prompt.parse("b a", v).tokens, Prompt.parse([1, "a"], v).tokens
        ((1, 0), (1, 0))
        >>> Prompt.parse("c", v)
        Traceback (most recent call last):
        ...
        symattn.errors.InvalidInput: unknown token name 'c'; the vocabulary has 2 names such as ['a', 'b']
        """
        if not isinstance(vocab, Vocabulary):
            raise InvalidInput(f"vocab must be a Vocabulary, got {type(vocab).__name__}")
        if isinstance(value, Prompt):
            tokens: Sequence[int | str | np.integer] = value.tokens
        elif isinstance(value, str):
            tokens = value.split()
            if not tokens:
                raise InvalidInput(
                    f"prompt {value!r} names no token; write its tokens separated by spaces, e.g. 'a b c'"
                )
        elif isinstance(value, bytes) or not isinstance(value, Iterable):
            raise InvalidInput(
                f"prompt {value!r} must be a string of token names, a list of names or ids, or a Prompt"
            )
        else:
            _refuse_unordered(value)
            tokens = list(value)
        ids = [vocab.index(t) if isinstance(t, str) else as_int(t, "token") for t in tokens]
        for position, t in enumerate(ids):
            if not 0 <= t < vocab.size:
                raise InvalidInput(
                    f"token {t} at position {position} is out of range for K={vocab.size} "
                    f"(ids 0..{vocab.size - 1})"
                )
        return cls(tuple(ids))


PromptLike = Prompt | str | Sequence[int | str]
"""What the automaton accepts as one prompt: a :class:`Prompt`, ``"a b c"``, names or ids."""


@dataclass(frozen=True, eq=False)
class Prompts(Sequence[Prompt]):
    """Validated prompts over one vocabulary.

    Attributes
    ----------
    prompts : tuple of Prompt
        The prompts, at least one.
    vocab : Vocabulary
        The vocabulary every token id lies in (used for names).

    >>> ps = Prompts.from_sequences([[0, 1], "1"], vocab=2)
    >>> len(ps), [p.tokens for p in ps]
    (2, [(0, 1), (1,)])
    """

    prompts: tuple[Prompt, ...]
    vocab: Vocabulary

    def __post_init__(self) -> None:
        if not isinstance(self.vocab, Vocabulary):
            raise InvalidInput(f"vocab must be a Vocabulary, got {type(self.vocab).__name__}")
        prompts = tuple(self.prompts)
        if not prompts:
            raise InvalidInput("no prompt given; pass at least one prompt such as 'a b c'")
        for i, p in enumerate(prompts):
            if not isinstance(p, Prompt):
                raise InvalidInput(f"prompt {i} is a {type(p).__name__}, not a Prompt")
            bad = [t for t in p.tokens if not 0 <= t < self.vocab.size]
            if bad:
                raise InvalidInput(
                    f"prompt {i}: token {bad[0]} is out of range for K={self.vocab.size} "
                    f"(ids 0..{self.vocab.size - 1})"
                )
        object.__setattr__(self, "prompts", prompts)

    @classmethod
    def from_sequences(
        cls, sequences: Iterable[PromptLike], *, vocab: Vocabulary | int | Sequence[str]
    ) -> Prompts:
        """Parse each sequence with :meth:`Prompt.parse`; errors name the prompt index.

        >>> Prompts.from_sequences(["x y"], vocab=["x", "y"])[0].tokens
        (0, 1)
        """
        voc = _vocabulary(vocab)
        if isinstance(sequences, str | bytes | Prompt) or not isinstance(sequences, Iterable):
            raise InvalidInput(
                f"sequences must be a list of prompts, got {type(sequences).__name__}; "
                "wrap a single prompt in a list"
            )
        parsed = []
        for i, value in enumerate(sequences):
            try:
                parsed.append(Prompt.parse(value, voc))
            except InvalidInput as exc:
                raise InvalidInput(f"prompt {i}: {exc}") from None
        return cls(tuple(parsed), voc)

    def __len__(self) -> int:
        return len(self.prompts)

    @overload
    def __getitem__(self, i: int) -> Prompt: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[Prompt]: ...

    def __getitem__(self, i: int | slice) -> Prompt | Sequence[Prompt]:
        return self.prompts[i]

    def __iter__(self) -> Iterator[Prompt]:
        return iter(self.prompts)

    def text(self, i: int) -> str:
        """Prompt ``i`` as space-separated names.

        >>> Prompts.from_sequences([[1, 0]], vocab=["p", "q"]).text(0)
        'q p'
        """
        return " ".join(self.prompts[i].names(self.vocab))


def _check_length(length: int) -> None:
    if length > MAX_PROMPT_LENGTH:
        raise InvalidInput(
            f"a prompt of {length:,} tokens is longer than {MAX_PROMPT_LENGTH:,}; split it or shorten it"
        )


def _refuse_unordered(value: object) -> None:
    """A set or a mapping has no order, so it has no last token (no query)."""
    if isinstance(value, AbstractSet | Mapping):
        raise InvalidInput(
            f"prompt {value!r} is a {type(value).__name__}, which has no order (the query is the last "
            "token); pass a list or a tuple"
        )


def _vocabulary(vocab: object) -> Vocabulary:
    if isinstance(vocab, Vocabulary):
        return vocab
    if isinstance(vocab, int | np.integer) and not isinstance(vocab, bool):
        return Vocabulary(int(vocab))
    if isinstance(vocab, str | bytes) or not isinstance(vocab, Iterable):
        raise InvalidInput(f"vocab={vocab!r} is not a vocabulary; pass a Vocabulary, K or a list of names")
    return Vocabulary.from_names(vocab)  # type: ignore[arg-type]
