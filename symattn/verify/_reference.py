r"""The reference loss and gradient used to judge other implementations, written in log-space.

Independent of :mod:`symattn.model` (a second implementation, per (sample, distinct token)
entry, tested against it and against mpmath): every per-entry term is formed without a
difference of nearly equal numbers, so it is accurate to a few ulps at any distance
(``docs/theory.md`` §9, "Accuracy far out"):

* :math:`\log \pi_j = z_j - \operatorname{lse}_l z_l` with :math:`z_j = u_j + \log c_j`;
* :math:`1 - \pi_y = \exp(\operatorname{lse}_{l \ne y} z_l - \operatorname{lse}_l z_l)`, never
  ``1 - pi_y``;
* the entry gradient :math:`\phi'(p)\,p\,(\mathbb 1[j = y] - \pi_j)` as a product of accurate
  factors.

Besides the value, every evaluation returns the *scale* of each result: the sum of the absolute
values of the terms that add up to it (:math:`\sum_i |\ell_i|/n` for the loss,
:math:`\frac1n\sum_e |g_e|\,|e_j|\,|e_k|^\top` for the gradient). A float implementation
cannot be expected to be more accurate than its unit roundoff times this scale, so tolerances
are relative to it (never absolute zero). The same formula with other conventions (the query
at the first position, one position of the label instead of all its copies) gives the
alternative hypotheses the gradient check's diagnoses test.

>>> from symattn.data import Dataset
>>> ds = Dataset.from_samples([([0, 1], 1)], vocab=2)
>>> ev = evaluate(ds, np.array([[0.0, -50.0], [0.0, 50.0]]))
>>> float(ev.loss), float(ev.gradient[1, 1])  # both 1 - pi_y = e^-100 in relative precision
(3.720075976020836e-44, -3.720075976020836e-44)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.special import log_softmax

from symattn.data import Dataset
from symattn.model import Head, Loss, Outer
from symattn.scores import check_weights, segment_logsumexp, segment_sum

__all__ = ["Evaluation", "evaluate", "hessian_vector_scale", "log_outside_mass", "random_points"]


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Loss, gradient and their scales at one ``W`` (see the module docstring).

    Attributes
    ----------
    loss, loss_scale : float
        :math:`L(W)` and :math:`\\frac1n \\sum_i |\\ell_i(W)|`.
    gradient, gradient_scale : numpy.ndarray, shape (d, d)
        :math:`\\nabla L(W)` and the entrywise sum of the absolute values of its terms.
    """

    loss: float
    loss_scale: float
    gradient: np.ndarray
    gradient_scale: np.ndarray


def random_points(
    dataset: Dataset, scales: Sequence[float], rng: np.random.Generator
) -> list[tuple[str, np.ndarray]]:
    r"""Named Gaussian points ``random-s`` whose scores :math:`e_j^\top W e_k` are of size ``s``.

    :math:`W = s\,G / (\|G\|_F \max_j \|e_j\|^2)` with :math:`G` standard normal, one draw of
    ``rng`` per scale, in order.

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1], 1)], vocab=2)
    >>> [(name, round(float(np.linalg.norm(W)), 12)) for name, W in random_points(ds, [0.5, 2.0],
    ...                                                                            np.random.default_rng(0))]
    [('random-0.5', 0.5), ('random-2', 2.0)]
    """
    E = dataset.embeddings.matrix()
    size = float(np.max(np.einsum("ij,ij->i", E, E)))
    d = dataset.embeddings.dim
    points = []
    for s in scales:
        G = rng.standard_normal((d, d))
        points.append((f"random-{s:g}", G * (s / size / float(np.linalg.norm(G)))))
    return points


def _potentials(dataset: Dataset, W: np.ndarray, query: np.ndarray) -> np.ndarray:
    c = dataset.counts
    E = dataset.embeddings.matrix()
    k = query[c.sample]
    if dataset.embeddings.is_onehot:
        return W[c.token, k]
    return np.einsum("ed,ed->e", E[c.token], (W @ E.T).T[k])


def _masked_logsumexp(z: np.ndarray, keep: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """Per segment, the log-sum-exp of the entries flagged in ``keep`` (``-inf`` when none is)."""
    masked = np.where(keep, z, -np.inf)
    top = np.maximum.reduceat(masked, indptr[:-1])
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        total = np.log(np.add.reduceat(np.exp(masked - np.repeat(safe, np.diff(indptr))), indptr[:-1]))
    return np.where(np.isfinite(top), safe + total, -np.inf)


def _outside(z: np.ndarray, dataset: Dataset) -> np.ndarray:
    """:math:`\\operatorname{lse}_{l \\ne y} z_l` per sample (``-inf`` when only the label is present)."""
    c = dataset.counts
    keep = np.ones(z.size, dtype=bool)
    keep[c.label_entry] = False
    return _masked_logsumexp(z, keep, c.indptr)


def log_outside_mass(dataset: Dataset, W: np.ndarray, outside: np.ndarray) -> np.ndarray:
    r"""Per sample, :math:`\log \sum_{j \in S_i} \pi_j` over the entries flagged in ``outside`` (log-space).

    ``outside`` flags entries of ``dataset.counts`` (e.g. the tokens outside each label's SCC,
    ``~priority_graphs(dataset).in_label_scc``); samples with no flagged entry get ``-inf``.

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1], 1), ([1], 1)], vocab=2)
    >>> log_outside_mass(ds, np.array([[0.0, -20.0], [0.0, 20.0]]), np.array([True, False, False])).tolist()
    [-40.0, -inf]
    """
    c = dataset.counts
    z = _potentials(dataset, check_weights(W, dataset.embeddings.dim), dataset.queries) + np.log(c.count)
    return _masked_logsumexp(z, outside, c.indptr) - segment_logsumexp(z, c.indptr)


def _outer(outer: Outer, log_p: np.ndarray, one_minus_p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r""":math:`\phi(p)` and :math:`d\phi/d\log p`, with :math:`1 - p` passed in accurately."""
    p = np.exp(log_p)
    if outer is Outer.LOG:
        return -log_p, -np.ones_like(log_p)
    if outer is Outer.LINEAR:
        return -p, -p
    return one_minus_p**2, -2.0 * one_minus_p * p


def _identity_terms(
    dataset: Dataset, z: np.ndarray, outer: Outer, one_position: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Per-sample losses, per-entry gradients in the potentials and their absolute values.

    With :math:`o = \operatorname{lse}_{l \ne y} z_l`: :math:`-\log \pi_y = \log(1 + e^{o - z_y})` and
    :math:`\log(1 - \pi_y) = -\log(1 + e^{z_y - o})`, both without cancellation.
    """
    c = dataset.counts
    lengths = np.diff(c.indptr)
    z_label = z[c.label_entry]
    outside = _outside(z, dataset)
    log_p = -np.logaddexp(0.0, outside - z_label)
    log_out = -np.logaddexp(0.0, z_label - outside)
    lse = z_label - log_p
    one_minus = np.exp(log_out)
    if one_position:
        log_p = log_p - np.log(c.count[c.label_entry])
        one_minus = np.where(c.count[c.label_entry] == 1, one_minus, -np.expm1(log_p))
    values, slope = _outer(outer, log_p, one_minus)
    d_log_p = -np.exp(z - np.repeat(lse, lengths))
    d_log_p[c.label_entry] = np.exp(log_out)  # 1 - pi_y, never formed as a difference
    g = np.repeat(slope, lengths) * d_log_p
    return values, g, np.abs(g)


def _embedding_terms(
    dataset: Dataset, z: np.ndarray, outer: Outer
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""The embedding head: :math:`p = \operatorname{softmax}(E f)_y` with :math:`f = \sum_j \pi_j e_j`.

    :math:`\partial \log p / \partial u_j = \pi_j (h_j - \sum_l \pi_l h_l)` with
    :math:`h_j = e_j^\top E^\top (\mathbb 1_y - q)`; the scale bounds the centring by
    :math:`\pi_j (|h_j| + \sum_l \pi_l |h_l|)`.
    """
    c = dataset.counts
    lengths = np.diff(c.indptr)
    pi = np.exp(z - np.repeat(segment_logsumexp(z, c.indptr), lengths))
    E = dataset.embeddings.matrix()
    f = np.asarray(csr_matrix((pi, (c.sample, c.token)), shape=(dataset.n, dataset.K)) @ E)
    log_q = log_softmax(f @ E.T, axis=1)
    rows = np.arange(dataset.n)
    log_p = log_q[rows, c.label]
    one_minus = -np.expm1(log_p)
    values, slope = _outer(outer, log_p, one_minus)
    r = -np.exp(log_q) @ E
    r += E[c.label]
    h = np.einsum("ed,ed->e", E[c.token], r[c.sample])
    mean = segment_sum(pi * h, c.indptr)
    spread = segment_sum(pi * np.abs(h), c.indptr)
    s = np.repeat(slope, lengths)
    g = s * pi * (h - np.repeat(mean, lengths))
    return values, g, np.abs(s) * pi * (np.abs(h) + np.repeat(spread, lengths))


def _pullback(dataset: Dataset, g: np.ndarray, query: np.ndarray, absolute: bool) -> np.ndarray:
    r""":math:`\frac1n \sum_e g_e e_j e_k^\top` (with :math:`|E|` when ``absolute``)."""
    c = dataset.counts
    K = dataset.K
    T = csr_matrix((g, (c.token, query[c.sample])), shape=(K, K))
    if dataset.embeddings.is_onehot:
        return T.toarray() / dataset.n
    E = dataset.embeddings.matrix()
    E = np.abs(E) if absolute else E
    return np.asarray(E.T @ (T @ E)) / dataset.n


def evaluate(
    dataset: Dataset,
    W: np.ndarray,
    kind: Loss = Loss.LOG,
    *,
    query: np.ndarray | None = None,
    one_position: bool = False,
) -> Evaluation:
    """Loss, gradient and scales at ``W`` (float64, accurate in log-space).

    ``query`` replaces the query token of each sample (default: the last token);
    ``one_position`` takes the label probability as the attention on one position of the label,
    :math:`\\pi_y / c_y`, instead of the mass of all its copies (identity head only).

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 0, 1], 0)], vocab=2)
    >>> W = np.zeros((2, 2))
    >>> round(evaluate(ds, W).loss, 6), round(evaluate(ds, W, one_position=True).loss, 6)
    (0.405465, 1.098612)
    """
    W = check_weights(W, dataset.embeddings.dim)
    q = dataset.queries if query is None else query
    c = dataset.counts
    z = _potentials(dataset, W, q) + np.log(c.count)
    if kind.head is Head.IDENTITY:
        values, g, g_abs = _identity_terms(dataset, z, kind.outer, one_position)
    else:
        values, g, g_abs = _embedding_terms(dataset, z, kind.outer)
    n = dataset.n
    return Evaluation(
        float(np.sum(values) / n), float(np.sum(np.abs(values)) / n),
        _pullback(dataset, g, q, False), _pullback(dataset, g_abs, q, True),
    )


def hessian_vector_scale(dataset: Dataset, W: np.ndarray, V: np.ndarray) -> np.ndarray:
    r"""The scale of the log-loss Hessian-vector product :math:`\nabla^2 L(W)[V]`, shape (d, d).

    Per sample the product is :math:`\sum_j \pi_j (v_j - \bar v)\, e_j e_k^\top`; centred at the
    entry :math:`a` of largest mass, each term is bounded by
    :math:`\pi_j (|v_j - v_a| + \sum_l \pi_l |v_l - v_a|)`, pulled back with :math:`|E|`.

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1], 1)], vocab=2)
    >>> hessian_vector_scale(ds, np.zeros((2, 2)), np.eye(2))[:, 1].tolist()
    [0.25, 0.75]
    """
    W = check_weights(W, dataset.embeddings.dim)
    V = check_weights(V, dataset.embeddings.dim, name="V")
    c = dataset.counts
    q = dataset.queries
    lengths = np.diff(c.indptr)
    z = _potentials(dataset, W, q) + np.log(c.count)
    pi = np.exp(z - np.repeat(segment_logsumexp(z, c.indptr), lengths))
    v = _potentials(dataset, V, q)
    top = np.maximum.reduceat(z, c.indptr[:-1])
    first = np.flatnonzero(z == np.repeat(top, lengths))
    anchor = first[np.searchsorted(first, c.indptr[:-1])]
    spread = np.abs(v - np.repeat(v[anchor], lengths))
    terms = pi * (spread + np.repeat(segment_sum(pi * spread, c.indptr), lengths))
    return _pullback(dataset, terms, q, True)
