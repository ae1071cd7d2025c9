"""Independent oracles for the graph-SVM and the finite component (no symattn solver code).

Constraints come from the brute-force TPG oracle in ``oracles.py``; the QP is handed to
scipy's ``trust-constr`` in the full d×d space; the reduced loss is written out sample by
sample from docs/theory.md §5 and minimised by BFGS over an SVD basis of S_fin.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from oracles import reachability, tpg_edges, tpg_nodes
from scipy.optimize import LinearConstraint, minimize

from symattn.data import Dataset


def samples_of(ds: Dataset) -> list[tuple[tuple[int, ...], int]]:
    return [(s.tokens, s.label) for s in ds]


def constraint_rows(ds: Dataset) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int, int, bool]]]:
    """Rows a = vec((e_i - e_j) e_kᵀ) of every TPG edge, split into equalities and inequalities."""
    samples = samples_of(ds)
    E = ds.embeddings.matrix()
    d = E.shape[1]
    eq, ineq, listing = [], [], []
    nodes = tpg_nodes(samples)
    for k, edges in sorted(tpg_edges(samples).items()):
        reach = reachability(sorted(nodes[k]), edges)
        for i, j in sorted(edges):
            same = reach[(j, i)]
            (eq if same else ineq).append(np.outer(E[i] - E[j], E[k]).ravel())
            listing.append((k, i, j, same))
    A_eq = np.array(eq).reshape(-1, d * d)
    A_in = np.array(ineq).reshape(-1, d * d)
    return A_eq, A_in, listing


def svm_by_trust_constr(ds: Dataset) -> np.ndarray:
    """W^svm by scipy trust-constr on the raw constraints (equalities replaced by a basis of their span)."""
    A_eq, A_in, _ = constraint_rows(ds)
    d = ds.embeddings.dim
    constraints = []
    if A_eq.shape[0]:
        _, s, vt = np.linalg.svd(A_eq, full_matrices=False)
        basis = vt[s > 1e-10 * s.max()]
        constraints.append(LinearConstraint(basis, 0.0, 0.0))
    if A_in.shape[0] == 0:
        return np.zeros((d, d))
    constraints.append(LinearConstraint(A_in, 1.0, np.inf))
    res = minimize(
        lambda x: 0.5 * float(x @ x), np.zeros(d * d), jac=lambda x: x,
        hess=lambda x: np.eye(d * d), method="trust-constr", constraints=constraints,
        options={"gtol": 1e-12, "xtol": 1e-15, "barrier_tol": 1e-12, "initial_barrier_parameter": 1e-4,
                 "maxiter": 20000},
    )
    return res.x.reshape(d, d)


def sccs_by_oracle(ds: Dataset) -> dict[int, list[frozenset[int]]]:
    samples = samples_of(ds)
    nodes = tpg_nodes(samples)
    edges = tpg_edges(samples)
    out = {}
    for k in nodes:
        reach = reachability(sorted(nodes[k]), edges.get(k, set()))
        comps = {frozenset(b for b in nodes[k] if reach[(a, b)] and reach[(b, a)]) for a in nodes[k]}
        out[k] = sorted(comps, key=min)
    return out


def reduced_loss_oracle(ds: Dataset, W: np.ndarray) -> float:
    """docs/theory.md §5 reduced loss, sample by sample, in plain Python + numpy logaddexp."""
    E = ds.embeddings.matrix()
    comps = sccs_by_oracle(ds)
    total = 0.0
    for tokens, y in samples_of(ds):
        k = tokens[-1]
        scc = next(c for c in comps[k] if y in c)
        kept = [t for t in tokens if t in scc]
        scores = [float(E[t] @ W @ E[k]) for t in kept]
        # π_y sums the attention over every copy of y: −log π_y = lse − u_y − log c_y
        total += float(np.logaddexp.reduce(scores)) - float(E[y] @ W @ E[k]) - np.log(kept.count(y))
    return total / len(ds)


def finite_by_bfgs(ds: Dataset) -> np.ndarray:
    """W^fin by BFGS on the oracle reduced loss, over an SVD basis of the span of S_fin's generators."""
    E = ds.embeddings.matrix()
    d = E.shape[1]
    gens = [np.outer(E[i] - E[j], E[k]).ravel()
            for k, comps in sccs_by_oracle(ds).items() for c in comps for i in c for j in c if i < j]
    if not gens:
        return np.zeros((d, d))
    _, s, vt = np.linalg.svd(np.array(gens), full_matrices=False)
    B = vt[s > 1e-10 * s.max()]
    res = minimize(lambda th: reduced_loss_oracle(ds, (th @ B).reshape(d, d)), np.zeros(B.shape[0]),
                   method="BFGS", options={"gtol": 1e-10})
    return (res.x @ B).reshape(d, d)


def exact_stationarity_holds(ds: Dataset, entries: dict, multipliers, listing) -> bool:
    """Onehot: W[t, k] == Σ λ_c (δ_i − δ_j)_t over constraints c = (k, i → j), rebuilt from the listing."""
    coef: dict[tuple[int, int], Fraction] = {}
    for lam, (k, i, j, _) in zip(multipliers, listing, strict=True):
        coef[(i, k)] = coef.get((i, k), Fraction(0)) + lam
        coef[(j, k)] = coef.get((j, k), Fraction(0)) - lam
    keys = set(coef) | set(entries)
    return all(coef.get(key, Fraction(0)) == entries.get(key, Fraction(0)) for key in keys)
