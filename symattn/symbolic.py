r"""The model and the graph-SVM as SymPy expressions: exact oracles for the numeric code.

Everything here is built from symbols and numbers only (no string is ever parsed). The model
(THEORY §2): scores :math:`a_t = e_{x_t}^\top W e_k`, attention :math:`s = \operatorname{softmax}(a)`,
token mass :math:`\pi_j = \sum_{t: x_t = j} s_t` and log-loss :math:`\ell = -\log \pi_y`; gradients
and Hessians come from :func:`sympy.diff`, never from the closed forms they are meant to check.
The graph-SVM (THEORY §4) becomes a :class:`GraphSVMProblem` with its objective
:math:`\tfrac12 \|W\|_F^2`, one :class:`SymbolicConstraint` per edge of every :math:`G_k`, the
Lagrangian and the KKT conditions; :func:`solve_kkt` solves it exactly for a given active set.

>>> import sympy as sp
>>> W = weight_matrix(2)
>>> E = sp.eye(2)
>>> loss = log_loss(W, E, [0, 1, 1], label=1)
>>> sp.simplify(loss.subs({w: 0 for w in W}) - sp.log(sp.Rational(3, 2)))
0
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import sympy as sp
from sympy.solvers.simplex import InfeasibleLPError, lpmin

from symattn.data import Dataset
from symattn.embeddings import Embeddings
from symattn.errors import Infeasible, InvalidInput
from symattn.graphs import priority_graphs

__all__ = [
    "ConstraintKind",
    "ExactKKTResiduals",
    "GraphSVMProblem",
    "KKTSolution",
    "KKTStatus",
    "NumericModel",
    "SymbolicConstraint",
    "complementarity_residuals",
    "compressed_log_loss",
    "dataset_loss",
    "dual_residuals",
    "exact_embeddings",
    "exact_graph_svm",
    "finite_basis",
    "graph_svm_problem",
    "kkt_residuals",
    "label_probability",
    "log_loss",
    "matrix_gradient",
    "matrix_hessian",
    "numeric_model",
    "primal_residuals",
    "sequence_scores",
    "softmax",
    "solve_kkt",
    "stationarity_residual",
    "symbolic_embeddings",
    "token_mass",
    "weight_matrix",
]

_MAX_SYMBOLIC_DIM = 12


# -- the model ------------------------------------------------------------------------------
def weight_matrix(d: int, name: str = "w") -> sp.Matrix:
    r"""A :math:`d \times d` matrix of independent real symbols ``w_a_b``.

    >>> weight_matrix(2)
    Matrix([
    [w_0_0, w_0_1],
    [w_1_0, w_1_1]])
    """
    _check_dim("d", d)
    return sp.Matrix(d, d, lambda a, b: sp.Symbol(f"{name}_{a}_{b}", real=True))


def symbolic_embeddings(K: int, d: int, name: str = "e") -> sp.Matrix:
    r"""A :math:`K \times d` matrix of real symbols ``e_j_a``: row :math:`j` is :math:`e_j`.

    >>> symbolic_embeddings(2, 1)
    Matrix([
    [e_0_0],
    [e_1_0]])
    """
    _check_dim("K", K)
    _check_dim("d", d)
    return sp.Matrix(K, d, lambda j, a: sp.Symbol(f"{name}_{j}_{a}", real=True))


def exact_embeddings(embeddings: Embeddings) -> sp.Matrix:
    r"""The rows of exact ``embeddings`` as a SymPy matrix of rationals (:math:`I_K` for one-hot).

    >>> exact_embeddings(Embeddings.given([["1", "1/2"], [0, 1]]))
    Matrix([
    [1, 1/2],
    [0,   1]])
    """
    if embeddings.is_onehot:
        return sp.eye(embeddings.size)
    rows = embeddings.exact_matrix()
    return sp.Matrix([[sp.Rational(v.numerator, v.denominator) for v in row] for row in rows])


def sequence_scores(W: sp.Matrix, E: sp.Matrix, tokens: Sequence[int]) -> sp.Matrix:
    r"""Scores :math:`a_t = e_{x_t}^\top W e_k` of a sequence (query :math:`k = x_T`), as a T×1 matrix.

    >>> W = weight_matrix(2)
    >>> sequence_scores(W, sp.eye(2), [0, 1]).T
    Matrix([[w_0_1, w_1_1]])
    """
    tokens = _check_tokens(tokens, E.rows)
    if W.shape != (E.cols, E.cols):
        raise InvalidInput(f"W has shape {W.shape}; the embeddings need ({E.cols}, {E.cols})")
    column = W * E[tokens[-1], :].T
    return sp.Matrix([(E[t, :] * column)[0, 0] for t in tokens])


def softmax(a: sp.Matrix) -> sp.Matrix:
    r""":math:`s_t = e^{a_t} / \sum_r e^{a_r}` for a column of scores.

    >>> x = sp.Symbol("x")
    >>> softmax(sp.Matrix([x, x]))
    Matrix([
    [1/2],
    [1/2]])
    """
    exps = a.applyfunc(sp.exp)
    total = sum(exps, sp.S.Zero)
    return exps.applyfunc(lambda v: v / total)


def token_mass(W: sp.Matrix, E: sp.Matrix, tokens: Sequence[int]) -> dict[int, sp.Expr]:
    r"""Token mass :math:`\pi_j = \sum_{t: x_t = j} s_t` for each distinct token :math:`j` of the sequence.

    >>> W = weight_matrix(2)
    >>> token_mass(sp.zeros(2, 2), sp.eye(2), [1, 0, 1])
    {0: 1/3, 1: 2/3}
    """
    s = softmax(sequence_scores(W, E, tokens))
    mass: dict[int, sp.Expr] = {}
    for t, token in enumerate(tokens):
        mass[int(token)] = mass.get(int(token), sp.S.Zero) + s[t]
    return dict(sorted(mass.items()))


def log_loss(W: sp.Matrix, E: sp.Matrix, tokens: Sequence[int], label: int) -> sp.Expr:
    r"""The log-loss :math:`\ell(W) = -\log \pi_y` of one sample, from the positions (not compressed).

    >>> sp.simplify(log_loss(sp.zeros(2, 2), sp.eye(2), [0, 1, 1], 0))
    log(3)
    """
    mass = token_mass(W, E, tokens)
    if int(label) not in mass:
        raise InvalidInput(f"label={label} is not in the sequence {list(tokens)}; a label must occur in it")
    return -sp.log(mass[int(label)])


def compressed_log_loss(
    potentials: Mapping[int, sp.Expr], counts: Mapping[int, sp.Expr | int], label: int
) -> sp.Expr:
    r"""The compressed form :math:`\log\sum_j e^{u_j + \log c_j} - u_y - \log c_y` (THEORY §2).

    >>> u0, u1 = sp.symbols("u0 u1", real=True)
    >>> compressed_log_loss({0: u0, 1: u1}, {0: 1, 1: 2}, 1)
    -u1 + log(exp(u0) + 2*exp(u1)) - log(2)
    """
    if set(potentials) != set(counts):
        raise InvalidInput(
            f"potentials are given for tokens {sorted(potentials)} but counts for {sorted(counts)}"
        )
    if label not in counts:
        raise InvalidInput(f"label={label} is not among the tokens {sorted(counts)}")
    total = sum((sp.exp(potentials[j] + sp.log(counts[j])) for j in sorted(counts)), sp.S.Zero)
    return sp.log(total) - potentials[label] - sp.log(counts[label])


def matrix_gradient(expr: sp.Expr, W: sp.Matrix) -> sp.Matrix:
    r"""The gradient :math:`\partial\,\mathrm{expr} / \partial W_{ab}` as a matrix of W's shape.

    >>> W = weight_matrix(2)
    >>> matrix_gradient(W[0, 1] ** 2, W)
    Matrix([
    [0, 2*w_0_1],
    [0,       0]])
    """
    return W.applyfunc(lambda w: sp.diff(expr, w))


def matrix_hessian(expr: sp.Expr, W: sp.Matrix) -> sp.Matrix:
    r"""The Hessian in the row-major vectorisation :math:`\mathrm{vec}(W)_{a d + b} = W_{ab}`.

    >>> W = weight_matrix(1)
    >>> matrix_hessian(W[0, 0] ** 3, W)
    Matrix([[6*w_0_0]])
    """
    flat = list(W)
    return sp.hessian(expr, flat)


def label_probability(
    W: sp.Matrix, E: sp.Matrix, tokens: Sequence[int], label: int, *, embedding_head: bool = False
) -> sp.Expr:
    r"""The probability :math:`p` the model gives the label: :math:`\pi_y`, or the embedding head's.

    The embedding head (THEORY §2 variants) reads the output :math:`f = X^\top s` out through
    logits :math:`z = E f` and returns :math:`\operatorname{softmax}(z)_y`.

    >>> label_probability(sp.zeros(2, 2), sp.eye(2), [0, 1, 1], 1)
    2/3
    >>> label_probability(sp.zeros(2, 2), sp.eye(2), [1, 1], 1, embedding_head=True)
    E/(1 + E)
    """
    tokens = _check_tokens(tokens, E.rows)
    return _probability(W, E, tokens, tokens[-1], int(label), embedding_head)


def _probability(
    W: sp.Matrix, E: sp.Matrix, positions: Sequence[int], query: int, label: int, embedding_head: bool
) -> sp.Expr:
    s = softmax(_scores_with_query(W, E, positions, query))
    if embedding_head:
        output = sp.Matrix([list(E[t, :]) for t in positions]).T * s
        return softmax(E * output)[label]
    if label not in positions:
        raise InvalidInput(f"label={label} is not in the sequence {list(positions)}; it must occur in it")
    return sum((s[t] for t, tok in enumerate(positions) if tok == label), sp.S.Zero)


def _log_outer(p: sp.Expr) -> sp.Expr:
    return -sp.log(p)


def dataset_loss(
    dataset: Dataset,
    W: sp.Matrix,
    *,
    reduced: bool = False,
    outer: Callable[[sp.Expr], sp.Expr] | None = None,
    embedding_head: bool = False,
) -> sp.Expr:
    r"""The empirical loss :math:`L(W) = \frac1n \sum_i \phi(p_i(W))`, or the reduced loss :math:`L_{red}`.

    ``outer`` is :math:`\phi` (default :math:`-\log`, the log-loss; e.g. ``lambda p: (1 - p)**2``)
    and ``embedding_head`` picks the read-out of :math:`p` (see :func:`label_probability`).
    With ``reduced=True`` each sample keeps only the positions whose token lies in its label's
    SCC (THEORY §5); the query vector stays :math:`e_k` and the normaliser stays :math:`1/n`.
    The embeddings must be exact.

    >>> ds = Dataset.from_samples([([0, 1], 0), ([0, 1], 1)], vocab=2)
    >>> sp.simplify(dataset_loss(ds, sp.zeros(2, 2)))
    log(2)
    >>> dataset_loss(ds, sp.zeros(2, 2), reduced=True)
    log(2)
    >>> dataset_loss(ds, sp.zeros(2, 2), outer=lambda p: (1 - p) ** 2)
    1/4
    """
    E = exact_embeddings(dataset.embeddings)
    phi = _log_outer if outer is None else outer
    keep = _kept_positions(dataset) if reduced else None
    terms: list[sp.Expr] = []
    for i, sample in enumerate(dataset):
        positions = [t for t in sample.tokens if keep is None or t in keep[i]]
        terms.append(phi(_probability(W, E, positions, sample.query, sample.label, embedding_head)))
    return sp.Add(*terms) / len(dataset)


def _scores_with_query(W: sp.Matrix, E: sp.Matrix, tokens: Sequence[int], query: int) -> sp.Matrix:
    column = W * E[query, :].T
    return sp.Matrix([(E[t, :] * column)[0, 0] for t in tokens])


def _kept_positions(dataset: Dataset) -> list[frozenset[int]]:
    graphs = priority_graphs(dataset)
    return [frozenset(graphs.sample_scc(i)) for i in range(len(dataset))]


def finite_basis(dataset: Dataset) -> tuple[sp.Matrix, ...]:
    r"""A basis of :math:`S_{fin} = \mathrm{span}\{(e_i - e_j) e_k^\top : i \asymp_k j\}` (exact embeddings).

    For every query :math:`k` and SCC :math:`C = (c_0 < c_1 < \dots)` of :math:`G_k` it takes
    :math:`(e_{c_0} - e_{c_m}) e_k^\top` for :math:`m \ge 1`: independent when the embeddings
    are, :math:`\sum_k \sum_C (|C| - 1)` of them.

    >>> ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3)
    >>> finite_basis(ds)
    (Matrix([
    [0, 0,  1],
    [0, 0, -1],
    [0, 0,  0]]),)
    """
    E = exact_embeddings(dataset.embeddings)
    basis: list[sp.Matrix] = []
    for k, graph in priority_graphs(dataset).items():
        for scc in graph.sccs:
            for j in scc[1:]:
                basis.append((E[scc[0], :] - E[j, :]).T * E[k, :])
    return tuple(basis)


# -- the graph-SVM --------------------------------------------------------------------------
class ConstraintKind(enum.Enum):
    """An equality (same SCC, margin 0) or an inequality (strictly higher, margin at least 1)."""

    EQUALITY = "equality"
    INEQUALITY = "inequality"


@dataclass(frozen=True)
class SymbolicConstraint:
    r"""The constraint :math:`g_c(W) = (e_i - e_j)^\top W e_k` (:math:`= 0` or :math:`\ge 1`) of an edge.

    Attributes
    ----------
    query, upper, lower : int
        :math:`k`, :math:`i` and :math:`j`.
    kind : ConstraintKind
        Equality when :math:`i \asymp_k j`, inequality when :math:`i \succ_k j`.
    direction : sympy.Matrix
        :math:`A_c = (e_i - e_j) e_k^\top` (d×d), so :math:`g_c(W) = \langle A_c, W \rangle_F`.
    expr : sympy.Expr
        :math:`g_c(W)` in the problem's weight symbols.
    """

    query: int
    upper: int
    lower: int
    kind: ConstraintKind
    direction: sp.Matrix
    expr: sp.Expr

    @property
    def bound(self) -> sp.Integer:
        """The right-hand side: 0 for an equality, 1 for an inequality."""
        return sp.S.Zero if self.kind is ConstraintKind.EQUALITY else sp.S.One

    def slack(self, W: sp.Matrix) -> sp.Expr:
        r""":math:`\langle A_c, W \rangle_F - b_c` at a concrete ``W``."""
        return sp.expand(_inner(self.direction, W) - self.bound)


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
    r"""The graph-SVM of ``dataset`` (exact embeddings) as a SymPy problem (THEORY §4).

    >>> ds = Dataset.from_samples([([0, 1], 0)], vocab=2)
    >>> problem = graph_svm_problem(ds)
    >>> [(c.upper, c.lower, c.kind.value, c.expr) for c in problem.constraints]
    [(0, 1, 'inequality', w_0_1 - w_1_1)]
    """
    E = exact_embeddings(dataset.embeddings)
    d = E.cols
    _check_dim("d", d)
    W = weight_matrix(d) if W is None else W
    constraints: list[SymbolicConstraint] = []
    for k, graph in priority_graphs(dataset).items():
        for i, j in graph.edges.tolist():
            kind = ConstraintKind.EQUALITY if graph.same_scc(i, j) else ConstraintKind.INEQUALITY
            direction = (E[i, :] - E[j, :]).T * E[k, :]
            constraints.append(
                SymbolicConstraint(int(k), int(i), int(j), kind, direction, sp.expand(_inner(direction, W)))
            )
    multipliers = tuple(sp.Symbol(f"lambda_{c}", real=True) for c in range(len(constraints)))
    return GraphSVMProblem(W, tuple(constraints), multipliers)


class KKTStatus(enum.Enum):
    """Outcome of :func:`solve_kkt` for a guessed active set."""

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
class KKTSolution:
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
    """

    status: KKTStatus
    active: tuple[int, ...]
    W: sp.Matrix | None
    multipliers: tuple[sp.Expr, ...]
    residuals: ExactKKTResiduals | None

    @property
    def success(self) -> bool:
        """True when the status is ``OPTIMAL``."""
        return self.status is KKTStatus.OPTIMAL


def solve_kkt(problem: GraphSVMProblem, active: Iterable[int]) -> KKTSolution:
    r"""Solve the KKT system exactly with the inequalities ``active`` tight and the others slack.

    The unknowns are :math:`W` and the multipliers of the equalities and the active
    inequalities; the equations are stationarity :math:`W = \sum_c \lambda_c A_c` and
    :math:`g_c(W) = b_c` on those constraints (a linear system, solved exactly). :math:`W` is
    unique; when the multipliers are not (dependent constraints) an exact LP picks
    nonnegative ones. The result is then checked condition by condition.

    >>> ds = Dataset.from_samples([([0, 1, 2], 0), ([1, 2], 1)], vocab=3)
    >>> problem = graph_svm_problem(ds)
    >>> [(c.upper, c.lower) for c in problem.constraints]
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
        return KKTSolution(KKTStatus.INCONSISTENT, active, None, (), None)
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
    if any(r != 0 for r in residuals.primal):
        status = KKTStatus.PRIMAL_INFEASIBLE
    elif any(r != 0 for r in residuals.dual):
        status = KKTStatus.DUAL_INFEASIBLE
    else:
        status = KKTStatus.OPTIMAL
    return KKTSolution(status, active, W, tuple(multipliers), residuals)


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
    for size in range(len(inequalities) + 1):
        for active in itertools.combinations(inequalities, size):
            solution = solve_kkt(problem, active)
            if solution.success:
                return solution
    raise Infeasible(
        f"no active set among the {len(inequalities)} inequalities satisfies the KKT conditions: "
        "the graph-SVM is infeasible (dependent embeddings?)"
    )


# -- numeric oracles ------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class NumericModel:
    r"""``lambdify``-ed SymPy forms of the model of one dataset, for use as NumPy oracles.

    Each callable takes a float ``(d, d)`` array ``W``.

    Attributes
    ----------
    loss : callable
        :math:`L(W)`, a float.
    gradient : callable
        :math:`\nabla L(W)`, shape ``(d, d)``.
    hessian : callable
        :math:`\nabla^2 L(W)` in the row-major vectorisation, shape ``(d*d, d*d)``.
    log_token_mass : callable
        :math:`\log \pi_j` per (sample, distinct token) entry of ``dataset.counts``, shape ``(nnz,)``,
        summed over positions (not compressed).
    """

    dim: int
    loss: Callable[[np.ndarray], float]
    gradient: Callable[[np.ndarray], np.ndarray]
    hessian: Callable[[np.ndarray], np.ndarray]
    log_token_mass: Callable[[np.ndarray], np.ndarray]


def numeric_model(
    dataset: Dataset,
    *,
    hessian: bool = True,
    outer: Callable[[sp.Expr], sp.Expr] | None = None,
    embedding_head: bool = False,
) -> NumericModel:
    r"""Lambdify the symbolic loss, gradient, Hessian and token masses of a small exact dataset.

    ``outer`` and ``embedding_head`` choose the loss as in :func:`dataset_loss` (default: the
    log-loss with the identity head). Sizes grow as :math:`d^4` for the Hessian: meant for
    :math:`d \le 6` or so. With ``hessian=False`` the Hessian is not built and calling it raises.

    >>> ds = Dataset.from_samples([([0, 1, 1], 1)], vocab=2)
    >>> model = numeric_model(ds)
    >>> round(model.loss(np.zeros((2, 2))), 6) == round(float(np.log(1.5)), 6)
    True
    >>> model.gradient(np.zeros((2, 2))).round(4).tolist()
    [[0.0, 0.3333], [0.0, -0.3333]]
    """
    E = exact_embeddings(dataset.embeddings)
    d = E.cols
    _check_dim("d", d)
    W = weight_matrix(d)
    flat = list(W)
    loss = dataset_loss(dataset, W, outer=outer, embedding_head=embedding_head)
    grad = matrix_gradient(loss, W)
    loss_f = sp.lambdify([flat], loss, modules="numpy", cse=True)
    grad_f = sp.lambdify([flat], grad, modules="numpy", cse=True)
    if hessian:
        hess_f = sp.lambdify([flat], sp.Matrix(d * d, d * d, lambda r, c: sp.diff(grad[r], flat[c])),
                             modules="numpy", cse=True)
    masses: list[sp.Expr] = []
    for sample in dataset:
        masses.extend(sp.log(m) for m in token_mass(W, E, sample.tokens).values())
    mass_f = sp.lambdify([flat], masses, modules="numpy", cse=True)

    def _flat(value: np.ndarray) -> list[float]:
        array = np.asarray(value, dtype=np.float64)
        if array.shape != (d, d):
            raise InvalidInput(f"W has shape {array.shape}; expected ({d}, {d})")
        return array.ravel().tolist()

    def hessian_f(value: np.ndarray) -> np.ndarray:
        if not hessian:
            raise InvalidInput("this NumericModel was built with hessian=False; rebuild it with hessian=True")
        return np.asarray(hess_f(_flat(value)), dtype=np.float64)

    return NumericModel(
        d,
        lambda value: float(loss_f(_flat(value))),
        lambda value: np.asarray(grad_f(_flat(value)), dtype=np.float64),
        hessian_f,
        lambda value: np.asarray(mass_f(_flat(value)), dtype=np.float64),
    )


# -- helpers --------------------------------------------------------------------------------
def _inner(A: sp.Matrix, B: sp.Matrix) -> sp.Expr:
    return sum((a * b for a, b in zip(A, B, strict=True)), sp.S.Zero)


def _check_dim(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise InvalidInput(f"{name}={value!r} must be a positive integer")
    if value > _MAX_SYMBOLIC_DIM:
        raise InvalidInput(
            f"{name}={value} is too large for symbolic work (at most {_MAX_SYMBOLIC_DIM}); "
            "use the numeric model for larger instances"
        )


def _check_tokens(tokens: Sequence[int], K: int) -> list[int]:
    out = [int(t) for t in tokens]
    if not out:
        raise InvalidInput("a sequence needs at least one token (its query)")
    bad = [t for t in out if not 0 <= t < K]
    if bad:
        raise InvalidInput(f"token {bad[0]} is out of range for K={K} embedding rows (ids 0..{K - 1})")
    return out
