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
    depth = _depths(forest.parent)
    by_depth = np.argsort(-depth, kind="stable")
    bounds = np.flatnonzero(np.diff(depth[by_depth])) + 1
    for level in np.split(by_depth, bounds):
        level = level[forest.parent[level] >= 0]
        if level.size == 0:
            continue
        np.add.at(subtotal, forest.parent[level], subtotal[level])
        e = forest.parent_edge[level]
        flows[e] = np.where(tails[e] == level, subtotal[level], -subtotal[level])
    return flows


def _depths(parent: np.ndarray) -> np.ndarray:
    """Depth of every node of a forest given by parent pointers (pointer jumping, log rounds).

    Invariant: ``depth[x]`` is the distance from ``x`` to ``jump[x]``; roots jump to themselves.
    """
    jump = np.where(parent >= 0, parent, np.arange(parent.size))
    depth = (parent >= 0).astype(np.int64)
    while np.any(jump[jump] != jump):
        depth = depth + depth[jump]
        jump = jump[jump]
    return depth


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
        self.w = weights.astype(np.int64)
        self.adj: list[dict[int, int]] = [{} for _ in range(n)]
        self.label = np.arange(n, dtype=np.int64)
        self.members: dict[int, set[int]] = {x: {x} for x in range(n)}
        self.h = np.zeros(n, dtype=np.int64)
        self.total = self.w.copy()
        self.moment = np.zeros(n, dtype=np.int64)
        self.fresh = n  # the next unused tree label

    def add(self, e: int, a: int, b: int) -> None:
        ta, tb = int(self.label[a]), int(self.label[b])
        delta = int(self.h[a]) - 1 - int(self.h[b])  # shift of b's tree so that h_a - h_b = 1
        if len(self.members[tb]) > len(self.members[ta]):
            ta, tb, delta = tb, ta, -delta
        moved = self.members.pop(tb)
        idx = np.fromiter(moved, dtype=np.int64, count=len(moved))
        self.h[idx] += delta
        self.label[idx] = ta
        self.members[ta] |= moved
        self.moment[ta] += self.moment[tb] + delta * self.total[tb]
        self.total[ta] += self.total[tb]
        self.adj[a][b] = e
        self.adj[b][a] = e

    def _smaller_side(self, a: int, b: int) -> list[int]:
        """The nodes of the smaller of the two trees left after cutting ``a - b`` (searches alternate)."""
        for end in (a, b):
            if not self.adj[end]:
                return [end]
        sides = ([a], [b])
        seen = ({a}, {b})
        pos = [0, 0]
        while True:
            for s in (0, 1):
                if pos[s] == len(sides[s]):
                    return sides[s]
                x = sides[s][pos[s]]
                pos[s] += 1
                for y in self.adj[x]:
                    if y not in seen[s]:
                        seen[s].add(y)
                        sides[s].append(y)

    def remove(self, a: int, b: int) -> None:
        del self.adj[a][b]
        del self.adj[b][a]
        old = int(self.label[a])
        side = self._smaller_side(a, b)
        new = self.fresh
        self.fresh += 1
        if new >= self.total.size:  # grow the per-label arrays
            self.total = np.concatenate([self.total, np.zeros_like(self.total)])
            self.moment = np.concatenate([self.moment, np.zeros_like(self.moment)])
        idx = np.array(side, dtype=np.int64)
        self.members[old] -= set(side)
        self.members[new] = set(side)
        self.label[idx] = new
        self.total[new] = self.w[idx].sum()
        self.moment[new] = (self.w[idx] * self.h[idx]).sum()
        self.total[old] -= self.total[new]
        self.moment[old] -= self.moment[new]

    def target(self, exact: bool, nodes: np.ndarray | None = None) -> np.ndarray:
        """The forest minimiser :math:`h - S_T / D_T` at ``nodes`` (default: all)."""
        h = self.h if nodes is None else self.h[nodes]
        label = self.label if nodes is None else self.label[nodes]
        if exact:
            shift: dict[int, Fraction] = {}
            out = []
            for value, t in zip(h.tolist(), label.tolist(), strict=True):
                if t not in shift:
                    shift[t] = Fraction(int(self.moment[t]), int(self.total[t]))
                out.append(value - shift[t])
            return np.array([*out, 0], dtype=object)[:-1]
        return h - self.moment[label] / self.total[label]


def min_norm_potentials(
    weights: np.ndarray,
    tails: np.ndarray,
    heads: np.ndarray,
    *,
    exact: bool = False,
    working: np.ndarray | None = None,
    block: np.ndarray | None = None,
    max_iter: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Solve :math:`\min \frac12 \sum_c w_c v_c^2` s.t. :math:`v_{t_e} - v_{h_e} \ge 1` for all edges.

    Primal active set: start from the longest-path heights (shifted to weighted mean 0), which
    are feasible; on the working set (a forest) take the closed-form minimiser, step towards it
    until constraints block (each joins two trees; all tied ones are added), and when the
    minimiser is reached drop the most negative multiplier. Independent sub-problems
    (``block``) take their own step lengths and drops, so they progress in parallel.
    ``working`` warm-starts the set (used only when its solution is feasible).

    Parameters
    ----------
    weights : numpy.ndarray, shape (n,)
        Positive integer weights (SCC sizes).
    tails, heads : numpy.ndarray, shape (m,)
        DAG edges :math:`t_e \to h_e`.
    exact : bool
        Run in ``Fraction`` arithmetic (object arrays) with zero tolerances.
    working : numpy.ndarray of bool, optional
        A guess of the active edges (a forest) to start from.
    block : numpy.ndarray of int, shape (n,), optional
        Labels of independent sub-problems (no edge joins two blocks).

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
    if n == 0:
        empty = np.zeros(0, dtype=object if exact else np.float64)
        return empty, np.zeros(0, dtype=bool), empty.copy()
    start = heights(n, tails, heads)
    node_block = np.zeros(n, dtype=np.int64) if block is None else np.asarray(block, dtype=np.int64)
    n_blocks = int(node_block.max()) + 1
    edge_block = node_block[tails]
    total = np.bincount(node_block, weights=weights, minlength=n_blocks)
    moment = np.bincount(node_block, weights=weights * start, minlength=n_blocks)
    if exact:
        w_int = weights.astype(np.int64)
        shift = [Fraction(0)] * n_blocks
        for b, (mo, to) in enumerate(zip(np.bincount(node_block, weights=w_int * start, minlength=n_blocks)
                                         .astype(np.int64).tolist(),
                                         total.astype(np.int64).tolist(), strict=True)):
            shift[b] = Fraction(mo, to) if to else Fraction(0)
        v = start.astype(object) - np.array([*shift, 0], dtype=object)[:-1][node_block]
    else:
        v = start - (moment / np.maximum(total, 1.0))[node_block]
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
    checked = np.zeros(n_blocks, dtype=bool)
    lam = np.zeros(m, dtype=np.float64) if not exact else np.array([Fraction(0)] * (m + 1), dtype=object)[:-1]
    limit = max_iter if max_iter is not None else 20 * (n + m) + 100
    live_nodes, live_edges = np.arange(n), np.arange(m)  # nodes and edges of unfinished blocks
    for _ in range(limit):
        target = forest.target(exact, live_nodes)
        step_live = target - v[live_nodes]
        size = np.zeros(n_blocks, dtype=object if exact else np.float64)
        np.maximum.at(size, node_block[live_nodes], np.abs(step_live))
        settled = size <= tol
        reached = settled[node_block[live_nodes]]
        v[live_nodes[reached]] = target[reached]
        fresh = settled & ~checked
        if fresh.any():
            # multipliers of the newly settled blocks only, on their own sub-forest
            nodes = np.flatnonzero(fresh[node_block])
            local = np.full(n, -1, dtype=np.int64)
            local[nodes] = np.arange(nodes.size)
            active = np.flatnonzero(work & fresh[edge_block])
            sub_t, sub_h = local[tails[active]], local[heads[active]]
            lam[fresh[edge_block]] = Fraction(0) if exact else 0.0
            lam[active] = forest_flows(forest_order(nodes.size, sub_t, sub_h), sub_t, sub_h,
                                       (factor * v)[nodes])
            drops = _most_negative(lam, active, edge_block, tol)
            checked |= fresh
            for drop in drops:
                checked[edge_block[drop]] = False
                work[drop] = False
                forest.remove(tails_l[drop], heads_l[drop])
            if checked.all():
                return v, work, lam
            live_nodes = np.flatnonzero(~checked[node_block])
            live_edges = np.flatnonzero(~checked[edge_block])
            if drops:
                continue
            target = forest.target(exact, live_nodes)
            step_live = target - v[live_nodes]
        step = np.zeros(n, dtype=object if exact else np.float64)
        step[live_nodes] = step_live
        lt, lh = tails[live_edges], heads[live_edges]
        rate = step[lt] - step[lh]
        label = forest.label
        blocking = (~work[live_edges]) & (rate < -tol) & (label[lt] != label[lh])
        blocking &= ~settled[edge_block[live_edges]]
        alpha = np.ones(n_blocks, dtype=object if exact else np.float64)
        cand = live_edges[blocking]
        if cand.size:
            slack = v[tails[cand]] - v[heads[cand]] - 1
            if not exact:
                slack = np.maximum(slack, 0.0)
            ratios = slack / (-rate[blocking])
            np.minimum.at(alpha, edge_block[cand], ratios)
            # every constraint that blocks at its block's step length joins the working set at once
            best = alpha[edge_block[cand]]
            ties = (ratios <= best + (0 if exact else 1e-12)) & (best < 1)
            chosen = cand[ties][np.argsort(ratios[ties].astype(np.float64), kind="stable")].tolist()
        else:
            chosen = []
        v[live_nodes] = v[live_nodes] + alpha[node_block[live_nodes]] * step_live
        for e in chosen:
            if forest.label[tails_l[e]] != forest.label[heads_l[e]]:
                work[e] = True
                forest.add(e, tails_l[e], heads_l[e])
    raise SolverError(
        f"the potential active-set method did not converge in {limit} iterations "
        f"({n} SCCs, {m} condensation edges)"
    )


def _most_negative(lam: np.ndarray, active: np.ndarray, edge_block: np.ndarray, tol: float) -> list[int]:
    """The most negative multiplier (among ``active``) of every block that has one below ``-tol``."""
    if active.size == 0:
        return []
    neg = active[lam[active] < -tol]
    if neg.size == 0:
        return []
    order = neg[np.lexsort((lam[neg].astype(np.float64), edge_block[neg]))]
    first = np.flatnonzero(np.diff(edge_block[order], prepend=-1) != 0)
    return order[first].tolist()
