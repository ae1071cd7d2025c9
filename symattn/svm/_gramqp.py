r"""Private: the QP :math:`\min \frac12\|x\|^2` s.t. :math:`A_{eq} x = 0`, :math:`A_{in} x \ge 1`.

Used by the graph-SVM with general (non-orthonormal) embeddings, after the redundant
within-SCC equalities were reduced to independent stars. A feasible point comes from HiGHS
(:func:`scipy.optimize.linprog`), which also decides feasibility; a primal active-set method
then finds the optimum, each step an equality-constrained minimum-norm solve (SVD
least squares). Exact versions of the KKT solve and of the Farkas system use python-flint.

>>> sol = active_set_qp(np.zeros((0, 2)), np.array([[1.0, 1.0]]))
>>> sol.x.round(12).tolist(), sol.working.tolist(), sol.multipliers.round(12).tolist()
([0.5, 0.5], [True], [0.5])
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import flint
import numpy as np
from scipy.optimize import linprog

from symattn._exact import exact_dot, fmpq_matrix, pivot_columns, to_fraction
from symattn.errors import NotConverged, SolverError

__all__ = [
    "QPSolution",
    "active_set_qp",
    "exact_farkas",
    "exact_kkt",
    "farkas_lp",
    "feasible_point",
    "power_of_two_scale",
]


def power_of_two_scale(A: np.ndarray) -> float:
    r"""The power of two :math:`s` with :math:`s \max|A| \in [1/2, 1)` (1 for an all-zero ``A``).

    Multiplying by it is exact in floating point, so a solver fed :math:`sA` sees the data at
    unit scale and the answer for :math:`A` follows exactly (HiGHS' tolerances are absolute).

    >>> power_of_two_scale(np.array([[3e-9, -1e-9]])), power_of_two_scale(np.zeros((1, 2)))
    (268435456.0, 1.0)
    """
    top = float(np.max(np.abs(A), initial=0.0))
    return 1.0 if top == 0.0 else float(np.ldexp(1.0, -int(np.frexp(top)[1])))


def feasible_point(A_eq: np.ndarray, A_in: np.ndarray) -> np.ndarray | None:
    """Some ``x`` with ``A_eq x = 0`` and ``A_in x >= 1`` (HiGHS), or ``None`` when none exists.

    >>> feasible_point(np.array([[1.0, -1.0]]), np.array([[1.0, 1.0]])).round(9).tolist()
    [0.5, 0.5]
    >>> feasible_point(np.zeros((0, 1)), np.array([[1.0], [-1.0]])) is None
    True
    """
    n = A_in.shape[1]
    res = linprog(
        np.zeros(n), A_ub=-A_in, b_ub=-np.ones(A_in.shape[0]),
        A_eq=A_eq if A_eq.shape[0] else None, b_eq=np.zeros(A_eq.shape[0]) if A_eq.shape[0] else None,
        bounds=(None, None), method="highs",
    )
    if res.status == 2:
        return None
    if res.status != 0:
        raise SolverError(f"HiGHS could not decide feasibility of the graph-SVM: {res.message}")
    return np.asarray(res.x, dtype=np.float64)


def farkas_lp(A_eq: np.ndarray, A_in: np.ndarray) -> np.ndarray:
    r"""Multipliers :math:`(\mu_{eq}, \mu_{in})` with :math:`A^\top\mu = 0`, :math:`\mu_{in} \ge 0`,
    :math:`\sum\mu_{in} = 1`: a proof that ``A_eq x = 0, A_in x >= 1`` has no solution.

    >>> farkas_lp(np.zeros((0, 1)), np.array([[1.0], [-1.0]])).round(9).tolist()
    [0.5, 0.5]
    """
    A = np.vstack([A_eq, A_in])
    n_eq, n_in = A_eq.shape[0], A_in.shape[0]
    A_eq_lp = np.vstack([A.T, np.concatenate([np.zeros(n_eq), np.ones(n_in)])[None, :]])
    b = np.zeros(A_eq_lp.shape[0])
    b[-1] = 1.0
    bounds = [(None, None)] * n_eq + [(0, None)] * n_in
    res = linprog(np.zeros(n_eq + n_in), A_eq=A_eq_lp, b_eq=b, bounds=bounds, method="highs")
    if res.status != 0:
        raise SolverError(f"the graph-SVM is infeasible but HiGHS found no Farkas multipliers: {res.message}")
    return np.asarray(res.x, dtype=np.float64)


def _min_norm(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    if A.shape[0] == 0:
        return np.zeros(A.shape[1])
    return np.linalg.lstsq(A, b, rcond=None)[0]


@dataclass(frozen=True, eq=False)
class QPSolution:
    r"""What :func:`active_set_qp` returns.

    Attributes
    ----------
    x : numpy.ndarray
        The optimum.
    working : numpy.ndarray of bool
        The working set over the inequalities.
    multipliers : numpy.ndarray
        All multipliers (equalities first) with :math:`x = A^\top \mu`.
    iterations : int
        Iterations of the active-set loop.
    """

    x: np.ndarray
    working: np.ndarray
    multipliers: np.ndarray
    iterations: int


def active_set_qp(
    A_eq: np.ndarray, A_in: np.ndarray, x0: np.ndarray | None = None, *, max_iter: int | None = None
) -> QPSolution:
    r"""Primal active set for :math:`\min\frac12\|x\|^2` s.t. :math:`A_{eq}x = 0`, :math:`A_{in}x \ge 1`.

    Returns the optimum, the working set and the multipliers (see :class:`QPSolution`). The
    problem must be feasible; :class:`~symattn.errors.NotConverged` is raised after ``max_iter``
    iterations (default :math:`20 (m_{in} + n) + 100`). Every tolerance is relative (to
    :math:`\|x\|`, to the largest multiplier, to the row norms), so scaling :math:`A` by :math:`c`
    scales ``x`` by :math:`1/c` and changes no decision.

    >>> active_set_qp(np.zeros((0, 1)), np.array([[2.0]])).x.tolist()
    [0.5]
    """
    n_eq, n_in = A_eq.shape[0], A_in.shape[0]
    x = feasible_point(A_eq, A_in) if x0 is None else x0
    if x is None:
        raise SolverError("active_set_qp needs a feasible problem; check feasible_point() first")
    work = np.zeros(n_in, dtype=bool)
    norms = np.linalg.norm(A_in, axis=1)
    limit = max_iter if max_iter is not None else 20 * (n_in + x.size) + 100
    for iteration in range(1, limit + 1):
        A_S = np.vstack([A_eq, A_in[work]])
        b_S = np.concatenate([np.zeros(n_eq), np.ones(int(work.sum()))])
        target = _min_norm(A_S, b_S)
        step = target - x
        size = float(np.linalg.norm(step))
        if size <= 1e-13 * max(float(np.linalg.norm(x)), float(np.linalg.norm(target))):
            mu = _min_norm(A_S.T, target)
            active = np.flatnonzero(work)
            mu_in = mu[n_eq:]
            if active.size == 0 or mu_in.min() >= -1e-12 * float(np.abs(mu).max()):
                full = np.zeros(n_eq + n_in)
                full[:n_eq] = mu[:n_eq]
                full[n_eq + active] = mu_in
                return QPSolution(target, work, full, iteration)
            work[active[np.argmin(mu_in)]] = False
            x = target
            continue
        rate = A_in @ step
        blocking = (~work) & (rate < -1e-12 * size * norms)
        alpha, chosen = 1.0, -1
        if blocking.any():
            cand = np.flatnonzero(blocking)
            ratios = np.maximum(A_in[cand] @ x - 1.0, 0.0) / (-rate[cand])
            best = int(np.argmin(ratios))
            if ratios[best] < 1.0:
                alpha, chosen = float(ratios[best]), int(cand[best])
        x = x + alpha * step
        if chosen >= 0:
            work[chosen] = True
    raise NotConverged(f"the Gram-metric active-set method did not converge in {limit} iterations", limit)


def exact_kkt(
    rows: list[list[Fraction]], rhs: list[Fraction], n: int
) -> tuple[list[Fraction], list[Fraction]]:
    r"""Exact minimum-norm solve of ``rows x = rhs``: ``x = rowsᵀ mu`` with ``(rows rowsᵀ) mu = rhs``.

    Dependent rows get a zero multiplier (an independent subset is chosen by exact row reduction
    of the Gram matrix). ``n`` is the number of unknowns. Returns ``(x, mu)`` as Fractions.

    >>> x, mu = exact_kkt([[Fraction(1), Fraction(1)]], [Fraction(1)], 2)
    >>> x, mu
    ([Fraction(1, 2), Fraction(1, 2)], [Fraction(1, 2)])
    """
    m = len(rows)
    if m == 0:
        return [Fraction(0)] * n, []
    A = fmpq_matrix(rows, n)
    gram = A * A.transpose()
    reduced, rank = gram.rref()
    keep = pivot_columns(reduced, rank)
    sub = flint.fmpq_mat(len(keep), len(keep), [gram[i, j] for i in keep for j in keep])
    b = flint.fmpq_mat(len(keep), 1, [flint.fmpq(rhs[i].numerator, rhs[i].denominator) for i in keep])
    solved = sub.solve(b)
    mu = [Fraction(0)] * m
    for pos, i in enumerate(keep):
        mu[i] = to_fraction(solved[pos, 0])
    x = [exact_dot((mu[i] for i in keep), (rows[i][c] for i in keep)) for c in range(n)]
    return x, mu


def exact_farkas(columns: list[list[Fraction]], inequality: list[bool]) -> list[Fraction] | None:
    r"""Exact :math:`\mu` with :math:`\sum_r \mu_r a_r = 0` and :math:`\sum_{r\ \text{ineq}} \mu_r = 1`.

    ``columns[r]`` is the row :math:`a_r`. A particular solution (free variables zero) of the
    consistent system is returned, or ``None`` when the system is inconsistent. Signs are
    checked by the caller.

    >>> exact_farkas([[Fraction(1)], [Fraction(-1)]], [True, True])
    [Fraction(1, 2), Fraction(1, 2)]
    """
    r = len(columns)
    n = len(columns[0])
    aug_rows = [[columns[j][i] for j in range(r)] + [Fraction(0)] for i in range(n)]
    aug_rows.append([Fraction(int(flag)) for flag in inequality] + [Fraction(1)])
    reduced, rank = fmpq_matrix(aug_rows, r + 1).rref()
    pivots = pivot_columns(reduced, rank)
    if r in pivots:
        return None
    mu = [Fraction(0)] * r
    for row, col in enumerate(pivots):
        mu[col] = to_fraction(reduced[row, r])
    return mu
