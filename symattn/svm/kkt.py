r"""The KKT conditions of the graph-SVM, each checked on its own, and the certificates built on them.

For constraint rows :math:`a_c = (e_{i_c} - e_{j_c}) e_{k_c}^\top` the optimum :math:`W^{svm}` is
characterised by primal feasibility (margin 0 on equalities, at least 1 on inequalities), dual
signs (:math:`\lambda_c \ge 0` on inequalities), complementarity and stationarity
(:math:`W = \sum_c \lambda_c a_c`) (docs/theory.md §4). :func:`kkt_residuals` measures them in floats;
the ``check_*`` functions decide them exactly, in :class:`fractions.Fraction`; for one-hot
embeddings the certificate is decided in integers over common denominators instead
(:mod:`symattn.svm._scaled`).

>>> from symattn.data import Dataset
>>> from symattn.svm.constraints import svm_constraints
>>> ds = Dataset.from_samples([([0, 1], 0)], vocab=2)
>>> margins = exact_margins(svm_constraints(ds), {(0, 1): Fraction(1, 2), (1, 1): Fraction(-1, 2)},
...                         ds.embeddings)
>>> check_primal_feasibility(svm_constraints(ds), margins)
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property

import numpy as np
from scipy import sparse

from symattn._arrays import locate_sorted
from symattn._deprecate import warn_renamed
from symattn._exact import exact_dot, exact_pullback, object_array
from symattn.embeddings import Embeddings
from symattn.results import Status
from symattn.scores import pair_potentials, pullback, stored_entries
from symattn.svm._scaled import ScaledPotentials, ScaledValues, scaled_checks
from symattn.svm.constraints import SVMConstraints

__all__ = [
    "CertificateStatus",
    "FarkasCertificate",
    "KKTChecks",
    "KKTResiduals",
    "SVMCertificate",
    "check_complementarity",
    "check_dual_signs",
    "check_primal_feasibility",
    "check_stationarity",
    "combination",
    "combination_scale",
    "exact_margins",
    "exact_rows",
    "kkt_residuals",
    "numeric_margins",
    "verify_kkt",
]


@dataclass(frozen=True)
class KKTResiduals:
    """Relative KKT residuals of a numeric solution (0 is exact; positive means violated).

    Attributes
    ----------
    primal : float
        Largest constraint violation (|margin| on equalities, 1 - margin on inequalities); margins
        do not change when the embeddings are scaled.
    dual_sign : float
        Largest negative part of an inequality multiplier, over ``max |λ|``.
    complementarity : float
        Largest :math:`|\\lambda_c (\\text{margin}_c - 1)|` on inequalities, over ``max |λ|``.
    stationarity : float
        :math:`\\|W - \\sum_c \\lambda_c a_c\\|_F` over
        :math:`\\max(\\|W\\|_F, \\sum_c |\\lambda_c|\\|a_c\\|_F)`.

    Every residual is relative to the data's own scale, so scaling the embeddings by :math:`c`
    (which scales :math:`W` by :math:`1/c^2` and :math:`\\lambda` by :math:`1/c^4`) leaves them unchanged.
    """

    primal: float
    dual_sign: float
    complementarity: float
    stationarity: float

    @property
    def max(self) -> float:
        """The largest of the four.

        >>> from symattn.data import Dataset
        >>> from symattn.svm import solve_graph_svm
        >>> res = solve_graph_svm(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3))
        >>> res.residuals.max <= 1e-10
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
        >>> from symattn.svm import solve_graph_svm
        >>> res = solve_graph_svm(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3))
        >>> res.certificate.checks.holds
        True
        """
        return self.primal_feasibility and self.dual_signs and self.complementarity and self.stationarity

    @property
    def failed(self) -> tuple[str, ...]:
        """The names of the conditions that do not hold (empty when all do).

        >>> KKTChecks(True, False, True, False).failed
        ('dual_signs', 'stationarity')
        """
        verdicts = (("primal_feasibility", self.primal_feasibility), ("dual_signs", self.dual_signs),
                    ("complementarity", self.complementarity), ("stationarity", self.stationarity))
        return tuple(name for name, holds in verdicts if not holds)


class CertificateStatus(Status, success={"verified"}):
    """Verdict on an exact or numeric certificate; only ``VERIFIED`` counts as success."""

    VERIFIED = "verified"
    """Every condition of the certificate holds."""
    FAILED = "failed"
    """Some condition does not hold; the certificate proves nothing."""


@dataclass(frozen=True, eq=False)
class SVMCertificate:
    r"""Exact :math:`W^{svm}` with exact multipliers, verified by substitution.

    Attributes
    ----------
    solution : Mapping[(int, int), Fraction] or ScaledPotentials
        :math:`W`: its nonzero entries (embedding coordinates; token coordinates for one-hot), or,
        for one-hot embeddings, integer numerators over per-entry denominators at the tokens of
        each :math:`G_k` (no :class:`~fractions.Fraction` is formed until :attr:`entries` is read).
    dim : int
        :math:`d`.
    exact_multipliers : numpy.ndarray of Fraction or ScaledValues, shape (m,)
        One per constraint (free on equalities, :math:`\ge 0` on inequalities), as Fractions or
        as integer numerators over denominators.
    checks : KKTChecks
        The verdict of each KKT condition.
    corrections : int
        Active-set changes needed after the numeric guess (0 when the guess was right): entries of
        the working set that the exact re-solve changed, counted over the edges of the problem it
        solved (for orthonormal embeddings the condensation with twin SCCs merged; docs/svm.md).

    The certificate answers the result protocol: ``status`` is ``VERIFIED`` exactly when all
    four checks hold, ``message`` names the failed ones and ``iterations`` is ``corrections``.

    >>> from symattn.data import Dataset
    >>> from symattn.svm import solve_graph_svm
    >>> cert = solve_graph_svm(Dataset.from_samples([([0, 1], 0)], vocab=2)).certificate
    >>> cert.status, cert.success, cert.message
    (<CertificateStatus.VERIFIED: 'verified'>, True, '')
    >>> cert.entries, cert.multipliers.tolist()
    ({(0, 1): Fraction(1, 2), (1, 1): Fraction(-1, 2)}, [Fraction(1, 2)])
    """

    solution: Mapping[tuple[int, int], Fraction] | ScaledPotentials = field(repr=False)
    dim: int
    exact_multipliers: np.ndarray | ScaledValues = field(repr=False)
    checks: KKTChecks
    corrections: int = 0

    @cached_property
    def entries(self) -> Mapping[tuple[int, int], Fraction]:
        """The nonzero entries of :math:`W` as ``{(row, column): Fraction}``."""
        if isinstance(self.solution, ScaledPotentials):
            return self.solution.entries()
        return self.solution

    @cached_property
    def multipliers(self) -> np.ndarray:
        """One ``Fraction`` multiplier per constraint (object array)."""
        if isinstance(self.exact_multipliers, ScaledValues):
            return self.exact_multipliers.fractions()
        return self.exact_multipliers

    @property
    def status(self) -> CertificateStatus:
        """``VERIFIED`` when all four KKT checks hold, else ``FAILED``."""
        return CertificateStatus.VERIFIED if self.checks.holds else CertificateStatus.FAILED

    @property
    def success(self) -> bool:
        """True when the status is ``VERIFIED``."""
        return self.status.success

    @property
    def message(self) -> str:
        """The failed KKT conditions, or an empty string."""
        return f"failed: {', '.join(self.checks.failed)}" if self.checks.failed else ""

    @property
    def iterations(self) -> int:
        """Active-set corrections of the exact re-solve."""
        return self.corrections

    def exact_matrix(self) -> list[list[Fraction]]:
        """The exact :math:`d \\times d` matrix as lists of ``Fraction``.

        >>> from symattn.data import Dataset
        >>> from symattn.svm import solve_graph_svm
        >>> res = solve_graph_svm(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3))
        >>> [str(v) for v in res.certificate.exact_matrix()[0]]
        ['0', '0', '1/3']
        """
        rows = [[Fraction(0)] * self.dim for _ in range(self.dim)]
        for (r, c), value in self.entries.items():
            rows[r][c] = value
        return rows

    def matrix(self) -> list[list[Fraction]]:
        """Deprecated name of :meth:`exact_matrix` (``matrix()`` returns floats everywhere else)."""
        warn_renamed("SVMCertificate.matrix()", "SVMCertificate.exact_matrix()")
        return self.exact_matrix()

    @property
    def norm_squared(self) -> Fraction:
        """:math:`\\|W\\|_F^2`, exactly.

        >>> from symattn.data import Dataset
        >>> from symattn.svm import solve_graph_svm
        >>> res = solve_graph_svm(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3))
        >>> res.certificate.norm_squared
        Fraction(2, 3)
        """
        if isinstance(self.solution, ScaledPotentials):
            return self.solution.norm_squared()
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

    As a result: ``status`` is ``VERIFIED`` when ``verified``, ``iterations`` is 0 (one LP).
    """

    multipliers: np.ndarray = field(repr=False)
    exact: bool
    residual: float
    tolerance: float
    verified: bool

    @property
    def status(self) -> CertificateStatus:
        """``VERIFIED`` when every condition holds, else ``FAILED``."""
        return CertificateStatus.VERIFIED if self.verified else CertificateStatus.FAILED

    @property
    def success(self) -> bool:
        """True when the status is ``VERIFIED``."""
        return self.status.success

    @property
    def message(self) -> str:
        """How the multipliers were checked."""
        if self.exact:
            return "verified exactly" if self.verified else "the exact Farkas conditions do not hold"
        how = f"residual {self.residual:.1e} against a relative tolerance of {self.tolerance:g}"
        return ("verified to " if self.verified else "not verified: ") + how

    @property
    def iterations(self) -> int:
        """0: the multipliers come from one linear program."""
        return 0


def exact_rows(embeddings: Embeddings) -> list[list[Fraction]] | None:
    """The embedding rows as Fractions, or ``None`` for one-hot embeddings (token coordinates).

    Float rows are taken as the binary rationals they are, so exact checks decide the data as given.

    >>> exact_rows(Embeddings.given([[0.5, 0.1]]))[0][1] == Fraction(0.1)
    True
    """
    if embeddings.is_onehot:
        return None
    if embeddings.is_exact:
        return [list(r) for r in embeddings.exact_matrix()]
    return [[Fraction(float(v)) for v in row] for row in embeddings.matrix()]


def exact_margins(
    cons: SVMConstraints, entries: Mapping[tuple[int, int], Fraction], embeddings: Embeddings
) -> np.ndarray:
    r"""Exact margins :math:`(e_i - e_j)^\top W e_k` of every constraint, as ``Fraction``.

    >>> from symattn.data import Dataset
    >>> from symattn.svm import svm_constraints
    >>> ds = Dataset.from_samples([([0, 1], 0)], vocab=2)
    >>> exact_margins(svm_constraints(ds), {(0, 1): Fraction(1, 2), (1, 1): Fraction(-1, 2)},
    ...               ds.embeddings).tolist()
    [Fraction(1, 1)]
    """
    rows = exact_rows(embeddings)
    zero = Fraction(0)
    if rows is None:
        out = [entries.get((i, k), zero) - entries.get((j, k), zero)
               for i, j, k in zip(cons.high.tolist(), cons.low.tolist(), cons.query.tolist(), strict=True)]
        return object_array(out)
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
        out.append(exact_dot((a - b for a, b in zip(rows[i], rows[j], strict=True)), col))
    return object_array(out)


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
    >>> from symattn.svm import svm_constraints
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
    rows = exact_rows(embeddings)
    combined = {key: v for key, v in coef.items() if v != 0} if rows is None else exact_pullback(coef, rows)
    return combined == {key: v for key, v in entries.items() if v != 0}


def verify_kkt(
    cons: SVMConstraints, entries: Mapping[tuple[int, int], Fraction] | ScaledPotentials,
    lam: np.ndarray | ScaledValues, embeddings: Embeddings,
) -> KKTChecks:
    """The four exact verdicts on ``W`` (nonzero ``entries``) with multipliers ``lam``.

    Integer certificates (:class:`ScaledPotentials` with :class:`ScaledValues`, one-hot
    embeddings) are decided in integers by :func:`~symattn.svm._scaled.scaled_checks`.
    """
    if isinstance(entries, ScaledPotentials) or isinstance(lam, ScaledValues):
        scaled = isinstance(entries, ScaledPotentials) and isinstance(lam, ScaledValues)
        if not (scaled and embeddings.is_onehot):
            return KKTChecks(False, False, False, False)
        return KKTChecks(*scaled_checks(cons, entries, lam, embeddings.size))
    margins = exact_margins(cons, entries, embeddings)
    return KKTChecks(
        check_primal_feasibility(cons, margins),
        check_dual_signs(cons, lam),
        check_complementarity(cons, margins, lam),
        check_stationarity(cons, lam, entries, embeddings),
    )


# -- numeric residuals ------------------------------------------------------------------------
def numeric_margins(cons: SVMConstraints, W: np.ndarray, embeddings: Embeddings) -> np.ndarray:
    """Float margins :math:`(e_i - e_j)^\\top W e_k` of every constraint (dense ``W``; a sparse one goes
    through :func:`_sparse_terms`)."""
    return pair_potentials(embeddings, W, cons.high, cons.query, minus=cons.low)


def _sparse_terms(cons: SVMConstraints, W: sparse.spmatrix, lam: np.ndarray) -> tuple[np.ndarray, float]:
    r"""Margins and :math:`\|W - \sum_c \lambda_c (e_i - e_j) e_k^\top\|_F` for a sparse ``W`` in token
    coordinates, reading each constraint's two entries once (the combination is never formed)."""
    keys, data, n_rows = stored_entries(W)
    lam = np.asarray(lam, dtype=np.float64)
    want = np.concatenate([cons.query * n_rows + cons.high, cons.query * n_rows + cons.low])
    signed = np.concatenate([lam, -lam])
    pos, found = locate_sorted(keys, want)
    value = np.where(found, data[pos] if keys.size else 0.0, 0.0)
    m = len(cons)
    margins = value[:m] - value[m:]
    combined = np.bincount(pos[found], weights=signed[found], minlength=keys.size)
    _, group = np.unique(want[~found], return_inverse=True)  # entries of the combination W does not store
    outside = np.bincount(group, weights=signed[~found]) if group.size else np.zeros(0)
    return margins, float(np.sqrt(np.sum((data - combined) ** 2) + np.sum(outside**2)))


def combination(
    cons: SVMConstraints, lam: np.ndarray, embeddings: Embeddings
) -> np.ndarray | sparse.csc_matrix:
    """:math:`\\sum_c \\lambda_c (e_i - e_j) e_k^\\top` as a float matrix (sparse for one-hot embeddings)."""
    K = embeddings.size
    values = np.concatenate([lam, -lam]).astype(np.float64)
    if embeddings.is_onehot:
        rows = np.concatenate([cons.high, cons.low])
        cols = np.concatenate([cons.query, cons.query])
        return sparse.csc_matrix((values, (rows, cols)), shape=(K, K))
    flat = np.concatenate([cons.high * K + cons.query, cons.low * K + cons.query])
    return pullback(embeddings, values, flat)


def _frobenius(M: np.ndarray | sparse.spmatrix) -> float:
    return float(np.linalg.norm(sparse.csc_matrix(M).data if sparse.issparse(M) else M))


def combination_scale(cons: SVMConstraints, lam: np.ndarray, embeddings: Embeddings) -> float:
    r""":math:`\sum_c |\lambda_c| \|(e_i - e_j) e_k^\top\|_F`: the size of the terms of the combination.

    >>> from symattn.data import Dataset
    >>> from symattn.svm.constraints import svm_constraints
    >>> ds = Dataset.from_samples([([0, 1], 0)], vocab=2)
    >>> round(combination_scale(svm_constraints(ds), np.array([0.5]), ds.embeddings), 6)
    0.707107
    """
    if embeddings.is_onehot:
        norms = np.where(cons.high == cons.low, 0.0, np.sqrt(2.0))
    else:
        E = embeddings.matrix()
        norms = np.linalg.norm(E[cons.high] - E[cons.low], axis=1) * np.linalg.norm(E[cons.query], axis=1)
    return float(np.sum(np.abs(lam) * norms))


def kkt_residuals(
    cons: SVMConstraints, W: np.ndarray | sparse.spmatrix, lam: np.ndarray, embeddings: Embeddings
) -> tuple[np.ndarray, KKTResiduals]:
    """Float margins and the relative residuals of the four KKT conditions (see :class:`KKTResiduals`)."""
    if sparse.issparse(W):
        margins, distance = _sparse_terms(cons, W, lam)
    else:
        margins = numeric_margins(cons, W, embeddings)
        distance = _frobenius(W - combination(cons, lam, embeddings))
    eq = cons.equality
    primal = max(float(np.abs(margins[eq]).max(initial=0.0)), float(np.max(1.0 - margins[~eq], initial=0.0)))
    lam_scale = float(np.abs(lam).max(initial=0.0))
    dual = max(0.0, float(np.max(-lam[~eq], initial=0.0))) / lam_scale if lam_scale else 0.0
    comp = float(np.abs(lam[~eq] * (margins[~eq] - 1.0)).max(initial=0.0)) / lam_scale if lam_scale else 0.0
    size = max(_frobenius(W), combination_scale(cons, lam, embeddings))
    stat = distance / size if size else 0.0
    return margins, KKTResiduals(max(primal, 0.0), dual, comp, stat)
