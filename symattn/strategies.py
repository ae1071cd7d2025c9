r"""Hypothesis strategies for property tests about attention's implicit bias (public API).

Every strategy takes keyword-only bounds; a bound may be a value, and ``embeddings`` may be
a value or a strategy. Impossible bounds raise :class:`hypothesis.errors.InvalidArgument`
when the strategy is drawn from.

Everything is drawn with Hypothesis (no NumPy generator inside a draw except for the seeded
random embedding kinds), and drawn so that Hypothesis's shrinker moves along the graph
structure: samples, edges, graphs and extra samples are list elements it can delete, a label is
drawn as a position of its own sequence, and a vocabulary grows only with the tokens in use.
Dropping a sample, an edge or a token therefore leaves a realizable dataset, and a failing
example shrinks to few samples, short sequences and few tokens (``docs/conjectures.md``).

>>> from hypothesis import given, settings
>>> from symattn.graphs import priority_graphs
>>> @settings(max_examples=5, derandomize=True, database=None)
... @given(realised_datasets(cyclic=True))
... def test_some_graph_is_cyclic(ds):
...     assert priority_graphs(ds).cyclic
>>> test_some_graph_is_cyclic()
"""

from __future__ import annotations

import networkx as nx
import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from symattn.data import Dataset, Vocabulary
from symattn.embeddings import EmbeddingKind, Embeddings
from symattn.graphs import realisable_graph, realise
from symattn.prompts import Prompt

__all__ = [
    "datasets",
    "embeddings_for",
    "graph_families",
    "prompts_for",
    "realised_datasets",
    "token_graphs",
    "weights_for",
]


def _check_bounds(name: str, low: int, high: int, floor: int = 0) -> None:
    for label, value in ((f"min_{name}", low), (f"max_{name}", high)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidArgument(f"{label}={value!r} must be an integer")
    if low < floor:
        raise InvalidArgument(f"min_{name}={low} must be at least {floor}")
    if high < low:
        raise InvalidArgument(f"max_{name}={high} is below min_{name}={low}")


def _check_family_bounds(max_queries: int, min_tokens: int, max_tokens: int, cyclic: bool | None) -> None:
    _check_bounds("tokens", min_tokens, max_tokens, floor=1)
    _check_bounds("queries", 1, max_queries, floor=1)
    if cyclic and max_tokens < 2:
        raise InvalidArgument(f"cyclic=True needs max_tokens >= 2 (a cycle has two tokens), got {max_tokens}")


def _draw_graph(draw: st.DrawFn, tokens: list[int], query: int, cyclic: bool | None) -> nx.DiGraph:
    """A realisable TPG on ``tokens`` (which include ``query``)."""
    others = [t for t in tokens if t != query]
    graph = nx.DiGraph()
    graph.add_node(query)
    if cyclic is False:
        order = [*draw(st.permutations(others)), query]
        pairs = [(a, b) for i, a in enumerate(order) for b in order[i + 1 :]]
    else:
        pairs = [(a, b) for a in tokens for b in tokens if a != b]
    if pairs:
        chosen = draw(st.lists(st.sampled_from(pairs), max_size=2 * len(tokens), unique=True))
        graph.add_edges_from(chosen)
    if cyclic:
        a, b = draw(st.lists(st.sampled_from(tokens), min_size=2, max_size=2, unique=True))
        graph.add_edges_from([(a, b), (b, a)])
    for node in others:
        graph.add_node(node)
    return realisable_graph(graph, query)


@st.composite
def token_graphs(
    draw: st.DrawFn, *, min_tokens: int = 1, max_tokens: int = 6, cyclic: bool | None = None
) -> tuple[int, nx.DiGraph]:
    """A query token and a realisable token-priority graph on tokens ``0..m-1``.

    ``cyclic=True`` guarantees a cycle (needs ``min_tokens >= 2``), ``cyclic=False`` a DAG,
    ``None`` either. The graph is closed under :func:`~symattn.graphs.realisable_graph`, so
    :func:`~symattn.graphs.realise` accepts it.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5, derandomize=True, database=None)
    ... @given(token_graphs(max_tokens=3, cyclic=True))
    ... def check(pair):
    ...     query, graph = pair
    ...     assert query in graph and 2 <= graph.number_of_nodes() <= 3
    ...     assert not nx.is_directed_acyclic_graph(graph)
    >>> check()
    """
    _check_bounds("tokens", min_tokens, max_tokens, floor=1)
    if cyclic and max_tokens < 2:
        raise InvalidArgument(f"cyclic=True needs max_tokens >= 2 (a cycle has two tokens), got {max_tokens}")
    m = draw(st.integers(max(min_tokens, 2 if cyclic else 1), max_tokens))
    query = draw(st.integers(0, m - 1))
    return query, _draw_graph(draw, list(range(m)), query, cyclic)


@st.composite
def graph_families(
    draw: st.DrawFn,
    *,
    max_queries: int = 3,
    min_tokens: int = 1,
    max_tokens: int = 6,
    vocab_size: int | None = None,
    cyclic: bool | None = None,
) -> dict[int, nx.DiGraph]:
    """One realisable graph per query token, over a shared vocabulary of ``vocab_size`` tokens.

    ``cyclic=True``: at least one graph has a cycle; ``False``: all are acyclic.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5, derandomize=True, database=None)
    ... @given(graph_families(max_queries=2, max_tokens=3, vocab_size=4, cyclic=False))
    ... def check(family):
    ...     assert 1 <= len(family) <= 2 and all(nx.is_directed_acyclic_graph(g) for g in family.values())
    >>> check()
    """
    _check_family_bounds(max_queries, min_tokens, max_tokens, cyclic)
    if vocab_size is not None and (isinstance(vocab_size, bool) or not isinstance(vocab_size, int)):
        raise InvalidArgument(f"vocab_size={vocab_size!r} must be an integer or None")
    K = vocab_size if vocab_size is not None else max(max_tokens, max_queries)
    if max(max_tokens, max_queries) > K:
        raise InvalidArgument(
            f"vocab_size={K} is below max_tokens={max_tokens} or max_queries={max_queries}; "
            "raise vocab_size or lower the maxima"
        )
    n_queries = draw(st.integers(1, max_queries))
    queries = draw(st.lists(st.integers(0, K - 1), min_size=n_queries, max_size=n_queries, unique=True))
    family: dict[int, nx.DiGraph] = {}
    for position, k in enumerate(queries):
        want_cycle = cyclic if cyclic is not True else (position == 0 or None)
        low = max(min_tokens, 2 if want_cycle else 1)
        m = draw(st.integers(low, max(low, max_tokens)))
        others = draw(
            st.lists(st.integers(0, K - 1).filter(k.__ne__), min_size=m - 1, max_size=m - 1,
                     unique=True)
        )
        family[k] = _draw_graph(draw, [k, *others], k, want_cycle)
    return family


def _embeddings_and_vocab(
    draw: st.DrawFn, spec: Embeddings | EmbeddingKind | str | SearchStrategy | None, used: int, room: int
) -> tuple[Embeddings | None, int]:
    """The embeddings and the vocabulary size :math:`K` of a dataset using tokens ``0..used-1``.

    A fixed value or a strategy of embeddings decides :math:`K` (its size, at least ``room``);
    otherwise :math:`K` is ``used`` plus a drawn number of unused tokens (at most up to
    ``room``), which shrinks to none.
    """
    value: Embeddings | EmbeddingKind | str | None = draw(spec) if isinstance(spec, SearchStrategy) else spec
    if isinstance(value, Embeddings):
        return value, value.size
    K = used + draw(st.integers(0, max(0, room - used)))
    return (None if value is None else draw(embeddings_for(K, kind=value))), K


@st.composite
def _extra_samples(draw: st.DrawFn, body: list[int], label: int) -> list[int]:
    """One more sample of ``label`` (without its query): a subset of ``body``, maybe repeated, shuffled."""
    keep = draw(st.lists(st.sampled_from(body), unique=True)) if body else []
    copies = draw(st.lists(st.sampled_from(keep), max_size=2)) if keep else []
    return draw(st.permutations(keep + copies + [label] * draw(st.integers(1, 2))))


@st.composite
def realised_datasets(
    draw: st.DrawFn,
    *,
    max_queries: int = 3,
    min_tokens: int = 1,
    max_tokens: int = 6,
    cyclic: bool | None = None,
    max_repeats: int = 3,
    embeddings: Embeddings | EmbeddingKind | str | SearchStrategy | None = None,
) -> Dataset:
    """A dataset whose token-priority graphs are exactly a drawn :func:`graph_families` family.

    On top of :func:`~symattn.graphs.realise`'s one sample per label, each label gets up to
    ``max_repeats - 1`` more samples with a random subset of its out-neighbours, repeated
    tokens and shuffled positions (the query stays last), so counts and lengths vary while the
    graphs stay the same. ``embeddings``: ``None`` for one-hot, or a kind, value or strategy.
    The vocabulary is the tokens in use plus a few unused ones (at most
    ``max(max_tokens, max_queries)`` in all), unless an embeddings value or strategy fixes it.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5, derandomize=True, database=None)
    ... @given(realised_datasets(max_queries=1, embeddings="orthonormal"))
    ... def check(ds):
    ...     assert np.unique(ds.queries).size == 1 and ds.embeddings.is_orthonormal
    >>> check()
    """
    _check_bounds("repeats", 1, max_repeats, floor=1)
    _check_family_bounds(max_queries, min_tokens, max_tokens, cyclic)
    family = draw(graph_families(max_queries=max_queries, min_tokens=min_tokens, max_tokens=max_tokens,
                                 cyclic=cyclic))
    used = 1 + max(max(g.nodes) for g in family.values())
    emb, K = _embeddings_and_vocab(draw, embeddings, used, max(max_tokens, max_queries))
    if used > K:
        raise InvalidArgument(f"embeddings of {K} tokens cannot embed the {used} tokens drawn; "
                              "give embeddings of max(max_tokens, max_queries) tokens or more")
    samples: list[tuple[list[int], int]] = []
    for sample in realise(family, vocab=K):
        k, label = sample.tokens[-1], sample.label
        body = [t for t in sample.tokens[:-1] if t != label]
        samples.append((list(sample.tokens), label))
        extra = draw(st.lists(_extra_samples(body, label), max_size=max_repeats - 1))
        samples.extend(([*bag, k], label) for bag in extra)
    order = draw(st.permutations(range(len(samples))))
    return Dataset.from_samples([samples[i] for i in order], vocab=Vocabulary(K), embeddings=emb)


@st.composite
def _samples(draw: st.DrawFn, K: int, pool: list[int], min_length: int, max_length: int) -> tuple:
    """One sample: a body, a query from ``pool``, and the label as a position of the sequence."""
    body = draw(st.lists(st.integers(0, K - 1), min_size=min_length - 1, max_size=max_length - 1))
    tokens = [*body, draw(st.sampled_from(pool))]
    return tokens, tokens[draw(st.integers(0, len(tokens) - 1))]


@st.composite
def datasets(
    draw: st.DrawFn,
    *,
    min_vocab: int = 2,
    max_vocab: int = 6,
    min_samples: int = 1,
    max_samples: int = 12,
    min_length: int = 1,
    max_length: int = 6,
    max_queries: int | None = None,
    embeddings: Embeddings | EmbeddingKind | str | SearchStrategy | None = None,
) -> Dataset:
    """A uniformly random realizable dataset: random tokens, the label drawn from the sequence.

    ``max_queries`` caps the number of distinct query tokens (few queries make rich graphs).
    Samples are list elements and a label is a position of its own sequence, so the shrinker
    can drop samples and tokens and the dataset stays realizable.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5, derandomize=True, database=None)
    ... @given(datasets(max_vocab=4, max_queries=2))
    ... def check(ds):
    ...     assert ds.K <= 4 and np.unique(ds.queries).size <= 2
    >>> check()
    """
    _check_bounds("vocab", min_vocab, max_vocab, floor=1)
    _check_bounds("samples", min_samples, max_samples, floor=1)
    _check_bounds("length", min_length, max_length, floor=1)
    if max_queries is not None:
        _check_bounds("queries", 1, max_queries, floor=1)
    K = draw(st.integers(min_vocab, max_vocab))
    pool_size = K if max_queries is None else max(1, min(K, max_queries))
    pool = draw(st.lists(st.integers(0, K - 1), min_size=pool_size, max_size=pool_size, unique=True))
    samples = draw(st.lists(_samples(K, pool, min_length, max_length), min_size=min_samples,
                            max_size=max_samples))
    value: Embeddings | EmbeddingKind | str | None = (
        draw(embeddings) if isinstance(embeddings, SearchStrategy) else embeddings
    )
    if value is not None and not isinstance(value, Embeddings):
        value = draw(embeddings_for(K, kind=value))
    return Dataset.from_samples(samples, vocab=K, embeddings=value)


@st.composite
def embeddings_for(
    draw: st.DrawFn, K: int, *, kind: EmbeddingKind | str = EmbeddingKind.ONEHOT, dim: int | None = None
) -> Embeddings:
    """Embeddings of ``K`` tokens of the given ``kind`` (random kinds get a drawn seed).

    ``given`` draws exact small-integer rows that are linearly independent (``dim >= K``): the
    one-hot rows plus integers in ``[-2, 2]``, entry by entry with Hypothesis, so that they
    shrink towards the one-hot rows.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5, derandomize=True, database=None)
    ... @given(embeddings_for(3, kind="given"))
    ... def check(E):
    ...     assert E.size == 3 and E.is_exact and E.is_independent
    >>> check()
    """
    try:
        kind = EmbeddingKind(kind) if isinstance(kind, str) else kind
    except ValueError:
        raise InvalidArgument(f"kind={kind!r}; choose one of {[k.value for k in EmbeddingKind]}") from None
    if isinstance(K, bool) or not isinstance(K, int) or K < 1:
        raise InvalidArgument(f"K={K!r} must be a positive integer")
    d = K if dim is None else dim
    if kind in (EmbeddingKind.ORTHONORMAL, EmbeddingKind.GIVEN) and d < K:
        raise InvalidArgument(f"{kind.value} embeddings need dim >= K, got dim={d}, K={K}")
    if kind is EmbeddingKind.ONEHOT:
        return Embeddings.onehot(K)
    if kind is EmbeddingKind.ORTHONORMAL:
        return Embeddings.orthonormal(K, d, seed=draw(st.integers(0, 2**32 - 1)))
    if kind is EmbeddingKind.RANDOM_UNIT:
        return Embeddings.random_unit(K, d, seed=draw(st.integers(0, 2**32 - 1)))
    if kind is EmbeddingKind.EQUICORRELATED:
        return Embeddings.equicorrelated(K, draw(st.floats(-0.5 / max(K - 1, 1), 0.9)))
    # given: the one-hot rows plus small integers, drawn entry by entry so that they shrink to
    # the one-hot rows; dependent draws are rejected (rare: the identity part dominates).
    base = np.eye(K, d, dtype=np.int64)
    entries = st.lists(st.integers(-2, 2), min_size=K * d, max_size=K * d)
    shifts = draw(entries.filter(lambda v: np.linalg.matrix_rank(base + np.reshape(v, (K, d))) == K))
    return Embeddings.given((base + np.reshape(shifts, (K, d))).tolist())


@st.composite
def prompts_for(
    draw: st.DrawFn,
    dataset: Dataset,
    *,
    min_length: int = 1,
    max_length: int = 6,
    seen_query: bool | None = None,
) -> Prompt:
    """A random prompt over ``dataset``'s vocabulary (label-free; the query is the last token).

    ``seen_query=True`` draws the query among the training queries, ``False`` among the other
    tokens (``InvalidArgument`` when every token is a query), ``None`` either (training queries
    three times as often). The other tokens are uniform over the vocabulary, so prompts mix
    tokens of :math:`G_k` with tokens absent from it; they shrink towards shorter prompts and
    smaller ids.

    >>> from hypothesis import given, settings
    >>> ds = Dataset.from_samples([([0, 1], 0)], vocab=3)
    >>> @settings(max_examples=5, derandomize=True, database=None)
    ... @given(prompts_for(ds, max_length=3, seen_query=True))
    ... def check(p):
    ...     assert p.query == 1 and 1 <= len(p) <= 3
    >>> check()
    """
    if not isinstance(dataset, Dataset):
        raise InvalidArgument(f"dataset={dataset!r} must be a Dataset")
    _check_bounds("length", min_length, max_length, floor=1)
    if seen_query is not None and not isinstance(seen_query, bool):
        raise InvalidArgument(f"seen_query={seen_query!r} must be True, False or None")
    K = dataset.K
    queries = sorted(set(dataset.queries.tolist()))
    others = sorted(set(range(K)) - set(queries))
    if seen_query is False and not others:
        raise InvalidArgument("seen_query=False needs a token that is no training query; every token is one")
    if seen_query is True or (seen_query is None and (not others or draw(st.integers(0, 3)) > 0)):
        query = draw(st.sampled_from(queries))
    else:
        query = draw(st.sampled_from(others))
    body = draw(st.lists(st.integers(0, K - 1), min_size=min_length - 1, max_size=max_length - 1))
    return Prompt((*body, query))


@st.composite
def weights_for(draw: st.DrawFn, dataset: Dataset, *, max_abs: float = 4.0) -> np.ndarray:
    """A weight matrix :math:`W` (shape (d, d)) for ``dataset``, entries in ``[-max_abs, max_abs]``.

    Entries are drawn one by one as floats, so a failing ``W`` shrinks towards zero.

    >>> from hypothesis import given, settings
    >>> ds = Dataset.from_samples([([0, 1], 0)], vocab=2)
    >>> @settings(max_examples=5, derandomize=True, database=None)
    ... @given(weights_for(ds, max_abs=1.0))
    ... def check(W):
    ...     assert W.shape == (2, 2) and np.abs(W).max() <= 1.0
    >>> check()
    """
    if not isinstance(dataset, Dataset):
        raise InvalidArgument(f"weights_for needs a Dataset, got {type(dataset).__name__}")
    if isinstance(max_abs, bool) or not isinstance(max_abs, int | float) or not 0 < max_abs < np.inf:
        raise InvalidArgument(f"max_abs={max_abs!r} must be a positive finite number")
    d = dataset.embeddings.dim
    entries = st.floats(-max_abs, max_abs, allow_nan=False, allow_subnormal=False)
    return np.reshape(draw(st.lists(entries, min_size=d * d, max_size=d * d)), (d, d))
