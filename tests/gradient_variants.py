"""Loss-and-gradient implementations written apart from symattn, position by position, with bug switches.

Each variant is a function ``(dataset, W) -> (loss, gradient)`` built from docs/theory.md §2 directly: scores
a_t = e_{x_t}^T W e_k over the positions, a softmax over positions, the label probability as the sum of
the attention on the label's positions, and the chain rule through a = X W e_k. ``precise=True``
writes the log-loss in log-space (-log pi_y = log1p(exp(lse_out - lse_label)), label-position
derivative -q_t (1 - pi_y)), accurate far out; otherwise the textbook s - q with pi_y - 1 inside.
"""

from __future__ import annotations

import numpy as np
from scipy.special import log_softmax, logsumexp


def _phi(kind: str, log_p: float, one_minus: float) -> tuple[float, float]:
    """phi(p) and d phi / d log p for the identity-head losses."""
    p = np.exp(log_p)
    if kind == "log":
        return -log_p, -1.0
    if kind == "linear":
        return -p, -p
    return one_minus**2, -2.0 * one_minus * p


def per_position(ds, W, kind="log", *, precise=False, summed=False, transpose_grad=False,
                 transpose_model=False, one_position=False, first_query=False, factor=1.0):
    E = ds.embeddings.matrix()
    Wm = W.T if transpose_model else W
    total = 0.0
    grad = np.zeros_like(W)
    for sample in ds:
        toks = np.array(sample.tokens)
        y = sample.label
        k = toks[0] if first_query else toks[-1]
        X = E[toks]
        a = X @ Wm @ E[k]
        log_s = log_softmax(a)
        is_y = toks == y
        if one_position:
            is_y = np.zeros_like(is_y)
            is_y[int(np.flatnonzero(toks == y)[0])] = True
        lse_all = logsumexp(a)
        if precise and (~is_y).any():
            lse_label, lse_out = logsumexp(a[is_y]), logsumexp(a[~is_y])
            log_p = -np.logaddexp(0.0, lse_out - lse_label)
            one_minus = np.exp(lse_out - lse_all)
        else:
            log_p = float(logsumexp(log_s[is_y]))
            one_minus = 1.0 - np.exp(log_p)
        value, slope = _phi(kind, log_p, one_minus)
        # d log p / d a_t = q_t - s_t with q_t = s_t 1[t in label positions] / p
        s = np.exp(log_s)
        if precise and (~is_y).any():
            d = np.where(is_y, np.exp(a - lse_label) * one_minus, -s)
        else:
            q = np.where(is_y, np.exp(log_s - log_p), 0.0)
            d = q - s
        total += value
        g = np.outer(X.T @ (slope * d), E[k])
        grad += g.T if transpose_model else g
    n = 1 if summed else len(ds)
    grad = grad / n * factor
    return total / n * factor, grad.T if transpose_grad else grad


def embedding_head(ds, W, kind="embed-ce"):
    """The embedding head: z = E X^T s, p = softmax(z)_y; gradient by the chain rule, per position."""
    E = ds.embeddings.matrix()
    total = 0.0
    grad = np.zeros_like(W)
    for sample in ds:
        toks = np.array(sample.tokens)
        y = sample.label
        k = toks[-1]
        X = E[toks]
        s = np.exp(log_softmax(X @ W @ E[k]))
        log_q = log_softmax(E @ (X.T @ s))
        log_p = log_q[y]
        value, slope = _phi("log" if kind == "embed-ce" else "squared", log_p, -np.expm1(log_p))
        dz = -np.exp(log_q)
        dz[y] += 1.0
        b = X @ (E.T @ dz)
        da = slope * s * (b - s @ b)
        total += value
        grad += np.outer(X.T @ da, E[k])
    return total / len(ds), grad / len(ds)
