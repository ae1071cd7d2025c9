r"""Vocabularies, samples and datasets, validated on construction, with a compressed view.

A sample is a token sequence :math:`x_1..x_T` with a label :math:`y` that must occur in it; its
query is the last token :math:`k = x_T`. Because all copies of a token share one score, a
sample's loss depends only on ``(k, y, distinct tokens, counts)`` (docs/theory.md §2): the
:class:`CountsView` holds exactly that, in flat arrays.

>>> ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1), ([1, 1, 2], 2)], vocab=3)
>>> len(ds), ds.queries.tolist()
(3, [2, 2, 2])
>>> c = ds.counts
>>> c.token[c.indptr[2]:c.indptr[3]].tolist(), c.count[c.indptr[2]:c.indptr[3]].tolist()
([1, 2], [2, 1])
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from symattn._arrays import range_indices
from symattn._validate import as_int, is_integer
from symattn.embeddings import Embeddings
from symattn.errors import InvalidInput

__all__ = ["MAX_VOCAB", "CountsView", "Dataset", "Sample", "Vocabulary"]

logger = logging.getLogger("symattn")

MAX_VOCAB = 1_000_000
"""Largest vocabulary symattn accepts (edge keys ``(k, i, j)`` are packed into one int64)."""


def _frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class Vocabulary:
    """``size`` tokens with ids ``0..size-1`` and names (default: the ids as strings).

    >>> v = Vocabulary.from_names(["the", "cat", "sat"])
    >>> v.index("cat"), v.name(2), v.is_default
    (1, 'sat', False)
    >>> Vocabulary(2).names
    ('0', '1')
    """

    size: int
    names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not is_integer(self.size):
            raise InvalidInput(f"vocabulary size {self.size!r} must be an integer")
        if not 1 <= self.size <= MAX_VOCAB:
            raise InvalidInput(
                f"vocabulary size K={self.size} must be between 1 and {MAX_VOCAB:,}"
            )
        object.__setattr__(self, "size", int(self.size))
        if not self.names:
            object.__setattr__(self, "names", tuple(str(i) for i in range(self.size)))
            return
        names = tuple(self.names)
        if len(names) != self.size:
            raise InvalidInput(f"{len(names)} names given for a vocabulary of K={self.size}")
        if not _names_pass(names):
            _check_names_one_by_one(names)
        object.__setattr__(self, "names", names)

    @classmethod
    def from_names(cls, names: Iterable[str]) -> Vocabulary:
        """A vocabulary whose token ``i`` is called ``names[i]``.

        >>> Vocabulary.from_names(['x', 'y']).names
        ('x', 'y')
        """
        names = tuple(names)
        if not names:
            raise InvalidInput("a vocabulary needs at least one token name")
        return cls(len(names), names)

    @cached_property
    def ids(self) -> dict[str, int]:
        """The id of every name (built once, on first use).

        >>> Vocabulary.from_names(["a", "b"]).ids
        {'a': 0, 'b': 1}
        """
        return {name: i for i, name in enumerate(self.names)}

    @property
    def is_default(self) -> bool:
        """True when the names are just the ids (files then store the vocabulary as ``K``).

        >>> Vocabulary(2).is_default, Vocabulary.from_names(['a']).is_default
        (True, False)
        """
        return all(name == str(i) for i, name in enumerate(self.names))

    def __len__(self) -> int:
        return self.size

    def name(self, token: int) -> str:
        """The name of token id ``token``.

        >>> Vocabulary.from_names(["a", "b"]).name(1)
        'b'
        """
        token = as_int(token, "token")
        if not 0 <= token < self.size:
            raise InvalidInput(f"token {token} is out of range for K={self.size} (ids 0..{self.size - 1})")
        return self.names[token]

    def index(self, name: str) -> int:
        """The id of the token called ``name``.

        >>> Vocabulary.from_names(["a", "b"]).index("b")
        1
        """
        try:
            return self.ids[name]
        except KeyError:
            raise InvalidInput(
                f"unknown token name {name!r}; the vocabulary has {self.size} names such as "
                f"{list(self.names[:5])}"
            ) from None


_FORBIDDEN = re.compile("[#\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]|->|(?:^|\n)vocab:|[^\\S\n]")
"""What :func:`_check_name` refuses, over names joined by newlines: ``#``, control characters
(category Cc) and surrogates (Cs) other than the joining newline, ``->``, a leading ``vocab:``, and
whitespace other than the newline."""


def _names_pass(names: tuple[object, ...]) -> bool:
    """True when every name is a distinct non-empty string that :func:`_check_name` accepts: one
    regular-expression scan of the joined names (a million names in well under a second)."""
    if not all(type(name) is str for name in names) or min(map(len, names)) == 0:
        return False
    joined = "\n".join(names)
    if joined.count("\n") != len(names) - 1 or _FORBIDDEN.search(joined):
        return False
    return len(set(names)) == len(names)


def _check_names_one_by_one(names: tuple[object, ...]) -> None:
    """Raise for the first name that :func:`_check_name` refuses or that repeats an earlier one (the
    authority wherever the one scan of :func:`_names_pass` does not accept at once)."""
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        _check_name(name, i)
        if name in seen:
            raise InvalidInput(
                f"duplicate token name {name!r} at positions {seen[name]} and {i}; token names must be unique"
            )
        seen[name] = i


def _check_name(name: object, position: int) -> None:
    """Refuse names the text form could not write back (whitespace, ``#``, ``->``, a leading
    ``vocab:``) and names holding control characters (which would reach terminals raw)."""
    if not isinstance(name, str) or not name:
        raise InvalidInput(f"token name at position {position} is {name!r}; names are non-empty strings")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in name):
        raise InvalidInput(
            f"token name {name!r} at position {position} holds a control character; names are printable text"
        )
    if any(ch.isspace() for ch in name) or "#" in name or "->" in name or name.startswith("vocab:"):
        raise InvalidInput(
            f"token name {name!r} at position {position} contains whitespace, '#' or '->', or starts with "
            "'vocab:'; the text format could not write it back, so rename the token"
        )


@dataclass(frozen=True)
class Sample:
    """One training sample: ``tokens`` (length :math:`T \\ge 1`) and its ``label``.

    The query is the last token. Range and realizability are checked by :class:`Dataset`,
    which knows the vocabulary.

    >>> Sample([3, 1, 2], 1).query
    2
    """

    tokens: tuple[int, ...]
    label: int

    def __post_init__(self) -> None:
        tokens = tuple(as_int(t, "token") for t in self.tokens)
        if not tokens:
            raise InvalidInput("a sample needs at least one token (the query)")
        object.__setattr__(self, "tokens", tokens)
        object.__setattr__(self, "label", as_int(self.label, "label"))

    @property
    def query(self) -> int:
        """The query token :math:`k = x_T`.

        >>> Sample((0, 1), 0).query
        1
        """
        return self.tokens[-1]


@dataclass(frozen=True, eq=False)
class CountsView:
    """The compressed form of a dataset: one entry per (sample, distinct token).

    Attributes
    ----------
    query, label : numpy.ndarray, shape (n,)
        Query token :math:`k` and label :math:`y` of each sample.
    indptr : numpy.ndarray, shape (n + 1,)
        Sample ``i`` owns the entries ``indptr[i]:indptr[i + 1]`` (tokens ascending).
    token, count : numpy.ndarray, shape (nnz,)
        The distinct tokens of each sample and how often each occurs.
    sample : numpy.ndarray, shape (nnz,)
        The sample each entry belongs to.
    label_entry : numpy.ndarray, shape (n,)
        Index of the entry holding each sample's label.
    """

    query: np.ndarray
    label: np.ndarray
    indptr: np.ndarray
    token: np.ndarray
    count: np.ndarray
    sample: np.ndarray
    label_entry: np.ndarray

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.query.shape[0])

    @property
    def nnz(self) -> int:
        """Number of (sample, distinct token) entries.

        >>> Dataset.from_samples([([0, 0, 1], 0)], vocab=2).counts.nnz
        2
        """
        return int(self.token.shape[0])


@dataclass(frozen=True, eq=False)
class Dataset:
    """A validated dataset of ``n`` samples, stored as flat arrays.

    Parameters
    ----------
    tokens : numpy.ndarray, shape (total,)
        All sequences concatenated.
    offsets : numpy.ndarray, shape (n + 1,)
        Sample ``i`` is ``tokens[offsets[i]:offsets[i + 1]]``.
    labels : numpy.ndarray, shape (n,)
        The labels.
    vocab : Vocabulary
        The vocabulary (its size :math:`K` bounds the token ids).
    embeddings : Embeddings, optional
        Token embeddings, one-hot by default.
    n_dropped : int
        How many unrealizable samples were dropped on construction (see ``drop_unrealizable``).

    Build datasets with :meth:`from_samples` or :meth:`from_arrays`; both validate: token ids
    in range, every label present in its own sequence, at least one sample, embeddings of the
    vocabulary's size. Errors name the sample index and the bad value.
    """

    tokens: np.ndarray = field(repr=False)
    offsets: np.ndarray = field(repr=False)
    labels: np.ndarray = field(repr=False)
    vocab: Vocabulary
    embeddings: Embeddings = field(default=None, repr=False)  # type: ignore[assignment]
    n_dropped: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.vocab, Vocabulary):
            raise InvalidInput(f"vocab must be a Vocabulary, got {type(self.vocab).__name__}")
        K = self.vocab.size
        embeddings = Embeddings.onehot(K) if self.embeddings is None else self.embeddings
        if not isinstance(embeddings, Embeddings):
            raise InvalidInput(f"embeddings must be an Embeddings, got {type(embeddings).__name__}")
        if embeddings.size != K:
            raise InvalidInput(
                f"embeddings have {embeddings.size} rows but the vocabulary has K={K} tokens"
            )
        tokens, offsets, labels = _check_structure(self.tokens, self.offsets, self.labels, K)
        for name, value in (("tokens", tokens), ("offsets", offsets), ("labels", labels)):
            object.__setattr__(self, name, _frozen(value))
        object.__setattr__(self, "embeddings", embeddings)
        missing = np.flatnonzero(~_label_present(tokens, offsets, labels))
        if missing.size:
            i = int(missing[0])
            raise InvalidInput(
                f"sample {i}: label={self.vocab.names[int(labels[i])]} is not in the sequence "
                f"{self._show(i)} ({missing.size} such sample(s)); a label must occur in its own "
                "sequence (pass drop_unrealizable=True to drop these samples instead)"
            )

    def _show(self, i: int, limit: int = 12) -> str:
        seq = self.tokens[self.offsets[i] : self.offsets[i + 1]]
        names = [self.vocab.names[t] for t in seq[:limit]]
        return "[" + ", ".join(names) + (", ...]" if len(seq) > limit else "]")

    # -- constructors -------------------------------------------------------------------
    @classmethod
    def from_arrays(
        cls,
        tokens: Sequence[int] | np.ndarray,
        offsets: Sequence[int] | np.ndarray,
        labels: Sequence[int] | np.ndarray,
        *,
        vocab: Vocabulary | int | Sequence[str] | None = None,
        embeddings: Embeddings | None = None,
        drop_unrealizable: bool = False,
    ) -> Dataset:
        """Build from flat arrays (see the class docstring); ``vocab`` may be ``K`` or names.

        With ``drop_unrealizable=True`` samples whose label is not in their sequence are
        dropped, counted in ``n_dropped`` and logged, instead of raising.

        >>> ds = Dataset.from_arrays([0, 1, 1, 0], [0, 2, 4], [1, 1], vocab=2)
        >>> ds[1]
        Sample(tokens=(1, 0), label=1)
        """
        tokens = _int_array(tokens, "tokens")
        offsets = _int_array(offsets, "offsets")
        labels = _int_array(labels, "labels")
        voc = _as_vocab(vocab, tokens, labels, embeddings)
        n_dropped = 0
        if drop_unrealizable:
            tokens, offsets, labels = _check_structure(tokens, offsets, labels, voc.size)
            keep = _label_present(tokens, offsets, labels)
            n_dropped = int((~keep).sum())
            if n_dropped == labels.size:
                raise InvalidInput(
                    f"all {n_dropped} samples have a label absent from their sequence; nothing is left"
                )
            if n_dropped:
                logger.info("dropped %d unrealizable sample(s) of %d", n_dropped, labels.size)
                tokens, offsets, labels = _select(tokens, offsets, labels, np.flatnonzero(keep))
        emb = Embeddings.onehot(voc.size) if embeddings is None else embeddings
        return cls(tokens, offsets, labels, voc, emb, n_dropped)

    @classmethod
    def from_samples(
        cls,
        samples: Iterable[Sample | tuple[Sequence[int | str], int | str]],
        *,
        vocab: Vocabulary | int | Sequence[str] | None = None,
        embeddings: Embeddings | None = None,
        drop_unrealizable: bool = False,
    ) -> Dataset:
        """Build from samples or ``(tokens, label)`` pairs; tokens by id, or by name with a named vocab.

        >>> ds = Dataset.from_samples([(["a", "b"], "a")], vocab=["a", "b"])
        >>> ds[0], ds.vocab.names
        (Sample(tokens=(0, 1), label=0), ('a', 'b'))
        """
        voc = vocab if isinstance(vocab, Vocabulary) else None
        if vocab is not None and voc is None and not isinstance(vocab, int | np.integer):
            voc = _as_vocab(vocab, np.zeros(0, np.int64), np.zeros(0, np.int64), embeddings)
        seqs: list[np.ndarray] = []
        labels: list[int] = []
        for i, item in enumerate(samples):
            tokens, label = (item.tokens, item.label) if isinstance(item, Sample) else _pair(item, i)
            try:
                seqs.append(np.array([_resolve(t, voc) for t in tokens], dtype=np.int64))
                labels.append(_resolve(label, voc, "label"))
            except InvalidInput as exc:
                raise InvalidInput(f"sample {i}: {exc}") from None
            if seqs[-1].size == 0:
                raise InvalidInput(f"sample {i} has no tokens; every sample needs at least its query")
        if not seqs:
            raise InvalidInput("a dataset needs at least one sample")
        offsets = np.concatenate([[0], np.cumsum([s.size for s in seqs])])
        return cls.from_arrays(
            np.concatenate(seqs), offsets, np.array(labels, dtype=np.int64),
            vocab=voc if voc is not None else vocab, embeddings=embeddings,
            drop_unrealizable=drop_unrealizable,
        )

    # -- access -------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def n(self) -> int:
        """Number of samples."""
        return len(self)

    @property
    def K(self) -> int:
        """Vocabulary size.

        >>> Dataset.from_samples([([0], 0)], vocab=4).K
        4
        """
        return self.vocab.size

    def __getitem__(self, i: int) -> Sample:
        i = as_int(i, "sample index")
        if not -len(self) <= i < len(self):
            raise IndexError(f"sample index {i} out of range for n={len(self)}")
        i %= len(self)
        seq = self.tokens[self.offsets[i] : self.offsets[i + 1]]
        return Sample(tuple(int(t) for t in seq), int(self.labels[i]))

    def __iter__(self) -> Iterator[Sample]:
        return (self[i] for i in range(len(self)))

    @property
    def lengths(self) -> np.ndarray:
        """Sequence lengths, shape (n,).

        >>> Dataset.from_samples([([0], 0), ([0, 1, 1], 1)], vocab=2).lengths.tolist()
        [1, 3]
        """
        return np.diff(self.offsets)

    @cached_property
    def queries(self) -> np.ndarray:
        """Query token of each sample, shape (n,).

        >>> Dataset.from_samples([([0], 0), ([0, 1], 1)], vocab=2).queries.tolist()
        [0, 1]
        """
        return _frozen(self.tokens[self.offsets[1:] - 1].copy())

    @cached_property
    def counts(self) -> CountsView:
        """The compressed (sample, distinct token, count) view; computed once.

        >>> c = Dataset.from_samples([([1, 0, 1], 1)], vocab=2).counts
        >>> c.token.tolist(), c.count.tolist(), c.label_entry.tolist()
        ([0, 1], [1, 2], [1])
        """
        n, K = len(self), self.K
        sample_of_pos = np.repeat(np.arange(n, dtype=np.int64), self.lengths)
        keys, counts = np.unique(sample_of_pos * K + self.tokens, return_counts=True)
        sample, token = np.divmod(keys, K)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(sample, minlength=n), out=indptr[1:])
        label_entry = np.flatnonzero(token == self.labels[sample])
        return CountsView(
            query=self.queries, label=self.labels, indptr=_frozen(indptr),
            token=_frozen(token), count=_frozen(counts.astype(np.int64)),
            sample=_frozen(sample), label_entry=_frozen(label_entry),
        )

    def subset(self, indices: Sequence[int] | np.ndarray) -> Dataset:
        """The dataset of the samples at ``indices`` (same vocabulary and embeddings).

        >>> ds = Dataset.from_samples([([0], 0), ([1], 1), ([0, 1], 0)], vocab=2)
        >>> [s.label for s in ds.subset([2, -2])]
        [0, 1]
        """
        idx = _int_array(indices, "subset indices")
        if idx.size == 0:
            raise InvalidInput("a subset needs at least one sample index")
        if np.any((idx < -len(self)) | (idx >= len(self))):
            raise InvalidInput(f"subset indices must lie in [-{len(self)}, {len(self)})")
        tokens, offsets, labels = _select(self.tokens, self.offsets, self.labels, idx % len(self))
        return Dataset(tokens, offsets, labels, self.vocab, self.embeddings)

    def with_embeddings(self, embeddings: Embeddings) -> Dataset:
        """The same samples with other embeddings.

        >>> ds = Dataset.from_samples([([0, 1], 0)], vocab=2)
        >>> ds.with_embeddings(Embeddings.equicorrelated(2, 0.5)).embeddings.kind.value
        'equicorrelated'
        """
        return Dataset(self.tokens, self.offsets, self.labels, self.vocab, embeddings)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dataset):
            return NotImplemented
        return (
            self.vocab.names == other.vocab.names
            and self.embeddings == other.embeddings
            and np.array_equal(self.offsets, other.offsets)
            and np.array_equal(self.tokens, other.tokens)
            and np.array_equal(self.labels, other.labels)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Dataset(n={len(self)}, K={self.K}, d={self.embeddings.dim}, "
            f"embeddings={self.embeddings.kind.value}, queries={np.unique(self.queries).size})"
        )




def _int_array(values: object, what: str) -> np.ndarray:
    try:
        array = np.array(values)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{what} cannot be read as an integer array: {exc}") from None
    if array.size == 0:
        return np.zeros(0, dtype=np.int64)
    if array.ndim != 1:
        raise InvalidInput(f"{what} must be one-dimensional, got shape {array.shape}")
    if array.dtype.kind not in "iu":
        raise InvalidInput(
            f"{what} must hold integer token ids or indices in the int64 range, got dtype {array.dtype} "
            f"(e.g. {_non_integer(array)!r}); floats and strings are not converted"
        )
    if array.dtype.kind == "u" and int(array.max()) > np.iinfo(np.int64).max:
        raise InvalidInput(f"{what} holds {int(array.max())}, beyond the int64 range of token ids")
    return array.astype(np.int64)


def _non_integer(array: np.ndarray) -> object:
    """The first element that is not an integer of the int64 range (the first element if none)."""
    for x in array.flat:
        x = x.item() if isinstance(x, np.generic) else x
        if type(x) is not int or not -(2**63) <= x < 2**63:
            return x
    return array.flat[0]


def _check_structure(
    tokens: np.ndarray, offsets: np.ndarray, labels: np.ndarray, K: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    tokens = _int_array(tokens, "tokens")
    offsets = _int_array(offsets, "offsets")
    labels = _int_array(labels, "labels")
    n = labels.shape[0]
    if n == 0:
        raise InvalidInput("a dataset needs at least one sample")
    if offsets.shape != (n + 1,) or offsets[0] != 0 or offsets[-1] != tokens.shape[0]:
        raise InvalidInput(
            f"offsets must have n + 1 = {n + 1} entries from 0 to len(tokens) = {tokens.shape[0]}"
        )
    lengths = np.diff(offsets)
    if np.any(lengths < 1):
        i = int(np.argmax(lengths < 1))
        raise InvalidInput(f"sample {i} has no tokens; every sample needs at least its query")
    bad = np.flatnonzero((tokens < 0) | (tokens >= K))
    if bad.size:
        pos = int(bad[0])
        i = int(np.searchsorted(offsets, pos, side="right") - 1)
        raise InvalidInput(
            f"sample {i}: token {int(tokens[pos])} at position {pos - int(offsets[i])} is out of "
            f"range for K={K} (ids 0..{K - 1}); fix the token or enlarge the vocabulary"
        )
    bad = np.flatnonzero((labels < 0) | (labels >= K))
    if bad.size:
        i = int(bad[0])
        raise InvalidInput(f"sample {i}: label {int(labels[i])} is out of range for K={K} (ids 0..{K - 1})")
    return tokens, offsets, labels


def _label_present(tokens: np.ndarray, offsets: np.ndarray, labels: np.ndarray) -> np.ndarray:
    hit = tokens == np.repeat(labels, np.diff(offsets))
    return np.logical_or.reduceat(hit, offsets[:-1])


def _select(
    tokens: np.ndarray, offsets: np.ndarray, labels: np.ndarray, idx: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lengths = np.diff(offsets)[idx]
    new_offsets = np.zeros(idx.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_offsets[1:])
    return tokens[range_indices(offsets[idx], lengths)], new_offsets, labels[idx]


def _as_vocab(
    vocab: Vocabulary | int | Sequence[str] | None,
    tokens: np.ndarray,
    labels: np.ndarray,
    embeddings: Embeddings | None,
) -> Vocabulary:
    if isinstance(vocab, Vocabulary):
        return vocab
    if vocab is None:
        if embeddings is not None:
            return Vocabulary(embeddings.size)
        top = max(int(tokens.max(initial=-1)), int(labels.max(initial=-1)))
        return Vocabulary(max(top + 1, 1))
    if isinstance(vocab, int | np.integer) and not isinstance(vocab, bool):
        return Vocabulary(int(vocab))
    if isinstance(vocab, str | bool) or not isinstance(vocab, Iterable):
        raise InvalidInput(f"vocab={vocab!r} is not a vocabulary; pass a Vocabulary, K or a list of names")
    return Vocabulary.from_names(vocab)


def _pair(item: object, i: int) -> tuple[Sequence[int | str], int | str]:
    if isinstance(item, tuple | list) and len(item) == 2 and not isinstance(item[0], str):
        return item[0], item[1]
    raise InvalidInput(f"sample {i} is {item!r}; expected a Sample or a (tokens, label) pair")


def _resolve(token: int | str, vocab: Vocabulary | None, what: str = "token") -> int:
    if isinstance(token, str):
        if vocab is None:
            raise InvalidInput(
                f"token name {token!r} given but the vocabulary has no names; pass vocab=[names]"
            )
        return vocab.index(token)
    return as_int(token, what)
