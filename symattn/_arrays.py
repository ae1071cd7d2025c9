"""Private array helpers shared across modules: sorted keys, DAG levels, Helmert bases.

``np.unique`` without extra outputs hashes in numpy 2.x, which for int64 keys of a wide range
is tens of times slower than sorting (0.5 s against 0.01 s for 640,000 keys); the key arrays
of the graphs and the graph-SVM are such keys.

>>> unique_sorted(np.array([5, 1, 5, 3])).tolist()
[1, 3, 5]
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "helmert",
    "helmert_apply",
    "helmert_apply_transpose",
    "helmert_rotate",
    "locate_sorted",
    "longest_path_levels",
    "range_indices",
    "unique_sorted",
]


def unique_sorted(values: np.ndarray) -> np.ndarray:
    """The distinct values, ascending (the same as ``np.unique(values)``), by one sort."""
    ordered = np.sort(np.asarray(values), kind="stable")
    if ordered.size == 0:
        return ordered
    keep = np.empty(ordered.size, dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def longest_path_levels(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Level of each node of a DAG: the length of the longest path reaching it from a source.

    Kahn's algorithm one frontier at a time, vectorised: linear in nodes plus edges, with one
    NumPy round per level and no recursion. Nodes on or below a directed cycle are never
    reached and keep level ``-1``.

    >>> longest_path_levels(4, np.array([0, 1, 0]), np.array([1, 2, 2])).tolist()
    [0, 1, 2, 0]
    >>> longest_path_levels(2, np.array([0, 1]), np.array([1, 0])).tolist()
    [-1, -1]
    """
    indegree = np.bincount(dst, minlength=n)
    by_src = np.argsort(src, kind="stable")
    targets = dst[by_src]
    indptr = np.searchsorted(src[by_src], np.arange(n + 1))
    level = np.full(n, -1, dtype=np.int64)
    frontier = np.flatnonzero(indegree == 0)
    depth = 0
    while frontier.size:
        level[frontier] = depth
        starts = indptr[frontier]
        counts = indptr[frontier + 1] - starts
        total = int(counts.sum())
        if total == 0:
            break
        offsets = range_indices(starts, counts)
        reached, hits = np.unique(targets[offsets], return_counts=True)
        indegree[reached] -= hits
        frontier = reached[indegree[reached] == 0]
        depth += 1
    return level


def helmert(size: int) -> np.ndarray:
    """Rows ``r = 1..size-1``: an orthonormal basis of the zero-sum vectors of length ``size``.

    >>> H = helmert(3)
    >>> bool(np.allclose(H @ H.T, np.eye(2)) and np.allclose(H.sum(axis=1), 0))
    True
    """
    H = np.zeros((size - 1, size))
    for r in range(1, size):
        H[r - 1, :r] = 1.0
        H[r - 1, r] = -float(r)
        H[r - 1] /= np.sqrt(r * (r + 1.0))
    return H


def helmert_rotate(H: np.ndarray) -> np.ndarray:
    r""":math:`C H C^\top` for every stacked square block ``H[..., s, s]``, with :math:`C` = ``helmert(s)``.

    Row :math:`r` of :math:`C x` is :math:`(\sum_{j<r} x_j - r\,x_r)/\sqrt{r(r+1)}`: one cumulative
    sum per side, :math:`O(s^2)` per block instead of the :math:`O(s^3)` of two products.

    >>> H = np.arange(16.0).reshape(4, 4); C = helmert(4)
    >>> bool(np.allclose(helmert_rotate(H[None])[0], C @ H @ C.T))
    True
    """
    once = helmert_apply(H)  # H C^T
    twice = helmert_apply(np.swapaxes(once, -1, -2))  # (H C^T)^T C^T = C H^T C^T
    return np.swapaxes(twice, -1, -2)  # C H C^T


def helmert_apply(X: np.ndarray) -> np.ndarray:
    """:math:`C x` for every row ``x`` of ``X`` (last axis, length ``s``), ``C`` = ``helmert(s)``: one
    cumulative sum.

    >>> X = np.arange(12.0).reshape(3, 4)
    >>> bool(np.allclose(helmert_apply(X), X @ helmert(4).T))
    True
    """
    X = np.ascontiguousarray(X)
    r = np.arange(1, X.shape[-1], dtype=np.float64)
    out = np.cumsum(X, axis=-1)[..., :-1]
    out -= r * X[..., 1:]
    out /= np.sqrt(r * (r + 1.0))
    return out


def helmert_apply_transpose(Y: np.ndarray) -> np.ndarray:
    """:math:`C^\\top y` for every row ``y`` of ``Y`` (last axis, length ``s - 1``): one reversed
    cumulative sum.

    >>> Y = np.arange(9.0).reshape(3, 3)
    >>> bool(np.allclose(helmert_apply_transpose(Y), Y @ helmert(4)))
    True
    """
    r = np.arange(1, Y.shape[-1] + 1, dtype=np.float64)
    w = Y / np.sqrt(r * (r + 1.0))
    out = np.zeros((*Y.shape[:-1], Y.shape[-1] + 1))
    out[..., :-1] = np.cumsum(w[..., ::-1], axis=-1)[..., ::-1]
    out[..., 1:] -= r * w
    return out


def range_indices(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The concatenated ranges ``starts[i], ..., starts[i] + lengths[i] - 1``, in order, without a loop.

    >>> range_indices(np.array([5, 0, 9]), np.array([2, 0, 3])).tolist()
    [5, 6, 9, 10, 11]
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    ends = np.cumsum(lengths)
    total = int(ends[-1]) if ends.size else 0
    return np.repeat(np.asarray(starts, dtype=np.int64) - ends + lengths, lengths) + np.arange(total)


def locate_sorted(keys: np.ndarray, want: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of each wanted key among the sorted ``keys`` and whether it is there.

    >>> pos, found = locate_sorted(np.array([2, 5, 9]), np.array([5, 3, 9]))
    >>> pos.tolist(), found.tolist()
    ([1, 1, 2], [True, False, True])
    """
    if keys.size == 0:
        return np.zeros(want.size, dtype=np.int64), np.zeros(want.size, dtype=bool)
    pos = np.minimum(np.searchsorted(keys, want), keys.size - 1)
    return pos, keys[pos] == want
