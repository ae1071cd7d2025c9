"""An independent PyTorch implementation of the one-layer attention model, and a trainer.

Written from the formulas of docs/theory.md §2, importing nothing from symattn, so that symattn's
verification can be tested against weights and gradients it did not compute itself.

For a sample with tokens ``x_1..x_T``, query ``k = x_T`` and label ``y``: scores
``a_t = e_{x_t}ᵀ W e_k``, attention ``s = softmax(a)``, token mass ``π_y = Σ_{t: x_t = y} s_t``,
output ``f = Σ_t s_t e_{x_t}``. Losses (mean over samples):

- ``"log"``: ``−log π_y`` (as ``logsumexp(a) − logsumexp(a over the label's positions)``);
- ``"linear"``: ``−π_y``;  ``"squared"``: ``(1 − π_y)²``;
- ``"embed-ce"``: ``−log softmax(E f)_y``;  ``"embed-squared"``: ``(1 − softmax(E f)_y)²``.

:class:`Bugs` switches on the mistakes a trainer can make: the wrong query position, a
transposed ``W``, labels redrawn, a sum instead of a mean, one position of the label instead of
the mass of all its copies.

API: :func:`make_batch` (padded tensors), :func:`loss` (a differentiable scalar),
:func:`loss_and_gradient` (NumPy in, NumPy out), :func:`train` (GD or normalised GD).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["LOSSES", "Batch", "Bugs", "loss", "loss_and_gradient", "make_batch", "train"]

LOSSES = ("log", "linear", "squared", "embed-ce", "embed-squared")


@dataclass(frozen=True)
class Bugs:
    """Mistakes to make on purpose (all off by default).

    query : "last" (correct) or "first" (the first token is used as the query)
    transpose : score with ``e_kᵀ W e_{x_t}`` instead of ``e_{x_t}ᵀ W e_k``
    redraw_labels : None, or a seed: labels are redrawn uniformly from each sequence
    reduction : "mean" (correct) or "sum" over samples
    label : "mass" (correct: all copies of the label) or "one" (only its last position)
    """

    query: str = "last"
    transpose: bool = False
    redraw_labels: int | None = None
    reduction: str = "mean"
    label: str = "mass"


@dataclass(frozen=True)
class Batch:
    """Padded samples: ``tokens`` (n, T) long, ``mask`` (n, T) bool, ``labels`` (n,), ``E`` (K, d)."""

    tokens: torch.Tensor
    mask: torch.Tensor
    labels: torch.Tensor
    E: torch.Tensor


def make_batch(
    tokens: Sequence[Sequence[int]], labels: Sequence[int], E: np.ndarray,
    *, dtype: torch.dtype = torch.float64, bugs: Bugs = Bugs(),
) -> Batch:
    """Pad the sequences (left-aligned) and apply the data bugs (``redraw_labels``)."""
    n, T = len(tokens), max(len(x) for x in tokens)
    padded = torch.zeros((n, T), dtype=torch.long)
    mask = torch.zeros((n, T), dtype=torch.bool)
    for i, x in enumerate(tokens):
        padded[i, : len(x)] = torch.tensor(list(x))
        mask[i, : len(x)] = True
    ys = list(labels)
    if bugs.redraw_labels is not None:
        rng = np.random.default_rng(bugs.redraw_labels)
        ys = [int(x[rng.integers(len(x))]) for x in tokens]
    return Batch(padded, mask, torch.tensor(ys), torch.tensor(np.array(E, dtype=np.float64), dtype=dtype))


def _scores(W: torch.Tensor, b: Batch, bugs: Bugs) -> torch.Tensor:
    last = b.mask.sum(1) - 1
    query_pos = torch.zeros_like(last) if bugs.query == "first" else last
    query = b.tokens[torch.arange(len(last)), query_pos]
    X = b.E[b.tokens]                    # (n, T, d)
    q = b.E[query]                       # (n, d)
    M = W.T if bugs.transpose else W
    a = torch.einsum("ntd,de,ne->nt", X, M, q)
    return a.masked_fill(~b.mask, float("-inf"))


def _label_positions(b: Batch, bugs: Bugs) -> torch.Tensor:
    hit = (b.tokens == b.labels[:, None]) & b.mask
    if bugs.label == "one":
        pos = torch.arange(hit.shape[1]).expand_as(hit)
        last = torch.where(hit, pos, torch.full_like(pos, -1)).max(1).values
        hit = pos == last[:, None]
    return hit


def loss(W: torch.Tensor, b: Batch, kind: str = "log", bugs: Bugs = Bugs()) -> torch.Tensor:
    """The loss at ``W`` (a (d, d) tensor), differentiable by autograd."""
    a = _scores(W, b, bugs)
    lse = torch.logsumexp(a, dim=1)
    if kind.startswith("embed"):
        s = torch.softmax(a, dim=1)
        f = torch.einsum("nt,ntd->nd", s, b.E[b.tokens])
        log_p = torch.log_softmax(f @ b.E.T, dim=1)[torch.arange(len(lse)), b.labels]
    else:
        label = a.masked_fill(~_label_positions(b, bugs), float("-inf"))
        log_p = torch.logsumexp(label, dim=1) - lse
    if kind in ("log", "embed-ce"):
        per = -log_p
    elif kind == "linear":
        per = -torch.exp(log_p)
    elif kind in ("squared", "embed-squared"):
        per = torch.expm1(log_p) ** 2
    else:
        raise ValueError(f"unknown loss {kind!r}; one of {LOSSES}")
    return per.sum() if bugs.reduction == "sum" else per.mean()


def loss_and_gradient(
    W: np.ndarray, tokens: Sequence[Sequence[int]], labels: Sequence[int], E: np.ndarray,
    *, kind: str = "log", dtype: torch.dtype = torch.float64, bugs: Bugs = Bugs(),
) -> tuple[float, np.ndarray]:
    """Loss and gradient at ``W`` (NumPy, computed in ``dtype`` and returned in it)."""
    b = make_batch(tokens, labels, E, dtype=dtype, bugs=bugs)
    Wt = torch.tensor(np.array(W, dtype=np.float64), dtype=dtype, requires_grad=True)
    value = loss(Wt, b, kind, bugs)
    (grad,) = torch.autograd.grad(value, Wt)
    return float(value.detach()), grad.numpy()


def train(
    tokens: Sequence[Sequence[int]], labels: Sequence[int], E: np.ndarray,
    *, method: str = "ngd", lr: float = 0.01, steps: int = 4000, kind: str = "log",
    dtype: torch.dtype = torch.float64, W0: np.ndarray | None = None, bugs: Bugs = Bugs(),
) -> np.ndarray:
    """Gradient descent (``"gd"``) or normalised GD (``"ngd"``: ``W -= lr·g/‖g‖``) from ``W0`` (default 0).

    Returns the final ``W`` as a NumPy array of ``dtype``.
    """
    b = make_batch(tokens, labels, E, dtype=dtype, bugs=bugs)
    d = b.E.shape[1]
    W = torch.zeros((d, d), dtype=dtype) if W0 is None else torch.tensor(np.array(W0, dtype=np.float64), dtype=dtype)
    W.requires_grad_(True)
    for _ in range(steps):
        (g,) = torch.autograd.grad(loss(W, b, kind, bugs), W)
        with torch.no_grad():
            if method == "ngd":
                norm = torch.linalg.norm(g)
                if norm == 0:
                    break
                W -= lr * g / norm
            else:
                W -= lr * g
    return W.detach().numpy()
