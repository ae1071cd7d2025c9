r"""The single-layer attention model: attention, token mass, losses, gradients and the Hessian.

For a weight matrix :math:`W` (:math:`d \times d`) a sample with tokens :math:`x_1..x_T`,
query :math:`k = x_T` and label :math:`y` has scores :math:`a_t = e_{x_t}^\top W e_k`,
attention :math:`s = \operatorname{softmax}(a)` and token mass
:math:`\pi_j = \sum_{t: x_t = j} s_t` (docs/theory.md §2). A loss is a *head* and an *outer function*:

* identity head (the paper's): :math:`p = \pi_y`;
* embedding head: logits :math:`z = E f_W(X)` with :math:`f_W(X) = X^\top s`, and
  :math:`p = \operatorname{softmax}(z)_y`;

and the outer function is :math:`-\log p` (log-loss / cross-entropy), :math:`-p` (linear) or
:math:`(1 - p)^2` (squared). Only the identity head with :math:`-\log p` is convex in :math:`W`.

Two implementations are kept side by side and tested equal:

* :class:`Model` works on the compressed counts (one entry per (sample, distinct token)),
  vectorised over samples, in log-space: with potentials :math:`u_j` and counts :math:`c_j`,
  :math:`\log \pi_j = u_j + \log c_j - \operatorname{logsumexp}_l (u_l + \log c_l)`, finite for
  every accepted :math:`W` (no ``log(p + eps)``). With one-hot embeddings, and otherwise when
  :math:`K^2` is small enough that the dense products cost less than working entry by entry
  (:attr:`Model.token_coordinates`), it works in token coordinates :math:`U = E W E^\top`, and the
  gradient is the :math:`K \times K` matrix accumulated from the entries and mapped back by
  :math:`E^\top (\cdot) E`.
* :func:`direct_loss_and_gradient` follows the formulas position by position with a softmax over
  each sequence: slow and readable, the oracle.

>>> from symattn.data import Dataset
>>> ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3)
>>> round(loss(ds, np.zeros((3, 3))), 6)  # log 3
1.098612
>>> gradient(ds, np.zeros((3, 3)))[:, 2].round(4).tolist()
[-0.1667, -0.1667, 0.3333]
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_matrix
from scipy.special import expit, log_softmax, logsumexp

from symattn._validate import parse_enum, require_dataset, require_dense
from symattn.data import Dataset
from symattn.errors import InvalidInput
from symattn.scores import (
    check_weights,
    entry_potentials,
    from_token_coordinates,
    label_terms,
    log_normalise,
    pullback,
    segment_argmax,
    segment_centre,
    segment_logsumexp,
    segment_logsumexp_without,
    segment_sum,
    token_scores,
)

__all__ = [
    "Head",
    "Loss",
    "Model",
    "Outer",
    "attention",
    "direct_loss_and_gradient",
    "gradient",
    "hessian",
    "hessian_vector_product",
    "loss",
    "smoothness_bound",
    "token_mass",
]

_DENSE_LIMIT = 1 << 22
"""Largest :math:`K^2` for which embeddings other than one-hot use token coordinates (a dense
:math:`K \\times K` matrix); one-hot embeddings always do."""

_TOKEN_COORDINATE_RATIO = 150
"""Token coordinates are used when :math:`K (K + d) \\le` this times nnz (measured crossover)."""

_PADDING_RATIO = 1.5
"""Rows padded to the longest sample are used while they hold at most this many slots per entry."""

_HESSIAN_MAX_DIM = 64


class Head(enum.Enum):
    """How the attention output is read out into the probability :math:`p` of the label."""

    IDENTITY = "identity"
    EMBEDDING = "embedding"


class Outer(enum.Enum):
    r"""The decreasing outer function :math:`\phi(p)` of the label probability.

    Evaluated from :math:`\log p` so the log-loss never leaves log-space; ``slope`` is
    :math:`d\phi / d\log p = p\,\phi'(p)`.
    """

    LOG = "log"
    LINEAR = "linear"
    SQUARED = "squared"

    def evaluate(self, log_p: np.ndarray) -> np.ndarray:
        r""":math:`\phi(p)` from :math:`\log p`.

        >>> Outer.SQUARED.evaluate(np.log(np.array([0.5]))).tolist()
        [0.25]
        """
        return _OUTER[self][0](log_p)

    def slope(self, log_p: np.ndarray) -> np.ndarray:
        r""":math:`d\phi/d\log p` from :math:`\log p`.

        >>> Outer.LINEAR.slope(np.log(np.array([0.25]))).tolist()
        [-0.25]
        """
        return _OUTER[self][1](log_p)


_OUTER = {
    Outer.LOG: (lambda lp: -lp, lambda lp: -np.ones_like(lp)),
    Outer.LINEAR: (lambda lp: -np.exp(lp), lambda lp: -np.exp(lp)),
    Outer.SQUARED: (
        lambda lp: np.expm1(lp) ** 2,
        lambda lp: 2.0 * np.expm1(lp) * np.exp(lp),
    ),
}


class Loss(enum.Enum):
    """The losses of docs/theory.md §2: a :class:`Head` and an :class:`Outer` function.

    ``LOG`` is the paper's convex log-loss; the others are for local-convergence studies.

    >>> Loss("embed-ce").head, Loss.SQUARED.outer
    (<Head.EMBEDDING: 'embedding'>, <Outer.SQUARED: 'squared'>)
    """

    LOG = "log"
    LINEAR = "linear"
    SQUARED = "squared"
    EMBED_CE = "embed-ce"
    EMBED_SQUARED = "embed-squared"

    @property
    def head(self) -> Head:
        """The read-out head.

        >>> Loss.EMBED_CE.head
        <Head.EMBEDDING: 'embedding'>
        """
        return _LOSS_PARTS[self][0]

    @property
    def outer(self) -> Outer:
        """The outer function of the label probability.

        >>> Loss.LOG.outer
        <Outer.LOG: 'log'>
        """
        return _LOSS_PARTS[self][1]

    @property
    def convex(self) -> bool:
        """True only for the identity-head log-loss.

        >>> Loss.LOG.convex, Loss.EMBED_CE.convex
        (True, False)
        """
        return self is Loss.LOG


_LOSS_PARTS = {
    Loss.LOG: (Head.IDENTITY, Outer.LOG),
    Loss.LINEAR: (Head.IDENTITY, Outer.LINEAR),
    Loss.SQUARED: (Head.IDENTITY, Outer.SQUARED),
    Loss.EMBED_CE: (Head.EMBEDDING, Outer.LOG),
    Loss.EMBED_SQUARED: (Head.EMBEDDING, Outer.SQUARED),
}


def _as_loss(kind: object) -> Loss:
    return parse_enum(Loss, kind, "loss")


@dataclass(frozen=True, eq=False)
class _EntryIndex:
    """Per-entry arrays of the compressed counts that every evaluation of a :class:`Model` reuses.

    ``query`` is the query token of each (sample, distinct token) entry, ``log_count`` the log
    of its count, ``lengths`` the number of entries of each sample and ``flat`` the index
    ``token * K + query`` into a flattened :math:`K \\times K` token matrix.
    """

    query: np.ndarray
    log_count: np.ndarray
    lengths: np.ndarray
    flat: np.ndarray

    @classmethod
    def of(cls, dataset: Dataset) -> _EntryIndex:
        c = dataset.counts
        query = c.query[c.sample]
        return cls(query, np.log(c.count.astype(np.float64)), np.diff(c.indptr), c.token * dataset.K + query)


@dataclass(frozen=True, eq=False)
class _SlotIndex:
    r"""The entries as an ``(L, n)`` array of slots, ``L`` the most distinct tokens of any sample.

    Slot ``(p, i)`` holds the ``p``-th entry of sample ``i``; per-sample reductions become
    elementwise operations across the ``L`` rows (no ``repeat``, no ``reduceat``). ``flat`` indexes
    the flattened token matrix extended by one slot of potential :math:`-\infty` (index
    :math:`K^2`), at which the padding points; ``log_count`` is 0 there; ``label`` is the slot row
    of each sample's label.
    """

    flat: np.ndarray
    log_count: np.ndarray
    label: np.ndarray

    @classmethod
    def of(cls, dataset: Dataset, entries: _EntryIndex) -> _SlotIndex | None:
        """The slots, or ``None`` when padding would add more than half the entries again."""
        c = dataset.counts
        n, nnz = c.n, c.nnz
        width = int(entries.lengths.max()) if n else 0
        if n * width > _PADDING_RATIO * nnz:
            return None
        position = np.arange(nnz) - np.repeat(c.indptr[:-1], entries.lengths)
        slot = position * n + c.sample
        flat = np.full(width * n, dataset.K * dataset.K, dtype=np.intp)
        flat[slot] = entries.flat
        log_count = np.zeros(width * n)
        log_count[slot] = entries.log_count
        return cls(flat.reshape(width, n), log_count.reshape(width, n), position[c.label_entry])


@dataclass(frozen=True, eq=False)
class Model:
    r"""A dataset prepared for fast evaluation of one loss (vectorised over samples).

    Parameters
    ----------
    dataset : Dataset
        The training data.
    kind : Loss
        The loss (default: the log-loss with identity readout).

    Build once, evaluate many times: the flat index arrays are computed on construction. For
    the identity head in token coordinates, when padding the samples to a common number of
    entries costs at most half the entries again, the loss and gradient run over an ``(L, n)``
    array of slots (:class:`_SlotIndex`): row-wise maxima and sums, one gather, one ``bincount``.
    Every evaluation costs :math:`O(\text{nnz})` plus, in token coordinates, :math:`O(K^2 d + K d^2)`
    for non-one-hot embeddings (nothing extra for one-hot ones).

    >>> from symattn.data import Dataset
    >>> m = Model(Dataset.from_samples([([0, 1], 1)], vocab=2))
    >>> value, grad = m.value_and_gradient(np.zeros((2, 2)))
    >>> round(value, 6), grad[:, 1].tolist()
    (0.693147, [0.5, -0.5])
    """

    dataset: Dataset
    kind: Loss = Loss.LOG
    _entries: _EntryIndex = field(init=False, repr=False)
    _slots: _SlotIndex | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        require_dataset(self.dataset, "a Model")
        require_dense(self.dataset, "a Model")
        object.__setattr__(self, "kind", _as_loss(self.kind))
        object.__setattr__(self, "_entries", _EntryIndex.of(self.dataset))
        slots = _SlotIndex.of(self.dataset, self._entries) if self.token_coordinates else None
        object.__setattr__(self, "_slots", slots)

    # -- geometry ----------------------------------------------------------------------
    @property
    def dim(self) -> int:
        """The embedding dimension :math:`d` (``W`` is :math:`d \\times d`).

        >>> from symattn.data import Dataset
        >>> m = Model(Dataset.from_samples([([0, 1, 1], 1)], vocab=2))
        >>> m.dim
        2
        """
        return self.dataset.embeddings.dim

    @property
    def token_coordinates(self) -> bool:
        r"""True when the model works with the dense :math:`K \times K` matrix :math:`U = E W E^\top`.

        Always for one-hot embeddings (:math:`U = W`). Otherwise when :math:`K^2` is small and the
        two products :math:`E W E^\top` and :math:`E^\top T E` (:math:`O(K d (K + d))`) cost less than
        working entry by entry (:math:`O(\text{nnz}\, d)` for the potentials and the pullback).

        >>> from symattn.data import Dataset
        >>> m = Model(Dataset.from_samples([([0, 1, 1], 1)], vocab=2))
        >>> m.token_coordinates
        True
        """
        emb = self.dataset.embeddings
        K = self.dataset.K
        if emb.is_onehot:
            return True
        dense_cost = K * (K + emb.dim)
        return K * K <= _DENSE_LIMIT and dense_cost <= _TOKEN_COORDINATE_RATIO * self.dataset.counts.nnz

    def potentials(self, W: np.ndarray) -> np.ndarray:
        r"""Entry potentials :math:`u = e_j^\top W e_k`, shape (nnz,).

        >>> from symattn.data import Dataset
        >>> m = Model(Dataset.from_samples([([0, 1, 1], 1)], vocab=2))
        >>> m.potentials(np.array([[0.0, 2.0], [0.0, 3.0]])).tolist()
        [2.0, 3.0]
        """
        if self.token_coordinates:
            return token_scores(self.dataset, W).ravel()[self._entries.flat]
        return entry_potentials(self.dataset, W)

    def pullback(self, g: np.ndarray) -> np.ndarray:
        r""":math:`\sum_e g_e\, e_{j(e)} e_{k(e)}^\top` for per-entry values ``g`` (nnz,), shape (d, d).

        >>> from symattn.data import Dataset
        >>> m = Model(Dataset.from_samples([([0, 1, 1], 1)], vocab=2))
        >>> m.pullback(np.array([1.0, -1.0])).tolist()
        [[0.0, 1.0], [0.0, -1.0]]
        """
        return pullback(self.dataset.embeddings, g, self._entries.flat, dense=self.token_coordinates)

    def log_mass(self, W: np.ndarray) -> np.ndarray:
        r""":math:`\log \pi` of every entry (nnz,), in log-space.

        >>> from symattn.data import Dataset
        >>> m = Model(Dataset.from_samples([([0, 1, 1], 1)], vocab=2))
        >>> np.exp(m.log_mass(np.zeros((2, 2)))).round(4).tolist()
        [0.3333, 0.6667]
        """
        return log_normalise(self.potentials(W) + self._entries.log_count, self.dataset.counts.indptr)

    # -- loss and derivatives ----------------------------------------------------------
    def _identity_head(self, W: np.ndarray) -> tuple[float, np.ndarray]:
        r"""Loss and entry gradient of the identity head, accurate at any distance.

        With :math:`z = u + \log c`, :func:`~symattn.scores.label_terms` gives :math:`\pi_j`,
        :math:`\log\pi_y` and the outside mass :math:`1 - \pi_y = \sum_{j \ne y}\pi_j` (a sum,
        never a difference; docs/theory.md §2). The entry gradient is :math:`\phi'\,(\mathbb 1[j = y] -
        \pi_j)` with :math:`\phi' = d\phi/d\log p`: on the label :math:`\phi'\,(1 - \pi_y)` from
        the outside mass, elsewhere :math:`-\phi'\,\pi_j`.
        """
        c = self.dataset.counts
        z = self.potentials(W) + self._entries.log_count
        terms = label_terms(z, c.indptr, c.label_entry)
        outer = self.kind.outer
        slope = outer.slope(terms.log_p)
        g = terms.pi * np.repeat(-slope, self._entries.lengths)
        g[c.label_entry] = slope * terms.outside
        return float(np.sum(outer.evaluate(terms.log_p))), g

    def gradient_direction(self, W: np.ndarray) -> np.ndarray:
        r""":math:`e^{-M}\,\nabla L(W)` for a data-chosen :math:`M`: the gradient's direction, no underflow.

        For the identity head every entry of the gradient is formed from its logarithm,
        :math:`\log|\phi'| + \log\pi_j` (or :math:`\log|\phi'| + \log(1 - \pi_y)` on the label, with
        :math:`\log(1 - \pi_y) = \operatorname{lse}_{j \ne y} z_j - \operatorname{lse}_j z_j`), and
        :math:`M` is the largest of them, so the direction stays exact where :math:`\nabla L` itself
        underflows (outside masses below :math:`10^{-308}`, far along normalised GD). Zero only when
        the gradient is exactly zero. The embedding head returns :meth:`gradient`.

        >>> from symattn.data import Dataset
        >>> m = Model(Dataset.from_samples([([0, 1], 1)], vocab=2))
        >>> W = np.array([[0.0, -900.0], [0.0, 0.0]])  # outside mass e^-900: the gradient underflows
        >>> float(np.abs(m.gradient(W)).max()), m.gradient_direction(W)[:, 1].tolist()
        (0.0, [1.0, -1.0])
        """
        if self.kind.head is not Head.IDENTITY:
            return self.gradient(W)
        W = check_weights(W, self.dim)
        c = self.dataset.counts
        lengths = self._entries.lengths
        z = self.potentials(W) + self._entries.log_count
        lse = segment_logsumexp(z, c.indptr)
        log_out = segment_logsumexp_without(z, c.indptr, c.label_entry) - lse
        log_p = -np.logaddexp(0.0, log_out + lse - z[c.label_entry])
        log_slope = {Outer.LOG: np.zeros_like(log_p), Outer.LINEAR: log_p,
                     Outer.SQUARED: np.log(2.0) + log_out + log_p}[self.kind.outer]
        log_g = np.repeat(log_slope - lse, lengths) + z
        log_g[c.label_entry] = log_slope + log_out
        top = float(np.max(log_g))
        if not np.isfinite(top):
            return np.zeros((self.dim, self.dim))
        g = np.exp(log_g - top)
        g[c.label_entry] *= -1.0  # every outer is decreasing: the label's term is negative
        return self.pullback(g) / self.dataset.n

    def _entry_gradient(self, W: np.ndarray) -> tuple[float, np.ndarray]:
        """Loss and its gradient in the entry potentials (before the 1/n and the pullback)."""
        if self.kind.head is Head.IDENTITY:
            return self._identity_head(W)
        c = self.dataset.counts
        outer = self.kind.outer
        z = self.potentials(W) + self._entries.log_count
        pi = label_terms(z, c.indptr, c.label_entry).pi
        ds = self.dataset
        E = ds.embeddings.matrix()
        P = csr_matrix((pi, (c.sample, c.token)), shape=(ds.n, ds.K))
        Z = np.asarray((P @ E) @ E.T)
        rows = np.arange(ds.n)
        logits = label_terms(Z.ravel(), np.arange(ds.n + 1) * ds.K, rows * ds.K + c.label)
        slope = outer.slope(logits.log_p)
        dZ = logits.pi.reshape(ds.n, ds.K) * -slope[:, None]
        dZ[rows, c.label] = slope * logits.outside
        H = dZ @ ds.embeddings.gram()
        h = H[c.sample, c.token]
        centred = segment_centre(h, pi, c.indptr, segment_argmax(z, c.indptr))
        return float(np.sum(outer.evaluate(logits.log_p))), pi * centred

    def value(self, W: np.ndarray) -> float:
        r"""The mean loss :math:`L(W) = \frac1n \sum_i \ell_i(W)`.

        >>> from symattn.data import Dataset
        >>> m = Model(Dataset.from_samples([([0, 1, 1], 1)], vocab=2))
        >>> round(m.value(np.zeros((2, 2))), 6)  # -log(2/3)
        0.405465
        """
        return self.value_and_gradient(W)[0]

    def value_and_gradient(self, W: np.ndarray) -> tuple[float, np.ndarray]:
        r""":math:`L(W)` and :math:`\nabla L(W)` (:math:`d \times d`).

        For the identity head :math:`\nabla \ell_i = \sum_j \phi'(\pi_y)\pi_y(\mathbb 1[j = y] - \pi_j)
        \,e_j e_k^\top`; for the log-loss this is :math:`\sum_j (\pi_j - \mathbb 1[j=y])\, e_j e_k^\top`.

        >>> from symattn.data import Dataset
        >>> m = Model(Dataset.from_samples([([0, 1, 1], 1)], vocab=2))
        >>> value, grad = m.value_and_gradient(np.zeros((2, 2)))
        >>> round(value, 6), grad[:, 1].round(4).tolist()
        (0.405465, [0.3333, -0.3333])
        """
        W = check_weights(W, self.dim)
        n = self.dataset.n
        if self._slots is not None and self.kind.head is Head.IDENTITY:
            total, G = self._identity_slots(W)
            return total / n, from_token_coordinates(self.dataset.embeddings, G) / n
        total, g = self._entry_gradient(W)
        return total / n, self.pullback(g) / n

    def _identity_slots(self, W: np.ndarray) -> tuple[float, np.ndarray]:
        r""":meth:`_identity_head` over the slots (:class:`_SlotIndex`): the loss and the gradient in
        token coordinates (K, K), in about ten passes over the slots.

        The formulas of :func:`~symattn.scores.label_terms`: :math:`t` the sample's largest
        :math:`z`, :math:`a_j = e^{z_j - t}`, the outside sum :math:`o` with the label's term left
        out (so :math:`1 - \pi_y = o/S` is a sum, never a difference) and
        :math:`\log\pi_y = -\operatorname{softplus}(\log o - (z_y - t))`. The entry gradients are
        summed into the token matrix by one ``bincount`` (the padding adds zeros to the extra slot).
        """
        slots, K = self._slots, self.dataset.K
        at = np.arange(slots.label.size)
        z = np.take(np.append(token_scores(self.dataset, W).ravel(), -np.inf), slots.flat)
        z += slots.log_count
        z -= z.max(axis=0)
        z_label = z[slots.label, at]
        a = np.exp(z, out=z)
        a[slots.label, at] = 0.0
        outside = a.sum(axis=0)
        with np.errstate(divide="ignore"):  # no token outside the label: log 0 = -inf
            log_p = -np.logaddexp(0.0, np.log(outside) - z_label)
        outer = self.kind.outer
        slope = outer.slope(log_p)
        share = slope / (outside + np.exp(z_label))
        a *= -share
        a[slots.label, at] = share * outside
        G = np.bincount(slots.flat.ravel(), weights=a.ravel(), minlength=K * K + 1)[:-1]
        return float(np.sum(outer.evaluate(log_p))), G.reshape(K, K)

    def gradient(self, W: np.ndarray) -> np.ndarray:
        r""":math:`\nabla L(W)`, shape (d, d).

        >>> from symattn.data import Dataset
        >>> m = Model(Dataset.from_samples([([0, 1, 1], 1)], vocab=2))
        >>> m.gradient(np.zeros((2, 2)))[:, 0].tolist()
        [0.0, 0.0]
        """
        return self.value_and_gradient(W)[1]

    def _require_log(self, what: str) -> None:
        if self.kind is not Loss.LOG:
            raise InvalidInput(
                f"the {what} is implemented for the log-loss with identity readout only, not "
                f"loss={self.kind.value!r}; use finite differences of the gradient for the variants"
            )

    def hessian_vector_product(self, W: np.ndarray, V: np.ndarray) -> np.ndarray:
        r""":math:`\nabla^2 L(W)[V]` for the log-loss, shape (d, d), in :math:`O(\text{nnz})`.

        Per sample the Hessian in the potentials is :math:`\operatorname{diag}(\pi) - \pi\pi^\top`, so
        with :math:`v_j = e_j^\top V e_k` the product is
        :math:`\sum_j \pi_j (v_j - \langle \pi, v\rangle)\, e_j e_k^\top`; the centring is taken around
        the entry of largest mass (:func:`~symattn.scores.segment_centre`), so the product keeps its
        relative accuracy when that mass is :math:`1 - 10^{-300}`.

        >>> from symattn.data import Dataset
        >>> m = Model(Dataset.from_samples([([0, 1, 1], 1)], vocab=2))
        >>> V = np.array([[0.0, 1.0], [0.0, 0.0]])
        >>> m.hessian_vector_product(np.zeros((2, 2)), V)[:, 1].round(4).tolist()
        [0.2222, -0.2222]
        """
        self._require_log("Hessian")
        W = check_weights(W, self.dim)
        V = check_weights(V, self.dim, name="V")
        pi, anchor = self._mass_and_anchor(W)
        centred = segment_centre(self.potentials(V), pi, self.dataset.counts.indptr, anchor)
        return self.pullback(pi * centred) / self.dataset.n

    def _mass_and_anchor(self, W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Entry masses and each sample's entry of largest mass (the centring anchor)."""
        c = self.dataset.counts
        z = self.potentials(W) + self._entries.log_count
        return label_terms(z, c.indptr, c.label_entry).pi, segment_argmax(z, c.indptr)

    def hessian(self, W: np.ndarray) -> np.ndarray:
        r"""The Hessian of the log-loss as a :math:`d^2 \times d^2` matrix (row-major ``W.ravel()``).

        :math:`\nabla^2 L = \frac1n \sum_i A_i^\top (\operatorname{diag}\pi - \pi\pi^\top) A_i` with
        the rows of :math:`A_i` equal to :math:`e_j \otimes e_k` for the distinct tokens :math:`j`,
        assembled as :math:`\sum_j \pi_j D_j D_j^\top` with the centred rows
        :math:`D_j = A_j - \sum_l \pi_l A_l` (no difference of near-equal terms).
        Dense, so refused above :math:`d = 64`; use :meth:`hessian_vector_product` there.

        >>> from symattn.data import Dataset
        >>> m = Model(Dataset.from_samples([([0, 1, 1], 1)], vocab=2))
        >>> m.hessian(np.zeros((2, 2))).shape
        (4, 4)
        """
        self._require_log("Hessian")
        if self.dim > _HESSIAN_MAX_DIM:
            raise InvalidInput(
                f"the dense Hessian has d^2 x d^2 = {self.dim ** 2} x {self.dim ** 2} entries; it is "
                f"built for d <= {_HESSIAN_MAX_DIM}. Use hessian_vector_product for d = {self.dim}"
            )
        W = check_weights(W, self.dim)
        c = self.dataset.counts
        E = self.dataset.embeddings.matrix()
        d = self.dim
        pi, anchor = self._mass_and_anchor(W)
        A = (E[c.token][:, :, None] * E[self._entries.query][:, None, :]).reshape(-1, d * d)
        D = segment_centre(A, pi, c.indptr, anchor)
        return (D * pi[:, None]).T @ D / self.dataset.n


def smoothness_bound(dataset: Dataset) -> float:
    r"""An upper bound :math:`\beta` on the largest eigenvalue of the log-loss Hessian, for any :math:`W`.

    Per sample :math:`\nabla^2 \ell_i = A_i^\top (\operatorname{diag}\pi - \pi\pi^\top) A_i` and
    :math:`\lambda_{\max}(\operatorname{diag}\pi - \pi\pi^\top) \le \tfrac12` (it is the variance
    of :math:`x` under :math:`\pi`, at most :math:`(\max x - \min x)^2/4 \le \tfrac12` for a unit
    :math:`x`). The rows :math:`e_j \otimes e_k` of :math:`A_i` have Gram matrix
    :math:`\|e_k\|^2 G_{S_i S_i}` over the distinct tokens :math:`S_i`, and by interlacing
    :math:`\lambda_{\max}(G_{S_i S_i}) \le \min(\lambda_{\max}(G), \operatorname{tr} G_{S_i S_i})`.
    Hence

    .. math:: \beta = \tfrac12 \max_i \|e_{k_i}\|^2
              \min\bigl(\lambda_{\max}(E E^\top), \max_i \textstyle\sum_{j \in S_i} \|e_j\|^2\bigr).

    One-hot and orthonormal embeddings give :math:`\beta = 1/2`; gradient descent with step
    :math:`1/\beta` decreases the loss monotonically.

    >>> from symattn.data import Dataset
    >>> smoothness_bound(Dataset.from_samples([([0, 1], 1)], vocab=2))
    0.5
    """
    emb = require_dataset(dataset, "smoothness_bound").embeddings
    c = dataset.counts
    if emb.is_orthonormal:
        return 0.5
    E = emb.matrix()
    sq = np.einsum("ij,ij->i", E, E)
    spectral = float(np.linalg.eigvalsh(E.T @ E)[-1])
    trace = float(np.max(segment_sum(sq[c.token], c.indptr)))
    return 0.5 * float(np.max(sq[c.query])) * min(spectral, trace)


# -- functional forms -----------------------------------------------------------------------
def loss(dataset: Dataset, W: np.ndarray, kind: Loss | str = Loss.LOG) -> float:
    r"""The mean loss :math:`L(W)` (default: the log-loss :math:`-\frac1n\sum_i \log \pi_{y_i}`).

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1], 1)], vocab=2)
    >>> loss(ds, np.array([[0.0, -1e8], [0.0, 1e8]]))
    0.0
    """
    return Model(dataset, _as_loss(kind)).value(W)


def gradient(dataset: Dataset, W: np.ndarray, kind: Loss | str = Loss.LOG) -> np.ndarray:
    r""":math:`\nabla L(W)`, shape (d, d) (see :meth:`Model.value_and_gradient`).

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1], 1)], vocab=2)
    >>> gradient(ds, np.zeros((2, 2)))[:, 1].tolist()
    [0.5, -0.5]
    """
    return Model(dataset, _as_loss(kind)).gradient(W)


def hessian(dataset: Dataset, W: np.ndarray) -> np.ndarray:
    r"""The log-loss Hessian, :math:`d^2 \times d^2` (row-major ``W.ravel()``); see :meth:`Model.hessian`.

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1], 1)], vocab=2)
    >>> hessian(ds, np.zeros((2, 2)))[1, 1]
    np.float64(0.25)
    """
    return Model(dataset).hessian(W)


def hessian_vector_product(dataset: Dataset, W: np.ndarray, V: np.ndarray) -> np.ndarray:
    r""":math:`\nabla^2 L(W)[V]` for the log-loss (see :meth:`Model.hessian_vector_product`).

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1], 1)], vocab=2)
    >>> hessian_vector_product(ds, np.zeros((2, 2)), np.eye(2))[:, 1].tolist()
    [-0.25, 0.25]
    """
    return Model(dataset).hessian_vector_product(W, V)


def token_mass(dataset: Dataset, W: np.ndarray) -> np.ndarray:
    r"""Token masses :math:`\pi_j` of every (sample, distinct token) entry, aligned with ``dataset.counts``.

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1, 1], 1)], vocab=2)
    >>> token_mass(ds, np.zeros((2, 2))).round(4).tolist()
    [0.3333, 0.6667]
    """
    return np.exp(Model(dataset).log_mass(W))


def attention(dataset: Dataset, W: np.ndarray) -> np.ndarray:
    r"""Attention :math:`s_t` of every position, aligned with ``dataset.tokens`` (sums to 1 per sample).

    All copies of a token share its mass: :math:`s_t = \pi_{x_t} / c_{x_t}`.

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1, 1], 1)], vocab=2)
    >>> attention(ds, np.zeros((2, 2))).round(4).tolist()
    [0.3333, 0.3333, 0.3333]
    """
    c = require_dataset(dataset, "attention").counts
    per_entry = Model(dataset).log_mass(W) - np.log(c.count.astype(np.float64))
    position_sample = np.repeat(np.arange(dataset.n), dataset.lengths)
    entry = np.searchsorted(c.sample * dataset.K + c.token, position_sample * dataset.K + dataset.tokens)
    return np.exp(per_entry[entry])


def _split(scores: np.ndarray, label: np.ndarray) -> tuple[float, float]:
    r""":math:`\log p` and :math:`1 - p` for :math:`p = \sum_{label} e^{a} / \sum e^{a}` (no cancellation)."""
    log_odds = logsumexp(scores[~label]) if (~label).any() else -np.inf
    log_odds -= logsumexp(scores[label])
    return float(-np.logaddexp(0.0, log_odds)), float(expit(log_odds))


def direct_loss_and_gradient(
    dataset: Dataset, W: np.ndarray, kind: Loss | str = Loss.LOG
) -> tuple[float, np.ndarray]:
    r"""The loss and gradient computed position by position, straight from the formulas (the oracle).

    For each sample: :math:`a = X W e_k`, :math:`s = \operatorname{softmax}(a)` over the :math:`T`
    positions, :math:`\log p = -\operatorname{softplus}(\operatorname{lse}_{t: x_t \ne y} a_t -
    \operatorname{lse}_{t: x_t = y} a_t)` (identity head) or the same split of the logits
    :math:`z = E X^\top s` (embedding head), and
    :math:`\nabla_W \ell = X^\top (\partial \ell / \partial a)\, e_k^\top`. For the log-loss with the
    identity head :math:`\partial\ell/\partial a = s - q` with :math:`q_t = s_t 1[x_t = y]/\pi_y`,
    written :math:`s_t (1 - \pi_y)/\pi_y` on the label's positions with :math:`1 - \pi_y` from the
    split (docs/theory.md §9, accuracy far out). A Python loop over samples: use it to check, not to train.

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1], 1)], vocab=2)
    >>> value, grad = direct_loss_and_gradient(ds, np.zeros((2, 2)))
    >>> round(value, 6), grad[:, 1].tolist()
    (0.693147, [0.5, -0.5])
    """
    kind = _as_loss(kind)
    emb = require_dataset(dataset, "direct_loss_and_gradient").embeddings
    W = check_weights(W, emb.dim)
    E = emb.matrix()
    total = 0.0
    grad = np.zeros_like(W)
    for i in range(dataset.n):
        toks = dataset.tokens[dataset.offsets[i] : dataset.offsets[i + 1]]
        e_k = E[toks[-1]]
        X = E[toks]
        a = X @ W @ e_k
        s = np.exp(log_softmax(a))
        if kind.head is Head.IDENTITY:
            is_y = toks == int(dataset.labels[i])
            log_p, outside = _split(a, is_y)
            # q - s without cancellation: s_t (1 - pi_y) / pi_y on the label's positions, -s_t elsewhere
            dlogp_da = -s
            dlogp_da[is_y] = np.exp(a[is_y] - logsumexp(a[is_y])) * outside
        else:
            logits = E @ (X.T @ s)
            label = np.arange(logits.size) == int(dataset.labels[i])
            log_p, outside = _split(logits, label)
            dlogp_dz = -np.exp(log_softmax(logits))
            dlogp_dz[label] = outside
            b = X @ (E.T @ dlogp_dz)
            b = b - b[np.argmax(s)]
            dlogp_da = s * (b - s @ b)
        outer = kind.outer
        total += float(outer.evaluate(np.array([log_p]))[0])
        da = float(outer.slope(np.array([log_p]))[0]) * dlogp_da
        grad += np.outer(X.T @ da, e_k)
    return total / dataset.n, grad / dataset.n
