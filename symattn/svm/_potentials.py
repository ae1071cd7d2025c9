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

>>> sol = min_norm_potentials(np.array([1, 1]), np.array([0]), np.array([1]))
>>> sol.v.tolist(), sol.multipliers.tolist()
([0.5, -0.5], [0.5])
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components

from symattn._arrays import locate_sorted, longest_path_levels
from symattn._exact import object_array, object_zeros
from symattn.errors import InvalidInput, NotConverged

__all__ = [
    "Forest", "PotentialSolution", "forest_flows", "forest_order", "heights", "min_norm_potentials",
    "path_sums",
]


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
    if n <= _SMALL_FOREST:
        return _small_forest(n, tails, heads)
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


_SMALL_FOREST = 256
"""Up to this many nodes a forest is built in plain Python (about 70 µs at 64 nodes and 200 µs at
200, where SciPy's graph routines cost 0.25–0.4 ms to call): the working forest of the potential
method merges a few trees at a time, which made those calls most of an iteration on small problems."""


def _small_forest(n: int, tails: np.ndarray, heads: np.ndarray) -> Forest:
    """:func:`forest_order` in plain Python: union-find keeps the edges that join two components,
    then a breadth-first search over those from each component's smallest node."""
    adjacent = _spanning_adjacency(n, tails, heads)
    parent, parent_edge, root, order = [-1] * n, [-1] * n, [-1] * n, []
    for start in range(n):
        if root[start] >= 0:
            continue
        root[start] = start
        queue = [start]
        for x in queue:  # the queue grows while it is read
            for y, e in adjacent[x]:
                if root[y] < 0:
                    root[y], parent[y], parent_edge[y] = start, x, e
                    queue.append(y)
        order += queue
    return Forest(*(np.array(a, dtype=np.int64) for a in (order, parent, parent_edge, root)))


def _spanning_adjacency(n: int, tails: np.ndarray, heads: np.ndarray) -> list[list[tuple[int, int]]]:
    """Per node, its (neighbour, edge) pairs over a spanning forest of the edges (union-find)."""
    leader = list(range(n))

    def find(x: int) -> int:
        while leader[x] != x:
            leader[x] = leader[leader[x]]
            x = leader[x]
        return x

    adjacent: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for e, (a, b) in enumerate(zip(tails.tolist(), heads.tolist(), strict=True)):
        ra, rb = find(a), find(b)
        if ra != rb:
            leader[max(ra, rb)] = min(ra, rb)
            adjacent[a].append((b, e))
            adjacent[b].append((a, e))
    return adjacent


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
    flows = object_zeros(tails.size) if demand.dtype == object else np.zeros(tails.size, dtype=demand.dtype)
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
    return path_sums(parent, np.ones(parent.size, dtype=np.int64))


def heights(n: int, tails: np.ndarray, heads: np.ndarray) -> np.ndarray:
    """Longest-path height of every node of a DAG (0 at sinks); raises on a directed cycle.

    The height is the level of the node in the reversed DAG (:func:`~symattn._arrays.longest_path_levels`).

    >>> heights(3, np.array([0, 1, 0]), np.array([1, 2, 2])).tolist()
    [2, 1, 0]
    """
    height = longest_path_levels(n, np.asarray(heads, dtype=np.int64), np.asarray(tails, dtype=np.int64))
    if np.any(height < 0):
        raise InvalidInput(
            "the strict-priority constraints contain a directed cycle, so no potentials satisfy them; "
            "build constraints with svm_constraints() so that cycles become equalities"
        )
    return height


def path_sums(parent: np.ndarray, rel: np.ndarray) -> np.ndarray:
    """For a forest given by parent pointers (``-1`` at roots), the sum of ``rel`` over every node's
    path to its root, root excluded (pointer jumping: log-depth rounds of array operations).

    >>> path_sums(np.array([-1, 0, 1, -1]), np.array([0, 2, 3, 5])).tolist()
    [0, 2, 5, 0]
    """
    jump = np.where(parent >= 0, parent, np.arange(parent.size))
    total = np.where(parent >= 0, rel, 0)
    while np.any(jump[jump] != jump):  # invariant: total[x] sums the path from x to jump[x], jump[x] excluded
        total = total + total[jump]
        jump = jump[jump]
    return total


class _WorkingForest:
    r"""The working set as a forest with per-tree offsets, updated by batches of edges.

    Every node ``x`` carries an integer offset ``h[x]`` with :math:`h_a - h_b = 1` on each
    working edge :math:`a \to b`; the equality-constrained minimiser is then
    :math:`v = h - S_T / D_T` per tree :math:`T` (:math:`D_T = \sum w`, :math:`S_T = \sum w h`).
    A tree is labelled by one of its nodes, and ``total`` / ``moment`` hold :math:`D_T` / :math:`S_T`
    at that label. Adding edges merges trees along a spanning forest of the new edges (each tree
    shifted by the sum of the gaps on its path); removing edges recomputes the components of the
    trees they leave. Both are array operations over the trees concerned, not loops over nodes.
    """

    def __init__(self, weights: np.ndarray, tails: np.ndarray, heads: np.ndarray) -> None:
        n = weights.size
        self.w = weights.astype(np.int64)
        self.tails, self.heads = tails, heads
        self.label = np.arange(n, dtype=np.int64)
        self.h = np.zeros(n, dtype=np.int64)
        self.total = self.w.copy()
        self.moment = np.zeros(n, dtype=np.int64)
        self.scratch = np.full(n, -1, dtype=np.int64)  # a node -> local index map, reset after each use

    def _members(self, trees: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The ``nodes`` whose tree is among the sorted labels ``trees``, and that tree's position."""
        pos, hit = locate_sorted(trees, self.label[nodes])
        return nodes[hit], pos[hit]

    def add(self, edges: np.ndarray, nodes: np.ndarray) -> np.ndarray:
        """Join trees along ``edges`` (all of whose trees lie within ``nodes``); returns the edges
        used: a spanning forest of them over the trees (an edge inside one tree is skipped)."""
        a, b = self.tails[edges], self.heads[edges]
        ta, tb = self.label[a], self.label[b]
        apart = ta != tb
        edges, a, b, ta, tb = edges[apart], a[apart], b[apart], ta[apart], tb[apart]
        if edges.size == 0:
            return edges
        trees, inverse = np.unique(np.concatenate([ta, tb]), return_inverse=True)
        ca, cb = inverse[: edges.size], inverse[edges.size:]
        forest = forest_order(trees.size, ca, cb)
        child = np.flatnonzero(forest.parent >= 0)
        used = forest.parent_edge[child]
        gap = self.h[a[used]] - 1 - self.h[b[used]]  # shift of b's tree minus a's so that h_a - h_b = 1
        rel = np.zeros(trees.size, dtype=np.int64)
        rel[child] = np.where(cb[used] == child, gap, -gap)
        shift = path_sums(forest.parent, rel)
        members, pos = self._members(trees, nodes)
        self.h[members] += shift[pos]
        self.label[members] = trees[forest.root[pos]]
        total = np.zeros(trees.size, dtype=np.int64)
        moment = np.zeros(trees.size, dtype=np.int64)
        np.add.at(total, forest.root, self.total[trees])
        np.add.at(moment, forest.root, self.moment[trees] + shift * self.total[trees])
        roots = np.unique(forest.root)
        self.total[trees[roots]] = total[roots]
        self.moment[trees[roots]] = moment[roots]
        return edges[used]

    def remove(self, edges: np.ndarray, work: np.ndarray, nodes: np.ndarray, live_edges: np.ndarray) -> None:
        """Split the trees of ``edges`` (already out of ``work``; their nodes within ``nodes``, their
        remaining working edges within ``live_edges``) into their new components."""
        trees = np.unique(self.label[self.tails[edges]])
        members, _ = self._members(trees, nodes)
        local = self.scratch
        local[members] = np.arange(members.size)
        inside = live_edges[work[live_edges]]
        inside = inside[local[self.tails[inside]] >= 0]
        lt, lh = local[self.tails[inside]], local[self.heads[inside]]
        local[members] = -1
        graph = csr_matrix((np.ones(inside.size), (lt, lh)), shape=(members.size, members.size))
        n_comp, comp = connected_components(graph, directed=False)
        rep = np.full(n_comp, self.label.size, dtype=np.int64)
        np.minimum.at(rep, comp, members)
        self.label[members] = rep[comp]
        total = np.zeros(n_comp, dtype=np.int64)
        moment = np.zeros(n_comp, dtype=np.int64)
        np.add.at(total, comp, self.w[members])
        np.add.at(moment, comp, self.w[members] * self.h[members])
        self.total[rep] = total
        self.moment[rep] = moment

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
            return object_array(out)
        return h - self.moment[label] / self.total[label]


@dataclass(frozen=True, eq=False)
class PotentialSolution:
    r"""What :func:`min_norm_potentials` returns.

    Attributes
    ----------
    v : numpy.ndarray, shape (n,)
        The optimal potentials.
    working : numpy.ndarray of bool, shape (m,)
        The final working set (a forest of active edges).
    multipliers : numpy.ndarray, shape (m,)
        KKT multipliers (zero off the working set): :math:`w \odot v = D\lambda`.
    iterations : int
        Iterations of the active-set loop.
    """

    v: np.ndarray
    working: np.ndarray
    multipliers: np.ndarray
    iterations: int


def min_norm_potentials(
    weights: np.ndarray, tails: np.ndarray, heads: np.ndarray, *, exact: bool = False,
    working: np.ndarray | None = None, block: np.ndarray | None = None, max_iter: int | None = None,
) -> PotentialSolution:
    r"""Solve :math:`\min \frac12 \sum_c w_c v_c^2` s.t. :math:`v_{t_e} - v_{h_e} \ge 1` for all edges.

    A primal active-set method on forests (see :class:`_ActiveSet`); ``working`` warm-starts it.

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
    max_iter : int, optional
        Most iterations (default :math:`20 (n + m) + 100`).

    Returns
    -------
    PotentialSolution
        The potentials, the working set, the multipliers and the iteration count.

    Raises
    ------
    NotConverged
        When ``max_iter`` iterations do not reach the optimum (``iterations`` says how many ran).

    >>> sol = min_norm_potentials(np.array([1, 1, 1]), np.array([0, 1]), np.array([1, 2]))
    >>> sol.v.tolist(), sol.multipliers.tolist()
    ([1.0, 0.0, -1.0], [1.0, 1.0])
    """
    weights = np.asarray(weights, dtype=np.float64)
    tails = np.asarray(tails, dtype=np.int64)
    heads = np.asarray(heads, dtype=np.int64)
    n, m = weights.size, tails.size
    if n == 0:
        empty = np.zeros(0, dtype=object if exact else np.float64)
        return PotentialSolution(empty, np.zeros(0, dtype=bool), empty.copy(), 0)
    solver = _ActiveSet(weights, tails, heads, exact, block)
    if working is not None and working.any():
        solver.warm_start(working)
    limit = max_iter if max_iter is not None else 20 * (n + m) + 100
    for iteration in range(1, limit + 1):
        if solver.iterate():
            return PotentialSolution(solver.v, solver.work, solver.lam, iteration)
    raise NotConverged(
        f"the potential active-set method did not converge in {limit} iterations "
        f"({n} SCCs, {m} condensation edges)", limit,
    )


class _ActiveSet:
    """The state of :func:`min_norm_potentials`: potentials, working forest, multipliers, finished blocks.

    Primal active set: start from the longest-path heights (shifted to weighted mean 0), which
    are feasible; on the working set (a forest) take the closed-form minimiser, step towards it
    until constraints block (each joins two trees; all tied ones are added), and when the
    minimiser is reached drop the most negative multiplier. Independent sub-problems
    (``block``) take their own step lengths and drops, so they progress in parallel. A warm
    start from a given working set is used only when its solution is feasible.
    """

    def __init__(
        self, weights: np.ndarray, tails: np.ndarray, heads: np.ndarray, exact: bool, block: np.ndarray | None
    ) -> None:
        n, m = weights.size, tails.size
        self.weights, self.tails, self.heads, self.exact = weights, tails, heads, exact
        start = heights(n, tails, heads)
        self.node_block = np.zeros(n, dtype=np.int64) if block is None else np.asarray(block, dtype=np.int64)
        self.n_blocks = int(self.node_block.max()) + 1
        self.edge_block = self.node_block[tails]
        self.v = self._centred(start)
        self.tol = 0.0 if exact else 1e-12 * (1.0 + float(start.max(initial=0)))
        self.factor = weights.astype(np.int64).astype(object) if exact else weights
        self.forest = _WorkingForest(weights, tails, heads)
        self.work = np.zeros(m, dtype=bool)
        self.checked = np.zeros(self.n_blocks, dtype=bool)
        self.moved = np.zeros(self.n_blocks, dtype=bool)  # a positive step since the block's last drop
        self.scratch = np.full(n, -1, dtype=np.int64)  # a node -> local index map, reset after each use
        self.step = np.zeros(n, dtype=object if exact else np.float64)
        self.lam = np.zeros(m, dtype=np.float64) if not exact else object_zeros(m)
        self.live_nodes, self.live_edges = np.arange(n), np.arange(m)  # nodes and edges of unfinished blocks

    def _centred(self, start: np.ndarray) -> np.ndarray:
        """The heights shifted to weighted mean 0 in every block (feasible: differences unchanged)."""
        weights, node_block, n_blocks = self.weights, self.node_block, self.n_blocks
        total = np.bincount(node_block, weights=weights, minlength=n_blocks)
        if not self.exact:
            moment = np.bincount(node_block, weights=weights * start, minlength=n_blocks)
            return start - (moment / np.maximum(total, 1.0))[node_block]
        w_int = weights.astype(np.int64)
        moments = np.bincount(node_block, weights=w_int * start, minlength=n_blocks).astype(np.int64).tolist()
        shift = [Fraction(mo, to) if to else Fraction(0)
                 for mo, to in zip(moments, total.astype(np.int64).tolist(), strict=True)]
        return start.astype(object) - object_array(shift)[node_block]

    def warm_start(self, working: np.ndarray) -> None:
        """Start from the forest ``working`` when its minimiser is feasible."""
        added = self.forest.add(np.flatnonzero(working), np.arange(self.weights.size))
        guess = self.forest.target(self.exact)
        if np.all(guess[self.tails] - guess[self.heads] - 1 >= -self.tol):
            self.v = guess
            self.work[added] = True
        else:
            self.forest = _WorkingForest(self.weights, self.tails, self.heads)

    def _towards_target(self) -> tuple[np.ndarray, np.ndarray]:
        """The step of every live node to its forest minimiser, and which blocks are already there."""
        target = self.forest.target(self.exact, self.live_nodes)
        step_live = target - self.v[self.live_nodes]
        size = np.zeros(self.n_blocks, dtype=object if self.exact else np.float64)
        np.maximum.at(size, self.node_block[self.live_nodes], np.abs(step_live))
        settled = size <= self.tol
        reached = settled[self.node_block[self.live_nodes]]
        self.v[self.live_nodes[reached]] = target[reached]
        return step_live, settled

    def iterate(self) -> bool:
        """One iteration; True when every block is optimal."""
        step_live, settled = self._towards_target()
        fresh = settled & ~self.checked
        if fresh.any():
            dropped = self._settle(fresh)
            if self.checked.all():
                return True
            self.live_nodes = self.live_nodes[~self.checked[self.node_block[self.live_nodes]]]
            self.live_edges = self.live_edges[~self.checked[self.edge_block[self.live_edges]]]
            if dropped:
                return False
            target = self.forest.target(self.exact, self.live_nodes)
            step_live = target - self.v[self.live_nodes]
        self._advance(step_live, settled)
        return False

    def _settle(self, fresh: np.ndarray) -> bool:
        """Multipliers of the newly settled blocks, on their own sub-forest; drop the most negative."""
        tails, heads, edge_block = self.tails, self.heads, self.edge_block
        nodes = self.live_nodes[fresh[self.node_block[self.live_nodes]]]
        edges = self.live_edges[fresh[edge_block[self.live_edges]]]
        local = self.scratch
        local[nodes] = np.arange(nodes.size)
        active = edges[self.work[edges]]
        sub_t, sub_h = local[tails[active]], local[heads[active]]
        local[nodes] = -1
        self.lam[edges] = Fraction(0) if self.exact else 0.0
        self.lam[active] = forest_flows(forest_order(nodes.size, sub_t, sub_h), sub_t, sub_h,
                                        self.factor[nodes] * self.v[nodes])
        drops = _negative(self.lam, active, edge_block, self.tol, self.moved)
        self.moved[fresh] = False
        self.checked |= fresh
        if drops.size:
            dropped = np.asarray(drops, dtype=np.int64)
            self.checked[edge_block[dropped]] = False
            self.work[dropped] = False
            self.forest.remove(dropped, self.work, self.live_nodes, self.live_edges)
        return bool(drops.size)

    def _advance(self, step_live: np.ndarray, settled: np.ndarray) -> None:
        """Step every unsettled block towards its minimiser until a constraint blocks; add the blockers."""
        exact, tails, heads, edge_block = self.exact, self.tails, self.heads, self.edge_block
        live_nodes, live_edges = self.live_nodes, self.live_edges
        step = self.step  # read only at live nodes, the ends of every live edge
        step[live_nodes] = step_live
        lt, lh = tails[live_edges], heads[live_edges]
        rate = step[lt] - step[lh]
        label = self.forest.label
        blocking = (~self.work[live_edges]) & (rate < -self.tol) & (label[lt] != label[lh])
        blocking &= ~settled[edge_block[live_edges]]
        alpha = np.ones(self.n_blocks, dtype=object if exact else np.float64)
        cand = live_edges[blocking]
        chosen = np.zeros(0, dtype=np.int64)
        if cand.size:
            slack = self.v[tails[cand]] - self.v[heads[cand]] - 1
            if not exact:
                slack = np.maximum(slack, 0.0)
            ratios = slack / (-rate[blocking])
            np.minimum.at(alpha, edge_block[cand], ratios)
            # every constraint that blocks at its block's step length joins the working set at once
            best = alpha[edge_block[cand]]
            ties = (ratios <= best + (0 if exact else 1e-12)) & (best < 1)
            chosen = cand[ties][np.argsort(ratios[ties].astype(np.float64), kind="stable")]
        self.v[live_nodes] = self.v[live_nodes] + alpha[self.node_block[live_nodes]] * step_live
        self.moved |= (alpha > 0) & ~settled
        self.work[self.forest.add(chosen, live_nodes)] = True


def _negative(
    lam: np.ndarray, active: np.ndarray, edge_block: np.ndarray, tol: float, moved: np.ndarray
) -> np.ndarray:
    """The edges to drop: in every block with a multiplier below ``-tol``, all its negative ones when
    the block has ``moved`` (a positive step since its last drop), else only the most negative.

    Dropping several is safe after a positive step: the objective has strictly decreased since the
    last working set left, so no working set repeats; after a zero step the single drop of the
    classical method applies.
    """
    if active.size == 0:
        return np.zeros(0, dtype=np.int64)
    neg = active[lam[active] < -tol]
    if neg.size == 0:
        return neg
    order = neg[np.lexsort((lam[neg].astype(np.float64), edge_block[neg]))]
    first = np.diff(edge_block[order], prepend=-1) != 0
    return order[first | moved[edge_block[order]]]
