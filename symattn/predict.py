r"""What the theory predicts training does, in one bundle, and how far any ``W`` is from it.

:func:`predict` solves the graph-SVM (:math:`W^{svm}`, docs/theory.md §4) and the finite component
(:math:`W^{fin}`, §5) and derives the predictions of §6: on every training sample the retrieved
set (the present tokens of maximal :math:`W^{svm}` score, P3) and the within-SCC distribution
(softmax under :math:`W^{fin}`, P4); on new sequences :meth:`Prediction.predict_retrieval`
(P5). :meth:`Prediction.distances` measures a trained ``W`` against all of it.

>>> from symattn.data import Dataset
>>> ds = Dataset.from_samples([([0, 1, 2], y) for y in (0, 1, 1, 2, 2, 2)], vocab=3)
>>> pred = predict(ds)
>>> pred.retrieved[0], pred.within_distribution(0)
((0, 1, 2), {0: 0.1667, 1: 0.3333, 2: 0.5})
>>> d = pred.distances(pred.W_fin + 5 * pred.W_svm)
>>> d.finite_error < 1e-12, d.within_error < 1e-12
(True, True)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property

import numpy as np
from scipy import sparse

from symattn._deprecate import warn_renamed
from symattn._validate import as_int, as_tokens, check_weights, require_dataset
from symattn.data import Dataset
from symattn.errors import Infeasible, InvalidInput
from symattn.finite import FiniteResult, ReducedData, finite_component
from symattn.graphs import PriorityGraphs, TopSCCs, priority_graphs
from symattn.scores import entry_potentials, log_normalise, log_token_mass, pair_potentials, segment_logsumexp
from symattn.svm import SVMResult, SVMStatus, solve_graph_svm, svm_constraints

__all__ = [
    "HEADLINE_METRICS", "Analysis", "Distances", "Metric", "Prediction", "Retrieval", "analysis", "predict",
]

logger = logging.getLogger("symattn")

_TIE_TOL = 1e-9


@dataclass(frozen=True)
class Metric:
    """How one distance of :class:`Distances` is named and shown.

    Attributes
    ----------
    name : str
        The field of :class:`Distances` (and the key of ``Trajectory.metrics``).
    label : str
        Plain-text label.
    tex : str
        Label in matplotlib mathtext, for figures.
    log_scale : bool
        Drawn on a log scale.
    fmt : str
        Format specification for text.
    """

    name: str
    label: str
    tex: str
    log_scale: bool
    fmt: str


HEADLINE_METRICS: tuple[Metric, ...] = (
    Metric("corr_svm", "corr(W, W^svm)", r"corr$(W, W^{svm})$", False, ".6f"),
    Metric("finite_error", "||P_fin W - W^fin||", r"$\|\Pi_{S_{fin}} W - W^{fin}\|_F$", True, ".2e"),
    Metric("outside_mass_max", "max mass outside the label SCC", "max attention outside the label's SCC",
           True, ".1e"),
    Metric("within_error", "max within-SCC error", r"max $|\pi_W - \pi_{W^{fin}}|$ in the SCC", True, ".1e"),
)
"""The distances reported first, in order: the published experiment's three panels, then the
within-SCC error. Every name is a field of :class:`Distances`.

>>> [m.name for m in HEADLINE_METRICS][:2]
['corr_svm', 'finite_error']
"""


@dataclass(frozen=True)
class Distances:
    r"""How far a weight matrix ``W`` is from the prediction (all floats).

    Attributes
    ----------
    norm : float
        :math:`\|W\|_F`.
    corr_svm : float
        :math:`\langle W, W^{svm}\rangle / (\|W\|\|W^{svm}\|)`; NaN when either norm is 0.
    corr_svm_perp : float
        The same for :math:`\Pi_{S_{fin}^\perp} W`.
    finite_error : float
        :math:`\|\Pi_{S_{fin}} W - W^{fin}\|_F`.
    outside_mass_max, outside_mass_mean : float
        Attention mass outside each training sample's label SCC, max and mean over samples.
    log_outside_mass_max : float
        Natural log of the max, computed in log-space (finite when the mass underflows;
        ``-inf`` when no sample has a token outside its label's SCC).
    within_error : float
        :math:`\max_{i, j} |\pi_W(j \mid C_{y_i}) - \pi_{W^{fin}}(j \mid C_{y_i})|`.
    """

    norm: float
    corr_svm: float
    corr_svm_perp: float
    finite_error: float
    outside_mass_max: float
    outside_mass_mean: float
    log_outside_mass_max: float
    within_error: float


@dataclass(frozen=True)
class Retrieval:
    """The predicted retrieval for one sequence (docs/theory.md §6, P5).

    Attributes
    ----------
    query : int
        The query (last token).
    tokens : tuple of int
        Present tokens with the maximal score :math:`e_j^\\top W^{svm} e_k`, ascending.
    scores : tuple of (int, float)
        Each present distinct token with its score.
    exact : bool
        Ties were decided in exact arithmetic (certified one-hot :math:`W^{svm}`).
    graph : TopSCCs or None
        The graph-level answer from :meth:`TokenGraph.top_sccs` when it is unique, else ``None``.
    """

    query: int
    tokens: tuple[int, ...]
    scores: tuple[tuple[int, float], ...]
    exact: bool
    graph: TopSCCs | None

    @property
    def agrees(self) -> bool | None:
        """Whether the score answer equals the graph answer (``None`` without a unique graph answer).

        >>> from symattn.data import Dataset
        >>> ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1), ([0, 1, 2], 1), ([1, 2], 1)], vocab=4)
        >>> pred = predict(ds)
        >>> pred.predict_retrieval([3, 0, 2]).agrees, pred.predict_retrieval([1, 0, 2]).agrees
        (None, True)
        """
        return None if self.graph is None else self.tokens == self.graph.tokens


def _corr(A: np.ndarray | sparse.spmatrix, B: np.ndarray | sparse.spmatrix) -> float:
    """:math:`\\langle A, B\\rangle / (\\|A\\| \\|B\\|)` of dense or sparse ``A`` and ``B``."""
    if isinstance(A, np.ndarray) and isinstance(B, np.ndarray):
        inner = float(np.sum(A * B))
    else:  # elementwise, never a matrix product; the sparse factor keeps the result sparse
        inner = float((B.multiply(A) if sparse.issparse(B) else A.multiply(B)).sum())
    na, nb = _norm(A), _norm(B)
    if na == 0.0 or nb == 0.0:
        return float("nan")
    return inner / (na * nb)


def _norm(A: np.ndarray | sparse.spmatrix) -> float:
    """:math:`\\|A\\|_F` of a dense or sparse matrix (a sparse one from its stored entries)."""
    return float(np.sqrt(A.multiply(A).sum())) if sparse.issparse(A) else float(np.linalg.norm(A))


@dataclass(frozen=True, eq=False)
class Analysis:
    """The graphs, the graph-SVM and the finite component of a dataset, whatever their outcome.

    :func:`predict` builds its :class:`Prediction` from this; the command line renders it.

    Attributes
    ----------
    dataset : Dataset
        The data.
    graphs : PriorityGraphs
        Its token-priority graphs.
    svm : SVMResult
        :math:`W^{svm}` (or the Farkas proof that there is none).
    finite : FiniteResult
        :math:`W^{fin}`.
    """

    dataset: Dataset = field(repr=False)
    graphs: PriorityGraphs = field(repr=False)
    svm: SVMResult
    finite: FiniteResult

    @property
    def certified(self) -> bool:
        """Every claim is backed: :math:`W^{fin}` certified, and :math:`W^{svm}` either proved
        infeasible by verified Farkas multipliers or optimal (and exactly certified when the
        embeddings are exact).

        >>> from symattn.data import Dataset
        >>> analysis(Dataset.from_samples([([0, 1], 0)], vocab=2)).certified
        True
        """
        svm = self.svm
        infeasible = svm.status is SVMStatus.INFEASIBLE and svm.farkas is not None and svm.farkas.verified
        optimal = svm.success and (svm.certified or not self.dataset.embeddings.is_exact)
        return self.finite.certified and (infeasible or optimal)

    def prediction(self) -> Prediction:
        """The :class:`Prediction` of these results, without solving anything again.

        Raises
        ------
        Infeasible
            With the Farkas certificate, when the graph-SVM has no solution (dependent embeddings).

        >>> from symattn.data import Dataset
        >>> analysis(Dataset.from_samples([([0, 1], 0)], vocab=2)).prediction().W_svm.tolist()
        [[0.0, 0.5], [0.0, -0.5]]
        """
        if self.svm.status is SVMStatus.INFEASIBLE:
            raise Infeasible(
                "the graph-SVM is infeasible for these embeddings (their rows are linearly dependent); "
                "use independent embeddings (K <= d), e.g. one-hot", self.svm.farkas,
            )
        return Prediction(self.dataset, self.graphs, self.svm, self.finite)


@dataclass(frozen=True, eq=False)
class Prediction(Analysis):
    r"""The theory's prediction for a dataset: an :class:`Analysis` whose graph-SVM has a solution,
    with what follows from it (:attr:`W_svm`, :attr:`W_fin`, retrieval, distances).
    """

    def prediction(self) -> Prediction:
        """This prediction itself (it is already one).

        >>> from symattn.data import Dataset
        >>> pred = predict(Dataset.from_samples([([0, 1], 0)], vocab=2))
        >>> pred.prediction() is pred
        True
        """
        return self

    @property
    def reduced(self) -> ReducedData:
        """The reduced dataset (docs/theory.md §5); :attr:`within` is aligned with its entries.

        >>> from symattn.data import Dataset
        >>> predict(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3)).reduced.n
        2
        """
        return self.finite.reduced

    @property
    def W_svm(self) -> np.ndarray:
        """:math:`W^{svm}`, shape (d, d), dense (``svm.W``: formed on request, under the dense limit;
        ``svm.W_sparse`` has none, and every method here reads it for one-hot embeddings).

        >>> from symattn.data import Dataset
        >>> ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1), ([0, 1, 2], 1), ([1, 2], 1)], vocab=4)
        >>> pred = predict(ds)
        >>> pred.W_svm[:, 2].round(12).tolist()
        [0.333333333333, 0.333333333333, -0.666666666667, 0.0]
        """
        return self.svm.W

    @property
    def W_fin(self) -> np.ndarray:
        """:math:`W^{fin}`, shape (d, d), dense (``finite.W``: formed on request, under the dense limit;
        ``finite.W_sparse`` has none, and every method here reads it for one-hot embeddings).

        >>> from symattn.data import Dataset
        >>> ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1), ([0, 1, 2], 1), ([1, 2], 1)], vocab=4)
        >>> pred = predict(ds)
        >>> bool(np.isclose(pred.W_fin[1, 2] - pred.W_fin[0, 2], np.log(2), rtol=0, atol=1e-12))
        True
        """
        return self.finite.W

    @property
    def fin_basis(self) -> np.ndarray:
        """Deprecated: the matrices of :math:`S_{fin}`'s basis, shape (m, d, d).

        ``fin_basis`` names the :class:`~symattn.finite.FinBasis` everywhere else; use
        ``prediction.finite.basis`` (and its ``matrices()``).
        """
        warn_renamed("Prediction.fin_basis", "Prediction.finite.basis.matrices()")
        return self.finite.basis.matrices()

    @cached_property
    def _svm_scores(self) -> np.ndarray:
        return entry_potentials(self.dataset, self.svm.weights)

    @cached_property
    def retrieved(self) -> tuple[tuple[int, ...], ...]:
        """For each training sample, the present tokens of maximal :math:`W^{svm}` score (P3).

        >>> from symattn.data import Dataset
        >>> ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1), ([0, 1, 2], 1), ([1, 2], 1)], vocab=4)
        >>> pred = predict(ds)
        >>> pred.retrieved
        ((0, 1), (0, 1), (0, 1), (1,))
        """
        c = self.dataset.counts
        scores = self._svm_scores
        top = np.maximum.reduceat(scores, c.indptr[:-1])
        lengths = np.diff(c.indptr)
        best = np.repeat(top, lengths)
        hit = scores >= best - _TIE_TOL * np.maximum(1.0, np.abs(best))
        return tuple(
            tuple(int(t) for t in c.token[a:b][hit[a:b]])
            for a, b in zip(c.indptr[:-1].tolist(), c.indptr[1:].tolist(), strict=True)
        )

    @cached_property
    def within(self) -> np.ndarray:
        r""":math:`\pi_{W^{fin}}(j \mid C_{y_i})` for every reduced entry, shape (nnz_red,).

        >>> from symattn.data import Dataset
        >>> ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1), ([0, 1, 2], 1), ([1, 2], 1)], vocab=4)
        >>> pred = predict(ds)
        >>> pred.within.round(6).tolist()
        [0.333333, 0.666667, 0.333333, 0.666667, 0.333333, 0.666667, 1.0]
        """
        return np.exp(self._log_within(self.finite.weights))

    def within_distribution(self, i: int, digits: int = 4) -> dict[int, float]:
        """The predicted within-SCC distribution of training sample ``i`` (token -> probability).

        >>> from symattn.data import Dataset
        >>> pred = predict(Dataset.from_samples([([0, 1], 0), ([0, 1], 1), ([0, 1], 1)], vocab=2))
        >>> pred.within_distribution(0)
        {0: 0.3333, 1: 0.6667}
        """
        red = self.reduced
        i = as_int(i, "sample index")
        if not 0 <= i < red.n:
            raise InvalidInput(f"sample index {i} out of range for n={red.n}")
        a, b = int(red.indptr[i]), int(red.indptr[i + 1])
        pairs = zip(red.token[a:b].tolist(), self.within[a:b].tolist(), strict=True)
        return {t: round(p, digits) for t, p in pairs}

    def _log_within(self, W: np.ndarray | sparse.spmatrix) -> np.ndarray:
        red = self.reduced
        return log_normalise(log_token_mass(self.dataset, W)[red.entry], red.indptr)

    def project_fin(self, W: np.ndarray) -> np.ndarray:
        r""":math:`\Pi_{S_{fin}} W` (shape (d, d)).

        >>> from symattn.data import Dataset
        >>> pred = predict(Dataset.from_samples([([0, 1], 0), ([0, 1], 1)], vocab=2))
        >>> pred.project_fin(np.array([[0.0, 2.0], [0.0, 0.0]])).round(12).tolist()
        [[0.0, 1.0], [0.0, -1.0]]
        """
        return self.finite.basis.project(check_weights(W, self.dataset.embeddings.dim))

    def distances(self, W: np.ndarray) -> Distances:
        """Measure ``W`` against the prediction (see :class:`Distances`).

        ``W`` may be a SciPy sparse matrix when the embeddings are one-hot: it is then read from
        its stored entries only, never as a :math:`K \\times K` array, whatever :math:`K`.

        >>> from symattn.data import Dataset
        >>> pred = predict(Dataset.from_samples([([0, 1], 0)], vocab=2))
        >>> d = pred.distances(10 * pred.W_svm)
        >>> round(d.corr_svm, 12), round(d.log_outside_mass_max, 6)
        (1.0, -10.000045)
        >>> pred.distances(10 * pred.svm.W_sparse) == d
        True
        """
        emb = self.dataset.embeddings
        W = check_weights(W, emb.dim, sparse_ok=emb.is_onehot)
        coordinates = self.finite.basis.coordinates(W)  # the basis is orthonormal: distances are in theta
        # one-hot: weight and token coordinates agree, and the sparse projection is the token matrix
        proj = self.finite.basis.token_matrix(coordinates) if sparse.issparse(W) else self.project_fin(W)
        c = self.dataset.counts
        log_pi = log_token_mass(self.dataset, W)
        outside = np.flatnonzero(~self.graphs.in_label_scc)
        log_out = np.full(c.n, -np.inf)
        if outside.size:
            samples, starts = np.unique(c.sample[outside], return_index=True)
            log_out[samples] = segment_logsumexp(log_pi[outside], np.append(starts, outside.size))
        within = float(np.max(np.abs(np.exp(self._log_within(W)) - self.within)))
        log_max = float(log_out.max())
        return Distances(
            norm=_norm(W),
            corr_svm=_corr(W, self.svm.weights),
            corr_svm_perp=_corr(W - proj, self.svm.weights),
            finite_error=float(np.linalg.norm(coordinates - self.finite.theta)),
            outside_mass_max=float(np.exp(log_max)),
            outside_mass_mean=float(np.mean(np.exp(log_out))),
            log_outside_mass_max=log_max,
            within_error=within,
        )

    def predict_retrieval(self, sequence: Sequence[int]) -> Retrieval:
        """The retrieved tokens of a new sequence (docs/theory.md §6, P5), with the graph-level answer.

        >>> from symattn.data import Dataset
        >>> pred = predict(Dataset.from_samples([([0, 1, 2], 0), ([1, 2], 1)], vocab=3))
        >>> r = pred.predict_retrieval([1, 0, 2])
        >>> r.tokens, r.agrees
        ((0,), True)
        """
        tokens = as_tokens(sequence, self.dataset.K)
        k = tokens[-1]
        present = sorted(set(tokens))
        floats, top, exact = self.svm_scores(present, k)
        chosen = tuple(j for j, hit in zip(present, top.tolist(), strict=True) if hit)
        graph = None
        if k in self.graphs.graphs:
            answer = self.graphs[k].top_sccs(present)
            graph = answer if answer.unique else None
        scores = tuple((j, v) for j, v in zip(present, floats.tolist(), strict=True))
        return Retrieval(k, chosen, scores, exact, graph)

    def svm_scores(self, tokens: Sequence[int], query: int) -> tuple[np.ndarray, np.ndarray, bool]:
        r"""The scores :math:`e_j^\top W^{svm} e_k` of ``tokens`` for query ``k`` and which are maximal.

        Ties are decided exactly when :math:`W^{svm}` is certified and the embeddings are one-hot
        (``exact`` is then true), else within :math:`10^{-9}\max(1, |\text{best}|)` (scores are
        invariant under scaling the embeddings, and distinct scores differ by a margin of order 1).
        Raises :class:`~symattn.errors.InvalidInput` for a token or query id outside ``0..K-1``.

        Returns
        -------
        scores : numpy.ndarray, shape (m,)
            The scores as floats.
        top : numpy.ndarray of bool, shape (m,)
            Whether each score is maximal.
        exact : bool
            Whether ties were decided in exact arithmetic.

        >>> from symattn.data import Dataset
        >>> pred = predict(Dataset.from_samples([([0, 1, 2], 0), ([1, 2], 1)], vocab=3))
        >>> scores, top, exact = pred.svm_scores([0, 1, 2], 2)
        >>> [str(Fraction(v).limit_denominator(9)) for v in scores], top.tolist(), exact
        (['1', '0', '-1'], [True, False, False], True)
        """
        present = as_tokens([*tokens, query], self.dataset.K)[:-1]
        cert = self.svm.certificate
        exact = cert is not None and self.svm.certified and self.dataset.embeddings.is_onehot
        if cert is not None and exact:
            values = [cert.entries.get((j, query), Fraction(0)) for j in present]
            best = max(values)
            return (np.array([float(v) for v in values]),
                    np.array([v == best for v in values], dtype=bool), True)
        floats = pair_potentials(self.dataset.embeddings, self.svm.weights, np.array(present, dtype=np.int64),
                                 np.full(len(present), query, dtype=np.int64))
        best = float(floats.max())
        return floats, floats >= best - _TIE_TOL * max(1.0, abs(best)), False

    def fin_scores(self, tokens: Sequence[int], query: int) -> np.ndarray:
        r"""The potentials :math:`e_j^\top W^{fin} e_k` of ``tokens`` for query ``k``, shape (m,).

        Read from the sparse :math:`W^{fin}` for one-hot embeddings (no :math:`K \times K` array,
        whatever :math:`K`). Raises :class:`~symattn.errors.InvalidInput` for a token or query id
        outside ``0..K-1``.

        >>> from symattn.data import Dataset
        >>> pred = predict(Dataset.from_samples([([0, 1], 1), ([0, 1], 1), ([0, 1], 0)], vocab=10**6))
        >>> u = pred.fin_scores([0, 1], 1)
        >>> round(float(u[1] - u[0]), 12) == round(float(np.log(2)), 12)
        True
        """
        present = np.array(as_tokens([*tokens, query], self.dataset.K)[:-1], dtype=np.int64)
        return pair_potentials(self.dataset.embeddings, self.finite.weights, present,
                               np.full(present.size, int(query), dtype=np.int64))


def analysis(dataset: Dataset) -> Analysis:
    """Build the token-priority graphs, solve the graph-SVM and the finite component of ``dataset``.

    Unlike :func:`predict` this never raises for an infeasible graph-SVM: the Farkas proof is
    in ``svm``.

    Raises
    ------
    InvalidInput
        When ``dataset`` is not a Dataset.

    >>> from symattn.data import Dataset
    >>> a = analysis(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3))
    >>> a.svm.status.value, a.finite.dim
    ('optimal', 1)
    """
    started = time.perf_counter()
    graphs = priority_graphs(require_dataset(dataset, "analysis"))
    logger.info("token-priority graphs: %d query token(s), %d edge(s) (%.2f s)",
                len(graphs), graphs.n_edges, time.perf_counter() - started)
    started = time.perf_counter()
    svm = solve_graph_svm(dataset, constraints=svm_constraints(graphs))
    logger.info("graph-SVM: %s, %s (%.2f s)", svm.status.value,
                "certified" if svm.certified else "not certified", time.perf_counter() - started)
    started = time.perf_counter()
    fin = finite_component(graphs)
    logger.info("finite component: %s, dim S_fin = %d (%.2f s)", fin.status.value, fin.dim,
                time.perf_counter() - started)
    return Analysis(dataset, graphs, svm, fin)


def predict(dataset: Dataset) -> Prediction:
    """Solve for :math:`W^{svm}` and :math:`W^{fin}` and bundle the theory's predictions.

    Parameters
    ----------
    dataset : Dataset
        The training data (any embeddings with independent rows).

    Returns
    -------
    Prediction
        :math:`W^{svm}` and :math:`W^{fin}` with their solver results, the graphs, the reduced
        data, and the derived predictions (retrieved sets, within-SCC distributions,
        :meth:`Prediction.distances`, :meth:`Prediction.predict_retrieval`).

    Raises
    ------
    Infeasible
        With the Farkas certificate, when the graph-SVM has no solution (dependent embeddings).
    InvalidInput
        When ``dataset`` is not a Dataset.

    >>> from symattn.data import Dataset
    >>> pred = predict(Dataset.from_samples([([0, 1], 0)], vocab=2))
    >>> pred.W_svm.tolist(), pred.finite.basis.dim
    ([[0.0, 0.5], [0.0, -0.5]], 0)
    """
    return analysis(require_dataset(dataset, "predict")).prediction()
