r"""Hypothesis strategies for property tests about attention's implicit bias (public API).

Every strategy takes keyword-only bounds; a bound may be a value, and ``embeddings`` may be
a value or a strategy. Impossible bounds raise :class:`hypothesis.errors.InvalidArgument`
when the strategy is drawn from.

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


def _resolve_embeddings(
    draw: st.DrawFn, spec: Embeddings | EmbeddingKind | str | SearchStrategy | None, K: int
) -> Embeddings | None:
    value: Embeddings | EmbeddingKind | str | None = draw(spec) if isinstance(spec, SearchStrategy) else spec
    if value is None or isinstance(value, Embeddings):
        return value
    return draw(embeddings_for(K, kind=value))


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
    K = max(max(max_tokens, max_queries), 1 + max(max(g.nodes) for g in family.values()))
    base = realise(family, vocab=K)
    samples: list[tuple[list[int], int]] = [(list(s.tokens), s.label) for s in base]
    for tokens, label in list(samples):
        k = tokens[-1]
        body = [t for t in tokens[:-1] if t != label]
        for _ in range(draw(st.integers(0, max_repeats - 1))):
            keep = draw(st.lists(st.sampled_from(body), unique=True)) if body else []
            copies = draw(st.lists(st.sampled_from(keep), max_size=2)) if keep else []
            bag = draw(st.permutations(keep + copies + [label] * draw(st.integers(1, 2))))
            samples.append(([*bag, k], label))
    order = draw(st.permutations(range(len(samples))))
    return Dataset.from_samples(
        [samples[i] for i in order], vocab=Vocabulary(K), embeddings=_resolve_embeddings(draw, embeddings, K)
    )


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
    n = draw(st.integers(min_samples, max_samples))
    samples = []
    for _ in range(n):
        T = draw(st.integers(min_length, max_length))
        body = draw(st.lists(st.integers(0, K - 1), min_size=T - 1, max_size=T - 1))
        tokens = [*body, draw(st.sampled_from(pool))]
        samples.append((tokens, draw(st.sampled_from(tokens))))
    return Dataset.from_samples(samples, vocab=K, embeddings=_resolve_embeddings(draw, embeddings, K))


@st.composite
def embeddings_for(
    draw: st.DrawFn, K: int, *, kind: EmbeddingKind | str = EmbeddingKind.ONEHOT, dim: int | None = None
) -> Embeddings:
    """Embeddings of ``K`` tokens of the given ``kind`` (random kinds get a drawn seed).

    ``given`` draws exact small-integer rows that are linearly independent (``dim >= K``).

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
    seed = draw(st.integers(0, 2**32 - 1))
    if kind is EmbeddingKind.ONEHOT:
        return Embeddings.onehot(K)
    if kind is EmbeddingKind.ORTHONORMAL:
        return Embeddings.orthonormal(K, d, seed=seed)
    if kind is EmbeddingKind.RANDOM_UNIT:
        return Embeddings.random_unit(K, d, seed=seed)
    if kind is EmbeddingKind.EQUICORRELATED:
        return Embeddings.equicorrelated(K, draw(st.floats(-0.5 / max(K - 1, 1), 0.9)))
    rng = np.random.default_rng(seed)
    while True:
        rows = rng.integers(-2, 3, size=(K, d))
        if np.linalg.matrix_rank(rows) == K:
            return Embeddings.given(rows.tolist())


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
