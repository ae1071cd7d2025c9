"""What a user writes without symattn: the log-loss in (query, token) pair coordinates.

For one-hot (or orthonormal, in token coordinates) embeddings the scores of a sample with query
k are the potentials u_jk = e_j^T W e_k of its tokens, so the loss and the graph-SVM live on the
(query, token) pairs that occur in the data. Everything here is computed with NumPy and SciPy
only, apart from symattn (its ``CountsView`` is the one thing read from the dataset), so that it
is both the baseline the benchmarks time and an independent check of symattn's answers:

* :func:`pair_data` - the pairs, the strongly connected components of each G_k (one
  ``scipy.sparse.csgraph`` call over all queries), and which entries lie in their label's SCC;
* :class:`LogLoss` - value, gradient and Hessian-vector product of the (reduced or full) loss,
  written as a user would (``1 - pi_y`` as a difference: what a user's code does);
* :func:`fin_projection`, :func:`corr` - S_fin projection and correlation in pair coordinates;
* :func:`expcone` - the same loss as a cvxpy exponential-cone program.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sparse
from scipy.sparse.csgraph import connected_components

from symattn import Dataset

__all__ = ["LogLoss", "PairData", "corr", "expcone", "fin_projection", "full_loss", "pair_data", "pair_values",
           "reduced_loss"]


@dataclass(frozen=True)
class PairData:
    """A dataset in pair coordinates (shapes: P pairs, nnz (sample, distinct token) entries)."""

    K: int
    n: int
    query: np.ndarray  # (P,) query token of each pair, pairs sorted by (query, token)
    token: np.ndarray  # (P,)
    scc: np.ndarray  # (P,) strong component of the pair's node in its G_k (global ids)
    scc_size: np.ndarray  # (P,) size of that component
    entry_pair: np.ndarray  # (nnz,)
    indptr: np.ndarray  # (n + 1,)
    log_count: np.ndarray  # (nnz,)
    label_entry: np.ndarray  # (n,)
    in_label_scc: np.ndarray  # (nnz,) bool


def pair_data(ds: Dataset) -> PairData:
    """Pairs, SCCs (csgraph, strong connection) and the reduced entries of ``ds``."""
    c = ds.counts
    K = ds.K
    keys = c.query[c.sample].astype(np.int64) * K + c.token
    pair_keys, entry_pair = np.unique(keys, return_inverse=True)
    label_pair = entry_pair[c.label_entry]
    tail = label_pair[c.sample]
    edge = tail != entry_pair
    P = pair_keys.size
    graph = sparse.csr_matrix((np.ones(int(edge.sum())), (tail[edge], entry_pair[edge])), shape=(P, P))
    _, scc = connected_components(graph, directed=True, connection="strong")
    size = np.bincount(scc)[scc]
    in_label = scc[entry_pair] == scc[tail]
    return PairData(K, c.n, pair_keys // K, pair_keys % K, scc, size, entry_pair, c.indptr,
                    np.log(c.count.astype(np.float64)), c.label_entry, in_label)


class LogLoss:
    r""":math:`\frac1n\sum_i [\operatorname{lse}_{j\in S_i}(u_{p(j)} + \log c_j) - u_{p(y_i)} - \log c_{y_i}]`.

    ``var`` maps each kept entry to a variable; entries are grouped by sample (``indptr``).
    """

    def __init__(self, var: np.ndarray, indptr: np.ndarray, log_count: np.ndarray, label_entry: np.ndarray,
                 n: int, nvar: int) -> None:
        self.var, self.indptr, self.log_count, self.label_entry = var, indptr, log_count, label_entry
        self.n, self.nvar = n, nvar
        self.starts = indptr[:-1]
        self.lens = np.diff(indptr)
        self._p = np.zeros(var.size)

    def value_and_grad(self, u: np.ndarray) -> tuple[float, np.ndarray]:
        z = u[self.var] + self.log_count
        top = np.maximum.reduceat(z, self.starts)
        e = np.exp(z - np.repeat(top, self.lens))
        total = np.add.reduceat(e, self.starts)
        value = float(np.sum(top + np.log(total) - z[self.label_entry]) / self.n)
        p = e / np.repeat(total, self.lens)
        self._p = p.copy()
        p[self.label_entry] -= 1.0
        return value, np.bincount(self.var, p, minlength=self.nvar) / self.n

    def value(self, u: np.ndarray) -> float:
        return self.value_and_grad(u)[0]

    def grad(self, u: np.ndarray) -> np.ndarray:
        return self.value_and_grad(u)[1]

    def hessp(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        self.value_and_grad(u)
        p = self._p
        dz = v[self.var]
        mean = np.add.reduceat(p * dz, self.starts)
        return np.bincount(self.var, p * (dz - np.repeat(mean, self.lens)), minlength=self.nvar) / self.n


def _select(pd: PairData, keep: np.ndarray, pairs: np.ndarray) -> LogLoss:
    """The loss over the kept entries of samples with at least two of them; variables ``pairs``."""
    sample = np.repeat(np.arange(pd.n), np.diff(pd.indptr))
    per = np.bincount(sample[keep], minlength=pd.n)
    keep = keep & (per[sample] >= 2)
    kept = np.flatnonzero(keep)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(sample[kept], minlength=pd.n)[per >= 2])])
    position = np.full(pd.entry_pair.size, -1)
    position[kept] = np.arange(kept.size)
    label = position[pd.label_entry[per >= 2]]
    var_of_pair = np.full(pd.query.size, -1)
    var_of_pair[pairs] = np.arange(pairs.size)
    return LogLoss(var_of_pair[pd.entry_pair[kept]], indptr, pd.log_count[kept], label, pd.n, pairs.size)


def reduced_loss(pd: PairData) -> tuple[LogLoss, np.ndarray]:
    """The reduced loss (entries in their label's SCC) over the pairs of cyclic SCCs, and those pairs."""
    pairs = np.flatnonzero(pd.scc_size >= 2)
    return _select(pd, pd.in_label_scc.copy(), pairs), pairs


def full_loss(pd: PairData) -> LogLoss:
    """The full loss over every pair (samples of one distinct token dropped: their loss is 0)."""
    return _select(pd, np.ones(pd.entry_pair.size, dtype=bool), np.arange(pd.query.size))


def fin_projection(pd: PairData, values: np.ndarray, pairs: np.ndarray | None = None) -> np.ndarray:
    """Project pair values onto S_fin: demean each cyclic SCC, zero elsewhere (same shape)."""
    pairs = np.arange(pd.query.size) if pairs is None else pairs
    scc = pd.scc[pairs]
    cyclic = pd.scc_size[pairs] >= 2
    size = int(pd.scc.max()) + 1
    mean = np.bincount(scc, values, minlength=size) / np.maximum(np.bincount(scc, minlength=size), 1)
    return np.where(cyclic, values - mean[scc], 0.0)


def pair_values(W: object, pd: PairData, pairs: np.ndarray | None = None) -> np.ndarray:
    """``W[token, query]`` at the pairs (dense array or SciPy sparse matrix)."""
    pairs = np.arange(pd.query.size) if pairs is None else pairs
    rows, cols = pd.token[pairs], pd.query[pairs]
    if sparse.issparse(W):
        return np.asarray(W.tocsr()[rows, cols]).ravel()
    return np.asarray(W)[rows, cols]


def corr(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    return float(a @ b / (na * nb)) if na and nb else float("nan")


def expcone(loss: LogLoss) -> tuple[object, object, list]:
    """The loss as a cvxpy program: ``minimize (sum t - sum z_y) / n`` with
    ``sum_j exp(z_j - t_i) <= 1`` per sample; returns (u, objective, constraints)."""
    import cvxpy as cp

    m = loss.var.size
    n_s = loss.lens.size
    sample = np.repeat(np.arange(n_s), loss.lens)
    select = sparse.csr_matrix((np.ones(m), (np.arange(m), loss.var)), shape=(m, loss.nvar))
    spread = sparse.csr_matrix((np.ones(m), (np.arange(m), sample)), shape=(m, n_s))
    u = cp.Variable(loss.nvar)
    t = cp.Variable(n_s)
    z = select @ u + loss.log_count
    objective = (cp.sum(t) - cp.sum(z[loss.label_entry])) / loss.n
    return u, objective, [spread.T @ cp.exp(z - spread @ t) <= 1]
