r"""Check another solver's :math:`W^{svm}` or :math:`W^{fin}` against symattn's exact references.

:func:`check_svm` takes a claimed graph-SVM solution ``W`` (and, optionally, its multipliers) and
reports, each as a named :class:`~symattn.verify.Check`:

* ``primal feasibility``: the largest violation of the constraints of ``docs/theory.md`` §4
  (:math:`|m_c|` on within-SCC equalities, :math:`1 - m_c` on margins, with
  :math:`m_c = (e_i - e_j)^\top W e_k`), listing every violated constraint;
* ``objective gap``: :math:`(\|W\|_F - \|W^{svm}\|_F)/\|W^{svm}\|_F` against the exact optimum
  (its square is a rational number for exact embeddings), and the distance
  :math:`\|W - W^{svm}\|_F`; for a feasible ``W``, :math:`\|W - W^{svm}\|^2 \le \|W\|^2 -
  \|W^{svm}\|^2`, so the distance is held to the square root of the tolerance;
* ``orthogonality to S_fin``: :math:`\|\Pi_{S_{fin}} W\| / \|W\|` (§5: :math:`W^{svm} \perp S_{fin}`);
* with multipliers :math:`\lambda` (one per constraint, in the order of
  :func:`~symattn.svm.svm_constraints`, for the objective :math:`\tfrac12\|W\|_F^2`), the KKT
  conditions one by one: ``dual sign`` (:math:`\lambda_c \ge 0` on margins), ``complementarity``
  (:math:`\lambda_c (m_c - 1) = 0`), ``stationarity`` (:math:`W = \sum_c \lambda_c (e_i - e_j) e_k^\top`).

:func:`check_finite` takes a claimed :math:`W^{fin}` and reports ``membership in S_fin``, the
``reduced gradient`` :math:`\|\Pi_{S_{fin}} \nabla \mathcal L_{red}(W)\|`, the ``reduced loss gap``
and the ``distance to W^fin``.

Tolerances are relative (to :math:`\|W^{svm}\|` or :math:`\|W^{fin}\|`, or the norm one unit margin
needs when those are zero) and default to the square root of the unit roundoff of the dtype ``W``
comes in (1.5e-8 for float64). A solver that stopped at a loose tolerance but called its answer
"optimal" fails here, with its violations listed.

>>> from symattn.data import Dataset
>>> ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1), ([1, 2], 1)], vocab=3)
>>> W = np.zeros((3, 3)); W[:, 2] = [1 / 3, 1 / 3, -2 / 3]
>>> check_svm(ds, W).status.value
'pass'
>>> loose = check_svm(ds, W * (1 - 1e-5))
>>> loose.status.value, loose.violations[0].violation < 2e-5
('fail', True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from symattn._validate import require_dataset
from symattn.data import Dataset
from symattn.errors import InvalidInput
from symattn.finite import FiniteResult, finite_component, reduced_loss
from symattn.scores import check_weights, label_terms
from symattn.svm import SVMConstraints, SVMResult, SVMStatus, solve_graph_svm
from symattn.verify._inputs import as_float_array, json_float
from symattn.verify._report import Check, Verdict, VerdictResult

__all__ = ["SolutionCheck", "Violation", "check_finite", "check_svm"]


@dataclass(frozen=True)
class Violation:
    """One violated graph-SVM constraint: :math:`(e_{high} - e_{low})^\\top W e_{query}` against its bound.

    ``kind`` is ``"eq"`` (within-SCC, bound 0) or ``"ge"`` (margin, bound 1); ``violation`` is
    :math:`|m|` or :math:`1 - m`.
    """

    index: int
    query: int
    high: int
    low: int
    kind: str
    margin: float
    violation: float


@dataclass(frozen=True)
class SolutionCheck(VerdictResult):
    """The outcome of :func:`check_svm` or :func:`check_finite`.

    Attributes
    ----------
    status : Verdict
        ``PASS`` when every check passed; ``success`` and ``passed`` derive from it.
    checks : tuple of Check
        The named checks.
    violations : tuple of Violation
        Violated constraints, worst first (:func:`check_svm` only).
    reference_norm : float
        :math:`\\|W^{svm}\\|_F` or :math:`\\|W^{fin}\\|_F`.
    message : str
        One sentence for people.
    """

    status: Verdict
    checks: tuple[Check, ...]
    violations: tuple[Violation, ...] = ()
    reference_norm: float = 0.0
    message: str = ""
    iterations: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of this result: ``verdict``, ``checks``, ``violations``, ``reference_norm``."""
        return {
            "verdict": self.status.value, "passed": self.passed, "message": self.message,
            "checks": [c.to_dict() for c in self.checks], "violations": [vars(v) for v in self.violations],
            "reference_norm": json_float(self.reference_norm),
        }


def _weights(W: object, d: int, tolerance: float | None) -> tuple[np.ndarray, float]:
    """``W`` as float64 and the tolerance: given, or the square root of the epsilon of ``W``'s dtype."""
    array = as_float_array(W, "W")
    tol = math.sqrt(float(np.finfo(array.dtype if array.dtype.kind == "f" else np.float64).eps))
    if tolerance is not None:
        if isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or not 0 < tolerance < 1:
            raise InvalidInput(f"tolerance={tolerance!r} must be a number in (0, 1)")
        tol = float(tolerance)
    return check_weights(array, d), tol


def _unit_norm(dataset: Dataset) -> float:
    """The norm one unit margin needs: the scale used when the reference is zero."""
    E = dataset.embeddings.matrix()
    return 1.0 / float(np.max(np.einsum("ij,ij->i", E, E)))


def _margins(cons: SVMConstraints, W: np.ndarray, E: np.ndarray) -> np.ndarray:
    columns = (W @ E[cons.query].T).T
    return np.einsum("cd,cd->c", E[cons.high] - E[cons.low], columns)


def _combination(cons: SVMConstraints, lam: np.ndarray, E: np.ndarray) -> np.ndarray:
    K = E.shape[0]
    T = np.zeros((K, K))
    np.add.at(T, (cons.high, cons.query), lam)
    np.subtract.at(T, (cons.low, cons.query), lam)
    return E.T @ T @ E


def _violations(
    cons: SVMConstraints, margins: np.ndarray, amount: np.ndarray, tol: float
) -> tuple[Violation, ...]:
    """The constraints violated by more than ``tol`` (``amount``: |m| on equalities, 1 - m on margins)."""
    bad = np.flatnonzero(amount > tol)
    bad = bad[np.argsort(-amount[bad], kind="stable")]
    return tuple(
        Violation(int(c), int(cons.query[c]), int(cons.high[c]), int(cons.low[c]),
                  "eq" if cons.equality[c] else "ge", float(margins[c]), float(amount[c]))
        for c in bad
    )


def _multipliers(multipliers: object, cons: SVMConstraints) -> np.ndarray:
    if isinstance(multipliers, Mapping):
        index = {(int(k), int(i), int(j)): c for c, (k, i, j) in
                 enumerate(zip(cons.query, cons.high, cons.low, strict=True))}
        lam = np.zeros(len(cons))
        for key, value in multipliers.items():
            if key not in index:
                raise InvalidInput(f"multipliers name {key!r}, which is not a constraint (query, high, low)")
            number = as_float_array(value, f"multipliers[{key!r}] = {value!r}")
            if number.size != 1:
                raise InvalidInput(f"multipliers[{key!r}] = {value!r} is not a number")
            lam[index[key]] = float(number.reshape(()))
            if not math.isfinite(lam[index[key]]):
                raise InvalidInput(f"multipliers[{key!r}] = {value!r}: multipliers must be finite")
        return lam
    lam = as_float_array(multipliers, "multipliers").astype(np.float64).ravel()
    if lam.shape != (len(cons),):
        raise InvalidInput(
            f"{lam.size} multipliers for {len(cons)} constraints; give one per constraint in the order of "
            "svm_constraints(dataset) or a mapping {(query, high, low): value}"
        )
    if not np.all(np.isfinite(lam)):
        raise InvalidInput("multipliers must be finite")
    return lam


def _kkt_checks(cons: SVMConstraints, W: np.ndarray, lam: np.ndarray, margins: np.ndarray,
                E: np.ndarray, scale: float, tol: float) -> list[Check]:
    r"""Dual sign, complementarity and stationarity, each relative to :math:`\|W^{svm}\|^2`.

    Multipliers scale like :math:`\|W\|^2` (:math:`\sum_c \lambda_c m_c = \langle W, \sum_c \lambda_c
    a_c\rangle = \|W\|^2` at the optimum) and :math:`\sum_c \lambda_c (m_c - 1)` is the duality gap,
    so both are measured against :math:`\|W^{svm}\|^2`: invariant under scaling the embeddings.
    """
    ge = ~cons.equality
    negative = float(np.max(-lam[ge], initial=0.0)) / scale**2
    comp = float(np.max(np.abs(lam[ge] * (margins[ge] - 1.0)), initial=0.0)) / scale**2
    stat = float(np.linalg.norm(W - _combination(cons, lam, E))) / scale
    return [
        Check.at_most("dual sign", negative, 0.0, tol, "largest negative margin multiplier / ||W^svm||^2"),
        Check.at_most("complementarity", comp, 0.0, tol,
                      "largest |lambda_c (m_c - 1)| on margins / ||W^svm||^2"),
        Check.at_most("stationarity", stat, 0.0, tol,
                      "||W - sum_c lambda_c (e_i - e_j) e_k^T|| / ||W^svm|| (objective ||W||^2 / 2)"),
    ]


def _reference_norm(ref: SVMResult) -> float:
    if ref.certificate is not None and ref.certified:
        return math.sqrt(float(ref.certificate.norm_squared))
    return float(ref.norm)


def check_svm(
    dataset: Dataset, W: object, multipliers: object | None = None, *, tolerance: float | None = None
) -> SolutionCheck:
    r"""Check a claimed graph-SVM solution ``W`` (and multipliers) against symattn's exact one.

    Parameters
    ----------
    dataset : Dataset
        The data whose graph-SVM ``W`` claims to solve.
    W : array_like, shape (d, d)
        The claimed :math:`W^{svm}` (arrays, tensors, nested lists).
    multipliers : array_like of shape (m,) or mapping, optional
        One multiplier per constraint of :func:`~symattn.svm.svm_constraints` (same order), or a
        mapping ``{(query, high, low): value}``; for the objective :math:`\tfrac12 \|W\|_F^2`
        (halve them if the solver minimised :math:`\|W\|_F^2`; equality multipliers are free).
    tolerance : float, optional
        Relative tolerance (default :math:`\sqrt{\epsilon}` of ``W``'s dtype).

    Returns
    -------
    SolutionCheck
        The checks, the violated constraints and the verdict.

    Examples
    --------
    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1], 0)], vocab=2)
    >>> W = np.array([[0.0, 0.5], [0.0, -0.5]])
    >>> result = check_svm(ds, W, [0.5])
    >>> result.passed, len(result.checks)
    (True, 7)
    >>> check_svm(ds, W, [-0.5]).message
    'failed: dual sign, stationarity'
    """
    dataset = require_dataset(dataset, "check_svm")
    Wf, tol = _weights(W, dataset.embeddings.dim, tolerance)
    ref = solve_graph_svm(dataset)
    cons = ref.constraints
    lam = None if multipliers is None else _multipliers(multipliers, cons)
    E = dataset.embeddings.matrix()
    margins = _margins(cons, Wf, E)
    amounts = np.where(cons.equality, np.abs(margins), 1.0 - margins)
    violations = _violations(cons, margins, amounts, tol)
    worst = max(float(np.max(amounts, initial=0.0)), 0.0)
    checks = [Check.at_most("primal feasibility", worst, 0.0, tol,
                            f"{len(violations)} of {len(cons)} constraints violated"
                            + (f", worst #{violations[0].index}" if violations else ""))]
    if ref.status is SVMStatus.INFEASIBLE:
        checks[0] = Check(checks[0].name, worst, 0.0, tol, False,
                          "the graph-SVM is infeasible (Farkas certificate): no W satisfies the constraints")
        return _result(checks, violations, float("nan"))
    norm = _reference_norm(ref)
    scale = norm if norm > 0 else _unit_norm(dataset)
    norm_w = float(np.linalg.norm(Wf))
    gap = (norm_w - norm) / scale
    checks.append(Check.close("objective gap", gap, 0.0, tol,
                              f"(||W|| - ||W^svm||) / {scale:.6g}; ||W^svm||^2 = {norm**2:.17g}"))
    checks.append(Check.at_most("distance to W^svm", float(np.linalg.norm(Wf - ref.W)) / scale, 0.0,
                                math.sqrt(tol), "||W - W^svm|| relative; sqrt of the tolerance (see the gap)"
                                ))
    fin = finite_component(dataset)
    ortho = float(np.linalg.norm(fin.basis.project(Wf))) / max(norm_w, scale)
    checks.append(Check.at_most("orthogonality to S_fin", ortho, 0.0, tol, "||P_fin W|| / ||W||"))
    if lam is not None:
        checks.extend(_kkt_checks(cons, Wf, lam, margins, E, scale, tol))
    return _result(checks, violations, norm)


def _result(checks: list[Check], violations: tuple[Violation, ...], norm: float) -> SolutionCheck:
    status = Verdict.of(checks)
    failed = [c.name for c in checks if c.passed is False]
    message = ("every check passed" if not failed else f"failed: {', '.join(failed)}")
    if violations:
        message += f"; {len(violations)} constraint(s) violated, worst by {violations[0].violation:.3g}"
    return SolutionCheck(status, tuple(checks), violations, norm, message)


def _reduced_gradient(dataset: Dataset, fin: FiniteResult, W: np.ndarray) -> tuple[np.ndarray, float]:
    r""":math:`\Pi_{S_{fin}} \nabla \mathcal L_{red}(W)` and the norm of the scale of its terms."""
    red = fin.reduced
    E = dataset.embeddings.matrix()
    k = red.query[red.sample]
    u = np.einsum("ed,ed->e", E[red.token], (W @ E[k].T).T)
    z = u + np.log(red.count)
    terms = label_terms(z, red.indptr, red.label_entry)
    pi = terms.pi
    g = pi.copy()
    g[red.label_entry] = -terms.outside  # pi_y - 1 from the mass beside the label, no cancellation
    K = dataset.K
    T = np.zeros((K, K))
    A = np.zeros((K, K))
    np.add.at(T, (red.token, k), g)
    np.add.at(A, (red.token, k), pi)
    np.add.at(A, (red.token[red.label_entry], k[red.label_entry]), 1.0)
    grad = fin.basis.project(E.T @ T @ E / red.n)
    scale = float(np.linalg.norm(np.abs(E).T @ A @ np.abs(E) / red.n))
    return grad, scale


def check_finite(dataset: Dataset, W: object, *, tolerance: float | None = None) -> SolutionCheck:
    r"""Check a claimed finite component ``W`` against symattn's :math:`W^{fin}` (``docs/theory.md`` §5).

    Parameters
    ----------
    dataset : Dataset
        The data.
    W : array_like, shape (d, d)
        The claimed :math:`W^{fin}`.
    tolerance : float, optional
        Relative tolerance (default :math:`\sqrt{\epsilon}` of ``W``'s dtype).

    Returns
    -------
    SolutionCheck
        ``membership in S_fin``, ``reduced gradient``, ``reduced loss gap`` and ``distance to W^fin``.

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1, 2], y) for y in (0, 1, 1, 2, 2, 2)], vocab=3)
    >>> W = np.zeros((3, 3)); W[:, 2] = np.log([1, 2, 3]) - np.log([1, 2, 3]).mean()
    >>> check_finite(ds, W).status.value, check_finite(ds, W + 0.005).status.value
    ('pass', 'fail')
    """
    dataset = require_dataset(dataset, "check_finite")
    Wf, tol = _weights(W, dataset.embeddings.dim, tolerance)
    fin = finite_component(dataset)
    norm = float(np.linalg.norm(fin.W))
    scale = max(norm, _unit_norm(dataset))
    inside = fin.basis.project(Wf)
    grad, grad_scale = _reduced_gradient(dataset, fin, inside)
    best = reduced_loss(dataset, fin.W, fin.reduced)
    gap = (reduced_loss(dataset, inside, fin.reduced) - best) / max(abs(best), 1e-300)
    checks = [
        Check.at_most("membership in S_fin", float(np.linalg.norm(Wf - inside)) / scale, 0.0, tol,
                      f"||W - P_fin W|| / {scale:.6g}"),
        Check.at_most("reduced gradient", float(np.linalg.norm(grad)) / max(grad_scale, 1e-300), 0.0, tol,
                      "||P_fin grad L_red(P_fin W)|| over the norm of the scale of its terms"),
        Check.at_most("reduced loss gap", gap, 0.0, tol, f"(L_red(P_fin W) - L_red(W^fin)) / {best:.6g}"),
        Check.at_most("distance to W^fin", float(np.linalg.norm(inside - fin.W)) / scale, 0.0, math.sqrt(tol),
                      f"||P_fin W - W^fin|| / {scale:.6g}; W^fin known to {fin.error_bound:.2g}"),
    ]
    return _result(checks, (), norm)
