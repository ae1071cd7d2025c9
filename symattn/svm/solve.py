r"""Solve the graph-SVM of docs/theory.md §4 and certify the answer.

.. math::

    W^{svm} = \arg\min \|W\|_F \quad\text{s.t.}\quad (e_i - e_j)^\top W e_k
    \begin{cases} = 0 & i \asymp_k j \\ \ge 1 & i \succ_k j \end{cases}
    \quad\text{for every edge } i \to j \text{ of every } G_k .

Each SCC is collapsed to one potential (one-hot or orthonormal embeddings, where the problem
splits per query into a weighted minimum-norm potential problem on the condensation DAG,
solved by the forest active-set method of :mod:`symattn.svm._potentials`) or to a star of
independent equalities (general embeddings, one QP in the Gram metric,
:mod:`symattn.svm._gramqp`). Every answer is then checked against the full constraint set
(:mod:`symattn.svm.kkt`).

>>> from symattn.data import Dataset
>>> res = solve_graph_svm(Dataset.from_samples([([0, 1], 0)], vocab=2))
>>> res.status, res.W.tolist()
(<SVMStatus.OPTIMAL: 'optimal'>, [[0.0, 0.5], [0.0, -0.5]])
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from fractions import Fraction
from typing import ClassVar

import numpy as np
from scipy import sparse

from symattn._exact import exact_dot, exact_pullback, object_array, object_zeros
from symattn._validate import require_dataset, require_dense
from symattn.data import Dataset
from symattn.embeddings import Embeddings
from symattn.errors import CertificateError, InvalidInput, SolverError
from symattn.results import ResultMixin, SparseWeights, Status
from symattn.scores import from_token_coordinates
from symattn.svm._collapse import Collapsed, Stars, collapse, edge_multipliers, star_multipliers, stars
from symattn.svm._gramqp import (
    QPSolution,
    active_set_qp,
    exact_farkas,
    exact_kkt,
    farkas_lp,
    feasible_point,
    power_of_two_scale,
)
from symattn.svm._potentials import min_norm_potentials
from symattn.svm._scaled import scaled_solution
from symattn.svm._twins import Twins, twin_classes
from symattn.svm.constraints import SVMConstraints, svm_constraints
from symattn.svm.kkt import (
    FarkasCertificate,
    KKTResiduals,
    SVMCertificate,
    check_dual_signs,
    check_stationarity,
    combination,
    combination_scale,
    exact_rows,
    kkt_residuals,
    verify_kkt,
)

__all__ = ["TOLERANCE", "SVMMethod", "SVMResult", "SVMStatus", "solve_graph_svm"]

logger = logging.getLogger("symattn")

TOLERANCE = 1e-10
"""Largest relative KKT residual of a result reported as ``OPTIMAL``."""

_FARKAS_TOL = 1e-9


class SVMStatus(Status, success={"optimal"}):
    """Outcome of :func:`solve_graph_svm`; only ``OPTIMAL`` counts as success."""

    OPTIMAL = "optimal"
    """Every KKT residual is at most :data:`TOLERANCE`."""
    INACCURATE = "inaccurate"
    """A solution was found but some KKT residual exceeds :data:`TOLERANCE`."""
    INFEASIBLE = "infeasible"
    """No ``W`` satisfies the constraints (dependent embeddings); see ``farkas``."""


class SVMMethod(enum.Enum):
    """Which solver :func:`solve_graph_svm` ran (the embeddings decide)."""

    POTENTIALS = "potentials"
    """Orthonormal embeddings: one minimum-norm potential problem per query on the condensation DAG."""
    GRAM = "gram"
    """General embeddings: one QP in the Gram metric."""


@dataclass(frozen=True, eq=False)
class SVMResult(SparseWeights, ResultMixin):
    r"""The graph-SVM solution and the evidence for it.

    Attributes
    ----------
    status : SVMStatus
        Outcome; ``success`` derives from it.
    weights : numpy.ndarray or scipy.sparse.csc_matrix, shape (d, d)
        :math:`W^{svm}` as computed (zeros when infeasible): for one-hot embeddings a sparse
        matrix holding, in the column of each query token :math:`k`, the tokens of :math:`G_k`
        (memory of the size of the data, whatever :math:`K`); dense otherwise. :attr:`W` is the
        dense matrix, formed on request.
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
    method : SVMMethod
        ``POTENTIALS`` (orthonormal: per-query DAG problems) or ``GRAM`` (one QP).
    message : str
        Why the status is not ``OPTIMAL`` (empty when it is).
    iterations : int
        Active-set iterations of the numeric solve (0 when the problem has no inequality).
    """

    status: SVMStatus
    weights: np.ndarray | sparse.csc_matrix = field(repr=False)
    norm: float
    constraints: SVMConstraints = field(repr=False)
    margins: np.ndarray = field(repr=False)
    multipliers: np.ndarray = field(repr=False)
    residuals: KKTResiduals | None
    certificate: SVMCertificate | None = None
    farkas: FarkasCertificate | None = None
    method: SVMMethod = SVMMethod.POTENTIALS
    message: str = ""
    iterations: int = 0
    WEIGHTS_NAME: ClassVar[str] = "W^svm"

    @property
    def certified(self) -> bool:
        """True when an exact certificate exists and all four KKT checks hold.

        >>> from symattn.data import Dataset
        >>> res = solve_graph_svm(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3))
        >>> res.certified
        True
        """
        return self.certificate is not None and self.certificate.checks.holds


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
        Build the exact certificate (default: whenever the embeddings are exact). ``True``
        demands it: a certificate that does not verify then raises instead of being reported.

    Returns
    -------
    SVMResult
        ``status`` ``OPTIMAL`` when all relative KKT residuals are at most 1e-10,
        ``INFEASIBLE`` with a Farkas certificate when no ``W`` exists.

    Raises
    ------
    InvalidInput
        Not a Dataset, constraints of another vocabulary, or ``certify=True`` with float embeddings.
    CertificateError
        With ``certify=True``, when the exact KKT check fails (the message names the condition).
    NotConverged
        When an active-set method runs out of iterations.
    SolverError
        When HiGHS fails, or the Farkas multipliers of an infeasible problem do not verify.

    >>> from symattn.data import Dataset
    >>> res = solve_graph_svm(Dataset.from_samples([([0, 1], 0)], vocab=2))
    >>> res.W.tolist(), round(res.norm ** 2, 12)
    ([[0.0, 0.5], [0.0, -0.5]], 0.5)
    """
    require_dataset(dataset, "solve_graph_svm")
    if not dataset.embeddings.is_onehot:  # one-hot: W^svm stays sparse, whatever K
        require_dense(dataset, "solve_graph_svm")
    cons = _checked_constraints(dataset, constraints)
    embeddings = dataset.embeddings
    demanded = _certify_option(certify, embeddings)
    build = embeddings.is_exact if certify is None else demanded
    solve = _solve_potentials if embeddings.is_orthonormal else _solve_gram
    result = solve(cons, collapse(cons, embeddings.size), embeddings, build)
    if demanded and result.certificate is not None and not result.certificate.checks.holds:
        raise CertificateError(
            f"the exact certificate of the graph-SVM does not verify: {result.certificate.message}"
        )
    return result


def _checked_constraints(dataset: Dataset, constraints: object) -> SVMConstraints:
    """``constraints`` (default: the edges of the dataset's graphs), refused if not over its vocabulary."""
    if constraints is not None and not isinstance(constraints, SVMConstraints):
        raise InvalidInput(
            f"constraints must be an SVMConstraints (see svm_constraints), got {type(constraints).__name__}"
        )
    cons = constraints if constraints is not None else svm_constraints(dataset)
    if cons.query.size and int(max(cons.query.max(), cons.high.max(), cons.low.max())) >= dataset.K:
        raise InvalidInput("the constraints name tokens beyond the dataset's vocabulary")
    return cons


def _certify_option(certify: object, embeddings: Embeddings) -> bool:
    """Whether a certificate is demanded (``certify=True``); refused for float embeddings.

    With ``certify=None`` a certificate is built whenever the embeddings are exact, and a failing
    one is reported in the result; with ``certify=False`` none is built.
    """
    if certify is not None and not isinstance(certify, bool | np.bool_):
        raise InvalidInput(f"certify={certify!r} must be True, False or None")
    if certify and not embeddings.is_exact:
        raise InvalidInput(
            f"certify=True needs exact embeddings; these are {embeddings.kind.value} floats "
            "(use one-hot embeddings or rows given as integers or fractions)"
        )
    return bool(certify)


def _finish(
    cons: SVMConstraints, W: np.ndarray, lam: np.ndarray, embeddings: Embeddings,
    certificate: SVMCertificate | None, method: SVMMethod, iterations: int,
) -> SVMResult:
    """Measure the KKT residuals of a numeric solution and package it with its status."""
    margins, residuals = kkt_residuals(cons, W, lam, embeddings)
    norm = float(np.linalg.norm(W.data if sparse.issparse(W) else W))
    status, message = SVMStatus.OPTIMAL, ""
    if residuals.max > TOLERANCE:
        status = SVMStatus.INACCURATE
        message = f"the largest relative KKT residual {residuals.max:.1e} exceeds {TOLERANCE:g} ({residuals})"
        logger.warning("graph-SVM: %s", message)
    return SVMResult(
        status, W, norm, cons, margins, lam, residuals, certificate, None, method,
        message, iterations,
    )


def _solve_potentials(
    cons: SVMConstraints, prob: Collapsed, embeddings: Embeddings, certify: bool
) -> SVMResult:
    K = embeddings.size
    twins = twin_classes(prob.weights, prob.dag_tail, prob.dag_head, prob.node_query[prob.reps])
    sol = min_norm_potentials(twins.weights, twins.tails, twins.heads, block=twins.block)
    u = sol.v[twins.cls][prob.group]
    U = token_columns(prob, u, K)
    lam = edge_multipliers(prob, u, twins.spread(sol.multipliers))
    W = from_token_coordinates(embeddings, U)
    certificate = _certify_potentials(cons, prob, twins, sol.working, embeddings) if certify else None
    return _finish(cons, W, lam, embeddings, certificate, SVMMethod.POTENTIALS, sol.iterations)


def token_columns(prob: Collapsed, values: np.ndarray, K: int) -> sparse.csc_matrix:
    """The K x K matrix with ``values`` at the (token, query) nodes of ``prob`` (sorted by query,
    then token), column :math:`k` holding the tokens of :math:`G_k`."""
    indptr = np.concatenate([[0], np.cumsum(np.bincount(prob.node_query, minlength=K))])
    return sparse.csc_matrix((values, prob.node_token, indptr), shape=(K, K))


def _certify_potentials(
    cons: SVMConstraints, prob: Collapsed, twins: Twins, guess: np.ndarray, embeddings: Embeddings
) -> SVMCertificate:
    """The exact optimum on the numeric working forest (over the merged twins), verified in
    integers; when it does not verify, an exact re-solve of the merged problem warm-started from
    that forest, verified in integers or (embeddings not one-hot, or int64 too narrow) in
    :class:`~fractions.Fraction`."""
    if embeddings.is_onehot:
        scaled = _scaled_certificate(cons, prob, twins, guess, embeddings, 0)
        if scaled is not None:
            return scaled
    sol = min_norm_potentials(twins.weights, twins.tails, twins.heads, exact=True, working=guess,
                              block=twins.block)
    corrections = int(np.count_nonzero(sol.working != guess))
    if corrections:
        logger.info("exact certificate corrected %d active-set entries of the numeric solution", corrections)
    if embeddings.is_onehot:
        scaled = _scaled_certificate(cons, prob, twins, sol.working, embeddings, corrections)
        if scaled is not None:
            return scaled
    u = sol.v[twins.cls][prob.group]
    pot = {(t, k): value for t, k, value in zip(prob.node_token.tolist(), prob.node_query.tolist(), u,
                                                 strict=True) if value != 0}
    lam = edge_multipliers(prob, u, twins.spread(sol.multipliers))
    rows = exact_rows(embeddings)
    entries = pot if rows is None else exact_pullback(pot, rows)
    checks = verify_kkt(cons, entries, lam, embeddings)
    return SVMCertificate(entries, embeddings.dim, lam, checks, corrections)


def _scaled_certificate(
    cons: SVMConstraints, prob: Collapsed, twins: Twins, working: np.ndarray, embeddings: Embeddings,
    corrections: int,
) -> SVMCertificate | None:
    """The integer certificate of the merged working forest ``working``, when it verifies."""
    scaled = scaled_solution(prob, working, twins)
    if scaled is None:
        return None
    checks = verify_kkt(cons, scaled.potentials, scaled.multipliers, embeddings)
    if not checks.holds:
        logger.info("the working set does not certify (%s)", checks.failed)
        return None
    return SVMCertificate(scaled.potentials, embeddings.dim, scaled.multipliers, checks, corrections)


# -- general embeddings: one QP in the Gram metric ------------------------------------------------
def _row_matrix(red: Stars, E: np.ndarray) -> np.ndarray:
    diff = E[red.high] - E[red.low]
    d = E.shape[1]
    return np.einsum("ri,rj->rij", diff, E[red.query]).reshape(red.query.size, d * d)


def _exact_row(rows: list[list[Fraction]], i: int, j: int, k: int) -> list[Fraction]:
    return [(a - b) * c for a, b in zip(rows[i], rows[j], strict=True) for c in rows[k]]


def _solve_gram(
    cons: SVMConstraints, prob: Collapsed, embeddings: Embeddings, certify: bool
) -> SVMResult:
    red = stars(prob)
    E = embeddings.matrix()
    d = embeddings.dim
    A = _row_matrix(red, E)
    # the solvers see the rows at unit scale (an exact power of two): A x >= 1 iff (sA)(x/s) >= 1
    scale = power_of_two_scale(A)
    A = A * scale
    n_eq = int(red.equality.sum())
    A_eq, A_in = A[:n_eq], A[n_eq:]
    x0 = feasible_point(A_eq, A_in) if A_in.shape[0] else np.zeros(d * d)
    if x0 is None:
        return _infeasible(cons, prob, red, A_eq, A_in, embeddings)
    no_margin = QPSolution(x0, np.zeros(0, bool), np.zeros(n_eq), 0)
    sol = active_set_qp(A_eq, A_in, x0) if A_in.shape[0] else no_margin
    W = (sol.x * scale).reshape(d, d)
    lam = star_multipliers(prob, red, sol.multipliers * (scale * scale))
    certificate = _certify_gram(cons, prob, red, sol.working, embeddings) if certify else None
    return _finish(cons, W, lam, embeddings, certificate, SVMMethod.GRAM, sol.iterations)


def _certify_gram(
    cons: SVMConstraints, prob: Collapsed, red: Stars, work: np.ndarray,
    embeddings: Embeddings,
) -> SVMCertificate:
    """Exact KKT on the numeric active set; corrected (add violated / drop negative) until it holds."""
    rows = [list(r) for r in embeddings.exact_matrix()]
    star_rows = [_exact_row(rows, i, j, k) for i, j, k in
                  zip(red.high.tolist(), red.low.tolist(), red.query.tolist(), strict=True)]
    n_eq = int(red.equality.sum())
    active = set((n_eq + np.flatnonzero(work)).tolist())
    d = embeddings.dim
    corrections = 0
    for _ in range(4 * len(star_rows) + 10):
        chosen = list(range(n_eq)) + sorted(active)
        rhs = [Fraction(int(r >= n_eq)) for r in chosen]
        x, mu_s = exact_kkt([star_rows[r] for r in chosen], rhs, d * d)
        mu = object_zeros(len(star_rows))
        mu[chosen] = object_array(mu_s)
        slack = {r: exact_dot(star_rows[r], x) - 1
                 for r in range(n_eq, len(star_rows))}
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
    lam = star_multipliers(prob, red, mu)
    return SVMCertificate(entries, d, lam, verify_kkt(cons, entries, lam, embeddings), corrections)


def _exact_farkas(
    cons: SVMConstraints, prob: Collapsed, red: Stars, mu: np.ndarray, embeddings: Embeddings
) -> FarkasCertificate | None:
    """Re-solve the Farkas system on the support of ``mu`` in rationals and verify it exactly.

    The rows are taken exactly: exact embeddings as given, float embeddings as the binary
    rationals they are, so a success proves infeasibility of the data as given.
    """
    rows = exact_rows(embeddings) or [[Fraction(int(i == j)) for j in range(embeddings.dim)]
                                      for i in range(embeddings.size)]
    support = np.flatnonzero(np.abs(mu) > 1e-12 * float(np.abs(mu).max()))
    columns = [_exact_row(rows, int(red.high[r]), int(red.low[r]), int(red.query[r])) for r in support]
    solved = exact_farkas(columns, [not bool(red.equality[r]) for r in support])
    if solved is None:
        return None
    mu_exact = object_zeros(mu.size)
    mu_exact[support] = object_array(solved)
    lam = star_multipliers(prob, red, mu_exact)
    ok = (check_dual_signs(cons, lam) and sum(lam[~cons.equality], Fraction(0)) > 0
          and check_stationarity(cons, lam, {}, embeddings))
    return FarkasCertificate(lam, True, 0.0, 0.0, True) if ok else None


def _infeasible(
    cons: SVMConstraints, prob: Collapsed, red: Stars, A_eq: np.ndarray,
    A_in: np.ndarray, embeddings: Embeddings,
) -> SVMResult:
    mu = farkas_lp(A_eq, A_in)  # Aᵀμ = 0 is homogeneous: the rows' scale does not matter
    farkas = _exact_farkas(cons, prob, red, mu, embeddings)
    if farkas is None and embeddings.is_exact:
        raise SolverError(
            "the graph-SVM looks infeasible to HiGHS but no exact Farkas certificate verifies on these "
            "exact embedding rows; infeasibility is not established"
        )
    if farkas is None:
        lam = star_multipliers(prob, red, mu)
        residual = float(np.linalg.norm(combination(cons, lam, embeddings)))
        size = combination_scale(cons, lam, embeddings)
        signs = float(lam[~cons.equality].min(initial=0.0)) >= -_FARKAS_TOL * float(np.abs(lam).max())
        ok = residual <= _FARKAS_TOL * size and signs and float(lam[~cons.equality].sum()) > 0.5
        farkas = FarkasCertificate(lam, False, residual / size if size else 0.0, _FARKAS_TOL, ok)
    if not farkas.verified:
        raise SolverError("the graph-SVM looks infeasible but the Farkas multipliers do not verify")
    d = embeddings.dim
    nan = np.full(len(cons), np.nan)
    how = "exactly" if farkas.exact else f"to a relative tolerance of {_FARKAS_TOL:g}"
    message = (f"no W satisfies the constraints (the embeddings are linearly dependent); "
               f"Farkas multipliers verified {how}")
    return SVMResult(
        SVMStatus.INFEASIBLE, np.zeros((d, d)), float("nan"), cons, nan, np.zeros(len(cons)), None,
        None, farkas, SVMMethod.GRAM, message, 0,
    )
