r"""Private: spanning forests, flows on them, and the minimum-norm potential problem on a DAG.

The graph-SVM with orthonormal embeddings splits into one problem per query token, and each
is, after collapsing every SCC :math:`C` to one potential :math:`v_C` of weight :math:`|C|`,

.. math::

    \min_v \tfrac12 \sum_C |C| v_C^2 \quad\text{s.t.}\quad v_a - v_b \ge 1
    \text{ for every condensation edge } a \to b .

Its active constraints at the optimum can always be taken independent, and a set of
difference constraints is independent exactly when its edges form a forest. On a forest the
equality-constrained problem is solved in closed form (offsets along the tree, one shift per
tree), and its multipliers by peeling leaves. :func:`min_norm_potentials` is a primal
active-set method built on that; it runs in floats or, with ``exact=True``, in
:class:`fractions.Fraction` (numpy object arrays), where it proves its own answer.

>>> v, working, lam = min_norm_potentials(np.array([1, 1]), np.array([0]), np.array([1]))
>>> v.tolist(), lam.tolist()
([0.5, -0.5], [0.5])
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components

from symattn.errors import InvalidInput, SolverError

__all__ = ["Forest", "forest_flows", "forest_order", "heights", "min_norm_potentials"]


@dataclass(frozen=True, eq=False)
class Forest:
    """A spanning forest of an undirected view of some edges, in BFS order.

    Attributes
    ----------
    order : numpy.ndarray, shape (n,)
        Nodes with every parent before its children.
    parent, parent_edge : numpy.ndarray, shape (n,)
        Parent node and the index of the edge to it (``-1`` at roots).
    root : numpy.ndarray, shape (n,)
        The root of each node's tree (its smallest node).
    """

    order: np.ndarray
    parent: np.ndarray
    parent_edge: np.ndarray
    root: np.ndarray


def forest_order(n: int, tails: np.ndarray, heads: np.ndarray) -> Forest:
    """A BFS spanning forest of the undirected graph with edges ``(tails[e], heads[e])``.

    When edges repeat or form cycles, one of them is chosen; the forest spans every component.

    >>> f = forest_order(4, np.array([0, 2]), np.array([1, 1]))
    >>> f.parent.tolist(), f.parent_edge.tolist(), f.root.tolist()
    ([-1, 0, 1, -1], [-1, 0, 1, -1], [0, 0, 0, 3])
    """
    tails = np.asarray(tails, dtype=np.int64)
    heads = np.asarray(heads, dtype=np.int64)
    graph = csr_matrix((np.ones(tails.size), (tails, heads)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    _, reps = np.unique(label, return_index=True)
    virtual = n
    rows = np.concatenate([tails, heads, np.full(reps.size, virtual)])
    cols = np.concatenate([heads, tails, reps])
    full = csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n + 1, n + 1))
    order, pred = breadth_first_order(full, virtual, directed=True, return_predecessors=True)
    order = order[1:]
    parent = pred[:n].astype(np.int64)
    parent[parent == virtual] = -1
    lo, hi = np.minimum(tails, heads), np.maximum(tails, heads)
    keys = lo * n + hi
    sorter = np.argsort(keys, kind="stable")
    child = np.flatnonzero(parent >= 0)
    want = np.minimum(child, parent[child]) * n + np.maximum(child, parent[child])
    parent_edge = np.full(n, -1, dtype=np.int64)
    parent_edge[child] = sorter[np.searchsorted(keys[sorter], want)]
    return Forest(order, parent, parent_edge, reps[label].astype(np.int64))


def forest_flows(
    forest: Forest, tails: np.ndarray, heads: np.ndarray, demand: np.ndarray
) -> np.ndarray:
    r"""Flows :math:`\lambda` on the forest edges whose net out-flow at every node is ``demand``.

    Net out-flow at ``x`` is :math:`\sum_{e: x = tail_e} \lambda_e - \sum_{e: x = head_e} \lambda_e`.
    Solvable exactly when ``demand`` sums to zero on every tree (not checked here: the caller
    verifies the result). Works for float and object (``Fraction``) arrays. Edges outside the
    forest get zero.

    >>> f = forest_order(3, np.array([0, 1]), np.array([1, 2]))
    >>> forest_flows(f, np.array([0, 1]), np.array([1, 2]), np.array([1.0, 0.0, -1.0])).tolist()
    [1.0, 1.0]
    """
    subtotal = demand.copy()
    flows = np.zeros(tails.size, dtype=demand.dtype)
    if demand.dtype == object:
        flows[:] = Fraction(0)
    parent, parent_edge = forest.parent.tolist(), forest.parent_edge.tolist()
    for x in reversed(forest.order.tolist()):
        p = parent[x]
        if p < 0:
            continue
        subtotal[p] += subtotal[x]
        e = parent_edge[x]
        flows[e] = subtotal[x] if tails[e] == x else -subtotal[x]
    return flows


def heights(n: int, tails: np.ndarray, heads: np.ndarray) -> np.ndarray:
    """Longest-path height of every node of a DAG (0 at sinks); raises on a directed cycle.

    >>> heights(3, np.array([0, 1, 0]), np.array([1, 2, 2])).tolist()
    [2, 1, 0]
    """
    out_degree = np.bincount(tails, minlength=n)
    order = np.argsort(heads, kind="stable")
    by_head_ptr = np.searchsorted(heads[order], np.arange(n + 1))
    tails_by_head = tails[order].tolist()
    ptr = by_head_ptr.tolist()
    remaining = out_degree.tolist()
    height = [0] * n
    stack = [x for x in range(n) if remaining[x] == 0]
    done = 0
    while stack:
        x = stack.pop()
        done += 1
        for t in tails_by_head[ptr[x] : ptr[x + 1]]:
            height[t] = max(height[t], height[x] + 1)
            remaining[t] -= 1
            if remaining[t] == 0:
                stack.append(t)
    if done != n:
        raise InvalidInput(
            "the strict-priority constraints contain a directed cycle, so no potentials satisfy them; "
            "build constraints with svm_constraints() so that cycles become equalities"
        )
    return np.array(height, dtype=np.int64)


class _WorkingForest:
    r"""The working set as a forest with per-tree offsets, updated one edge at a time.

    Every node ``x`` carries an integer offset ``h[x]`` with :math:`h_a - h_b = 1` on each
    working edge :math:`a \to b`; the equality-constrained minimiser is then
    :math:`v = h - S_T / D_T` per tree :math:`T` (:math:`D_T = \sum w`, :math:`S_T = \sum w h`).
    Adding an edge merges two trees (the smaller is shifted and relabelled); removing one
    splits a tree (the side of the head is found by a search inside the tree).
    """

    def __init__(self, weights: np.ndarray) -> None:
        n = weights.size
        self.w = weights.astype(np.int64).tolist()
        self.adj: list[dict[int, int]] = [{} for _ in range(n)]
        self.label = np.arange(n, dtype=np.int64)
        self.members: dict[int, list[int]] = {x: [x] for x in range(n)}
        self.h = np.zeros(n, dtype=np.int64)
        self.total = np.array(self.w, dtype=np.int64)
        self.moment = np.zeros(n, dtype=np.int64)

    def add(self, e: int, a: int, b: int) -> None:
        ta, tb = int(self.label[a]), int(self.label[b])
        delta = int(self.h[a]) - 1 - int(self.h[b])  # shift of b's tree so that h_a - h_b = 1
        if len(self.members[tb]) > len(self.members[ta]):
            ta, tb, delta = tb, ta, -delta
        moved = self.members.pop(tb)
        self.h[moved] += delta
        self.label[moved] = ta
        self.members[ta].extend(moved)
        self.moment[ta] += self.moment[tb] + delta * self.total[tb]
        self.total[ta] += self.total[tb]
        self.adj[a][b] = e
        self.adj[b][a] = e

    def remove(self, a: int, b: int) -> None:
        del self.adj[a][b]
        del self.adj[b][a]
        old = int(self.label[a])
        side = [b]
        seen = {b}
        for x in side:
            for y in self.adj[x]:
                if y not in seen:
                    seen.add(y)
                    side.append(y)
        rest = [x for x in self.members.pop(old) if x not in seen]
        for label, part in ((b, side), (a, rest)):  # each tree is labelled by one of its members
            self.members[label] = part
            self.label[part] = label
            self.total[label] = sum(self.w[x] for x in part)
            self.moment[label] = sum(self.w[x] * int(self.h[x]) for x in part)

    def target(self, exact: bool) -> np.ndarray:
        if exact:
            shift = {t: Fraction(int(self.moment[t]), int(self.total[t])) for t in self.members}
            return np.array([int(h) - shift[t] for h, t in zip(self.h.tolist(), self.label.tolist(),
                                                                 strict=True)] + [0], dtype=object)[:-1]
        return self.h - self.moment[self.label] / self.total[self.label]


def min_norm_potentials(
    weights: np.ndarray,    tails: np.ndarray,
    heads: np.ndarray,
    *,
    exact: bool = False,
    working: np.ndarray | None = None,
    max_iter: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Solve :math:`\min \frac12 \sum_c w_c v_c^2` s.t. :math:`v_{t_e} - v_{h_e} \ge 1` for all edges.

    Primal active set: start from the longest-path heights (shifted to weighted mean 0), which
    are feasible; on the working set (a forest) take the closed-form minimiser, step towards it
    until a constraint blocks (it joins two trees), and drop the most negative multiplier when
    the minimiser is reached. ``working`` warm-starts the set (used only when its solution is
    feasible).

    Parameters
    ----------
    weights : numpy.ndarray, shape (n,)
        Positive integer weights (SCC sizes).
    tails, heads : numpy.ndarray, shape (m,)
        DAG edges :math:`t_e \to h_e`.
    exact : bool
        Run in ``Fraction`` arithmetic (object arrays) with zero tolerances.

    Returns
    -------
    v : numpy.ndarray, shape (n,)
        The optimal potentials.
    working : numpy.ndarray of bool, shape (m,)
        The final working set (a forest of active edges).
    multipliers : numpy.ndarray, shape (m,)
        KKT multipliers (zero off the working set): :math:`w \odot v = D\lambda`.

    >>> v, _, lam = min_norm_potentials(np.array([1, 1, 1]), np.array([0, 1]), np.array([1, 2]))
    >>> v.tolist(), lam.tolist()
    ([1.0, 0.0, -1.0], [1.0, 1.0])
    """
    weights = np.asarray(weights, dtype=np.float64)
    tails = np.asarray(tails, dtype=np.int64)
    heads = np.asarray(heads, dtype=np.int64)
    n, m = weights.size, tails.size
    start = heights(n, tails, heads)
    if exact:
        total = int(weights.sum())
        v = start.astype(object) - Fraction(int((weights.astype(np.int64) * start).sum()), total)
    else:
        v = start - float(np.dot(weights, start) / weights.sum())
    scale = 1.0 + float(start.max(initial=0))
    tol = 0.0 if exact else 1e-12 * scale
    factor = weights.astype(np.int64).astype(object) if exact else weights
    tails_l, heads_l = tails.tolist(), heads.tolist()
    forest = _WorkingForest(weights)
    work = np.zeros(m, dtype=bool)
    if working is not None and working.any():
        for e in np.flatnonzero(working).tolist():
            forest.add(e, tails_l[e], heads_l[e])
        guess = forest.target(exact)
        if np.all(guess[tails] - guess[heads] - 1 >= -tol):
            v, work = guess, working.copy()
        else:
            forest = _WorkingForest(weights)
    limit = max_iter if max_iter is not None else 20 * (n + m) + 100
    for _ in range(limit):
        target = forest.target(exact)
        step = target - v
        if np.max(np.abs(step), initial=0) <= tol:
            v = target
            active = np.flatnonzero(work)
            spanning = _edge_forest(forest_order(n, tails[active], heads[active]), work)
            lam = forest_flows(spanning, tails, heads, factor * v)
            if active.size == 0 or lam[active].min() >= -tol:
                return v, work, lam
            drop = int(active[np.argmin(lam[active])])
            work[drop] = False
            forest.remove(tails_l[drop], heads_l[drop])
            continue
        rate = step[tails] - step[heads]
        label = forest.label
        blocking = (~work) & (rate < -tol) & (label[tails] != label[heads])
        alpha = 1 if exact else 1.0
        chosen = -1
        if blocking.any():
            cand = np.flatnonzero(blocking)
            slack = v[tails[cand]] - v[heads[cand]] - 1
            if not exact:
                slack = np.maximum(slack, 0.0)
            ratios = slack / (-rate[cand])
            best = int(np.argmin(ratios))
            if ratios[best] < alpha:
                alpha, chosen = ratios[best], int(cand[best])
        v = v + alpha * step
        if chosen >= 0:
            work[chosen] = True
            forest.add(chosen, tails_l[chosen], heads_l[chosen])
    raise SolverError(
        f"the potential active-set method did not converge in {limit} iterations "
        f"({n} SCCs, {m} condensation edges)"
    )


def _edge_forest(forest: Forest, work: np.ndarray) -> Forest:
    """Re-index a forest built on the working edges so that ``parent_edge`` indexes all edges."""
    idx = np.flatnonzero(work)
    parent_edge = forest.parent_edge.copy()
    has = parent_edge >= 0
    parent_edge[has] = idx[parent_edge[has]]
    return Forest(forest.order, forest.parent, parent_edge, forest.root)
