r"""Verify trained weights against the theory: a verdict, named checks, diagnoses.

The theory (docs/theory.md §6) predicts that a correctly trained :math:`W` of norm :math:`R` is
:math:`W \approx R\,\bar W^{svm} + W^{fin}` plus a remainder that stays bounded as :math:`R`
grows. Each prediction is checked **at the norm of the given weights**: the reference is the
regularisation path :math:`W_R = \arg\min_{\|W\| \le R} \mathcal L(W)` at the same norm, and the
tolerance is what the path itself moves over the window :math:`[R/2, R]` (the bounded remainder
shifts where a trainer stands along the path by a constant, which at norm :math:`R` is at most a
factor of two once :math:`R` is past the norm the report asks for), plus the trainer's step and
the precision the weights came in. See docs/verifying.md for every tolerance.

Before anything is compared, :math:`W` is projected onto the reachable subspace
:math:`\mathcal R` (docs/theory.md §2): components no gradient can reach (from a random
initialisation) never move and say nothing about training. The raw correlation and the size of
what was removed are reported.

>>> from symattn.data import Dataset
>>> from symattn.predict import predict
>>> ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1), ([1, 2], 1)], vocab=3)
>>> pred = predict(ds)
>>> rep = verify_weights(ds, 30 * pred.W_svm / np.linalg.norm(pred.W_svm) + pred.W_fin, prediction=pred)
>>> rep.verdict.value, rep.direction.value
('pass', 'global')
>>> verify_weights(ds, np.zeros((3, 3)), prediction=pred).verdict.value
'inconclusive'
"""

from __future__ import annotations

import dataclasses
import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from symattn._validate import parse_enum, require_dataset
from symattn.data import Dataset
from symattn.embeddings import SeedLike, as_generator
from symattn.errors import Infeasible, InvalidInput
from symattn.finite import FinBasis, reachable_basis
from symattn.graphs import PriorityGraphs
from symattn.model import Loss, Model
from symattn.predict import Prediction, predict
from symattn.results import ResultMixin
from symattn.scores import entry_potentials, log_token_mass, segment_logsumexp, token_scores
from symattn.train import NormalizedGradientDescent, regularization_path
from symattn.verify._report import Check, Diagnosis, Verdict
from symattn.verify.pseudo import DEFAULT_THRESHOLD, pseudo_graph
from symattn.weights import Weights, as_weights

__all__ = [
    "DEFAULT_STEP",
    "Direction",
    "QuerySide",
    "WeightsReport",
    "draw_prompts",
    "norm_needed",
    "reference_weights",
    "verify_weights",
]

logger = logging.getLogger("symattn")

DEFAULT_STEP = 0.01
"""Step of normalised gradient descent assumed by default (the published value): its iterates
oscillate within about one step of :math:`W^{fin}`, so the finite part is allowed that much."""

WEIGHTS_REPORT_FORMAT = "symattn.verify-weights/1"
_PROMPTS_PER_QUERY = 8
_MAX_PROMPTS = 4000
_TIE = 1e-9
_LISTED = 10


class Direction(enum.Enum):
    """Which direction the weights converged to."""

    GLOBAL = "global"
    """The graph-SVM of the dataset's token-priority graphs."""
    LOCAL = "local"
    """The graph-SVM of the pseudo-graph of the tokens ``W`` selects (P6), not the global one."""
    NONE = "none"
    """Neither."""
    NOT_JUDGED = "not judged"
    """The norm is too small to say, or :math:`W^{svm} = 0` (no direction to converge to)."""


class QuerySide(enum.Enum):
    r"""Where the trainer puts the query: ``right`` is :math:`e_{x_t}^\top W e_k` (symattn's)."""

    RIGHT = "right"
    LEFT = "left"


@dataclass(frozen=True, eq=False)
class WeightsReport(ResultMixin):
    r"""The verdict on trained weights, with the checks and diagnoses behind it.

    Attributes
    ----------
    status : Verdict
        ``pass``, ``fail`` or ``inconclusive`` (also :attr:`verdict`).
    checks : tuple of Check
        ``norm``, ``direction``, ``finite part``, ``hard retrieval``, ``soft composition``,
        ``generalisation`` (the last five against the reference at this norm).
    diagnoses : tuple of Diagnosis
        ``transposed``, ``other labels``, ``query position``, ``precision``, ``loss scale``.
    direction : Direction
        Global, local (P6) or neither.
    norm : float
        :math:`R = \|\Pi_{\mathcal R} W\|_F`.
    norm_needed : float
        The norm below which the verdict is ``inconclusive``.
    removed : float
        :math:`\|W - \Pi_{\mathcal R} W\|_F`, the part no gradient reaches.
    raw_corr : float
        :math:`\operatorname{corr}(W, W^{svm})` before the projection (0 when either is 0).
    failing_samples : tuple of int
        Training samples whose attention leaves the label's SCC more than allowed.
    failing_prompts : tuple of tuple of int
        Prompts whose attention leaves the theory's retrieved set more than allowed.
    dtype : str
        The dtype the weights came in.
    reference : str
        What the checks were measured against at this norm.
    message : str
        One sentence summing up the verdict.
    """

    status: Verdict
    checks: tuple[Check, ...]
    diagnoses: tuple[Diagnosis, ...]
    direction: Direction
    norm: float
    norm_needed: float
    removed: float
    raw_corr: float
    failing_samples: tuple[int, ...] = ()
    failing_prompts: tuple[tuple[int, ...], ...] = ()
    dtype: str = "float64"
    reference: str = ""
    message: str = ""
    iterations: int = 0

    @property
    def verdict(self) -> Verdict:
        """The verdict (the same as ``status``)."""
        return self.status

    def check(self, name: str) -> Check:
        """The check called ``name``.

        >>> from symattn.data import Dataset
        >>> ds = Dataset.from_samples([([0, 1], 0)], vocab=2)
        >>> verify_weights(ds, [[0, 40], [0, -40]]).check("direction").passed
        True
        """
        for c in self.checks:
            if c.name == name:
                return c
        raise InvalidInput(f"no check {name!r}; the checks are {[c.name for c in self.checks]}")

    def to_dict(self, names: Sequence[str] | None = None) -> dict[str, Any]:
        """The JSON object of the report; ``names`` spell the prompts' tokens (ids otherwise)."""
        def spell(prompt: tuple[int, ...]) -> list[Any]:
            return [names[t] for t in prompt] if names is not None else list(prompt)

        return {
            "format": WEIGHTS_REPORT_FORMAT,
            "verdict": self.status.value,
            "message": self.message,
            "direction": self.direction.value,
            "norm": self.norm,
            "norm_needed": self.norm_needed,
            "removed": self.removed,
            "raw_corr": self.raw_corr,
            "dtype": self.dtype,
            "reference": self.reference,
            "checks": [c.to_dict() for c in self.checks],
            "diagnoses": [d.to_dict() for d in self.diagnoses],
            "failing_samples": list(self.failing_samples),
            "failing_prompts": [spell(p) for p in self.failing_prompts],
        }


# -- measurements ------------------------------------------------------------------------------
def _corr(A: np.ndarray, B: np.ndarray) -> float:
    na, nb = float(np.linalg.norm(A)), float(np.linalg.norm(B))
    return 0.0 if na == 0.0 or nb == 0.0 else float(np.sum(A * B) / (na * nb))


def _log_outside(ds: Dataset, W: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Per sample, the log of the attention mass on entries not ``inside`` (``-inf`` when none)."""
    c = ds.counts
    log_pi = log_token_mass(ds, W)
    out = np.flatnonzero(~inside)
    result = np.full(c.n, -np.inf)
    if out.size:
        samples, starts = np.unique(c.sample[out], return_index=True)
        result[samples] = segment_logsumexp(log_pi[out], np.append(starts, out.size))
    return result


@dataclass(frozen=True)
class _Measure:
    """What is measured of one matrix: direction, finite part, within-SCC error, outside masses."""

    corr: float
    finite: float
    within: float
    samples: np.ndarray
    prompts: np.ndarray


@dataclass(frozen=True, eq=False)
class _Reachable:
    r"""The projection onto :math:`\mathcal R`: centring each column :math:`k` on :math:`G_k`'s tokens in
    token coordinates for orthonormal embeddings (no basis is formed), a basis otherwise."""

    graphs: PriorityGraphs
    basis: FinBasis | None
    dim: int

    @classmethod
    def of(cls, graphs: PriorityGraphs) -> _Reachable:
        if graphs.dataset.embeddings.is_orthonormal:
            return cls(graphs, None, sum(len(g.nodes) - 1 for g in graphs.values()))
        basis = reachable_basis(graphs)
        return cls(graphs, basis, basis.dim)

    def project(self, W: np.ndarray) -> np.ndarray:
        if self.basis is not None:
            return self.basis.project(W)
        emb = self.graphs.dataset.embeddings
        U = token_scores(self.graphs.dataset, W)
        T = np.zeros_like(U)
        for k, g in self.graphs.items():
            column = U[g.nodes, k]
            T[g.nodes, k] = column - column.mean()
        if emb.is_onehot:
            return T
        E = emb.matrix()
        return E.T @ T @ E


@dataclass(frozen=True, eq=False)
class _Setting:
    """A prediction with everything needed to measure matrices against it."""

    pred: Prediction
    basis: _Reachable
    prompts: Dataset | None
    retrieved: np.ndarray | None
    log_loss: bool = True

    @classmethod
    def build(cls, pred: Prediction, prompts: Dataset | None, log_loss: bool = True) -> _Setting:
        retrieved = None if prompts is None else _theory_retrieved(prompts, pred.W_svm)
        return cls(pred, _Reachable.of(pred.graphs), prompts, retrieved, log_loss)

    def measure(self, M: np.ndarray) -> _Measure:
        d = self.pred.distances(M)
        prompts = (np.zeros(0) if self.prompts is None or self.retrieved is None
                   else _log_outside(self.prompts, M, self.retrieved))
        samples = _log_outside(self.pred.dataset, M, self.pred.graphs.in_label_scc)
        return _Measure(_corr(M, self.pred.W_svm), d.finite_error, d.within_error, samples, prompts)

    def window(self, R: float) -> tuple[_Measure, _Measure, str]:
        """The reference at norm ``R`` and at ``R/2``, and its name (see :func:`reference_weights`)."""
        at_R, at_half, what = reference_weights(self.pred.dataset, R)
        return self.measure(at_R), self.measure(at_half), what


_PATH_REFERENCE_NODES = 3000
"""Above this many path variables the reference is normalised GD: the path's dense Newton blocks,
five radii deep, would take minutes (about 30 CPU minutes at 3,748 variables, n = 10^4, T = 64)."""


def reference_weights(dataset: Dataset, R: float) -> tuple[np.ndarray, np.ndarray, str]:
    r"""The theory's weights at norm ``R`` and ``R/2``, and what they are.

    The regularisation path :math:`W_R` (log-loss) where its solver applies and has at most
    :data:`_PATH_REFERENCE_NODES` variables; beyond, normalised gradient descent from zero with
    step :math:`R/500`, taken at the first iterates of norm at least :math:`R/2` and :math:`R`.

    >>> from symattn.data import Dataset
    >>> _, _, what = reference_weights(Dataset.from_samples([([0, 1], 0)], vocab=2), 4.0)
    >>> what
    'the regularisation path W_R'
    """
    c = dataset.counts
    nodes = np.unique(c.query[c.sample] * dataset.K + c.token).size
    try:
        if nodes > _PATH_REFERENCE_NODES:
            raise InvalidInput(f"{nodes} (query, token) variables, above {_PATH_REFERENCE_NODES}")
        path = regularization_path(dataset, [R / 16, R / 8, R / 4, R / 2, R])
    except InvalidInput as exc:
        logger.info("reference by normalised GD: %s", exc)
        return (*_ngd_reference(dataset, R), f"normalised GD from zero, step R/500 (the path: {exc})")
    if path.weights is None or len(path.weights) < 5:
        raise InvalidInput(f"the regularisation path did not reach R={R:.4g}: {path.message}")
    return path.weights[-1], path.weights[-2], "the regularisation path W_R"


def _ngd_reference(dataset: Dataset, R: float) -> tuple[np.ndarray, np.ndarray]:
    trainer = NormalizedGradientDescent(Model(dataset), R / 500)
    state = trainer.init(np.zeros((dataset.embeddings.dim,) * 2))
    half = None
    for _ in range(4000):
        state = trainer.step(state)
        norm = float(np.linalg.norm(state.W))
        if half is None and norm >= R / 2:
            half = state.W
        if norm >= R:
            break
    return state.W, state.W if half is None else half


def _theory_retrieved(prompts: Dataset, W_svm: np.ndarray) -> np.ndarray:
    """Per entry of the prompts: whether the token has the prompt's maximal :math:`W^{svm}` score."""
    c = prompts.counts
    scores = entry_potentials(prompts, W_svm)
    top = np.repeat(np.maximum.reduceat(scores, c.indptr[:-1]), np.diff(c.indptr))
    return scores >= top - _TIE * np.maximum(1.0, np.abs(top))


def draw_prompts(
    dataset: Dataset, per_query: int = _PROMPTS_PER_QUERY, *, seed: SeedLike = 0,
) -> list[tuple[int, ...]]:
    """New prompts drawn from each query's graph: tokens of :math:`G_k` (uniform, with repeats), then ``k``.

    Lengths are uniform between 2 and the longest training sequence; at most 4000 prompts in all.

    >>> from symattn.data import Dataset
    >>> ps = draw_prompts(Dataset.from_samples([([0, 1, 2], 0), ([1, 2], 1)], vocab=3), 3, seed=1)
    >>> len(ps), all(p[-1] == 2 and set(p) <= {0, 1, 2} for p in ps)
    (3, True)
    """
    require_dataset(dataset, "draw_prompts")
    if isinstance(per_query, bool) or not isinstance(per_query, int) or per_query < 1:
        raise InvalidInput(f"per_query={per_query!r} must be a positive integer")
    rng = as_generator(seed)
    c = dataset.counts
    queries = np.unique(c.query)
    per_query = max(1, min(per_query, _MAX_PROMPTS // queries.size))
    longest = int(np.diff(dataset.offsets).max())
    prompts = []
    for k in queries.tolist():
        nodes = np.unique(c.token[c.query[c.sample] == k])
        for _ in range(per_query):
            context = rng.choice(nodes, size=int(rng.integers(1, max(2, longest))))
            prompts.append((*context.tolist(), k))
    return prompts


def _as_prompts(prompts: object) -> list[tuple[int, ...]]:
    """Token-id sequences (or objects with ``tokens``, such as :class:`symattn.prompts.Prompt`)."""
    if isinstance(prompts, str | bytes) or not isinstance(prompts, Sequence) or not prompts:
        raise InvalidInput("prompts must be a non-empty list of token-id sequences (the query last)")
    seqs = []
    for i, p in enumerate(prompts):
        p = getattr(p, "tokens", p)
        if isinstance(p, str | bytes) or not isinstance(p, Sequence) or not p:
            raise InvalidInput(f"prompt {i} is {p!r}; each prompt is a non-empty list of token ids")
        seqs.append(tuple(p))
    return seqs


def _prompt_dataset(dataset: Dataset, seqs: list[tuple[int, ...]]) -> Dataset:
    """The prompts as a dataset whose labels are their queries (present by construction)."""
    offsets = np.cumsum([0] + [len(s) for s in seqs])
    try:
        return Dataset.from_arrays(
            [t for s in seqs for t in s], offsets, [s[-1] for s in seqs],
            vocab=dataset.vocab, embeddings=dataset.embeddings,
        )
    except InvalidInput as exc:
        raise InvalidInput(f"prompts: {exc}") from None


# -- the checks ----------------------------------------------------------------------------------
def norm_needed(pred: Prediction) -> float:
    r"""The norm from which the weights can be judged: twice the norm at which the theory's first-order
    form :math:`\rho\,\bar W^{svm} + W^{fin}` puts at least half of every training sample's
    attention on its label's SCC (0 when :math:`W^{svm} = 0`).

    >>> from symattn.data import Dataset
    >>> round(norm_needed(predict(Dataset.from_samples([([0, 1], 0)], vocab=2))), 6)
    0.0
    """
    S = pred.W_svm
    s_norm = float(np.linalg.norm(S))
    if s_norm == 0.0:
        return 0.0
    unit, F = S / s_norm, pred.W_fin
    inside = pred.graphs.in_label_scc

    def leaks(rho: float) -> bool:
        return float(_log_outside(pred.dataset, rho * unit + F, inside).max()) > np.log(0.5)

    hi = 1.0
    while leaks(hi):
        hi *= 2.0
    lo = 0.0
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if leaks(mid) else (lo, mid)
    return 2.0 * float(np.hypot(hi, np.linalg.norm(F)))


@dataclass(frozen=True)
class _Allowance:
    """What the tolerances add to the path window: precision, trainer's step, initial offset."""

    eps: float
    W_norm: float
    step: float
    offset: float
    e2: float
    lam: float

    @property
    def scores(self) -> float:
        """Bound on how much the allowances move any score difference :math:`(e_i - e_j)^\\top W e_k`."""
        return 2.0 * self.e2 * (self.eps * self.W_norm + self.step)

    @property
    def finite(self) -> float:
        """Allowed extra distance of the finite part: one step, rounding, float gradients."""
        gradient = 2.0 * self.e2 * self.eps / self.lam if self.lam > 0 and np.isfinite(self.lam) else 0.0
        return self.step + self.eps * self.W_norm + gradient


@dataclass
class _Outcome:
    checks: list[Check] = field(default_factory=list)
    failing_samples: tuple[int, ...] = ()
    failing_prompts: tuple[tuple[int, ...], ...] = ()
    reference: str = "W^fin (W^svm = 0: the theory predicts a finite limit)"


def _judge(setting: _Setting, P: np.ndarray, allow: _Allowance, prompts: list[tuple[int, ...]]) -> _Outcome:
    """Direction, finite part, hard retrieval, soft composition and generalisation of ``P``."""
    out = _Outcome()
    pred = setting.pred
    R = float(np.linalg.norm(P))
    m = setting.measure(P)
    has_svm = bool(np.any(pred.W_svm))
    if has_svm and R > 0:
        ref, half, out.reference = setting.window(R)
    else:
        ref = half = setting.measure(pred.W_fin)
    if has_svm:
        out.checks.append(_direction_check(m, ref, half, R, allow))
    if setting.log_loss:
        out.checks.append(_finite_check(m, ref, half, allow))
    if has_svm:
        check, bad = _outside_check("hard retrieval", m.samples, ref.samples, half.samples, allow,
                                    "training samples (log attention mass outside the label's SCC)")
        if check is not None:
            out.checks.append(check)
            out.failing_samples = tuple(bad.tolist())
    if setting.log_loss:
        tol = max(0.0, half.within - ref.within) + allow.scores / 4 + 2 * allow.e2 * allow.finite / 4
        out.checks.append(Check.at_most(
            "soft composition", m.within, ref.within, tol,
            "max |pi(j | label SCC) - softmax under W^fin| over training samples; tolerance: the reference "
            "over [R/2, R] plus the finite-part allowance through the softmax (slope <= 1/4)",
        ))
    if has_svm and m.prompts.size:
        check, bad = _outside_check("generalisation", m.prompts, ref.prompts, half.prompts, allow,
                                    "new prompts (log attention mass outside the theory's retrieved "
                                    "set, P5)")
        if check is not None:
            out.checks.append(check)
            out.failing_prompts = tuple(prompts[i] for i in bad.tolist())
    return out


def _direction_check(m: _Measure, ref: _Measure, half: _Measure, R: float, allow: _Allowance) -> Check:
    """corr against the path window; unjudged between the strict bound and what an initial offset allows."""
    rounding = 2.0 * allow.eps * allow.W_norm / R
    half_angle = float(np.arccos(np.clip(half.corr, -1.0, 1.0)))
    strict = half.corr - rounding
    check = Check.at_least(
        "direction", m.corr, ref.corr, max(0.0, ref.corr - strict),
        f"corr(W, W^svm) after projecting onto the reachable subspace, at norm R={R:.4g}; expected: "
        "the reference at R; tolerance: down to the reference at R/2",
    )
    if check.passed or allow.offset <= np.sqrt(allow.eps) * R:
        return check
    widened = float(np.cos(min(np.pi, half_angle + np.arcsin(min(1.0, allow.offset / R))))) - rounding
    if m.corr < widened:
        return check
    return check.unjudged(
        f"an initial offset of about {allow.offset:.3g} inside the reachable subspace (estimated from the "
        "part the projection removed) could explain it; judge weights of norm well above it"
    )


def _finite_check(m: _Measure, ref: _Measure, half: _Measure, allow: _Allowance) -> Check:
    tol = max(0.0, half.finite - ref.finite) + allow.finite
    return Check.at_most(
        "finite part", m.finite, ref.finite, tol,
        f"||Pi_fin W - W^fin||; expected: the reference at this norm; tolerance: the reference over [R/2, R] "
        f"plus one trainer step ({allow.step:g}) and rounding",
    )


def _outside_check(
    name: str, value: np.ndarray, ref: np.ndarray, half: np.ndarray, allow: _Allowance, what: str,
) -> tuple[Check | None, np.ndarray]:
    """Per sample (or prompt): log outside mass against the reference window.

    Only items the reference has separated by :math:`R/2` (at most half their attention outside) are
    judged: below that the :math:`O(1)` terms still outweigh the margin's growth. ``None`` when no
    item is judged."""
    leaks = np.isfinite(ref)
    idx = np.flatnonzero(leaks & (half <= np.log(0.5)))
    waiting = int(np.count_nonzero(leaks)) - idx.size
    if idx.size == 0:
        return None, idx
    floor = np.log(allow.eps)
    bound = np.maximum(np.maximum(half[idx], ref[idx]), floor) + 2.0 * allow.scores
    excess = value[idx] - bound
    bad = idx[excess > 0]
    worst = int(np.argmax(excess))
    expected = float(ref[idx[worst]])
    detail = (f"worst of {idx.size} {what}: #{int(idx[worst])}; expected: the reference at this norm; "
              f"tolerance: up to the reference at R/2, never below log(eps) = {floor:.1f}; {bad.size} fail")
    if bad.size:
        listed = ", ".join(f"#{i}" for i in bad[:_LISTED].tolist())
        detail += f": {listed}" + (" ..." if bad.size > _LISTED else "")
    if waiting:
        detail += f"; {waiting} not separated yet at this norm (not judged)"
    check = Check.at_most(name, float(value[idx[worst]]), expected, float(bound[worst]) - expected, detail)
    return check, bad


def _allowance(
    weights: Weights, pred: Prediction, basis: _Reachable, removed: float, step: float,
) -> _Allowance:
    """The extra tolerances. An isotropic initialisation puts norm into :math:`\\mathcal R` and its
    complement in proportion to their dimensions, so the part removed estimates the initial offset
    left inside :math:`\\mathcal R` (the theory allows any bounded offset; it shows in the direction only)."""
    d2 = weights.matrix.size
    offset = removed * float(np.sqrt(basis.dim / (d2 - basis.dim))) if d2 > basis.dim else 0.0
    E = pred.dataset.embeddings.matrix()
    e2 = float(np.max(np.einsum("kd,kd->k", E, E)))
    lam = float(pred.finite.hessian_min_eig)
    return _Allowance(weights.eps, float(np.linalg.norm(weights.matrix)), step, offset, e2, lam)


def verify_weights(
    dataset: Dataset,
    W: object,
    *,
    prompts: Sequence[object] | None = None,
    loss: Loss | str = Loss.LOG,
    step: float = DEFAULT_STEP,
    threshold: float = DEFAULT_THRESHOLD,
    query_side: QuerySide | str = QuerySide.RIGHT,
    seed: SeedLike = 0,
    prediction: Prediction | None = None,
) -> WeightsReport:
    r"""Judge trained weights against the theory (docs/verifying.md).

    Parameters
    ----------
    dataset : Dataset
        The training data, with the embeddings the weights were trained with.
    W : array_like, tensor or Weights
        The trained :math:`d \times d` matrix (torch tensors are detached; float32 is kept as such
        for the tolerances).
    prompts : list of token-id sequences (or of :class:`~symattn.prompts.Prompt`), optional
        New prompts for the generalisation check (P5); by default 8 drawn from each query's graph.
    loss : Loss
        The loss trained with. The log-loss must reach the global direction; for the other
        (non-convex) losses a local direction (P6, the pseudo-graph's SVM) also passes, and the
        finite part is not judged (the theory's :math:`W^{fin}` belongs to the log-loss).
    step : float
        Step of normalised GD (allowed distance of the finite part; 0 for exact methods).
    threshold : float
        Attention mass above which a token counts as selected (pseudo-graph).
    query_side : {"right", "left"}
        ``left`` when the trainer scores :math:`e_k^\top W e_{x_t}` (then :math:`W^\top` is judged).
    seed : int, Generator or None
        Seed for the drawn prompts.
    prediction : Prediction, optional
        ``predict(dataset)``, when already computed.

    Returns
    -------
    WeightsReport

    Raises
    ------
    InvalidInput
        Bad weights (shape, NaN, complex, ...), prompts or options.
    Infeasible
        When the dataset's graph-SVM has no solution (dependent embeddings).

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1], 0)], vocab=2)
    >>> rep = verify_weights(ds, [[0, -40], [0, 40]])           # the wrong token wins
    >>> rep.verdict.value, [c.name for c in rep.checks if c.passed is False][:2]
    ('fail', ['direction', 'hard retrieval'])
    """
    ds = require_dataset(dataset, "verify_weights")
    kind = parse_enum(Loss, loss, "loss")
    side = parse_enum(QuerySide, query_side, "query_side")
    if isinstance(step, bool) or not isinstance(step, int | float) or not 0 <= step < np.inf:
        raise InvalidInput(f"step={step!r} must be a finite number >= 0 (the NGD step, 0 for exact methods)")
    weights = as_weights(W, dim=ds.embeddings.dim)
    if side is QuerySide.LEFT:
        weights = weights.transposed()
    if prediction is not None and prediction.dataset != ds:
        raise InvalidInput("prediction was made for another dataset; pass predict(dataset) or nothing")
    pred = predict(ds) if prediction is None else prediction
    prompt_list = draw_prompts(ds, seed=seed) if prompts is None else _as_prompts(prompts)
    setting = _Setting.build(pred, _prompt_dataset(ds, prompt_list), kind is Loss.LOG)
    P = setting.basis.project(weights.matrix)
    R, removed = float(np.linalg.norm(P)), float(np.linalg.norm(weights.matrix - P))
    allow = _allowance(weights, pred, setting.basis, removed, float(step))
    needed = norm_needed(pred)
    norm = Check.at_least("norm", R, needed, 0.0, _norm_detail(R, needed, removed))
    report = WeightsReport(
        Verdict.INCONCLUSIVE, (norm.unjudged(f"train further, to ||W|| >= {needed:.3g}"),), (),
        Direction.NOT_JUDGED, R, needed, removed, _corr(weights.matrix, pred.W_svm), dtype=str(weights.dtype),
        message=f"||W|| = {R:.3g} is too small to judge: the theory is asymptotic; weights of norm at least "
        f"{needed:.3g} are needed",
    )
    if needed > R:
        return _unreachable(report, setting, weights, allow) if removed >= needed else report
    outcome = _judge(setting, P, allow, prompt_list)
    direction, local = _direction_kind(setting, P, allow, prompt_list, outcome, threshold)
    if direction is Direction.LOCAL and kind is not Loss.LOG and local is not None:
        outcome = local   # a non-convex loss may converge to the pseudo-graph's direction (P6)
    checks = (norm, *outcome.checks)
    failed = [c.name for c in checks if c.passed is False]
    diagnoses = _diagnose(setting, weights, P, allow, failed, threshold)
    verdict = Verdict.of(checks)
    return dataclasses.replace(
        report, status=verdict, checks=checks, diagnoses=diagnoses, direction=direction,
        failing_samples=outcome.failing_samples, failing_prompts=outcome.failing_prompts,
        reference=outcome.reference, message=_message(verdict, failed, direction, diagnoses),
    )


def _unreachable(
    report: WeightsReport, setting: _Setting, weights: Weights, allow: _Allowance,
) -> WeightsReport:
    r"""Weights small inside :math:`\mathcal R` but large outside it: does a wrong model explain them?

    Training from zero never leaves :math:`\mathcal R`; a large part outside it is an initialisation
    (then the verdict stays inconclusive) or a trainer that moves other entries, which fails when
    the transposed or re-queried theory explains the weights."""
    bare = _Setting.build(setting.pred, None, setting.log_loss)
    tried = (_transposed(bare, weights, allow), _query_position(bare, weights, allow))
    found = tuple(d for d in tried if d.found)
    if not found:
        return report
    check = Check.at_most(
        "reachable part", report.removed, 0.0, report.norm_needed,
        f"||W - Pi_R W|| = {report.removed:.4g} lies where no gradient of this data reaches (training "
        f"from zero leaves nothing there) and {found[0].name} explains it",
    )
    return dataclasses.replace(
        report, status=Verdict.FAIL, checks=(*report.checks, check), diagnoses=found,
        message=f"failed: reachable part; likely: {', '.join(d.name for d in found)}",
    )


def _norm_detail(R: float, needed: float, removed: float) -> str:
    shown = f"{removed:.3g}" if removed > 1e-9 * max(R, 1.0) else "0"
    return (f"||Pi_R W|| = {R:.4g} (removed {shown} that no gradient reaches); judged from twice the "
            "norm at which the theory's first-order form holds half of every sample's attention on its "
            f"label SCC ({needed:.4g})")


def _message(
    verdict: Verdict, failed: list[str], direction: Direction, diagnoses: tuple[Diagnosis, ...],
) -> str:
    if verdict is Verdict.PASS:
        return f"the weights agree with the theory at their norm ({direction.value} direction)"
    found = [d.name for d in diagnoses if d.found and d.name != "precision"]
    return f"failed: {', '.join(failed)}" + (f"; likely: {', '.join(found)}" if found else "")


def _passed(outcome: _Outcome, name: str) -> bool | None:
    return next((c.passed for c in outcome.checks if c.name == name), None)


def _direction_kind(
    setting: _Setting, P: np.ndarray, allow: _Allowance, prompts: list[tuple[int, ...]], outcome: _Outcome,
    threshold: float,
) -> tuple[Direction, _Outcome | None]:
    """Global when the direction check passes; else local when ``P`` fits its own pseudo-graph's SVM."""
    verdict = _passed(outcome, "direction")
    if verdict is None:
        return Direction.NOT_JUDGED, None
    if verdict:
        return Direction.GLOBAL, None
    local = _local_setting(setting, P, threshold)
    if local is None:
        return Direction.NONE, None
    judged = _judge(local, P, allow, prompts)
    return (Direction.LOCAL if _passed(judged, "direction") else Direction.NONE), judged


def _local_setting(setting: _Setting, P: np.ndarray, threshold: float) -> _Setting | None:
    """The pseudo-graph's prediction, measured like the true one (``None`` when its SVM is infeasible)."""
    graphs = pseudo_graph(setting.pred.dataset, P, threshold)
    try:
        pred = predict(graphs.dataset)
    except Infeasible:
        return None
    return _Setting.build(pred, setting.prompts, log_loss=False)


# -- diagnoses -----------------------------------------------------------------------------------
def _diagnose(
    setting: _Setting, weights: Weights, P: np.ndarray, allow: _Allowance, failed: list[str],
    threshold: float,
) -> tuple[Diagnosis, ...]:
    found = [_precision(weights), _loss_scale(setting, P, allow, failed)]
    if failed:
        bare = _Setting.build(setting.pred, None, setting.log_loss)
        found[:0] = [
            _transposed(bare, weights, allow),
            _other_labels(setting, P, threshold),
            _query_position(bare, weights, allow),
        ]
    return tuple(found)


def _fits(setting: _Setting, W: np.ndarray, allow: _Allowance) -> tuple[bool, float, float]:
    """Whether ``W`` (projected) passes direction and finite part; its corr and finite error."""
    P = setting.basis.project(W)
    if float(np.linalg.norm(P)) <= 1e-9 * max(1.0, float(np.linalg.norm(W))):
        return False, 0.0, float(np.linalg.norm(setting.pred.W_fin))
    out = _judge(setting, P, allow, [])
    checks = {c.name: c for c in out.checks}
    ok = all(checks[n].passed for n in ("direction", "finite part") if n in checks)
    corr = checks["direction"].value if "direction" in checks else 1.0
    fin = checks["finite part"].value if "finite part" in checks else 0.0
    return bool(ok), corr, fin


def _transposed(bare: _Setting, weights: Weights, allow: _Allowance) -> Diagnosis:
    own = _fits(bare, weights.matrix, allow)
    flipped = _fits(bare, weights.matrix.T, allow)
    found = flipped[0] and not own[0]
    detail = (f"W: corr {own[1]:.4f}, finite part {own[2]:.4g}; W^T: corr {flipped[1]:.4f}, finite part "
              f"{flipped[2]:.4g}")
    if found:
        detail += ("; W^T fits the theory: the trainer scores e_k^T W e_x (query on the left): "
                   "use query_side='left'")
    return Diagnosis("transposed", found, detail)


def _query_position(bare: _Setting, weights: Weights, allow: _Allowance) -> Diagnosis:
    ds = bare.pred.dataset
    notes, found = [], False
    for where, position in (("first", 0), ("second-to-last", -2)):
        alt = _requeried(ds, position)
        if alt is None:
            continue
        try:
            alt_setting = _Setting.build(predict(alt), None, bare.log_loss)
        except Infeasible:
            continue
        ok, corr, fin = _fits(alt_setting, weights.matrix, allow)
        notes.append(f"query at the {where} token: corr {corr:.4f}, finite part {fin:.4g}")
        if ok:
            found = True
            notes[-1] += " -- fits: the trainer reads the query from the wrong position"
    detail = "; ".join(notes) or "no other position to try (samples of length 1)"
    return Diagnosis("query position", found, detail)


def _requeried(ds: Dataset, position: int) -> Dataset | None:
    """The dataset with the token at ``position`` moved to the end (so it becomes the query)."""
    lengths = np.diff(ds.offsets)
    if position == -2 and lengths.min() < 2:
        return None
    order = []
    for a, b in zip(ds.offsets[:-1].tolist(), ds.offsets[1:].tolist(), strict=True):
        idx = list(range(a, b))
        moved = idx.pop(position if position >= 0 else len(idx) + position)
        order.extend([*idx, moved])
    return Dataset.from_arrays(
        ds.tokens[order], ds.offsets, ds.labels, vocab=ds.vocab, embeddings=ds.embeddings,
    )


def _other_labels(setting: _Setting, P: np.ndarray, threshold: float) -> Diagnosis:
    graphs = setting.pred.graphs
    pseudo = pseudo_graph(setting.pred.dataset, P, threshold)
    names = graphs.dataset.vocab.names
    contradictions = []
    for k, g in pseudo.items():
        true = graphs[k]
        for s, j in g.edges.tolist():
            if not true.reaches(s, j):
                order = f"{names[j]} over {names[s]}" if true.higher(j, s) else "no order"
                contradictions.append(f"query {names[k]}: {names[s]}->{names[j]} (data: {order})")
    found = bool(contradictions)
    if found:
        listed = "; ".join(contradictions[:_LISTED]) + (" ..." if len(contradictions) > _LISTED else "")
        detail = (f"the graph of W's own selections (mass > {threshold:g}) has {len(contradictions)} edge(s) "
                  f"the data's graphs do not imply: {listed}; the weights were trained on other labels "
                  "(or other sequences)")
    else:
        detail = f"every edge of the graph of W's selections (mass > {threshold:g}) is implied by the data"
    return Diagnosis("other labels", found, detail)


def _precision(weights: Weights) -> Diagnosis:
    found = weights.dtype != np.dtype(np.float64)
    detail = (f"weights in {weights.dtype} (eps = {weights.eps:.3g}): tolerances include their rounding and "
              f"no outside mass below eps is demanded")
    return Diagnosis("precision", found, detail)


def _loss_scale(setting: _Setting, P: np.ndarray, allow: _Allowance, failed: list[str]) -> Diagnosis:
    """Whether ``W / s`` fits the theory for the scale ``s`` that best matches the finite part."""
    F = setting.pred.W_fin
    f2 = float(np.sum(F * F))
    note = ("a constant factor on the loss (a sum instead of a mean) moves neither W^svm nor W^fin, so "
            "weights cannot show it; check the gradient (check_gradient)")
    if "finite part" not in failed or f2 == 0.0:
        return Diagnosis("loss scale", False, note)
    scale = float(np.sum(setting.pred.project_fin(P) * F)) / f2
    if scale <= 0:
        return Diagnosis("loss scale", False, f"the finite part is not a positive multiple of W^fin; {note}")
    ok, corr, fin = _fits(_Setting.build(setting.pred, None, setting.log_loss), P / scale, allow)
    detail = f"W / {scale:.4g} (the best scale of the finite part): corr {corr:.4f}, finite part {fin:.4g}"
    if ok:
        detail += (f" -- fits: the scores were multiplied by {1 / scale:.4g} in training (a temperature such "
                   "as 1/sqrt(d), or embeddings of another scale)")
    return Diagnosis("loss scale", ok, f"{detail}; {note}")
