r"""Private: a proven bound on the distance of a computed :math:`W^{fin}` from the exact one.

The argument (derived and checked in ``proofs/proof_finite_bound.py``; docs/proofs/finite_bound.md):

* :math:`f = \mathcal L_{red}` restricted to :math:`S_{fin}` has, per sample, third directional
  derivative the third central moment of the potentials' change :math:`v = A_i h` under
  :math:`\pi`, so :math:`|D^3 f[h,h,h]| \le \nu \|h\|_F\, D^2 f[h,h]` with
  :math:`\nu = \max \|e_k\| \max_{a, b \in C} \|e_a - e_b\|` over the cyclic SCCs :math:`C` of each
  :math:`G_k` (the range of :math:`v` is at most :math:`\nu\|h\|`);
* hence along :math:`W' + t h`, :math:`D^2 f \ge e^{-\nu t \|h\|} \mu \|h\|^2` where :math:`\mu` is the
  smallest eigenvalue of the Hessian on :math:`S_{fin}` at :math:`W'`, and integrating
  :math:`\langle \nabla f(W^{fin}) - \nabla f(W'), h\rangle` gives, whenever
  :math:`\kappa = \nu \|\nabla f(W')\| / \mu < 1`, existence and uniqueness of the minimiser and
  :math:`\|W' - W^{fin}\|_F \le -\log(1 - \kappa)/\nu`.

Everything is evaluated in ball arithmetic (python-flint ``arb``, 128 bits; the lower bound on the
curvature at 64 bits, which keeps the balls rigorous) from the data as
given (float entries are exact binary rationals; exact rows exactly), at a point
:math:`W' \in S_{fin}` built exactly from the computed one, so rounding can only widen the
bound, never make it pass: the returned bound is
:math:`\|\hat W - W'\|_F + (-\log(1 - \kappa)/\nu)`, every term rounded outward.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import flint
import numpy as np
import scipy.linalg
from scipy import sparse

if TYPE_CHECKING:
    from symattn.finite import FinBasis, ReducedData

__all__ = ["FiniteProof", "prove_finite_bound"]

_PREC = 128
_CURVATURE_PREC = 64
_MAX_DENSE = 400
"""Largest Hessian block (generators: all of them, or one SCC's for orthonormal embeddings)."""
_MAX_WORK = 10_000_000
"""Largest number of Hessian terms assembled in ball arithmetic (entries × generators, or the
squared sample lengths with orthonormal embeddings): about 0.75 µs each, so at most about 8 s
(a 10⁵-sample file of 16 tokens, 3.5·10⁶ terms, is proven in 2.6 s)."""


@dataclass(frozen=True)
class FiniteProof:
    r"""The proven bound on :math:`\|\hat W - W^{fin}\|_F` and its ingredients (upper/lower bounds).

    Attributes
    ----------
    proven : bool
        The bound below holds (every step verified in ball arithmetic).
    bound : float
        Upper bound on :math:`\|\hat W - W^{fin}\|_F` (``inf`` when not proven).
    nu : float
        :math:`\nu`, the constant of :math:`|D^3 f[h,h,h]| \le \nu\|h\| D^2 f[h,h]`.
    gradient : float
        Upper bound on :math:`\|\nabla \mathcal L_{red}(W')\|_F` at the exact point :math:`W'`.
    curvature : float
        Lower bound on the smallest eigenvalue of the Hessian on :math:`S_{fin}` at :math:`W'`.
    kappa : float
        Upper bound on :math:`\nu\,\|\nabla\| / \mu` (the bound needs :math:`\kappa < 1`).
    offset : float
        Upper bound on :math:`\|\hat W - W'\|_F` (rounding of the returned matrix).
    message : str
        Why the bound is not proven (empty when it is).
    """

    proven: bool
    bound: float
    nu: float
    gradient: float
    curvature: float
    kappa: float
    offset: float
    message: str = ""


def _unproven(message: str) -> FiniteProof:
    nan = float("nan")
    return FiniteProof(False, float("inf"), nan, nan, nan, nan, nan, message)


def _upper(x: flint.arb) -> float:
    """A float at least ``x`` (outward rounding of the ball's upper end)."""
    top = x.upper()
    value = float(top)
    return value if flint.arb(value) >= top else float(np.nextafter(value, np.inf))


def _lower(x: flint.arb) -> float:
    """A float at most ``x``."""
    low = x.lower()
    value = float(low)
    return value if flint.arb(value) <= low else float(np.nextafter(value, -np.inf))


@dataclass
class _Setting:
    """The data in ball arithmetic, on the tokens that matter (local indices)."""

    identity: bool  # G = I exactly (one-hot or exactly orthonormal rows)
    G: flint.arb_mat | None  # None for one-hot (never needed there)
    E: flint.arb_mat | None
    local: dict[int, int]

    @property
    def gram(self) -> flint.arb_mat:
        """:math:`G = E E^\top` on the local tokens (stored unless the embeddings are one-hot)."""
        if self.G is None:
            raise AssertionError("one-hot embeddings store no Gram matrix")
        return self.G

    @property
    def rows(self) -> flint.arb_mat:
        """The local embedding rows (stored unless the embeddings are one-hot)."""
        if self.E is None:
            raise AssertionError("one-hot embeddings store no rows")
        return self.E


def _setting(basis: FinBasis, red: ReducedData) -> _Setting:
    emb = basis.embeddings
    tokens = np.unique(np.concatenate([basis.pair_token, basis.pair_query, red.token, red.query]))
    local = {int(t): i for i, t in enumerate(tokens.tolist())}
    if emb.is_onehot:
        return _Setting(True, None, None, local)
    if emb.is_exact:
        rows = emb.exact_matrix()
        exact = flint.fmpq_mat([[flint.fmpq(v.numerator, v.denominator) for v in rows[t]]
                                for t in tokens.tolist()])
        gram = exact * exact.transpose()
        size = len(tokens)
        identity = flint.fmpq_mat(size, size, [int(i == j) for i in range(size) for j in range(size)]) == gram
        return _Setting(identity, flint.arb_mat(gram), flint.arb_mat(exact), local)
    E = flint.arb_mat(emb.matrix()[tokens].tolist())
    return _Setting(False, E * E.transpose(), E, local)


def _zero_sum_point(basis: FinBasis, theta: np.ndarray) -> list[flint.arb]:
    r"""Pair values of :math:`W' \in S_{fin}`: the computed ones with each SCC's first value replaced by
    minus the sum of the others, exactly (so :math:`W' = E^\top T' E` is a combination of generators)."""
    values = [flint.arb(float(v)) for v in basis.coef.T @ np.asarray(theta, dtype=np.float64)]
    for a, b in basis.scc_pairs:
        values[a] = -sum(values[a + 1 : b], flint.arb(0))
    return values


def _token_matrix(setting: _Setting, pairs: tuple[np.ndarray, np.ndarray], values: list) -> flint.arb_mat:
    size = len(setting.local)
    T = flint.arb_mat(size, size)
    for t, k, v in zip(pairs[0].tolist(), pairs[1].tolist(), values, strict=True):
        T[setting.local[t], setting.local[k]] += v
    return T


def _nonzero_entries(W: np.ndarray | sparse.spmatrix) -> dict[tuple[int, int], float]:
    """The nonzero entries of a dense or sparse matrix, by (row, column)."""
    if sparse.issparse(W):
        coo = sparse.coo_matrix(W)
        coo.sum_duplicates()
        keep = coo.data != 0
        rows, cols, values = coo.row[keep], coo.col[keep], coo.data[keep]
    else:
        rows, cols = np.nonzero(W)
        values = W[rows, cols]
    return dict(zip(zip(rows.tolist(), cols.tolist(), strict=True), values.tolist(), strict=True))


def _offset(
    setting: _Setting, T_exact: flint.arb_mat | None, sums: dict[tuple[int, int], flint.arb] | None,
    W: np.ndarray | sparse.spmatrix,
) -> flint.arb:
    r""":math:`\|\hat W - E^\top T' E\|_F` in ball arithmetic: from ``T_exact`` (:math:`T'`), or for
    one-hot embeddings (``T_exact`` None) from the nonzero entries ``sums`` only."""
    if T_exact is not None:
        gap = flint.arb_mat(W.tolist()) - setting.rows.transpose() * T_exact * setting.rows
        return _norm(gap.entries())
    nonzero = _nonzero_entries(W)
    gaps = [flint.arb(nonzero.pop(key, 0.0)) - value for key, value in sums.items()]
    return _norm([*gaps, *(flint.arb(v) for v in nonzero.values())])


def _token_sums(
    pairs: tuple[np.ndarray, np.ndarray], values: Iterable[flint.arb]
) -> dict[tuple[int, int], flint.arb]:
    """The values added up per (token, query) pair: the nonzero entries of a one-hot matrix."""
    sums: dict[tuple[int, int], flint.arb] = {}
    for t, k, v in zip(pairs[0].tolist(), pairs[1].tolist(), values, strict=True):
        sums[t, k] = sums[t, k] + v if (t, k) in sums else v
    return sums


def _norm(values: Iterable[flint.arb]) -> flint.arb:
    """The Euclidean norm of the values."""
    return sum((v * v for v in values), flint.arb(0)).nonnegative_part().sqrt()


def _potentials(
    setting: _Setting, T_exact: flint.arb_mat | None, sums: dict[tuple[int, int], flint.arb] | None,
    red: ReducedData,
) -> list[flint.arb]:
    """:math:`e_j^\\top W' e_k` of every reduced entry: from ``sums`` when the Gram matrix is the
    identity, else from ``T_exact``."""
    queries = red.query[red.sample]
    pairs = zip(red.token.tolist(), queries.tolist(), strict=True)
    if sums is not None:
        zero = flint.arb(0)
        return [sums.get(key, zero) for key in pairs]
    U = setting.gram * T_exact * setting.gram
    loc = setting.local
    return [U[loc[j], loc[k]] for j, k in pairs]


def _masses(red: ReducedData, u: list[flint.arb]) -> tuple[list[flint.arb], list[flint.arb]]:
    """Masses :math:`\\pi` and gradient residuals :math:`\\pi_j - 1[j = y]` (label's from the others)."""
    pi: list[flint.arb] = [flint.arb(0)] * len(u)
    resid: list[flint.arb] = [flint.arb(0)] * len(u)
    labels = set(red.label_entry.tolist())
    counts = red.count.tolist()
    for a, b in zip(red.indptr[:-1].tolist(), red.indptr[1:].tolist(), strict=True):
        if b - a < 2:
            pi[a] = flint.arb(1)
            continue
        weights = [u[e].exp() * counts[e] for e in range(a, b)]  # c_j e^{u_j}
        total = sum(weights, flint.arb(0))
        for e in range(a, b):
            pi[e] = weights[e - a] / total
        label = next(e for e in range(a, b) if e in labels)
        for e in range(a, b):
            resid[e] = pi[e] if e != label else -sum((pi[f] for f in range(a, b) if f != label), flint.arb(0))
    return pi, resid


def _gradient_norm(setting: _Setting, red: ReducedData, resid: list[flint.arb]) -> flint.arb:
    r""":math:`\|\nabla \mathcal L_{red}(W')\|_F = \|E^\top R E\|_F` (:math:`R`: token residuals / n)."""
    queries = red.query[red.sample]
    if setting.identity:
        return _norm(_token_sums((red.token, queries), resid).values()) / red.n
    R = _token_matrix(setting, (red.token, queries), [r / red.n for r in resid])
    G = setting.gram
    return (R.transpose() * G * R * G).trace().nonnegative_part().sqrt()


def _nu(basis: FinBasis, setting: _Setting) -> flint.arb:
    """Largest :math:`\\|e_k\\| \\|e_a - e_b\\|` over the pairs of tokens of one cyclic SCC of G_k."""
    if setting.identity:
        return flint.arb(2).sqrt()
    G, loc = setting.gram, setting.local
    best = flint.arb(0)
    for a, b in basis.scc_pairs:
        k = loc[int(basis.pair_query[a])]
        members = [loc[int(t)] for t in basis.pair_token[a:b].tolist()]
        for i, p in enumerate(members):
            for q in members[i + 1 :]:
                dist = (G[p, p] - 2 * G[p, q] + G[q, q]).nonnegative_part()
                best = best.max((dist * G[k, k].nonnegative_part()).sqrt())
    return best


def _lowest(values: Iterable[flint.arb]) -> flint.arb:
    """A ball containing the minimum (Python's ``min`` would compare overlapping balls as equal)."""
    return functools.reduce(lambda a, b: a.min(b), values)


def _off_diagonal(entries: list[flint.arb], m: int, i: int) -> flint.arb:
    """Upper bound on the sum of the absolute off-diagonal entries of row ``i`` (row-major entries)."""
    total = flint.arb(0)
    for j in range(m):
        if j != i:
            total += entries[i * m + j].abs_upper()
    return total


def _generalised_lower(M: flint.arb_mat, Gamma: flint.arb_mat | None) -> flint.arb | None:
    r"""A lower bound on :math:`\min_x x^\top M x / x^\top \Gamma x` (``Gamma`` ``None``: the identity),
    or ``None`` when none is proven.

    With :math:`V` from a float generalised eigendecomposition, :math:`B = V^\top M V` and
    :math:`C = V^\top \Gamma V` are nearly diagonal; Gershgorin discs give :math:`\lambda_{min}(B) \ge
    \beta` and :math:`\lambda(C) \in [c_-, c_+]`. If :math:`c_- > 0` then :math:`V` is invertible and
    :math:`\Gamma \succ 0`, and for :math:`x = V y` the ratio is at least :math:`\beta / c_+` (when
    :math:`\beta > 0`).
    """
    m = M.nrows()
    mid_M = np.array([float(x.mid()) for x in M.entries()]).reshape(m, m)
    mid_G = np.eye(m) if Gamma is None else np.array([float(x.mid()) for x in Gamma.entries()]).reshape(m, m)
    try:
        _, V = scipy.linalg.eigh(0.5 * (mid_M + mid_M.T), 0.5 * (mid_G + mid_G.T))
    except (np.linalg.LinAlgError, ValueError):
        return None
    Va = flint.arb_mat(V.tolist())
    B = (Va.transpose() * M * Va).entries()
    C = (Va.transpose() * (Va if Gamma is None else Gamma * Va)).entries()
    beta = _lowest(B[i * m + i] - _off_diagonal(B, m, i) for i in range(m))
    radii = [_off_diagonal(C, m, i) for i in range(m)]
    c_low = _lowest(C[i * m + i] - radii[i] for i in range(m))
    c_high = -_lowest(-(C[i * m + i] + radii[i]) for i in range(m))
    if not (c_low > 0 and beta > 0):
        return None
    return beta / c_high


def _centred_rows(rows: list[list[flint.arb]], weights: list[flint.arb]) -> list[list[flint.arb]]:
    """Rows minus their weighted mean, centred around the row of largest weight (no cancellation)."""
    anchor = max(range(len(rows)), key=lambda e: float(weights[e].mid()))
    shifted = [[x - y for x, y in zip(row, rows[anchor], strict=True)] for row in rows]
    mean = [sum((w * row[c] for w, row in zip(weights, shifted, strict=True)), flint.arb(0))
            for c in range(len(rows[0]))]
    return [[x - y for x, y in zip(row, mean, strict=True)] for row in shifted]


Generator = tuple[int, int, int]
"""A star generator :math:`(e_a - e_b) e_q^\top` as ``(a, b, q)``."""


def _hessian(setting: _Setting, red: ReducedData, pi: list[flint.arb], samples: list[int],
             gens: list[Generator]) -> flint.arb_mat:
    r""":math:`M = \frac1n \sum_i \sum_{e \in i} \pi_e D_e D_e^\top`: the Hessian form in generator
    coordinates, with :math:`D_e` the centred derivatives of entry :math:`e`'s potential."""
    D: list[list[flint.arb]] = []
    P: list[list[flint.arb]] = []
    for i in samples:
        a, b = int(red.indptr[i]), int(red.indptr[i + 1])
        k = int(red.query[i])
        rows = [[_derivative(setting, int(red.token[e]), k, g) for g in gens] for e in range(a, b)]
        for e, row in zip(range(a, b), _centred_rows(rows, pi[a:b]), strict=True):
            D.append(row)
            P.append([pi[e] * x for x in row])
    if not D:
        return flint.arb_mat(len(gens), len(gens))
    return flint.arb_mat(D).transpose() * flint.arb_mat(P) / red.n


def _curvature(basis: FinBasis, setting: _Setting, red: ReducedData, pi: list[flint.arb]) -> flint.arb | None:
    r"""A lower bound on the smallest eigenvalue of :math:`\nabla^2 \mathcal L_{red}(W')` on :math:`S_{fin}`.

    In star-generator coordinates :math:`h = \sum_r x_r Z_r` the Hessian form is :math:`x^\top M x`
    and :math:`\|h\|_F^2 = x^\top \Gamma x`; otherwise one dense block. With :math:`G = I` the form
    splits per cyclic SCC (the samples of an SCC see only its tokens) and, in the Helmert basis of
    the SCC's zero-sum potentials (orthonormal: :math:`\Gamma = I`), is :math:`Q H_C Q^\top` with the
    Hessian :math:`H_C` in the SCC's potentials.
    """
    gens = basis.generators
    tok, qry = basis.pair_token.tolist(), basis.pair_query.tolist()
    triples = [(tok[p], tok[q], qry[p]) for p, q in gens.tolist()]
    lengths = np.diff(red.indptr)
    multi = np.flatnonzero(lengths >= 2).tolist()
    if not setting.identity:
        M = _hessian(setting, red, pi, multi, triples)
        gamma = flint.arb_mat([[_inner(setting, r, s) for s in triples] for r in triples])
        return _generalised_lower(M, gamma)
    by_label: dict[tuple[int, int], list[int]] = {}
    for i in multi:
        by_label.setdefault((int(red.query[i]), int(red.label[i])), []).append(i)
    lows = []
    for a, b in basis.scc_pairs:
        cols = list(range(*np.searchsorted(gens[:, 0], [a, b]).tolist()))
        if not cols:
            continue
        members = {t: i for i, t in enumerate(tok[a:b])}
        mine = [i for t in members for i in by_label.get((qry[a], t), [])]
        H = _potential_hessian(red, pi, mine, members)
        low = _generalised_lower(_helmert_form(H), None)  # the SCC's generators span all zero-sum vectors
        if low is None:
            return None
        lows.append(low)
    return _lowest(lows) if lows else None


def _helmert_form(H: flint.arb_mat) -> flint.arb_mat:
    r""":math:`Q H^\top Q^\top` (:math:`= Q H Q^\top` for the exact, symmetric :math:`H`) with :math:`Q` the
    Helmert basis of the zero-sum vectors: orthonormal rows, so its form is the Hessian's on them
    per unit norm. Row :math:`r` of :math:`Q x` is :math:`(\sum_{j<r} x_j - r x_r)/\sqrt{r(r+1)}`
    (prefix sums; the square roots are balls around the exact ones)."""
    size = H.nrows()
    scale = [1 / flint.arb(r * (r + 1)).sqrt() for r in range(1, size)]

    def rotate(rows: list[list[flint.arb]]) -> list[list[flint.arb]]:
        out = []
        for row in rows:
            prefix, new = flint.arb(0), []
            for r in range(1, size):
                prefix += row[r - 1]
                new.append((prefix - r * row[r]) * scale[r - 1])
            out.append(new)
        return out

    entries = H.entries()
    once = rotate([entries[i * size : (i + 1) * size] for i in range(size)])  # H Q^T
    return flint.arb_mat(rotate([list(column) for column in zip(*once, strict=True)]))  # Q H^T Q^T


def _potential_hessian(red: ReducedData, pi: list[flint.arb], samples: list[int],
                       members: dict[int, int]) -> flint.arb_mat:
    r""":math:`\frac1n \sum_i (\operatorname{diag}\pi_i - \pi_i\pi_i^\top)` on the SCC's tokens: the
    off-diagonal part one product :math:`\Pi^\top \Pi` of the samples' masses, the diagonal
    :math:`\pi_j(1 - \pi_j)` formed as :math:`\pi_j \sum_{l \ne j} \pi_l` (prefix and suffix sums, no
    cancellation)."""
    size = len(members)
    if not samples:
        return flint.arb_mat(size, size)
    masses = flint.arb_mat(len(samples), size)
    diagonal = [flint.arb(0)] * size
    for row, i in enumerate(samples):
        a, b = int(red.indptr[i]), int(red.indptr[i + 1])
        index = [members[t] for t in red.token[a:b].tolist()]
        for p, mass, rest in zip(index, pi[a:b], _others(pi[a:b]), strict=True):
            masses[row, p] = mass
            diagonal[p] += mass * rest
    H = -(masses.transpose() * masses)
    for p in range(size):
        H[p, p] = diagonal[p]
    return H / red.n


def _others(values: list[flint.arb]) -> list[flint.arb]:
    """For every position the sum of the other values (prefix plus suffix sums, never a difference)."""
    prefix = [flint.arb(0)]
    for v in values[:-1]:
        prefix.append(prefix[-1] + v)
    out = [flint.arb(0)] * len(values)
    suffix = flint.arb(0)
    for j in range(len(values) - 1, -1, -1):
        out[j] = prefix[j] + suffix
        suffix += values[j]
    return out


def _derivative(setting: _Setting, j: int, k: int, gen: Generator) -> flint.arb:
    r""":math:`\partial u_{jk}/\partial x = (G_{ja} - G_{jb}) G_{qk}` for :math:`(e_a - e_b) e_q^\top`."""
    a, b, q = gen
    if setting.identity:
        return flint.arb(int(q == k) * (int(j == a) - int(j == b)))
    loc = setting.local
    G = setting.gram
    return (G[loc[j], loc[a]] - G[loc[j], loc[b]]) * G[loc[q], loc[k]]


def _inner(setting: _Setting, r: Generator, s: Generator) -> flint.arb:
    r""":math:`\langle (e_a - e_b)e_q^\top, (e_{a'} - e_{b'})e_{q'}^\top \rangle_F`."""
    (a, b, q), (a2, b2, q2) = r, s
    if setting.identity:
        return flint.arb(int(q == q2) * (int(a == a2) - int(a == b2) - int(b == a2) + int(b == b2)))
    loc = setting.local
    G = setting.gram
    x, y, z, w = loc[a], loc[b], loc[a2], loc[b2]
    return (G[x, z] - G[x, w] - G[y, z] + G[y, w]) * G[loc[q], loc[q2]]


def prove_finite_bound(
    basis: FinBasis, red: ReducedData, theta: np.ndarray, W: np.ndarray | sparse.spmatrix
) -> FiniteProof:
    r"""Prove :math:`\|W - W^{fin}\|_F \le` ``bound`` for the computed ``W`` (coordinates ``theta``).

    ``W`` may be sparse (one-hot embeddings: only its stored entries are read). See the module
    docstring for the argument. Not proven (``proven=False`` with the reason) when
    the dimension of :math:`S_{fin}` was decided by a float threshold that dropped generators, when
    the problem is too large for ball arithmetic here, or when :math:`\kappa \ge 1`.
    """
    if basis.dim == 0:
        zero = not _nonzero_entries(W)
        return FiniteProof(True, 0.0 if zero else float("inf"), 0.0, 0.0, float("inf"), 0.0, 0.0,
                           "" if zero else "S_fin = {0} but W is not 0")
    if basis.generators.shape[0] < basis.expected_dim and not basis.rank_exact:
        return _unproven("dim S_fin was decided by a floating-point rank threshold (float embedding rows "
                         "with dependent generators); the bound needs an exact rank")
    emb = basis.embeddings
    if emb.is_onehot or (emb.is_exact and emb.is_orthonormal):  # G = I: one block per SCC
        block = max((b - a for a, b in basis.scc_pairs), default=0)
        lengths = np.diff(red.indptr)
        work = int(np.sum(lengths**2))
    else:
        block, work = basis.dim, red.token.size * basis.dim
    if block > _MAX_DENSE or work > _MAX_WORK:
        return _unproven(f"too large for the ball-arithmetic bound ({red.token.size} reduced entries, "
                         f"dim S_fin = {basis.dim}); error_estimate is the local estimate only")
    with flint.ctx.workprec(_PREC):
        return _prove(basis, red, theta, W)


def _prove(
    basis: FinBasis, red: ReducedData, theta: np.ndarray, W: np.ndarray | sparse.spmatrix
) -> FiniteProof:
    setting = _setting(basis, red)
    point = _zero_sum_point(basis, theta)
    pairs = (basis.pair_token, basis.pair_query)
    sums = _token_sums(pairs, point) if setting.identity else None  # built once: a Python loop in arb
    T_exact = None if basis.embeddings.is_onehot else _token_matrix(setting, pairs, point)
    offset = _offset(setting, T_exact, sums, W if sparse.issparse(W) else np.asarray(W, dtype=np.float64))
    pi, resid = _masses(red, _potentials(setting, T_exact, sums, red))
    grad = _gradient_norm(setting, red, resid)
    nu = _nu(basis, setting)
    with flint.ctx.workprec(_CURVATURE_PREC):  # a lower bound on mu needs few bits; balls stay rigorous
        mu = _curvature(basis, setting, red, pi)
    nums = (_upper(nu), _upper(grad), _lower(mu) if mu is not None else float("nan"), _upper(offset))
    if mu is None:
        return FiniteProof(False, float("inf"), nums[0], nums[1], float("nan"), float("nan"), nums[3],
                           "the Hessian on S_fin could not be proven positive definite at W^fin")
    kappa = nu * grad / mu
    if not kappa < 1:
        return FiniteProof(False, float("inf"), *nums[:3], _upper(kappa), nums[3],
                           f"kappa = nu |grad| / mu = {float(kappa.mid()):.3g} is not below 1")
    delta = -(-kappa).log1p() / nu if nu > 0 else grad / mu
    return FiniteProof(True, _upper(offset + delta), *nums[:3], _upper(kappa), nums[3])
