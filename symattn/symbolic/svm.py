r"""The graph-SVM as a SymPy problem: constraints, Lagrangian, KKT conditions and their exact solution.

:func:`graph_svm_problem` builds :class:`GraphSVMProblem` (docs/theory.md §4) with its objective
:math:`\tfrac12 \|W\|_F^2`, one :class:`SymbolicConstraint` per edge of every :math:`G_k`, the
Lagrangian and the KKT conditions; :func:`solve_kkt` solves it exactly for a given active set
and :func:`exact_graph_svm` searches the active sets of a small problem.

>>> ds = Dataset.from_samples([([0, 1], 0)], vocab=2)
>>> list(exact_graph_svm(graph_svm_problem(ds)).W)
[0, 1/2, 0, -1/2]
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import sympy as sp
from sympy.solvers.simplex import InfeasibleLPError, lpmin

from symattn.data import Dataset
from symattn.errors import Infeasible, InvalidInput
from symattn.graphs import priority_graphs
from symattn.results import ResultMixin, Status
from symattn.symbolic._common import check_dim, inner
from symattn.symbolic.model import exact_embeddings, matrix_gradient, weight_matrix

__all__ = [
    "ConstraintKind",
    "ExactKKTResiduals",
    "GraphSVMProblem",
    "KKTSolution",
    "KKTStatus",
    "SymbolicConstraint",
    "complementarity_residuals",
    "dual_residuals",
    "exact_graph_svm",
    "graph_svm_problem",
    "kkt_residuals",
    "primal_residuals",
    "solve_kkt",
    "stationarity_residual",
]


class ConstraintKind(enum.Enum):
    """An equality (same SCC, margin 0) or an inequality (strictly higher, margin at least 1)."""

    EQUALITY = "equality"
    INEQUALITY = "inequality"


@dataclass(frozen=True)
class SymbolicConstraint:
    r"""The constraint :math:`g_c(W) = (e_i - e_j)^\top W e_k` (:math:`= 0` or :math:`\ge 1`) of an edge.

    Attributes
    ----------
    query, high, low : int
        :math:`k`, the preferred token :math:`i` and the dispreferred :math:`j` (as in
        :class:`~symattn.svm.SVMConstraints`).
    kind : ConstraintKind
        Equality when :math:`i \asymp_k j`, inequality when :math:`i \succ_k j`.
    direction : sympy.Matrix
        :math:`A_c = (e_i - e_j) e_k^\top` (d×d), so :math:`g_c(W) = \langle A_c, W \rangle_F`.
    expr : sympy.Expr
        :math:`g_c(W)` in the problem's weight symbols.
    """

    query: int
    high: int
    low: int
    kind: ConstraintKind
    direction: sp.Matrix
    expr: sp.Expr

    @property
    def bound(self) -> sp.Integer:
        """The right-hand side: 0 for an equality, 1 for an inequality."""
        return sp.S.Zero if self.kind is ConstraintKind.EQUALITY else sp.S.One

    def slack(self, W: sp.Matrix) -> sp.Expr:
        r""":math:`\langle A_c, W \rangle_F - b_c` at a concrete ``W``."""
        return sp.expand(inner(self.direction, W) - self.bound)


@dataclass(frozen=True, eq=False)
class GraphSVMProblem:
    r"""The graph-SVM :math:`\min \tfrac12 \|W\|_F^2` s.t. one constraint per edge of every :math:`G_k`.

    Attributes
    ----------
    W : sympy.Matrix
        The d×d weight symbols.
    constraints : tuple of SymbolicConstraint
        In the order of ``priority_graphs`` (queries ascending, edges sorted).
    multipliers : tuple of sympy.Symbol
        :math:`\lambda_c`, one per constraint.
    """

    W: sp.Matrix
    constraints: tuple[SymbolicConstraint, ...]
    multipliers: tuple[sp.Symbol, ...]

    @property
    def objective(self) -> sp.Expr:
        r""":math:`\tfrac12 \|W\|_F^2` (same minimiser as :math:`\|W\|_F`)."""
        return sum((w**2 for w in self.W), sp.S.Zero) / 2

    @property
    def lagrangian(self) -> sp.Expr:
        r""":math:`\mathcal L(W, \lambda) = \tfrac12\|W\|_F^2 - \sum_c \lambda_c (g_c(W) - b_c)`."""
        return self.objective - sum(
            (lam * (c.expr - c.bound) for lam, c in zip(self.multipliers, self.constraints, strict=True)),
            sp.S.Zero,
        )

    @cached_property
    def stationarity(self) -> sp.Matrix:
        r""":math:`\nabla_W \mathcal L`, derived by differentiation: zero at a KKT point."""
        return matrix_gradient(self.lagrangian, self.W)

    @property
    def inequalities(self) -> tuple[int, ...]:
        """Indices of the inequality constraints."""
        return tuple(i for i, c in enumerate(self.constraints) if c.kind is ConstraintKind.INEQUALITY)

    def tight(self, active: Iterable[int]) -> list[int]:
        """Indices of the constraints held tight: every equality and the ``active`` inequalities."""
        chosen = set(active)
        return [
            c for c, con in enumerate(self.constraints)
            if con.kind is ConstraintKind.EQUALITY or c in chosen
        ]

    def kkt_equations(self, active: Iterable[int]) -> list[sp.Expr]:
        r"""The KKT system for an active set, as expressions equal to zero.

        Stationarity :math:`W - \sum_{c \in T} \lambda_c A_c = 0` (one equation per entry of
        :math:`W`) and :math:`g_c(W) - b_c = 0` for every tight constraint :math:`c \in T`;
        multipliers off :math:`T` are zero (complementary slackness).

        >>> ds = Dataset.from_samples([([0, 1], 0)], vocab=2)
        >>> graph_svm_problem(ds).kkt_equations([0])
        [w_0_0, -lambda_0 + w_0_1, w_1_0, lambda_0 + w_1_1, w_0_1 - w_1_1 - 1]
        """
        tight = self.tight(active)
        combination = sum(
            (self.multipliers[c] * self.constraints[c].direction for c in tight), sp.zeros(*self.W.shape)
        )
        equations = [w - v for w, v in zip(self.W, combination, strict=True)]
        return equations + [self.constraints[c].expr - self.constraints[c].bound for c in tight]


def graph_svm_problem(dataset: Dataset, *, W: sp.Matrix | None = None) -> GraphSVMProblem:
    r"""The graph-SVM of ``dataset`` (exact embeddings) as a SymPy problem (docs/theory.md §4).

    >>> ds = Dataset.from_samples([([0, 1], 0)], vocab=2)
    >>> problem = graph_svm_problem(ds)
    >>> [(c.high, c.low, c.kind.value, c.expr) for c in problem.constraints]
    [(0, 1, 'inequality', w_0_1 - w_1_1)]
    """
    E = exact_embeddings(dataset.embeddings)
    d = E.cols
    check_dim("d", d)
    W = weight_matrix(d) if W is None else W
    constraints: list[SymbolicConstraint] = []
    for k, graph in priority_graphs(dataset).items():
        for i, j in graph.edges.tolist():
            kind = ConstraintKind.EQUALITY if graph.same_scc(i, j) else ConstraintKind.INEQUALITY
            direction = (E[i, :] - E[j, :]).T * E[k, :]
            constraints.append(
                SymbolicConstraint(int(k), int(i), int(j), kind, direction, sp.expand(inner(direction, W)))
            )
    multipliers = tuple(sp.Symbol(f"lambda_{c}", real=True) for c in range(len(constraints)))
    return GraphSVMProblem(W, tuple(constraints), multipliers)


class KKTStatus(Status, success={"optimal"}):
    """Outcome of :func:`solve_kkt` for a guessed active set; only ``OPTIMAL`` counts as success."""

    OPTIMAL = "optimal"
    """All four KKT conditions hold exactly: the solution is :math:`W^{svm}`."""
    INCONSISTENT = "inconsistent"
    """The active constraints cannot all be tight at once."""
    PRIMAL_INFEASIBLE = "primal_infeasible"
    """The solution violates an inactive constraint: the active set is too small."""
    DUAL_INFEASIBLE = "dual_infeasible"
    """No nonnegative multipliers exist for the active inequalities: the active set is too large."""


@dataclass(frozen=True)
class ExactKKTResiduals:
    r"""Exact residuals of the four KKT conditions (positive = violated; all zero at the optimum).

    Attributes
    ----------
    primal : tuple of sympy.Rational
        :math:`\max(0, b_c - g_c(W))` for inequalities, :math:`|g_c(W)|` for equalities.
    dual : tuple of sympy.Rational
        :math:`\max(0, -\lambda_c)` for inequalities, 0 for equalities (free multipliers).
    complementarity : tuple of sympy.Rational
        :math:`|\lambda_c (g_c(W) - b_c)|` for inequalities.
    stationarity : sympy.Matrix
        :math:`W - \sum_c \lambda_c A_c`.
    """

    primal: tuple[sp.Expr, ...]
    dual: tuple[sp.Expr, ...]
    complementarity: tuple[sp.Expr, ...]
    stationarity: sp.Matrix

    @property
    def satisfied(self) -> bool:
        """True when every residual is exactly zero."""
        return all(
            r == 0 for r in (*self.primal, *self.dual, *self.complementarity, *self.stationarity)
        )


def primal_residuals(problem: GraphSVMProblem, W: sp.Matrix) -> tuple[sp.Expr, ...]:
    r"""Primal feasibility: :math:`\max(0, 1 - g_c)` on inequalities, :math:`|g_c|` on equalities.

    >>> ds = Dataset.from_samples([([0, 1], 0)], vocab=2)
    >>> primal_residuals(graph_svm_problem(ds), sp.Matrix([[0, 1], [0, 0]]))
    (0,)
    """
    out = []
    for c in problem.constraints:
        slack = c.slack(W)
        out.append(sp.Abs(slack) if c.kind is ConstraintKind.EQUALITY else sp.Max(0, -slack))
    return tuple(out)


def dual_residuals(problem: GraphSVMProblem, multipliers: Sequence[sp.Expr]) -> tuple[sp.Expr, ...]:
    r"""Dual feasibility: :math:`\max(0, -\lambda_c)` on inequalities (equality multipliers are free).

    >>> ds = Dataset.from_samples([([0, 1], 0)], vocab=2)
    >>> dual_residuals(graph_svm_problem(ds), [sp.Rational(-1, 2)])
    (1/2,)
    """
    return tuple(
        sp.Max(0, -lam) if c.kind is ConstraintKind.INEQUALITY else sp.S.Zero
        for c, lam in zip(problem.constraints, multipliers, strict=True)
    )


def complementarity_residuals(
    problem: GraphSVMProblem, W: sp.Matrix, multipliers: Sequence[sp.Expr]
) -> tuple[sp.Expr, ...]:
    r"""Complementary slackness: :math:`|\lambda_c (g_c(W) - 1)|` on inequalities.

    >>> ds = Dataset.from_samples([([0, 1], 0)], vocab=2)
    >>> complementarity_residuals(graph_svm_problem(ds), sp.Matrix([[0, 2], [0, 0]]), [1])
    (1,)
    """
    return tuple(
        sp.Abs(sp.expand(lam * c.slack(W))) if c.kind is ConstraintKind.INEQUALITY else sp.S.Zero
        for c, lam in zip(problem.constraints, multipliers, strict=True)
    )


def stationarity_residual(
    problem: GraphSVMProblem, W: sp.Matrix, multipliers: Sequence[sp.Expr]
) -> sp.Matrix:
    r"""Stationarity :math:`\nabla_W \mathcal L = W - \sum_c \lambda_c A_c`, evaluated by substitution.

    >>> ds = Dataset.from_samples([([0, 1], 0)], vocab=2)
    >>> stationarity_residual(graph_svm_problem(ds), sp.Matrix([[0, 1], [0, -1]]), [1]).is_zero_matrix
    True
    """
    values = dict(zip(problem.W, W, strict=True))
    values.update(zip(problem.multipliers, multipliers, strict=True))
    return problem.stationarity.xreplace(values).applyfunc(sp.expand)


def kkt_residuals(
    problem: GraphSVMProblem, W: sp.Matrix, multipliers: Sequence[sp.Expr]
) -> ExactKKTResiduals:
    """All four KKT residuals at ``(W, multipliers)`` (each computed by its own function above).

    >>> ds = Dataset.from_samples([([0, 1], 0)], vocab=2)
    >>> half = sp.S.Half
    >>> kkt_residuals(graph_svm_problem(ds), sp.Matrix([[0, half], [0, -half]]), [half]).satisfied
    True
    """
    multipliers = tuple(multipliers)
    if len(multipliers) != len(problem.constraints):
        raise InvalidInput(
            f"{len(multipliers)} multipliers given for {len(problem.constraints)} constraints"
        )
    return ExactKKTResiduals(
        primal_residuals(problem, W),
        dual_residuals(problem, multipliers),
        complementarity_residuals(problem, W, multipliers),
        stationarity_residual(problem, W, multipliers),
    )


@dataclass(frozen=True)
class KKTSolution(ResultMixin):
    """An exact candidate for :math:`W^{svm}` from an active set, with its multipliers and residuals.

    Attributes
    ----------
    status : KKTStatus
        ``OPTIMAL`` when every KKT condition holds exactly.
    active : tuple of int
        The inequality constraints taken as tight.
    W : sympy.Matrix or None
        The exact weights (``None`` when the active system is inconsistent).
    multipliers : tuple of sympy.Rational
        :math:`\\lambda_c` for every constraint (zero off the active set).
    residuals : ExactKKTResiduals or None
        The four conditions, checked by substitution.
    message : str
        Which condition fails (empty when ``OPTIMAL``).
    iterations : int
        Active sets solved: 1 from :func:`solve_kkt`, the number tried from :func:`exact_graph_svm`.
    """

    status: KKTStatus
    active: tuple[int, ...]
    W: sp.Matrix | None
    multipliers: tuple[sp.Expr, ...]
    residuals: ExactKKTResiduals | None
    message: str = ""
    iterations: int = 1


def solve_kkt(problem: GraphSVMProblem, active: Iterable[int]) -> KKTSolution:
    r"""Solve the KKT system exactly with the inequalities ``active`` tight and the others slack.

    The unknowns are :math:`W` and the multipliers of the equalities and the active
    inequalities; the equations are stationarity :math:`W = \sum_c \lambda_c A_c` and
    :math:`g_c(W) = b_c` on those constraints (a linear system, solved exactly). :math:`W` is
    unique; when the multipliers are not (dependent constraints) an exact LP picks
    nonnegative ones. The result is then checked condition by condition.

    >>> ds = Dataset.from_samples([([0, 1, 2], 0), ([1, 2], 1)], vocab=3)
    >>> problem = graph_svm_problem(ds)
    >>> [(c.high, c.low) for c in problem.constraints]
    [(0, 1), (0, 2), (1, 2)]
    >>> sol = solve_kkt(problem, [0, 2])
    >>> sol.status, list(sol.W.col(2)), sol.multipliers
    (<KKTStatus.OPTIMAL: 'optimal'>, [1, 0, -1], (1, 0, 1))
    """
    active = tuple(sorted({int(c) for c in active}))
    bad = [c for c in active if c not in problem.inequalities]
    if bad:
        raise InvalidInput(
            f"active set entries {bad} are not inequality constraints; choose among {problem.inequalities}"
        )
    tight = problem.tight(active)
    equations = problem.kkt_equations(active)
    unknowns = [*problem.W, *(problem.multipliers[c] for c in tight)]
    solutions = sp.linsolve(equations, unknowns)
    if solutions == sp.S.EmptySet:
        message = f"the constraints {tight} cannot all be tight at once"
        return KKTSolution(KKTStatus.INCONSISTENT, active, None, (), None, message)
    (values,) = solutions
    free = sorted(set().union(*(v.free_symbols for v in values)), key=sp.default_sort_key)
    W = sp.Matrix(problem.W.rows, problem.W.cols, values[: len(problem.W)])
    lam_values = list(values[len(problem.W) :])
    if free:
        lam_values = _nonnegative_multipliers(problem, tight, lam_values, free)
    multipliers = [sp.S.Zero] * len(problem.constraints)
    for c, value in zip(tight, lam_values, strict=True):
        multipliers[c] = value
    residuals = kkt_residuals(problem, W, multipliers)
    violated = [c for c, r in enumerate(residuals.primal) if r != 0]
    negative = [c for c, r in enumerate(residuals.dual) if r != 0]
    status, message = KKTStatus.OPTIMAL, ""
    if violated:
        status, message = KKTStatus.PRIMAL_INFEASIBLE, f"the solution violates the constraints {violated}"
    elif negative:
        status, message = KKTStatus.DUAL_INFEASIBLE, f"the multipliers of {negative} are negative"
    return KKTSolution(status, active, W, tuple(multipliers), residuals, message)


def _nonnegative_multipliers(
    problem: GraphSVMProblem, tight: list[int], values: list[sp.Expr], free: list[sp.Symbol]
) -> list[sp.Expr]:
    """Choose the free parameters of a multiplier family so inequality multipliers are nonnegative."""
    signed = [
        v for c, v in zip(tight, values, strict=True)
        if problem.constraints[c].kind is ConstraintKind.INEQUALITY
    ]
    try:
        _, point = lpmin(sum(signed, sp.S.Zero), [v >= 0 for v in signed])
    except InfeasibleLPError:
        point = {}
    chosen = {p: point.get(p, sp.S.Zero) for p in free}
    return [sp.expand(v.xreplace(chosen)) for v in values]


def exact_graph_svm(problem: GraphSVMProblem, *, max_inequalities: int = 12) -> KKTSolution:
    r"""The exact :math:`W^{svm}` of a small problem, by trying active sets until the KKT conditions hold.

    Active sets are tried by increasing size (at most :math:`2^m` for :math:`m` inequalities).
    The problem is strictly convex, so the first set whose solution passes all four
    conditions gives the unique :math:`W^{svm}`. Refuses problems with more than
    ``max_inequalities`` inequalities; raises :class:`~symattn.errors.Infeasible` when no active
    set works (the constraints then have no common point).

    >>> ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3)
    >>> list(exact_graph_svm(graph_svm_problem(ds)).W.col(2))
    [1/3, 1/3, -2/3]
    """
    inequalities = problem.inequalities
    if len(inequalities) > max_inequalities:
        raise InvalidInput(
            f"the problem has {len(inequalities)} inequalities; enumerating active sets is limited to "
            f"max_inequalities={max_inequalities} (raise it, or use a numeric solver)"
        )
    tried = 0
    for size in range(len(inequalities) + 1):
        for active in itertools.combinations(inequalities, size):
            solution = solve_kkt(problem, active)
            tried += 1
            if solution.success:
                return dataclasses.replace(solution, iterations=tried)
    raise Infeasible(
        f"no active set among the {len(inequalities)} inequalities satisfies the KKT conditions: "
        "the graph-SVM is infeasible (dependent embeddings?)"
    )
