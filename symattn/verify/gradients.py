r"""Check another implementation's loss and gradient at chosen points, and name its bug.

:func:`check_gradient` calls the user's ``fn(W)`` (``W`` a :math:`d \times d` float64 array; any
``(loss, gradient)`` NumPy can read comes back: floats, arrays, PyTorch tensors, also ones that
require grad) at

* ``zero``: :math:`W = 0`;
* ``random-s``: Gaussian points whose scores :math:`e_j^\top W e_k` are of size ``s``
  (:math:`\|W\|_F = s / \max_j \|e_j\|^2`), for several ``s``;
* ``far-t``: :math:`W^{fin} + t\,W^{svm}` along the prediction of ``docs/theory.md`` §6, where
  every token outside its label's SCC scores at least ``t`` below it, so the attention mass
  outside is about :math:`e^{-t}`: the places where a loss formed as ``-log(p)`` or a gradient
  formed as ``pi_y - 1`` loses its digits (docs/theory.md §9, "Accuracy far out"). The ``t`` are scaled to the
  dtype the user's values come in, so the middle one lies just beyond its epsilon;

and compares with symattn's reference, a log-space formula accurate to a few ulps at any distance
(:mod:`symattn.verify._reference`, checked against mpmath at 60 digits in the tests). Errors are
relative to the *scale* of each quantity, the sum of the absolute values of the terms that make it
up, which is what a floating-point implementation can be held to; the tolerance is the square root
of the unit roundoff of the user's dtype (1.5e-8 for float64, 3.5e-4 for float32).

When a point fails, alternative hypotheses are tried on the points that are not far, and the ones
that fit are named: the loss summed instead of averaged over the samples (a constant ratio
:math:`n`), another constant factor, a transposed gradient, the model evaluated at
:math:`W^\top` (the query on the other side), one position of the label instead of the mass of all
its copies, the first token taken as the query, another of the five losses; and when only far
points fail, the loss of precision far out.

>>> from symattn.data import Dataset
>>> from symattn.model import Model
>>> ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1), ([1, 2], 1)], vocab=3)
>>> model = Model(ds)
>>> check_gradient(ds, model.value_and_gradient).points[0].passed
True
>>> summed = check_gradient(ds, lambda W: tuple(3 * v for v in model.value_and_gradient(W)))
>>> summed.passed, [d.name for d in summed.diagnoses]
(False, ['sum-instead-of-mean'])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from symattn._validate import parse_enum, require_dataset
from symattn.data import Dataset
from symattn.embeddings import SeedLike, as_generator
from symattn.errors import InvalidInput
from symattn.graphs import priority_graphs
from symattn.model import Head, Loss
from symattn.scores import check_weights
from symattn.verify._inputs import as_float_array, json_float
from symattn.verify._reference import Evaluation, evaluate, log_outside_mass, random_points
from symattn.verify._report import Check, Diagnosis, Verdict, VerdictResult

__all__ = ["GradientCheck", "GradientPoint", "check_gradient"]

_FAR_FLOAT64 = (10.0, 40.0, 100.0)
"""Score gaps ``t`` of the far points for float64 values; scaled by ``log eps / log eps64`` otherwise."""

_RANDOM_SCALES = (0.1, 1.0, 10.0)

REFERENCE = (
    "symattn's log-space per-entry formula in float64 (log pi_j = z_j - lse, "
    "-log pi_y = log1p(exp(lse_out - z_y)), 1 - pi_y = exp(lse_out - lse): no differences), "
    "checked against mpmath at 60 digits"
)


@dataclass(frozen=True)
class GradientPoint:
    r"""One evaluation point of :func:`check_gradient`.

    Attributes
    ----------
    name, kind : str
        ``"zero"``, ``"random-s"``, ``"far-t"`` or a name given by the caller; kind ``"zero"``,
        ``"random"``, ``"far"`` or ``"given"``.
    norm : float
        :math:`\|W\|_F`.
    log_outside_mass : float
        The largest log attention mass outside a sample's label SCC at this point (natural log;
        ``-inf`` when every token is in its label's SCC).
    loss, loss_reference : float
        The user's loss and symattn's.
    loss_error : float
        :math:`|L - L_{ref}| / \frac1n\sum_i|\ell_i|`.
    gradient_error : float
        :math:`\max_{rc} |G - G_{ref}|_{rc} / S_{rc}` with :math:`S` the scale of each entry.
    gradient_relative_error : float
        :math:`\|G - G_{ref}\|_F / \|G_{ref}\|_F` (for people; ``inf`` when :math:`G_{ref} = 0 \ne G`).
    tolerance : float
        The bound both errors are held to.
    """

    name: str
    kind: str
    norm: float
    log_outside_mass: float
    loss: float
    loss_reference: float
    loss_error: float
    gradient_error: float
    gradient_relative_error: float
    tolerance: float

    @property
    def passed(self) -> bool:
        """Both errors within the tolerance."""
        return bool(self.loss_error <= self.tolerance and self.gradient_error <= self.tolerance)


@dataclass(frozen=True)
class GradientCheck(VerdictResult):
    """The outcome of :func:`check_gradient`.

    Attributes
    ----------
    status : Verdict
        ``PASS`` when every point passed, else ``FAIL``; ``success`` and ``passed`` derive from it.
    points : tuple of GradientPoint
        One row per point, in evaluation order.
    diagnoses : tuple of Diagnosis
        The hypotheses that explain a failure (empty when none fits or nothing failed).
    loss : Loss
        The loss checked.
    dtype : str
        The dtype of the user's values; the tolerance follows it.
    tolerance : float
        :math:`\\sqrt{\\epsilon}` of that dtype unless given.
    reference : str
        What the values were compared against.
    message : str
        One sentence for people.
    """

    status: Verdict
    points: tuple[GradientPoint, ...]
    diagnoses: tuple[Diagnosis, ...]
    loss: Loss
    dtype: str
    tolerance: float
    reference: str = REFERENCE
    message: str = ""
    iterations: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of this result: ``verdict``, ``checks``, ``points``, ``diagnoses``, the setup."""
        points = [{k: (json_float(v) if isinstance(v, float) else v) for k, v in vars(p).items()}
                  | {"passed": p.passed} for p in self.points]
        return {
            "verdict": self.status.value, "passed": self.passed, "loss": self.loss.value, "dtype": self.dtype,
            "tolerance": self.tolerance, "reference": self.reference, "message": self.message,
            "checks": [c.to_dict() for c in self.checks], "points": points,
            "diagnoses": [d.to_dict() for d in self.diagnoses],
        }

    @property
    def checks(self) -> tuple[Check, ...]:
        """Two :class:`~symattn.verify.Check` rows per point (loss and gradient errors)."""
        rows = []
        for p in self.points:
            where = f"||W|| = {p.norm:.3g}, log outside mass {p.log_outside_mass:.3g}"
            rows.append(Check.at_most(f"loss at {p.name}", p.loss_error, 0.0, p.tolerance,
                                      f"relative to sum |l_i| / n; {where}"))
            rows.append(Check.at_most(f"gradient at {p.name}", p.gradient_error, 0.0, p.tolerance,
                                      f"max entry error relative to its scale; {where}"))
        return tuple(rows)


# -- calling the user's function ------------------------------------------------------------------
def _call(fn: Callable[[np.ndarray], Any], W: np.ndarray, d: int) -> tuple[float, np.ndarray, np.dtype]:
    result = fn(W.copy())
    if not isinstance(result, tuple | list) or len(result) != 2:
        raise InvalidInput(
            f"fn(W) must return a pair (loss, gradient); it returned {type(result).__name__}"
        )
    loss = as_float_array(result[0], "the loss returned by fn")
    grad = as_float_array(result[1], "the gradient returned by fn")
    if loss.size != 1:
        raise InvalidInput(f"the loss returned by fn has shape {loss.shape}; return one number")
    if grad.shape != (d, d):
        raise InvalidInput(f"the gradient returned by fn has shape {grad.shape}; W is ({d}, {d})")
    dtypes = [a.dtype for a in (loss, grad) if a.dtype.kind == "f"]
    dtype = min(dtypes, key=lambda t: t.itemsize) if dtypes else np.dtype(np.float64)
    return float(loss.reshape(())), grad.astype(np.float64), dtype


# -- comparing --------------------------------------------------------------------------------------
def _errors(loss: float, grad: np.ndarray, ref: Evaluation, dtype: np.dtype) -> tuple[float, float, float]:
    tiny = float(np.finfo(dtype).tiny)
    loss_error = abs(loss - ref.loss) / max(ref.loss_scale, tiny)
    if not math.isfinite(loss):
        loss_error = math.inf
    diff = np.abs(grad - ref.gradient)
    gradient_error = float(np.max(diff / np.maximum(ref.gradient_scale, tiny))) if diff.size else 0.0
    if not np.all(np.isfinite(grad)):
        gradient_error = math.inf
    norm_ref = float(np.linalg.norm(ref.gradient))
    norm_diff = float(np.linalg.norm(grad - ref.gradient)) if np.all(np.isfinite(grad)) else math.inf
    relative = norm_diff / norm_ref if norm_ref > 0 else (0.0 if norm_diff == 0 else math.inf)
    return loss_error, gradient_error, relative


@dataclass(frozen=True, eq=False)
class _Point:
    name: str
    kind: str
    W: np.ndarray = field(repr=False)
    loss: float = 0.0
    grad: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)


Hypothesis = Callable[[np.ndarray], Evaluation]


def _scaled(ev: Evaluation, factor: float) -> Evaluation:
    a = abs(factor)
    return Evaluation(ev.loss * factor, ev.loss_scale * a, ev.gradient * factor, ev.gradient_scale * a)


def _transposed(ev: Evaluation) -> Evaluation:
    return Evaluation(ev.loss, ev.loss_scale, ev.gradient.T, ev.gradient_scale.T)


def _hypotheses(dataset: Dataset, kind: Loss, ratio: float | None) -> list[tuple[str, str, Hypothesis]]:
    """Alternative conventions and bugs, each a function of ``W`` giving what fn would return."""
    n = dataset.n
    first = dataset.tokens[dataset.offsets[:-1]]
    out: list[tuple[str, str, Hypothesis]] = [
        ("sum-instead-of-mean", f"loss and gradient are n = {n} times symattn's: the loss is summed over "
         "the samples instead of averaged", lambda W: _scaled(evaluate(dataset, W, kind), n)),
        ("transposed-gradient", "the loss is right but the gradient is the transpose of symattn's",
         lambda W: _transposed(evaluate(dataset, W, kind))),
        ("transposed-model", "fn(W) matches the model evaluated at W^T (the query on the other side: "
         "scores e_k^T W e_j instead of e_j^T W e_k)", lambda W: _transposed(evaluate(dataset, W.T, kind))),
        ("first-token-query", "fn matches the model with the first token of each sequence as the query "
         "instead of the last", lambda W: evaluate(dataset, W, kind, query=first)),
    ]
    if kind.head is Head.IDENTITY:
        out.append(("one-position", "the label probability is the attention on one position of the label "
                    "instead of the mass of all its copies (pi_y / c_y); it differs only on samples whose "
                    "label repeats", lambda W: evaluate(dataset, W, kind, one_position=True)))
    for other in Loss:
        if other is not kind:
            out.append(("other-loss", f"fn matches loss={other.value!r}, not loss={kind.value!r}",
                        partial(evaluate, dataset, kind=other)))
    if ratio is not None and abs(ratio - n) > 1e-6 * n and abs(ratio - 1.0) > 1e-6:
        out.append(("constant-factor", f"loss and gradient are {ratio:.6g} times symattn's (a constant "
                    "factor in the loss)", lambda W: _scaled(evaluate(dataset, W, kind), ratio)))
    return out


def _ratio(points: Sequence[_Point], refs: Sequence[Evaluation]) -> float | None:
    """The least-squares factor between the user's gradient and symattn's at the largest reference."""
    best = max(range(len(points)), key=lambda i: float(np.linalg.norm(refs[i].gradient)))
    g = refs[best].gradient
    norm2 = float(np.sum(g * g))
    return float(np.sum(points[best].grad * g)) / norm2 if norm2 > 0 else None


def _diagnose(
    dataset: Dataset, kind: Loss, points: Sequence[_Point], rows: Sequence[GradientPoint],
    refs: Sequence[Evaluation], dtype: np.dtype, tol: float,
) -> tuple[Diagnosis, ...]:
    near = [i for i, p in enumerate(points) if p.kind != "far"]
    failed_near = [i for i in near if not rows[i].passed]
    if not failed_near:
        far_failed = [rows[i] for i, p in enumerate(points) if p.kind == "far" and not rows[i].passed]
        if not far_failed:
            return ()
        worst = max(far_failed, key=lambda r: r.log_outside_mass)
        eps = float(np.finfo(dtype).eps)
        return (Diagnosis(
            "precision-far-out", True,
            f"right at every point that is not far, wrong at {len(far_failed)} far point(s), the first "
            f"at attention mass e^{worst.log_outside_mass:.3g} outside the label's SCC (eps of {dtype} = "
            f"{eps:.2g}): the loss or "
            "the gradient loses its digits once the mass outside the label's SCC drops below eps; form "
            "-log pi_y as log1p(exp(lse_out - z_y)) and 1 - pi_y as exp(lse_out - lse) "
            "(docs/theory.md §9)",
        ),)
    found = []
    ratio = _ratio([points[i] for i in near], [refs[i] for i in near])
    for name, detail, hyp in _hypotheses(dataset, kind, ratio):
        fits = True
        for i in near:
            loss_error, gradient_error, _ = _errors(points[i].loss, points[i].grad, hyp(points[i].W), dtype)
            if not (loss_error <= tol and gradient_error <= tol):
                fits = False
                break
        if fits:
            found.append(Diagnosis(name, True, detail))
    return tuple(found)


# -- points -----------------------------------------------------------------------------------------
def _random_points(dataset: Dataset, scales: Sequence[float], seed: SeedLike) -> list[_Point]:
    return [_Point(name, "random", W) for name, W in random_points(dataset, scales, as_generator(seed))]


def _far_points(dataset: Dataset, gaps: Sequence[float], dtype: np.dtype) -> tuple[list[_Point], str]:
    """Points :math:`W^{fin} + t W^{svm}` with ``t`` scaled to ``dtype``; a note when there are none."""
    from symattn.finite import finite_component
    from symattn.svm import SVMStatus, solve_graph_svm

    if not gaps:
        return [], ""
    svm = solve_graph_svm(dataset, certify=False)
    if svm.status is SVMStatus.INFEASIBLE:
        return [], "no far points: the graph-SVM is infeasible (dependent embeddings)"
    if svm.norm == 0.0:
        return [], "no far points: W^svm = 0 (every token is in its label's SCC)"
    W_fin = finite_component(dataset).W
    factor = math.log(float(np.finfo(dtype).eps)) / math.log(float(np.finfo(np.float64).eps))
    return [_Point(f"far-{t * factor:.3g}", "far", W_fin + t * factor * svm.W) for t in gaps], ""


def _given_points(points: Mapping[str, object] | None, d: int) -> list[_Point]:
    if points is None:
        return []
    if not isinstance(points, Mapping):
        raise InvalidInput(f"points must map names to d x d weight matrices, got {type(points).__name__}")
    return [_Point(str(name), "given", check_weights(W, d, name=f"points[{name!r}]"))
            for name, W in points.items()]


_MAX_SCORE = 1e4
"""Largest score size of a random point and largest far gap: beyond it the attention outside
underflows anyway (at about 745) and the rounding of the scores themselves (|score| times eps)
outgrows the tolerance, so a correct implementation would fail."""


def _scales(values: Any, what: str) -> tuple[float, ...]:
    try:
        out = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        raise InvalidInput(f"{what}={values!r} must be a sequence of positive numbers") from None
    if not all(math.isfinite(v) and v > 0 for v in out):
        raise InvalidInput(f"{what}={values!r} must hold finite positive numbers")
    if any(v > _MAX_SCORE for v in out):
        raise InvalidInput(
            f"{what}={values!r} must be at most {_MAX_SCORE:g}: beyond it the scores' own rounding "
            "exceeds the tolerance; give your own far points with points= if you need them"
        )
    return out


def _check_tolerance(tolerance: object) -> float | None:
    if tolerance is None:
        return None
    if isinstance(tolerance, bool) or not isinstance(tolerance, int | float | np.floating) \
            or not 0 < tolerance < 1:
        raise InvalidInput(f"tolerance={tolerance!r} must be a number in (0, 1)")
    return float(tolerance)


def check_gradient(
    dataset: Dataset,
    fn: Callable[[np.ndarray], Any],
    *,
    loss: Loss | str = Loss.LOG,
    scales: Sequence[float] = _RANDOM_SCALES,
    far: Sequence[float] = _FAR_FLOAT64,
    points: Mapping[str, object] | None = None,
    tolerance: float | None = None,
    seed: SeedLike = 0,
) -> GradientCheck:
    r"""Compare ``fn(W) -> (loss, gradient)`` with symattn's loss and gradient at chosen points.

    Parameters
    ----------
    dataset : Dataset
        The data ``fn`` is a loss of (any embeddings).
    fn : callable
        ``fn(W)`` with ``W`` a :math:`d \times d` float64 array returns ``(loss, gradient)``, each
        anything ``numpy.asarray`` reads (PyTorch tensors are detached first).
    loss : Loss or str
        Which of the five losses ``fn`` computes (default the log-loss).
    scales : sequence of float
        Score sizes of the random points.
    far : sequence of float
        Score gaps :math:`t` of the far points for float64 values (scaled to the user's dtype);
        empty to skip them. Gaps and ``scales`` are at most :math:`10^4`.
    points : mapping of str to array, optional
        Further points to check, by name.
    tolerance : float, optional
        Overrides :math:`\sqrt{\epsilon}` of the user's dtype.
    seed : int, Generator or None
        Seed of the random points.

    Returns
    -------
    GradientCheck
        ``passed``, one :class:`GradientPoint` per point and the diagnoses of a failure.

    Raises
    ------
    InvalidInput
        When ``fn`` is not callable or returns something that is not a loss and a
        :math:`d \times d` gradient, or an option is out of range (checked before ``fn`` is called).

    Examples
    --------
    >>> from symattn.data import Dataset
    >>> from symattn.model import Model
    >>> ds = Dataset.from_samples([([0, 1, 2], 1), ([0, 2], 0)], vocab=3)
    >>> model = Model(ds)
    >>> swapped = check_gradient(ds, lambda W: (model.value(W), model.gradient(W).T))
    >>> swapped.passed, [d.name for d in swapped.diagnoses]
    (False, ['transposed-gradient'])
    """
    dataset = require_dataset(dataset, "check_gradient")
    if not callable(fn):
        raise InvalidInput(f"fn={fn!r} is not callable; pass a function W -> (loss, gradient)")
    kind = parse_enum(Loss, loss, "loss")
    d = dataset.embeddings.dim
    scales, far = _scales(scales, "scales"), _scales(far, "far")
    given_tol = _check_tolerance(tolerance)
    given = _given_points(points, d)
    zero = _Point("zero", "zero", np.zeros((d, d)))
    value, grad, dtype = _call(fn, zero.W, d)
    evaluated = [_Point(zero.name, zero.kind, zero.W, value, grad)]
    far_points, note = _far_points(dataset, far, dtype)
    for p in [*_random_points(dataset, scales, seed), *far_points, *given]:
        value, grad, point_dtype = _call(fn, p.W, d)
        dtype = min(dtype, point_dtype, key=lambda t: t.itemsize)
        evaluated.append(_Point(p.name, p.kind, p.W, value, grad))
    tol = given_tol if given_tol is not None else math.sqrt(float(np.finfo(dtype).eps))
    refs = [evaluate(dataset, p.W, kind) for p in evaluated]
    outside = ~priority_graphs(dataset).in_label_scc
    rows = []
    for p, ref in zip(evaluated, refs, strict=True):
        loss_error, gradient_error, relative = _errors(p.loss, p.grad, ref, dtype)
        log_out = float(np.max(log_outside_mass(dataset, p.W, outside)))
        rows.append(GradientPoint(
            p.name, p.kind, float(np.linalg.norm(p.W)), log_out, p.loss, ref.loss, loss_error, gradient_error,
            relative, tol,
        ))
    diagnoses = _diagnose(dataset, kind, evaluated, rows, refs, dtype, tol)
    status = Verdict.PASS if all(r.passed for r in rows) else Verdict.FAIL
    failed = [r.name for r in rows if not r.passed]
    message = (f"all {len(rows)} points agree within {tol:.2g}" if not failed else
               f"{len(failed)} of {len(rows)} points disagree ({', '.join(failed)})"
               + (f"; diagnosis: {', '.join(x.name for x in diagnoses)}" if diagnoses else ""))
    if note:
        message += f"; {note}"
    return GradientCheck(status, tuple(rows), diagnoses, kind, str(dtype), tol, REFERENCE, message)
