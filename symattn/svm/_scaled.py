r"""Private: the exact graph-SVM certificate for one-hot embeddings in integers over common denominators.

With one-hot embeddings every constraint lives in one query column, and the optimum on a
working forest (docs/theory.md §4, §9) is :math:`v = h - S_T / D_T` on each tree :math:`T`
(integer offsets :math:`h`, :math:`D_T = \sum w`, :math:`S_T = \sum w h`). Scaling tree
:math:`T` by its denominator :math:`D_T` makes every potential and every multiplier of the tree
an integer, so the certificate is a handful of integer arrays, and its four KKT conditions are
decided by integer comparisons (no :class:`fractions.Fraction` per constraint):

* primal feasibility: :math:`P_a D_b - P_b D_a = 0` on equalities and :math:`\ge D_a D_b` on
  inequalities (:math:`u_a - u_b = (P_a D_b - P_b D_a) / (D_a D_b)`);
* dual signs: :math:`M_c \ge 0` on inequalities (denominators positive);
* complementarity: :math:`M_c = 0` or the margin equals 1;
* stationarity: every nonzero multiplier shares the denominator of both its entries, and the
  signed sum of the :math:`M_c` at every entry equals its numerator.

NumPy ``int64`` is used when bounds computed from the values rule out overflow; otherwise the
checks run on Python integers (object arrays), which are exact at any size.

>>> from symattn.data import Dataset
>>> from symattn.svm.constraints import svm_constraints
>>> from symattn.svm._collapse import collapse
>>> cons = svm_constraints(Dataset.from_samples([([0, 1, 2], 0), ([1, 2], 1)], vocab=3))
>>> prob = collapse(cons, 3)
>>> sol = scaled_solution(prob, np.array([True, False, True]))  # active: 0 -> 1 and 1 -> 2
>>> sol.potentials.values.num.tolist(), sol.potentials.values.den.tolist()
([3, 0, -3], [3, 3, 3])
>>> sol.multipliers.num.tolist(), sol.multipliers.den.tolist()
([3, 0, 3], [3, 3, 3])
>>> scaled_checks(cons, sol.potentials, sol.multipliers, 3)
(True, True, True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from symattn._arrays import locate_sorted
from symattn.svm._collapse import Collapsed, edge_multipliers
from symattn.svm._potentials import Forest, forest_flows, forest_order, path_sums
from symattn.svm._twins import Twins
from symattn.svm.constraints import SVMConstraints

__all__ = [
    "ScaledPotentials", "ScaledSolution", "ScaledValues", "scaled_checks", "scaled_solution",
]

_SAFE = 2**62  # magnitudes below this leave int64 arithmetic (sums of two, products) exact


@dataclass(frozen=True, eq=False)
class ScaledValues:
    """Exact rationals ``num[i] / den[i]`` held as integer arrays (``int64`` or Python ints).

    >>> ScaledValues(np.array([2, 0]), np.array([4, 3])).fractions().tolist()
    [Fraction(1, 2), Fraction(0, 1)]
    """

    num: np.ndarray
    den: np.ndarray

    def fractions(self) -> np.ndarray:
        """The values as an object array of :class:`fractions.Fraction`."""
        out = np.empty(self.num.size, dtype=object)
        out[:] = [Fraction(int(n), int(d)) for n, d in zip(self.num.tolist(), self.den.tolist(), strict=True)]
        return out


@dataclass(frozen=True, eq=False)
class ScaledPotentials:
    """:math:`W^{svm}` in token coordinates: entry ``(token[p], query[p])`` is ``values[p]``; others are 0."""

    token: np.ndarray
    query: np.ndarray
    values: ScaledValues

    def entries(self) -> dict[tuple[int, int], Fraction]:
        """The nonzero entries as ``{(token, query): Fraction}``."""
        num, den = self.values.num, self.values.den
        keep = np.flatnonzero(num != 0)
        return {(t, k): Fraction(int(n), int(d)) for t, k, n, d in zip(
            self.token[keep].tolist(), self.query[keep].tolist(), num[keep].tolist(), den[keep].tolist(),
            strict=True)}

    def norm_squared(self) -> Fraction:
        r""":math:`\|W\|_F^2` exactly: the squared numerators summed per denominator.

        >>> ScaledPotentials(np.array([0, 1]), np.array([1, 1]),
        ...                  ScaledValues(np.array([1, -1]), np.array([2, 2]))).norm_squared()
        Fraction(1, 2)
        """
        total = Fraction(0)
        num = self.values.num.astype(object)
        den = self.values.den.astype(object)
        for d in np.unique(self.values.den).tolist():
            total += Fraction(int(np.sum(num[den == d] ** 2)), int(d) ** 2)
        return total


@dataclass(frozen=True, eq=False)
class ScaledSolution:
    """The potentials at every (token, query) node and the multipliers of every constraint."""

    potentials: ScaledPotentials
    multipliers: ScaledValues


def forest_offsets(n: int, tails: np.ndarray, heads: np.ndarray) -> tuple[np.ndarray, Forest] | None:
    """Integer offsets ``h`` with ``h[t] - h[h] = 1`` on every edge, 0 at each tree's root, and the
    spanning forest; ``None`` when the edges contain a cycle (they are then not independent).

    >>> h, forest = forest_offsets(3, np.array([0, 2]), np.array([1, 1]))
    >>> h.tolist(), forest.root.tolist()
    ([0, -1, 0], [0, 0, 0])
    >>> forest_offsets(2, np.array([0, 1]), np.array([1, 0])) is None
    True
    """
    forest = forest_order(n, tails, heads)
    if tails.size != int(np.count_nonzero(forest.parent >= 0)):
        return None
    child = np.flatnonzero(forest.parent >= 0)
    rel = np.zeros(n, dtype=np.int64)
    rel[child] = np.where(tails[forest.parent_edge[child]] == child, 1, -1)
    return path_sums(forest.parent, rel), forest


def scaled_solution(
    prob: Collapsed, working: np.ndarray, twins: Twins | None = None
) -> ScaledSolution | None:
    """The exact optimum on the working forest ``working`` (over the condensation edges of ``prob``,
    or over the merged edges of ``twins``), scaled per tree to integers; ``None`` when ``working``
    is not a forest, int64 could overflow, or the flows do not spread back over the twins.

    Nothing here is trusted: :func:`scaled_checks` decides whether the result is the optimum.
    """
    w = (prob.weights if twins is None else twins.weights).astype(np.int64)
    n = w.size
    all_tails, all_heads = (prob.dag_tail, prob.dag_head) if twins is None else (twins.tails, twins.heads)
    tails, heads = all_tails[working], all_heads[working]
    found = forest_offsets(n, tails, heads)
    if found is None:
        return None
    h, forest = found
    root = forest.root
    height = int(np.abs(h).max(initial=0)) + 1
    total = np.zeros(n, dtype=np.int64)
    np.add.at(total, root, w)
    widest = int(total.max(initial=1))
    # |num| <= 2 H D, flows <= sum w |num| <= 2 H D^2, every multiplier sum below that times the edges
    if 4 * height * widest**2 * (prob.n_nodes + prob.dag_tail.size + 1) >= _SAFE:
        return None
    moment = np.zeros(n, dtype=np.int64)
    np.add.at(moment, root, w * h)
    num = h * total[root] - moment[root]
    den = total[root]
    dag_num = np.zeros(all_tails.size, dtype=np.int64)
    dag_num[working] = forest_flows(forest, tails, heads, w * num)
    if twins is not None:
        dag_num = twins.spread_integers(num, dag_num)
        if dag_num is None:
            return None
        num, den = num[twins.cls], den[twins.cls]
    node_num, node_den = num[prob.group], den[prob.group]
    lam_num = edge_multipliers(prob, node_num, dag_num)
    return ScaledSolution(
        ScaledPotentials(prob.node_token, prob.node_query, ScaledValues(node_num, node_den)),
        ScaledValues(lam_num, node_den[prob.hi]),
    )


def _integers(values: ScaledValues) -> bool:
    """True when both arrays hold integers only (int dtype, or Python ints in an object array)."""
    for arr in (values.num, values.den):
        if arr.dtype == object:
            if not all(type(v) is int for v in arr.tolist()):
                return False
        elif not np.issubdtype(arr.dtype, np.integer):
            return False
    return True


def _magnitude(arr: np.ndarray) -> int:
    """The largest absolute value of an integer array, as an exact Python int (0 when empty)."""
    if arr.size == 0:
        return 0
    return max(int(arr.max()), -int(arr.min()))


def _exact_ints(*arrays: np.ndarray, bound: int) -> list[np.ndarray]:
    """The arrays as int64 when ``bound`` (an upper bound of every intermediate) is safely below
    2^62, else as object arrays of Python ints (exact at any size)."""
    if bound < _SAFE / 4:
        return [np.asarray(a, dtype=np.int64) for a in arrays]
    return [np.asarray(a).astype(object) for a in arrays]


def scaled_checks(
    cons: SVMConstraints, pot: ScaledPotentials, lam: ScaledValues, K: int
) -> tuple[bool, bool, bool, bool]:
    """The four exact KKT verdicts (primal, dual signs, complementarity, stationarity), in integers.

    Entries must be integers with positive denominators at distinct in-range (token, query)
    positions, every nonzero multiplier must share the denominator of the entries at both of its
    ends; anything else fails (the module docstring gives each condition).
    """
    m = len(cons)
    shapes_ok = lam.num.shape == lam.den.shape == (m,) and pot.values.num.shape == pot.values.den.shape \
        == pot.token.shape == pot.query.shape
    if not (shapes_ok and _integers(pot.values) and _integers(lam)):
        return False, False, False, False
    positions_ok = all(np.issubdtype(arr.dtype, np.integer) for arr in (pot.token, pot.query))
    if not positions_ok or not all(bool(np.all((arr >= 0) & (arr < K))) for arr in (pot.token, pot.query)):
        return False, False, False, False
    keys = pot.query.astype(np.int64) * K + pot.token.astype(np.int64)
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    distinct = bool(np.all(np.diff(keys) > 0))
    positive = bool(np.all(pot.values.den > 0)) and bool(np.all(lam.den > 0))
    if not (distinct and positive):
        return False, False, False, False
    top = max(_magnitude(pot.values.num), _magnitude(pot.values.den), _magnitude(lam.den), 1)
    sums = m * _magnitude(lam.num)  # bounds every signed sum of multipliers at an entry
    num, den, lam_num, lam_den = _exact_ints(pot.values.num[order], pot.values.den[order], lam.num, lam.den,
                                             bound=max(4 * top * top, 2 * sums + top))
    a, found_a = locate_sorted(keys, cons.query * K + cons.high)
    b, found_b = locate_sorted(keys, cons.query * K + cons.low)
    pa, da = _gather(num, a, found_a, 0), _gather(den, a, found_a, 1)
    pb, db = _gather(num, b, found_b, 0), _gather(den, b, found_b, 1)
    margin_num, margin_den = pa * db - pb * da, da * db
    eq, ineq = cons.equality, ~cons.equality
    primal = bool(np.all(margin_num[eq] == 0)) and bool(np.all(margin_num[ineq] >= margin_den[ineq]))
    signs = bool(np.all(lam_num[ineq] >= 0))
    complementary = bool(np.all((lam_num[ineq] == 0) | (margin_num[ineq] == margin_den[ineq])))
    return primal, signs, complementary, _stationary(num, den, lam_num, lam_den, a, b, found_a & found_b)


def _gather(values: np.ndarray, index: np.ndarray, found: np.ndarray, fill: int) -> np.ndarray:
    """``values[index]`` where found, ``fill`` elsewhere (in the integer type of ``values``)."""
    out = np.full(index.size, fill, dtype=values.dtype)
    out[found] = values[index[found]]
    return out


def _stationary(
    num: np.ndarray, den: np.ndarray, lam_num: np.ndarray, lam_den: np.ndarray,
    a: np.ndarray, b: np.ndarray, both: np.ndarray,
) -> bool:
    r""":math:`W = \sum_c \lambda_c (e_{a_c} - e_{b_c}) e_{k_c}^\top` entry by entry."""
    active = np.flatnonzero(lam_num != 0)
    if not bool(np.all(both[active])):
        return False
    aa, bb = a[active], b[active]
    if not (bool(np.all(lam_den[active] == den[aa])) and bool(np.all(lam_den[active] == den[bb]))):
        return False
    total = num * 0
    np.add.at(total, aa, lam_num[active])
    np.subtract.at(total, bb, lam_num[active])
    return bool(np.all(total == num))
