"""The benchmark instances, generated in one place (BENCHMARKS.md "Instances").

* :func:`uniform` - the standard generator: ``n`` samples of length ``T`` with uniform tokens
  (optionally from only ``used`` of the ``K`` tokens), the last token drawn from ``L`` query
  tokens, the label drawn from the sequence's own tokens. As ``n`` grows with few queries every
  graph becomes one SCC (no inequality left): report the counts beside every timing.
* :func:`planted` - per query token a random DAG of SCCs (levels ``depth`` 5-50 deep, 1-3 SCCs a
  level of sizes 1-20; every SCC has an edge to the next level and up to two deeper), realised
  by ``n`` samples of length ``T``: a sample picks an SCC, takes its labels round-robin, holds
  the label's successor on the SCC's cycle and otherwise tokens of the SCC and its children, and
  ends with the query. The graphs are then exactly the planted hierarchy (SCCs split further only
  where too few samples exist), rich at every size.
* :func:`deep_dag` - one query token over a planted DAG 400 levels deep (K = 10^4).
* :func:`training` - the training instance: :func:`uniform` with orthonormal embeddings, K = d.

Every generator takes an explicit ``seed`` and returns a validated :class:`symattn.Dataset`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from symattn import Dataset, Embeddings

Factory = Callable[[], Dataset]
"""A named benchmark configuration builds its instance on demand: ``(name, factory)`` pairs."""

__all__ = ["Factory", "Shape", "deep_dag", "planted", "shape", "training", "uniform"]


def uniform(K: int, n: int, T: int, L: int, *, used: int | None = None, seed: int = 0) -> Dataset:
    """Uniform tokens (from ``used`` of the ``K`` tokens when given), the query among ``L``."""
    rng = np.random.default_rng(seed)
    pool = np.sort(rng.choice(K, size=used, replace=False)) if used and used < K else np.arange(K)
    queries = rng.choice(pool, size=min(L, pool.size), replace=False)
    tokens = pool[rng.integers(0, pool.size, size=(n, T))]
    tokens[:, -1] = queries[rng.integers(0, queries.size, size=n)]
    labels = tokens[np.arange(n), rng.integers(0, T, size=n)]
    return Dataset.from_arrays(tokens.ravel(), np.arange(n + 1) * T, labels, vocab=K)


def _levels(rng: np.random.Generator, pool: list[int], depth: int, sizes: tuple[int, int],
            per_level: tuple[int, int]) -> list[list[np.ndarray]]:
    levels: list[list[np.ndarray]] = []
    for _ in range(depth):
        level = []
        for _ in range(int(rng.integers(per_level[0], per_level[1] + 1))):
            size = min(int(rng.integers(sizes[0], sizes[1] + 1)), len(pool))
            if size == 0:
                break
            level.append(np.array([pool.pop() for _ in range(size)], dtype=np.int64))
        if not level:
            break
        levels.append(level)
    return levels


def _children(rng: np.random.Generator, levels: list[list[np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """(members, members of the SCC and of its children) per SCC, top level first."""
    out = []
    for li, level in enumerate(levels):
        below = [s for lower in levels[li + 1:] for s in lower]
        for scc in level:
            kids = []
            if li + 1 < len(levels):
                kids.append(levels[li + 1][int(rng.integers(len(levels[li + 1])))])
                kids += [below[int(rng.integers(len(below)))] for _ in range(int(rng.integers(0, 3)))]
            out.append((scc, np.unique(np.concatenate([scc, *kids]))))
    return out


def _query_samples(rng: np.random.Generator, k: int, sccs: list[tuple[np.ndarray, np.ndarray]],
                   m: int, T: int) -> tuple[np.ndarray, np.ndarray]:
    """``m`` sequences of length ``T`` (ending with ``k``) and labels over one query's SCCs."""
    which = np.sort(rng.integers(0, len(sccs), size=m))
    tokens = np.empty((m, T), dtype=np.int64)
    labels = np.empty(m, dtype=np.int64)
    starts = np.searchsorted(which, np.arange(len(sccs) + 1))
    for s, (members, allowed) in enumerate(sccs):
        a, b = int(starts[s]), int(starts[s + 1])
        if a == b:
            continue
        rank = np.arange(b - a) % members.size
        labels[a:b] = members[rank]
        tokens[a:b, : T - 1] = allowed[rng.integers(0, allowed.size, size=(b - a, T - 1))]
        tokens[a:b, 0] = labels[a:b]
        if T > 2:
            tokens[a:b, 1] = members[(rank + 1) % members.size]
    tokens[:, -1] = k
    order = rng.permutation(T - 1)
    tokens[:, : T - 1] = tokens[:, order]
    return tokens, labels


def planted(K: int, n: int, T: int, L: int, *, depth: tuple[int, int] = (5, 50), sizes: tuple[int, int] = (1, 20),
            per_level: tuple[int, int] = (1, 3), seed: int = 0) -> Dataset:
    """``n`` samples of length ``T`` (at least 3) over a planted DAG of SCCs per query (module docstring)."""
    if T < 3:
        raise ValueError(f"planted instances need T >= 3 (label, its successor, the query), got T={T}")
    rng = np.random.default_rng(seed)
    queries = rng.choice(K, size=min(L, K), replace=False)
    share = np.bincount(rng.integers(0, queries.size, size=n), minlength=queries.size)
    parts_t, parts_y = [], []
    for k, m in zip(queries.tolist(), share.tolist(), strict=True):
        pool_size = min(K - 1, 3 * depth[1] * per_level[1] * sizes[1])
        others = rng.choice(K - 1, size=pool_size, replace=False)
        pool = (others + (others >= k)).tolist()
        levels = _levels(rng, pool, int(rng.integers(depth[0], depth[1] + 1)), sizes, per_level)
        tokens, labels = _query_samples(rng, k, _children(rng, levels), m, T)
        parts_t.append(tokens)
        parts_y.append(labels)
    tokens = np.concatenate(parts_t)
    labels = np.concatenate(parts_y)
    order = rng.permutation(n)
    return Dataset.from_arrays(tokens[order].ravel(), np.arange(n + 1) * T, labels[order], vocab=K)


def deep_dag(K: int = 10_000, n: int = 20_000, T: int = 16, depth: int = 400, seed: int = 0) -> Dataset:
    """One query token over a planted DAG ``depth`` levels deep (sizes 1-20, 1-3 SCCs a level)."""
    return planted(K, n, T, 1, depth=(depth, depth), seed=seed)


def training(n: int, T: int, K: int, L: int = 5, seed: int = 0) -> Dataset:
    """:func:`uniform` with orthonormal embeddings (K = d), the training benchmarks' instance."""
    ds = uniform(K, n, T, L, seed=seed)
    return ds.with_embeddings(Embeddings.orthonormal(K, K, seed=seed + 1))


@dataclass(frozen=True)
class Shape:
    """What an instance is: samples, length, vocabulary, queries, tokens in use, (sample, token) pairs."""

    n: int
    T: int
    K: int
    L: int
    in_use: int
    nnz: int


def shape(ds: Dataset) -> Shape:
    lengths = ds.lengths
    return Shape(ds.n, int(lengths.max()), ds.K, int(np.unique(ds.queries).size), int(np.unique(ds.tokens).size),
                 ds.counts.nnz)
