r"""Private: twin nodes of the potential problem merged, exactly, and multipliers spread back.

Two nodes :math:`x, y` of one query's condensation DAG are *twins* when they have the same
successors and the same predecessors. At the optimum of the potential problem
(docs/theory.md §4)

.. math::

    \min_v \tfrac12 \sum_c w_c v_c^2 \quad\text{s.t.}\quad v_a - v_b \ge 1 \text{ on every edge}

twins carry the same potential: with every other potential fixed, each of them minimises
:math:`\frac12 w v^2` over the same interval :math:`[\max_{succ} v + 1, \min_{pred} v - 1]`,
whose minimiser (0 clipped to the interval) does not depend on :math:`w`, and the optimum is
unique. The problem restricted to :math:`v_x = v_y` therefore has the same optimum: merging each
class of twins into one node of their total weight is exact. Twins are never adjacent, and
every tail of a merged edge :math:`A \to B` has an edge to every head, so multipliers found on
the merged problem spread back over the original edges:

* in floats, in proportion to the weights, :math:`\lambda_{ab} = \Lambda_{AB}\, w_a w_b / (W_A W_B)`
  (:meth:`Twins.spread`);
* in integers over a tree's common denominator (the exact certificate of :mod:`symattn.svm._scaled`),
  by north-west-corner transports that keep every amount a sum of the given integers
  (:meth:`Twins.spread_integers`).

Twins are found by hashing neighbour sets, then confirmed by comparing the sets exactly; a
node whose sets differ from its class's first member stays alone.

>>> tw = twin_classes(np.ones(4), np.array([0, 0, 1, 1]), np.array([2, 3, 2, 3]), np.zeros(4))
>>> tw.cls.tolist(), tw.weights.tolist(), tw.tails.tolist(), tw.heads.tolist()
([0, 0, 1, 1], [2.0, 2.0], [0], [1])
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from symattn._arrays import locate_sorted, range_indices
from symattn._exact import object_array

__all__ = ["Twins", "twin_classes"]

_SAFE_TOTAL = 2.0**61
"""Integer transports run in int64 while the sum of all amounts stays below this."""


@dataclass(frozen=True, eq=False)
class Twins:
    """The merged problem and the maps back to the original one.

    Attributes
    ----------
    cls : numpy.ndarray, shape (n,)
        Class of each original node.
    weights : numpy.ndarray, shape (c,)
        Total weight of each class.
    tails, heads : numpy.ndarray, shape (e,)
        The merged edges, distinct and sorted.
    block : numpy.ndarray, shape (c,)
        The block (query) of each class.
    edge_of : numpy.ndarray, shape (m,)
        The merged edge of each original edge.
    node_weights : numpy.ndarray, shape (n,)
        The original weights.
    orig_tails, orig_heads : numpy.ndarray, shape (m,)
        The original edges, in the caller's order.
    """

    cls: np.ndarray
    weights: np.ndarray
    tails: np.ndarray
    heads: np.ndarray
    block: np.ndarray
    edge_of: np.ndarray
    node_weights: np.ndarray
    orig_tails: np.ndarray
    orig_heads: np.ndarray

    def spread(self, lam: np.ndarray) -> np.ndarray:
        r"""Multipliers of the original edges, :math:`\Lambda_{AB} w_a w_b / (W_A W_B)`, in floats or
        (``lam`` of :class:`~fractions.Fraction`) exactly.

        Stationarity :math:`w_a v_a = \sum_{out} \lambda - \sum_{in} \lambda` holds at every
        node :math:`a` of class :math:`A` because it holds for :math:`A` with weight :math:`W_A`.
        """
        if lam.dtype == object:
            share = object_array([Fraction(int(a), int(b)) for a, b in zip(
                self.node_weights.tolist(), self.weights[self.cls].tolist(), strict=True)])
        else:
            share = self.node_weights / self.weights[self.cls]
        return lam[self.edge_of] * share[self.orig_tails] * share[self.orig_heads]

    def spread_integers(self, num: np.ndarray, flows: np.ndarray) -> np.ndarray | None:
        """Integer multipliers of the original edges from the class numerators ``num`` and the
        integer ``flows`` on the merged edges (over one common denominator per tree); ``None``
        when the flows are negative, do not balance ``num`` or could overflow int64.

        Each class routes its in-flow through its first member, which sends it on with its own
        share; the other members send (or, below zero, receive) only their own
        :math:`w_a \\, num_A`. Members are matched to edges, and the tails of each merged edge to
        its heads, by north-west-corner transports.
        """
        flows = np.asarray(flows, dtype=np.int64)
        w = self.node_weights.astype(np.int64)
        size = float(np.abs(flows).sum(dtype=np.float64))
        size += float(np.abs(w * num[self.cls].astype(np.float64)).sum())
        if np.any(flows < 0) or size >= _SAFE_TOTAL:
            return None
        totals = _member_totals(self.cls, w, num, self.tails, self.heads, flows)
        if totals is None:
            return None
        members, out_total, in_total = totals
        live = np.flatnonzero(flows > 0)
        tail_parts = _match(self.cls[members], members, out_total, self.tails[live], live, flows[live])
        head_parts = _match(self.cls[members], members, in_total, self.heads[live], live, flows[live])
        if tail_parts is None or head_parts is None:
            return None
        (a, tail_edge, tail_amount), (b, head_edge, head_amount) = tail_parts, head_parts
        pairs = _match(tail_edge, a, tail_amount, head_edge, b, head_amount)
        if pairs is None:
            return None
        n = w.size
        keys = self.orig_tails * n + self.orig_heads
        sorter = np.argsort(keys, kind="stable")
        pos, found = locate_sorted(keys[sorter], pairs[0] * n + pairs[1])
        if not found.all():
            return None
        out = np.zeros(self.orig_tails.size, dtype=np.int64)
        np.add.at(out, sorter[pos], pairs[2])
        return out


def _member_totals(
    cls: np.ndarray, w: np.ndarray, num: np.ndarray, tails: np.ndarray, heads: np.ndarray, flows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Members sorted by class and what each sends out and takes in; ``None`` when some class's
    out-flow minus in-flow is not its weight times its numerator."""
    c = num.size
    out_flow = np.zeros(c, dtype=np.int64)
    in_flow = np.zeros(c, dtype=np.int64)
    np.add.at(out_flow, tails, flows)
    np.add.at(in_flow, heads, flows)
    weight = np.zeros(c, dtype=np.int64)
    np.add.at(weight, cls, w)
    if not np.array_equal(out_flow - in_flow, weight * num):
        return None
    members = np.argsort(cls, kind="stable")
    k = cls[members]
    first = np.ones(members.size, dtype=bool)
    first[1:] = k[1:] != k[:-1]
    own = w[members] * num[k]
    up = num[k] >= 0
    out_total = np.where(up, own, 0) + np.where(first, np.where(up, in_flow[k], out_flow[k]), 0)
    in_total = np.where(up, 0, -own) + np.where(first, np.where(up, in_flow[k], out_flow[k]), 0)
    return members, out_total, in_total


def _match(
    seg_s: np.ndarray, id_s: np.ndarray, s: np.ndarray, seg_t: np.ndarray, id_t: np.ndarray, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """North-west-corner transports, one per segment: sources ``s`` (named ``id_s``) against sinks
    ``t`` (named ``id_t``) of the same segment, each side sorted here by segment. Returns
    ``(source id, sink id, amount)`` with every amount positive (a segment sorted by sink id);
    ``None`` when some segment's two totals differ.

    Sources cover consecutive intervals of the line by their cumulative sums, sinks likewise;
    every piece between two consecutive breakpoints goes from the source to the sink covering it.
    """
    order_s = np.argsort(seg_s, kind="stable")
    order_t = np.argsort(seg_t, kind="stable")
    seg_s, id_s, s = seg_s[order_s], id_s[order_s], s[order_s]
    seg_t, id_t, t = seg_t[order_t], id_t[order_t], t[order_t]
    top = int(max(seg_s.max(initial=-1), seg_t.max(initial=-1))) + 1
    total_s = np.zeros(top, dtype=np.int64)
    total_t = np.zeros(top, dtype=np.int64)
    np.add.at(total_s, seg_s, s)
    np.add.at(total_t, seg_t, t)
    if not np.array_equal(total_s, total_t):
        return None
    S, T = np.cumsum(s), np.cumsum(t)
    points = np.union1d(S, T)
    amount = np.diff(points, prepend=0)
    keep = amount > 0
    points, amount = points[keep], amount[keep]
    return id_s[np.searchsorted(S, points)], id_t[np.searchsorted(T, points)], amount


def twin_classes(weights: np.ndarray, tails: np.ndarray, heads: np.ndarray, block: np.ndarray) -> Twins:
    """Merge the twins of the DAG ``tails -> heads`` (edges distinct) whose nodes lie in ``block``."""
    n = weights.size
    tails = np.asarray(tails, dtype=np.int64)
    heads = np.asarray(heads, dtype=np.int64)
    keys = tails * n + heads
    sorted_tails, sorted_heads = (tails, heads) if np.all(keys[1:] > keys[:-1]) else _by_tail(tails, heads)
    candidates = _candidates(n, sorted_tails, sorted_heads, np.asarray(block, dtype=np.int64))
    cls = _confirmed(n, sorted_tails, sorted_heads, candidates)
    c = int(cls.max(initial=-1)) + 1
    merged, edge_of = np.unique(cls[tails] * c + cls[heads], return_inverse=True)
    class_block = np.zeros(c, dtype=np.int64)
    class_block[cls] = block
    class_weights = np.bincount(cls, weights=weights, minlength=c)
    return Twins(cls, class_weights, merged // max(c, 1), merged % max(c, 1), class_block, edge_of.ravel(),
                 np.asarray(weights, dtype=np.float64), tails, heads)


def _candidates(n: int, tails: np.ndarray, heads: np.ndarray, block: np.ndarray) -> np.ndarray:
    """Classes of equal hashes of the successor and predecessor sets, within each block.

    Edges sorted by (tail, head) make each node's sums run over its neighbours in one order,
    so equal sets give bit-equal sums.
    """
    code = np.random.default_rng(0x7417).random(n)
    mix = np.bincount(tails, weights=code[heads], minlength=n) + np.pi * np.bincount(
        heads, weights=code[tails], minlength=n)
    order = np.lexsort((mix, block))
    new = np.ones(n, dtype=bool)
    new[1:] = (np.diff(mix[order]) != 0) | (np.diff(block[order]) != 0)
    cls = np.empty(n, dtype=np.int64)
    cls[order] = np.cumsum(new) - 1
    return cls


def _confirmed(n: int, tails: np.ndarray, heads: np.ndarray, cls: np.ndarray) -> np.ndarray:
    """The candidate classes with every member whose neighbour sets differ from its class's first
    member's moved to a class of its own."""
    lead = _first_members(cls)[cls]
    same = _same_lists(n, tails, heads, lead) & _same_lists(n, *_by_tail(heads, tails), lead)
    alone = np.flatnonzero(~same)
    cls = cls.copy()
    cls[alone] = cls.max(initial=-1) + 1 + np.arange(alone.size)
    return _by_first_member(cls)


def _first_members(cls: np.ndarray) -> np.ndarray:
    """The smallest member of every class label ``0..max`` (``cls.size`` for an unused label)."""
    first = np.full(int(cls.max(initial=-1)) + 1, cls.size, dtype=np.int64)
    np.minimum.at(first, cls, np.arange(cls.size))
    return first


def _by_first_member(cls: np.ndarray) -> np.ndarray:
    """The classes renumbered 0, 1, ... in the order of their first members (no gaps)."""
    first = _first_members(cls)
    used = np.flatnonzero(first < cls.size)
    rank = np.zeros(first.size, dtype=np.int64)
    rank[used[np.argsort(first[used], kind="stable")]] = np.arange(used.size)
    return rank[cls]


def _by_tail(tails: np.ndarray, heads: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The edges sorted by ``tails``, then ``heads``."""
    order = np.lexsort((heads, tails))
    return tails[order], heads[order]


def _same_lists(n: int, tails: np.ndarray, heads: np.ndarray, lead: np.ndarray) -> np.ndarray:
    """Per node, whether its successor list (edges sorted by tail, then head) equals ``lead``'s."""
    start = np.searchsorted(tails, np.arange(n))
    count = np.bincount(tails, minlength=n)
    equal_count = count == count[lead]
    check = np.flatnonzero(equal_count & (count > 0))
    mine = heads[range_indices(start[check], count[check])]
    theirs = heads[range_indices(start[lead[check]], count[check])]
    differs = np.zeros(n, dtype=bool)
    bad = np.repeat(check, count[check])[mine != theirs]
    differs[bad] = True
    return equal_count & ~differs
