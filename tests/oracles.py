"""Independent brute-force oracles shared by the tests (deliberately naive: no symattn code)."""

from __future__ import annotations

from collections import Counter

import numpy as np


def tpg_edges(samples: list[tuple[tuple[int, ...], int]]) -> dict[int, set[tuple[int, int]]]:
    """Edges of every G_k straight from docs/theory.md §3, one sample at a time."""
    edges: dict[int, set[tuple[int, int]]] = {}
    for tokens, label in samples:
        k = tokens[-1]
        edges.setdefault(k, set())
        for j in set(tokens):
            if j != label:
                edges[k].add((label, j))
    return edges


def tpg_nodes(samples: list[tuple[tuple[int, ...], int]]) -> dict[int, set[int]]:
    nodes: dict[int, set[int]] = {}
    for tokens, _ in samples:
        nodes.setdefault(tokens[-1], set()).update(tokens)
    return nodes


def reachability(nodes: list[int], edges: set[tuple[int, int]]) -> dict[tuple[int, int], bool]:
    """Floyd–Warshall transitive closure (reflexive)."""
    index = {t: i for i, t in enumerate(nodes)}
    m = len(nodes)
    reach = np.eye(m, dtype=bool)
    for a, b in edges:
        reach[index[a], index[b]] = True
    for via in range(m):
        reach |= reach[:, [via]] & reach[[via], :]
    return {(a, b): bool(reach[index[a], index[b]]) for a in nodes for b in nodes}


def counts_of(tokens: tuple[int, ...]) -> dict[int, int]:
    return dict(Counter(tokens))


def central_difference(f, W: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences of ``f`` at ``W``: shape ``W.shape + shape(f(W))``; entry ``[idx]`` is d f / d W[idx]."""
    first = np.asarray(f(W), dtype=float)
    out = np.empty(W.shape + first.shape)
    for idx in np.ndindex(W.shape):
        step = np.zeros_like(W)
        step[idx] = h
        out[idx] = (np.asarray(f(W + step)) - np.asarray(f(W - step))) / (2 * h)
    return out


def hessian_by_differences(gradient, W: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """The (W.size, W.size) matrix H[a, b] = d gradient_a / d W_b by central differences of ``gradient``."""
    return central_difference(gradient, W, h).reshape(W.size, W.size).T
