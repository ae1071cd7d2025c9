r"""The graph-SVM of THEORY §4: the hard-retrieval direction :math:`W^{svm}`, solved and certified.

.. math::

    W^{svm} = \arg\min \|W\|_F \quad\text{s.t.}\quad (e_i - e_j)^\top W e_k
    \begin{cases} = 0 & i \asymp_k j \\ \ge 1 & i \succ_k j \end{cases}
    \quad\text{for every edge } i \to j \text{ of every } G_k .

The within-SCC equalities are massively redundant, so no solver ever sees them as given:
each SCC is collapsed to one potential (one-hot or orthonormal embeddings, where the problem
splits per query into a weighted minimum-norm potential problem on the condensation DAG,
solved by the forest active-set method of :mod:`symattn._forest`) or to a star of
independent equalities (general embeddings, one QP in the Gram metric). Every answer is then
checked against the full constraint set: the KKT residuals are reported, and with exact
embeddings the KKT conditions are re-solved and verified in rationals, condition by
condition. Infeasible problems (dependent embeddings) come back with Farkas multipliers.

>>> from symattn.data import Dataset
>>> ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1), ([1, 2], 1)], vocab=3)
>>> res = solve_graph_svm(ds)
>>> res.status, res.certified
(<SVMStatus.OPTIMAL: 'optimal'>, True)
>>> res.certificate.matrix()[2]
[Fraction(0, 1), Fraction(0, 1), Fraction(-2, 3)]
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from symattn._arrays import unique_sorted
from symattn._checks import require_dense
from symattn._forest import forest_flows, forest_order, min_norm_potentials
from symattn._gramqp import active_set_qp, exact_farkas, exact_kkt, farkas_lp, feasible_point
from symattn.data import Dataset
from symattn.embeddings import Embeddings
from symattn.errors import InvalidInput, SolverError
from symattn.graphs import PriorityGraphs, _as_graphs

__all__ = [
    "TOLERANCE",
    "FarkasCertificate",
    "KKTChecks",
    "KKTResiduals",
    "SVMCertificate",
    "SVMConstraints",
    "SVMResult",
    "SVMStatus",
    "check_complementarity",
    "check_dual_signs",
    "check_primal_feasibility",
    "check_stationarity",
    "exact_margins",
    "solve_graph_svm",
    "svm_constraints",
]

logger = logging.getLogger("symattn")

TOLERANCE = 1e-10
"""Largest relative KKT residual of a result reported as ``OPTIMAL``."""

_FARKAS_TOL = 1e-9


class SVMStatus(enum.Enum):
    """Outcome of :func:`solve_graph_svm`."""

    OPTIMAL = "optimal"
    """Every KKT residual is at most :data:`TOLERANCE`."""
    INACCURATE = "inaccurate"
    """A solution was found but some KKT residual exceeds :data:`TOLERANCE`."""
    INFEASIBLE = "infeasible"
    """No ``W`` satisfies the constraints (dependent embeddings); see ``farkas``."""


# -- the constraint set --------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class SVMConstraints:
    r"""The graph-SVM constraints, one per edge (or per reachable pair) of every :math:`G_k`.

    Constraint ``c`` reads :math:`(e_{high_c} - e_{low_c})^\top W e_{query_c} = 0` when
    ``equality[c]`` (same SCC) and :math:`\ge 1` otherwise.

    Attributes
    ----------
    query, high, low : numpy.ndarray of int, shape (m,)
        Query token and the preferred / dispreferred tokens, sorted by query.
    equality : numpy.ndarray of bool, shape (m,)
        Within-SCC equality or cross-SCC margin constraint.
    all_pairs : bool
        True when every reachable pair is constrained, not only the edges.
    """

    query: np.ndarray
    high: np.ndarray
    low: np.ndarray
    equality: np.ndarray
    all_pairs: bool = False

    def __len__(self) -> int:
        return int(self.query.shape[0])

    @property
    def n_equalities(self) -> int:
        """Number of within-SCC equality constraints.

        >>> from symattn.data import Dataset
        >>> svm_constraints(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3)).n_equalities
        2
        """
        return int(self.equality.sum())

    @property
    def n_inequalities(self) -> int:
        """Number of cross-SCC margin constraints.

        >>> from symattn.data import Dataset
        >>> svm_constraints(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3)).n_inequalities
        2
        """
        return len(self) - self.n_equalities


def svm_constraints(data: Dataset | PriorityGraphs, *, all_pairs: bool = False) -> SVMConstraints:
    r"""The constraint set of the graph-SVM: one row per edge :math:`i \to j` of each :math:`G_k`.

    With ``all_pairs=True`` every ordered pair with a path :math:`i \rightsquigarrow j`
    (:math:`i \ne j`) is constrained instead; the solution is the same (THEORY §4), at a
    quadratic cost, so use it for checks on small data.

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3)
    >>> c = svm_constraints(ds)
    >>> list(zip(c.high.tolist(), c.low.tolist(), c.equality.tolist()))
    [(0, 1, True), (0, 2, False), (1, 0, True), (1, 2, False)]
    >>> len(svm_constraints(ds, all_pairs=True))
    4
    """
    graphs = _as_graphs(data, "svm_constraints")
    queries, highs, lows, equal = [], [], [], []
    for k, g in graphs.items():
        if all_pairs:
            pairs = np.array(
                [(i, j) for i in g.nodes.tolist() for j in g.nodes.tolist() if i != j and g.reaches(i, j)],
                dtype=np.int64,
            ).reshape(-1, 2)
        else:
            pairs = g.edges
        comp = g.component[np.searchsorted(g.nodes, pairs)]
        queries.append(np.full(pairs.shape[0], k, dtype=np.int64))
        highs.append(pairs[:, 0])
        lows.append(pairs[:, 1])
        equal.append(comp[:, 0] == comp[:, 1])
    return SVMConstraints(
        np.concatenate(queries), np.concatenate(highs).astype(np.int64),
        np.concatenate(lows).astype(np.int64), np.concatenate(equal), all_pairs,
    )


@dataclass(frozen=True, eq=False)
class _Collapsed:
    """All queries' constraints collapsed at once: nodes are (query, token) pairs, equality
    groups are the SCCs, and the DAG joins groups (one disjoint problem per query)."""

    node_token: np.ndarray  # token of each node
    node_query: np.ndarray  # query of each node
    hi: np.ndarray  # node of each constraint's high token
    lo: np.ndarray
    equality: np.ndarray
    group: np.ndarray  # group of each node
    weights: np.ndarray  # group sizes
    dag_tail: np.ndarray
    dag_head: np.ndarray
    dag_rep: np.ndarray  # a constraint realising each DAG edge
    reps: np.ndarray  # representative node of each group

    @property
    def n_nodes(self) -> int:
        return int(self.node_token.size)


def _collapse(cons: SVMConstraints, K: int) -> _Collapsed:
    keys_hi = cons.query * K + cons.high
    keys_lo = cons.query * K + cons.low
    keys = unique_sorted(np.concatenate([keys_hi, keys_lo]))
    hi, lo = np.searchsorted(keys, keys_hi), np.searchsorted(keys, keys_lo)
    n = keys.size
    eq = cons.equality
    adjacency = csr_matrix((np.ones(int(eq.sum())), (hi[eq], lo[eq])), shape=(n, n))
    n_groups, group = connected_components(adjacency, directed=False)
    ga, gb = group[hi[~eq]], group[lo[~eq]]
    if np.any(ga == gb):
        c = int(np.flatnonzero(~eq)[np.argmax(ga == gb)])
        raise InvalidInput(
            f"constraint {c} asks ({cons.high[c]} - {cons.low[c]})ᵀ W e_{cons.query[c]} >= 1 between "
            "tokens that equality constraints tie together; no W satisfies it"
        )
    _, first = np.unique(ga.astype(np.int64) * n_groups + gb, return_index=True)
    _, reps = np.unique(group, return_index=True)
    return _Collapsed(
        keys % K, keys // K, hi, lo, eq, group, np.bincount(group, minlength=n_groups).astype(np.int64),
        ga[first].astype(np.int64), gb[first].astype(np.int64), np.flatnonzero(~eq)[first], reps,
    )


def _edge_multipliers(prob: _Collapsed, demand: np.ndarray, dag_lam: np.ndarray) -> np.ndarray:
    """Multipliers on the original constraints.

    ``demand`` is the net flow each token needs (:math:`\\Lambda_{tk}`), ``dag_lam`` the
    multipliers of the condensation edges; each goes on one realising constraint and the
    within-SCC equality multipliers balance every token along a spanning tree of the SCC.
    """
    lam = np.zeros(prob.hi.size, dtype=demand.dtype)
    if demand.dtype == object:
        lam[:] = Fraction(0)
    lam[prob.dag_rep] = dag_lam
    net = np.zeros(prob.n_nodes, dtype=demand.dtype)
    if demand.dtype == object:
        net[:] = Fraction(0)
    np.add.at(net, prob.hi, lam)
    np.subtract.at(net, prob.lo, lam)
    eq = np.flatnonzero(prob.equality)
    forest = forest_order(prob.n_nodes, prob.hi[eq], prob.lo[eq])
    lam[eq] = forest_flows(forest, prob.hi[eq], prob.lo[eq], demand - net)
    return lam


# -- results ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class KKTResiduals:
    """Relative KKT residuals of a numeric solution (0 is exact; positive means violated).

    Attributes
    ----------
    primal : float
        Largest constraint violation (|margin| on equalities, 1 - margin on inequalities).
    dual_sign : float
        Largest negative part of an inequality multiplier, over ``max(1, max |λ|)``.
    complementarity : float
        Largest :math:`|\\lambda_c (\\text{margin}_c - 1)|` on inequalities, over ``max(1, max |λ|)``.
    stationarity : float
        :math:`\\|W - \\sum_c \\lambda_c a_c\\|_F / \\max(1, \\|W\\|_F)`.
    """

    primal: float
    dual_sign: float
    complementarity: float
    stationarity: float

    @property
    def max(self) -> float:
        """The largest of the four.

        >>> from symattn.data import Dataset
        >>> res = solve_graph_svm(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3))
        >>> res.residuals.max <= TOLERANCE
        True
        """
        return max(self.primal, self.dual_sign, self.complementarity, self.stationarity)


@dataclass(frozen=True)
class KKTChecks:
    """Exact verdicts on the four KKT conditions (each from its own ``check_*`` function)."""

    primal_feasibility: bool
    dual_signs: bool
    complementarity: bool
    stationarity: bool

    @property
    def holds(self) -> bool:
        """True when all four hold: the certified ``W`` is the unique optimum.

        >>> from symattn.data import Dataset
        >>> res = solve_graph_svm(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3))
        >>> res.certificate.checks.holds
        True
        """
        return self.primal_feasibility and self.dual_signs and self.complementarity and self.stationarity


@dataclass(frozen=True, eq=False)
class SVMCertificate:
    r"""Exact :math:`W^{svm}` with exact multipliers, verified by substitution.

    Attributes
    ----------
    entries : Mapping[(int, int), Fraction]
        The nonzero entries of :math:`W` (embedding coordinates; token coordinates for one-hot).
    dim : int
        :math:`d`.
    multipliers : numpy.ndarray of Fraction, shape (m,)
        One per constraint; free on equalities, :math:`\ge 0` on inequalities.
    checks : KKTChecks
        The verdict of each KKT condition.
    corrections : int
        Active-set changes needed after the numeric guess (0 when the guess was right).
    """

    entries: Mapping[tuple[int, int], Fraction] = field(repr=False)
    dim: int
    multipliers: np.ndarray = field(repr=False)
    checks: KKTChecks
    corrections: int = 0

    def matrix(self) -> list[list[Fraction]]:
        """The exact :math:`d \\times d` matrix as lists of ``Fraction``.

        >>> from symattn.data import Dataset
        >>> res = solve_graph_svm(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3))
        >>> [str(v) for v in res.certificate.matrix()[0]]
        ['0', '0', '1/3']
        """
        rows = [[Fraction(0)] * self.dim for _ in range(self.dim)]
        for (r, c), value in self.entries.items():
            rows[r][c] = value
        return rows

    @property
    def norm_squared(self) -> Fraction:
        """:math:`\\|W\\|_F^2`, exactly.

        >>> from symattn.data import Dataset
        >>> res = solve_graph_svm(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3))
        >>> res.certificate.norm_squared
        Fraction(2, 3)
        """
        return sum((v * v for v in self.entries.values()), Fraction(0))


@dataclass(frozen=True, eq=False)
class FarkasCertificate:
    r"""Proof that the graph-SVM is infeasible: multipliers :math:`\lambda` over the constraints with

    :math:`\sum_c \lambda_c (e_{i_c} - e_{j_c}) e_{k_c}^\top = 0`, :math:`\lambda_c \ge 0` on
    inequalities and :math:`\sum_{c\ \text{ineq}} \lambda_c = 1 > 0` (so ``0 >= 1`` would follow).

    Attributes
    ----------
    multipliers : numpy.ndarray, shape (m,)
        Fractions when ``exact``, floats otherwise.
    exact : bool
        Verified in exact arithmetic (exact embedding rows).
    residual : float
        :math:`\|\sum_c \lambda_c a_c\|_F` (0 when exact).
    tolerance : float
        The bound the residual and the signs were checked against (0 when exact).
    verified : bool
        All conditions hold (exactly, or within ``tolerance``).
    """

    multipliers: np.ndarray = field(repr=False)
    exact: bool
    residual: float
    tolerance: float
    verified: bool


@dataclass(frozen=True, eq=False)
class SVMResult:
    r"""The graph-SVM solution and the evidence for it.

    Attributes
    ----------
    status : SVMStatus
        Outcome; ``success`` derives from it.
    W : numpy.ndarray, shape (d, d)
        :math:`W^{svm}` (zeros when infeasible).
    norm : float
        :math:`\|W^{svm}\|_F` (``nan`` when infeasible).
    constraints : SVMConstraints
        The constraint set solved.
    margins : numpy.ndarray, shape (m,)
        :math:`(e_i - e_j)^\top W e_k` per constraint.
    multipliers : numpy.ndarray, shape (m,)
        Numeric KKT multipliers per constraint.
    residuals : KKTResiduals or None
        Numeric KKT residuals (``None`` when infeasible).
    certificate : SVMCertificate or None
        The exact certificate, when the embeddings are exact and one was asked for.
    farkas : FarkasCertificate or None
        The infeasibility proof, when infeasible.
    method : str
        ``"potentials"`` (orthonormal: per-query DAG problems) or ``"gram"`` (one QP).
    """

    status: SVMStatus
    W: np.ndarray = field(repr=False)
    norm: float
    constraints: SVMConstraints = field(repr=False)
    margins: np.ndarray = field(repr=False)
    multipliers: np.ndarray = field(repr=False)
    residuals: KKTResiduals | None
    certificate: SVMCertificate | None = None
    farkas: FarkasCertificate | None = None
    method: str = "potentials"

    @property
    def success(self) -> bool:
        """True when ``status`` is ``OPTIMAL``.

        >>> from symattn.data import Dataset
        >>> res = solve_graph_svm(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3))
        >>> res.status.value, res.success
        ('optimal', True)
        """
        return self.status is SVMStatus.OPTIMAL

    @property
    def certified(self) -> bool:
        """True when an exact certificate exists and all four KKT checks hold.

        >>> from symattn.data import Dataset
        >>> res = solve_graph_svm(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3))
        >>> res.certified
        True
        """
        return self.certificate is not None and self.certificate.checks.holds


# -- exact checks -----------------------------------------------------------------------------
def _exact_rows(embeddings: Embeddings) -> list[list[Fraction]] | None:
    return None if embeddings.is_onehot else [list(r) for r in embeddings.exact_matrix()]


def exact_margins(
    cons: SVMConstraints, entries: Mapping[tuple[int, int], Fraction], embeddings: Embeddings
) -> np.ndarray:
    r"""Exact margins :math:`(e_i - e_j)^\top W e_k` of every constraint, as ``Fraction``.

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1], 0)], vocab=2)
    >>> exact_margins(svm_constraints(ds), {(0, 1): Fraction(1, 2), (1, 1): Fraction(-1, 2)},
    ...               ds.embeddings).tolist()
    [Fraction(1, 1)]
    """
    rows = _exact_rows(embeddings)
    zero = Fraction(0)
    if rows is None:
        pot = {key: value for key, value in entries.items()}
        out = [pot.get((i, k), zero) - pot.get((j, k), zero)
               for i, j, k in zip(cons.high.tolist(), cons.low.tolist(), cons.query.tolist(), strict=True)]
        return np.array([*out, zero], dtype=object)[:-1]
    d = embeddings.dim
    columns: dict[int, list[Fraction]] = {}
    for k in np.unique(cons.query).tolist():
        col = [zero] * d
        for (r, c), value in entries.items():
            col[r] += value * rows[k][c]
        columns[k] = col
    out = []
    for i, j, k in zip(cons.high.tolist(), cons.low.tolist(), cons.query.tolist(), strict=True):
        col = columns[k]
        out.append(sum(((rows[i][r] - rows[j][r]) * col[r] for r in range(d)), zero))
    return np.array([*out, zero], dtype=object)[:-1]


def check_primal_feasibility(cons: SVMConstraints, margins: np.ndarray) -> bool:
    """Exactly: margin 0 on every equality and at least 1 on every inequality.

    >>> c = SVMConstraints(np.array([1, 1]), np.array([0, 0]), np.array([1, 2]), np.array([True, False]))
    >>> check_primal_feasibility(c, np.array([Fraction(0), Fraction(1)], dtype=object))
    True
    """
    eq = cons.equality
    return bool(all(m == 0 for m in margins[eq]) and all(m >= 1 for m in margins[~eq]))


def check_dual_signs(cons: SVMConstraints, multipliers: np.ndarray) -> bool:
    """Exactly: every inequality multiplier is non-negative (equality multipliers are free).

    >>> c = SVMConstraints(np.array([1]), np.array([0]), np.array([1]), np.array([False]))
    >>> check_dual_signs(c, np.array([Fraction(-1, 3)], dtype=object))
    False
    """
    return bool(all(v >= 0 for v in multipliers[~cons.equality]))


def check_complementarity(cons: SVMConstraints, margins: np.ndarray, multipliers: np.ndarray) -> bool:
    """Exactly: :math:`\\lambda_c (\\text{margin}_c - 1) = 0` on every inequality.

    >>> c = SVMConstraints(np.array([1]), np.array([0]), np.array([1]), np.array([False]))
    >>> check_complementarity(c, np.array([Fraction(2)], dtype=object), np.array([Fraction(1)], dtype=object))
    False
    """
    ineq = ~cons.equality
    return bool(all(lam * (m - 1) == 0 for lam, m in zip(multipliers[ineq], margins[ineq], strict=True)))


def check_stationarity(
    cons: SVMConstraints,
    multipliers: np.ndarray,
    entries: Mapping[tuple[int, int], Fraction],
    embeddings: Embeddings,
) -> bool:
    r"""Exactly: :math:`W = \sum_c \lambda_c (e_{i_c} - e_{j_c}) e_{k_c}^\top`.

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1], 0)], vocab=2)
    >>> lam = np.array([Fraction(1, 2)], dtype=object)
    >>> check_stationarity(svm_constraints(ds), lam, {(0, 1): Fraction(1, 2), (1, 1): Fraction(-1, 2)},
    ...                    ds.embeddings)
    True
    """
    coef: dict[tuple[int, int], Fraction] = {}
    triples = zip(cons.high.tolist(), cons.low.tolist(), cons.query.tolist(), strict=True)
    for lam, (i, j, k) in zip(multipliers, triples, strict=True):
        if lam != 0:
            coef[(i, k)] = coef.get((i, k), Fraction(0)) + lam
            coef[(j, k)] = coef.get((j, k), Fraction(0)) - lam
    rows = _exact_rows(embeddings)
    combined = {key: v for key, v in coef.items() if v != 0} if rows is None else _expand_exact(coef, rows)
    return combined == {key: v for key, v in entries.items() if v != 0}


def _expand_exact(
    coef: Mapping[tuple[int, int], Fraction], rows: list[list[Fraction]]
) -> dict[tuple[int, int], Fraction]:
    r"""Exactly :math:`E^\top T E` for the sparse token matrix :math:`T` given as ``{(t, k): value}``.

    Entry :math:`(r, c)` is :math:`\sum_{(t, k)} T_{tk} E_{tr} E_{kc}`; zero entries are dropped.
    """
    combined: dict[tuple[int, int], Fraction] = {}
    for (t, k), value in coef.items():
        if value == 0:
            continue
        for r, er in enumerate(rows[t]):
            if er == 0:
                continue
            for c, ek in enumerate(rows[k]):
                if ek != 0:
                    combined[(r, c)] = combined.get((r, c), Fraction(0)) + value * er * ek
    return {key: v for key, v in combined.items() if v != 0}


def _verify(
    cons: SVMConstraints, entries: dict[tuple[int, int], Fraction], lam: np.ndarray, embeddings: Embeddings
) -> KKTChecks:
    margins = exact_margins(cons, entries, embeddings)
    return KKTChecks(
        check_primal_feasibility(cons, margins),
        check_dual_signs(cons, lam),
        check_complementarity(cons, margins, lam),
        check_stationarity(cons, lam, entries, embeddings),
    )


# -- numeric residuals ------------------------------------------------------------------------
def _margins(cons: SVMConstraints, W: np.ndarray, embeddings: Embeddings) -> np.ndarray:
    if embeddings.is_onehot:
        return W[cons.high, cons.query] - W[cons.low, cons.query]
    E = embeddings.matrix()
    queries, inverse = np.unique(cons.query, return_inverse=True)
    columns = (W @ E[queries].T).T
    return np.einsum("cd,cd->c", E[cons.high] - E[cons.low], columns[inverse])


def _combination(cons: SVMConstraints, lam: np.ndarray, embeddings: Embeddings) -> np.ndarray:
    """:math:`\\sum_c \\lambda_c (e_i - e_j) e_k^\\top` as a float matrix."""
    K = embeddings.size
    coef = np.zeros((K, K))
    np.add.at(coef, (cons.high, cons.query), lam)
    np.subtract.at(coef, (cons.low, cons.query), lam)
    if embeddings.is_onehot:
        return coef
    E = embeddings.matrix()
    return E.T @ coef @ E


def _residuals(cons: SVMConstraints, W: np.ndarray, lam: np.ndarray, embeddings: Embeddings) -> tuple[
    np.ndarray, KKTResiduals
]:
    margins = _margins(cons, W, embeddings)
    eq = cons.equality
    primal = max(float(np.abs(margins[eq]).max(initial=0.0)), float(np.max(1.0 - margins[~eq], initial=0.0)))
    lam_scale = max(1.0, float(np.abs(lam).max(initial=0.0)))
    dual = max(0.0, float(np.max(-lam[~eq], initial=0.0))) / lam_scale
    comp = float(np.abs(lam[~eq] * (margins[~eq] - 1.0)).max(initial=0.0)) / lam_scale
    stat = float(np.linalg.norm(W - _combination(cons, lam, embeddings))) / max(1.0, float(np.linalg.norm(W)))
    return margins, KKTResiduals(max(primal, 0.0), dual, comp, stat)


# -- solvers ----------------------------------------------------------------------------------
def solve_graph_svm(
    dataset: Dataset,
    *,
    constraints: SVMConstraints | None = None,
    certify: bool | None = None,
) -> SVMResult:
    r"""Solve the graph-SVM of ``dataset`` numerically and, when possible, certify it exactly.

    Parameters
    ----------
    dataset : Dataset
        The data; its embeddings decide the method (per-query potentials when orthonormal,
        one Gram-metric QP otherwise).
    constraints : SVMConstraints, optional
        The constraint set (default :func:`svm_constraints` of the dataset, edges only).
    certify : bool, optional
        Build the exact certificate (default: whenever the embeddings are exact).

    Returns
    -------
    SVMResult
        ``status`` ``OPTIMAL`` when all relative KKT residuals are at most 1e-10,
        ``INFEASIBLE`` with a Farkas certificate when no ``W`` exists.

    >>> from symattn.data import Dataset
    >>> res = solve_graph_svm(Dataset.from_samples([([0, 1], 0)], vocab=2))
    >>> res.W.tolist(), round(res.norm ** 2, 12)
    ([[0.0, 0.5], [0.0, -0.5]], 0.5)
    """
    if not isinstance(dataset, Dataset):
        raise InvalidInput(f"solve_graph_svm needs a Dataset, got {type(dataset).__name__}")
    require_dense(dataset, "solve_graph_svm")
    if constraints is not None and not isinstance(constraints, SVMConstraints):
        raise InvalidInput(
            f"constraints must be an SVMConstraints (see svm_constraints), got {type(constraints).__name__}"
        )
    if certify is not None and not isinstance(certify, bool | np.bool_):
        raise InvalidInput(f"certify={certify!r} must be True, False or None")
    embeddings = dataset.embeddings
    cons = constraints if constraints is not None else svm_constraints(dataset)
    if cons.query.size and int(max(cons.query.max(), cons.high.max(), cons.low.max())) >= embeddings.size:
        raise InvalidInput("the constraints name tokens beyond the dataset's vocabulary")
    certify = embeddings.is_exact if certify is None else bool(certify)
    if certify and not embeddings.is_exact:
        raise InvalidInput(
            f"certify=True needs exact embeddings; these are {embeddings.kind.value} floats "
            "(use one-hot embeddings or rows given as integers or fractions)"
        )
    prob = _collapse(cons, embeddings.size)
    if embeddings.is_orthonormal:
        return _solve_potentials(cons, prob, embeddings, certify)
    return _solve_gram(cons, prob, embeddings, certify)


def _solve_potentials(
    cons: SVMConstraints, prob: _Collapsed, embeddings: Embeddings, certify: bool
) -> SVMResult:
    K = embeddings.size
    v, working, dag_lam = min_norm_potentials(
        prob.weights, prob.dag_tail, prob.dag_head, block=prob.node_query[prob.reps]
    )
    u = v[prob.group]
    U = np.zeros((K, K))
    U[prob.node_token, prob.node_query] = u
    lam = _edge_multipliers(prob, u, dag_lam)
    E = embeddings.matrix()
    W = U if embeddings.is_onehot else E.T @ U @ E
    margins, residuals = _residuals(cons, W, lam, embeddings)
    certificate = _certify_potentials(cons, prob, working, embeddings) if certify else None
    status = SVMStatus.OPTIMAL if residuals.max <= TOLERANCE else SVMStatus.INACCURATE
    if status is not SVMStatus.OPTIMAL:
        logger.warning("graph-SVM residuals %s exceed %g", residuals, TOLERANCE)
    return SVMResult(
        status, W, float(np.linalg.norm(W)), cons, margins, lam, residuals, certificate, None, "potentials"
    )


def _certify_potentials(
    cons: SVMConstraints, prob: _Collapsed, guess: np.ndarray, embeddings: Embeddings
) -> SVMCertificate:
    """Re-solve exactly, warm-started from the numeric working set, and verify."""
    v, working, dag_lam = min_norm_potentials(
        prob.weights, prob.dag_tail, prob.dag_head, exact=True, working=guess,
        block=prob.node_query[prob.reps],
    )
    corrections = int(np.count_nonzero(working != guess))
    if corrections:
        logger.info("exact certificate corrected %d active-set entries of the numeric solution", corrections)
    u = v[prob.group]
    pot = {(t, k): value for t, k, value in zip(prob.node_token.tolist(), prob.node_query.tolist(), u,
                                                 strict=True) if value != 0}
    lam = _edge_multipliers(prob, u, dag_lam)
    rows = _exact_rows(embeddings)
    entries = pot if rows is None else _expand_exact(pot, rows)
    return SVMCertificate(entries, embeddings.dim, lam, _verify(cons, entries, lam, embeddings), corrections)


# -- general embeddings: one QP in the Gram metric ------------------------------------------------
@dataclass(frozen=True, eq=False)
class _Reduced:
    """Independent stars for the equalities and one row per condensation edge (equalities first)."""

    hi_node: np.ndarray
    lo_node: np.ndarray
    equality: np.ndarray
    dag: np.ndarray  # DAG edge of each inequality row (-1 for equalities)
    query: np.ndarray
    high: np.ndarray
    low: np.ndarray


def _reduce(prob: _Collapsed) -> _Reduced:
    members = np.flatnonzero(prob.reps[prob.group] != np.arange(prob.n_nodes))
    hi = np.concatenate([prob.reps[prob.group[members]], prob.reps[prob.dag_tail]]).astype(np.int64)
    lo = np.concatenate([members, prob.reps[prob.dag_head]]).astype(np.int64)
    eq = np.arange(hi.size) < members.size
    dag = np.concatenate([np.full(members.size, -1), np.arange(prob.dag_tail.size)]).astype(np.int64)
    return _Reduced(hi, lo, eq, dag, prob.node_query[hi], prob.node_token[hi], prob.node_token[lo])


def _to_edges(prob: _Collapsed, red: _Reduced, mu: np.ndarray) -> np.ndarray:
    """Spread reduced-row multipliers over the original constraints (the same combination of rows)."""
    exact = mu.dtype == object
    zero = Fraction(0) if exact else 0.0
    demand = np.array([zero] * (prob.n_nodes + 1), dtype=object if exact else np.float64)[:-1]
    np.add.at(demand, red.hi_node, mu)
    np.subtract.at(demand, red.lo_node, mu)
    dag_lam = np.array([zero] * (prob.dag_tail.size + 1), dtype=demand.dtype)[:-1]
    ineq = ~red.equality
    dag_lam[red.dag[ineq]] = mu[ineq]
    return _edge_multipliers(prob, demand, dag_lam)


def _row_matrix(red: _Reduced, E: np.ndarray) -> np.ndarray:
    diff = E[red.high] - E[red.low]
    d = E.shape[1]
    return np.einsum("ri,rj->rij", diff, E[red.query]).reshape(red.query.size, d * d)


def _exact_row(rows: list[list[Fraction]], i: int, j: int, k: int) -> list[Fraction]:
    return [(a - b) * c for a, b in zip(rows[i], rows[j], strict=True) for c in rows[k]]


def _solve_gram(
    cons: SVMConstraints, prob: _Collapsed, embeddings: Embeddings, certify: bool
) -> SVMResult:
    red = _reduce(prob)
    E = embeddings.matrix()
    d = embeddings.dim
    A = _row_matrix(red, E)
    n_eq = int(red.equality.sum())
    A_eq, A_in = A[:n_eq], A[n_eq:]
    x0 = feasible_point(A_eq, A_in) if A_in.shape[0] else np.zeros(d * d)
    if x0 is None:
        return _infeasible(cons, prob, red, A_eq, A_in, embeddings)
    x, work, mu = active_set_qp(A_eq, A_in, x0) if A_in.shape[0] else (x0, np.zeros(0, bool), np.zeros(n_eq))
    W = x.reshape(d, d)
    lam = _to_edges(prob, red, mu)
    margins, residuals = _residuals(cons, W, lam, embeddings)
    certificate = _certify_gram(cons, prob, red, work, embeddings) if certify else None
    status = SVMStatus.OPTIMAL if residuals.max <= TOLERANCE else SVMStatus.INACCURATE
    return SVMResult(
        status, W, float(np.linalg.norm(W)), cons, margins, lam, residuals, certificate, None, "gram"
    )


def _certify_gram(
    cons: SVMConstraints, prob: _Collapsed, red: _Reduced, work: np.ndarray,
    embeddings: Embeddings,
) -> SVMCertificate:
    """Exact KKT on the numeric active set; corrected (add violated / drop negative) until it holds."""
    rows = [list(r) for r in embeddings.exact_matrix()]
    exact_rows = [_exact_row(rows, i, j, k) for i, j, k in
                  zip(red.high.tolist(), red.low.tolist(), red.query.tolist(), strict=True)]
    n_eq = int(red.equality.sum())
    active = set((n_eq + np.flatnonzero(work)).tolist())
    d = embeddings.dim
    corrections = 0
    for _ in range(4 * len(exact_rows) + 10):
        chosen = list(range(n_eq)) + sorted(active)
        rhs = [Fraction(int(r >= n_eq)) for r in chosen]
        x, mu_s = exact_kkt([exact_rows[r] for r in chosen], rhs, d * d)
        mu = np.array([Fraction(0)] * (len(exact_rows) + 1), dtype=object)[:-1]
        mu[chosen] = np.array([*mu_s, Fraction(0)], dtype=object)[:-1]
        slack = {r: sum((a * b for a, b in zip(exact_rows[r], x, strict=True)), Fraction(0)) - 1
                 for r in range(n_eq, len(exact_rows))}
        violated = min(slack, key=lambda r: slack[r], default=None)
        negative = min(active, key=lambda r: mu[r], default=None)
        if violated is not None and slack[violated] < 0:
            active.add(violated)
        elif negative is not None and mu[negative] < 0:
            active.discard(negative)
        else:
            break
        corrections += 1
    entries = {(r, c): x[r * d + c] for r in range(d) for c in range(d) if x[r * d + c] != 0}
    lam = _to_edges(prob, red, mu)
    return SVMCertificate(entries, d, lam, _verify(cons, entries, lam, embeddings), corrections)


def _infeasible(
    cons: SVMConstraints, prob: _Collapsed, red: _Reduced, A_eq: np.ndarray,
    A_in: np.ndarray, embeddings: Embeddings,
) -> SVMResult:
    mu = farkas_lp(A_eq, A_in)
    farkas = None
    if embeddings.is_exact:
        rows = [list(r) for r in embeddings.exact_matrix()]
        support = np.flatnonzero(np.abs(mu) > 1e-12 * max(1.0, float(np.abs(mu).max())))
        columns = [_exact_row(rows, int(red.high[r]), int(red.low[r]), int(red.query[r])) for r in support]
        solved = exact_farkas(columns, [not bool(red.equality[r]) for r in support])
        if solved is not None:
            mu_exact = np.array([Fraction(0)] * (mu.size + 1), dtype=object)[:-1]
            mu_exact[support] = np.array([*solved, Fraction(0)], dtype=object)[:-1]
            lam = _to_edges(prob, red, mu_exact)
            ok = (check_dual_signs(cons, lam) and sum(lam[~cons.equality], Fraction(0)) > 0
                  and check_stationarity(cons, lam, {}, embeddings))
            if ok:
                farkas = FarkasCertificate(lam, True, 0.0, 0.0, True)
    if farkas is None:
        lam = _to_edges(prob, red, mu)
        residual = float(np.linalg.norm(_combination(cons, lam, embeddings)))
        scale = max(1.0, float(np.abs(lam).max()))
        signs = float(lam[~cons.equality].min(initial=0.0)) >= -_FARKAS_TOL * scale
        ok = residual <= _FARKAS_TOL * scale and signs and float(lam[~cons.equality].sum()) > 0.5
        farkas = FarkasCertificate(lam, False, residual, _FARKAS_TOL, ok)
    if not farkas.verified:
        raise SolverError("the graph-SVM looks infeasible but the Farkas multipliers do not verify")
    d = embeddings.dim
    nan = np.full(len(cons), np.nan)
    return SVMResult(
        SVMStatus.INFEASIBLE, np.zeros((d, d)), float("nan"), cons, nan, np.zeros(len(cons)), None,
        None, farkas, "gram",
    )
