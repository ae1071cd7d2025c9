r"""The Hessian in the potentials, its positive semidefiniteness, and convexity of the loss in W.

Claim (docs/theory.md §2): in the potentials :math:`u_j`,
:math:`\nabla_u^2 \ell = \operatorname{diag}(\pi) - \pi\pi^\top`, which is positive semidefinite
with null direction the constant shift :math:`\mathbf 1`; since :math:`u` is linear in :math:`W`,
:math:`L` is convex in :math:`W`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import sympy as sp

from proofs._support import Derivation, exponentials_as_symbols, latex
from symattn.symbolic import (
    compressed_log_loss,
    log_loss,
    matrix_hessian,
    sequence_scores,
    symbolic_embeddings,
    weight_matrix,
)

__all__ = ["NAME", "TITLE", "check", "potential_hessian", "render"]

NAME = "hessian"
TITLE = "Hessian, positive semidefiniteness and convexity"

HessianFormula = Callable[[sp.Matrix], sp.Matrix]

_SIZE = 4
_W_CASES: tuple[tuple[tuple[int, ...], int, bool, int], ...] = (
    ((0, 1, 1, 2), 0, False, 3),
    ((0, 1, 1, 2), 2, True, 2),
)


def potential_hessian(pi: sp.Matrix) -> sp.Matrix:
    r"""The claimed Hessian :math:`\operatorname{diag}(\pi) - \pi\pi^\top` for a column :math:`\pi`.

    >>> potential_hessian(sp.Matrix([sp.S.Half, sp.S.Half]))
    Matrix([
    [ 1/4, -1/4],
    [-1/4,  1/4]])
    """
    return sp.diag(*pi) - pi * pi.T


def check(*, hessian_formula: HessianFormula = potential_hessian, size: int = _SIZE) -> Derivation:
    """Derive the Hessian in the potentials, prove it PSD with its null direction, lift it to W."""
    proof = Derivation(
        TITLE,
        r"For $\ell(u) = \log\sum_j c_j e^{u_j} - u_y - \log c_y$: "
        r"$\nabla^2_u \ell = \mathrm{diag}(\pi) - \pi\pi^\top \succeq 0$ with "
        r"$v^\top(\mathrm{diag}(\pi) - \pi\pi^\top) v = \sum_j \pi_j (v_j - \bar v)^2$, "
        r"$\bar v = \sum_j \pi_j v_j$; its null space is the constant shift $\mathbf 1$. "
        r"Since $u_j = e_j^\top W e_k$ is linear in $W$, $\nabla^2_W \ell = A^\top (\mathrm{diag}(\pi) "
        r"- \pi\pi^\top) A \succeq 0$ and $L$ is convex in $W$.",
    )
    _differentiate(proof, hessian_formula, size)
    _semidefinite(proof, hessian_formula, size)
    _lift_to_weights(proof, hessian_formula)
    proof.say(
        "Hence every $\\ell_i$ is convex in $W$ and so is $L = \\frac1n\\sum_i \\ell_i$. "
        f"Example for $m = 3$: ${latex(hessian_formula(sp.Matrix(sp.symbols('pi_0:3', positive=True))))}$."
    )
    return proof


def _differentiate(proof: Derivation, hessian_formula: HessianFormula, size: int) -> None:
    """Step 1: SymPy's Hessian of the compressed loss is diag(pi) - pi pi^T."""
    u = sp.Matrix([sp.Symbol(f"u_{j}", real=True) for j in range(size)])
    c = [sp.Symbol(f"c_{j}", positive=True) for j in range(size)]
    loss = compressed_log_loss(dict(enumerate(u)), dict(enumerate(c)), 0)
    derived = sp.hessian(loss, list(u))
    total = sum((c[j] * sp.exp(u[j]) for j in range(size)), sp.S.Zero)
    pi = sp.Matrix([c[j] * sp.exp(u[j]) / total for j in range(size)])
    difference, _ = exponentials_as_symbols(derived - hessian_formula(pi), dict(enumerate(u)))
    proof.require_zero(difference, f"derived Hessian in {size} potentials = diag(pi) - pi pi^T")
    proof.say(
        f"Step 1 (differentiation). With {size} potentials, symbolic counts $c_j > 0$ and label "
        r"$y = 0$, SymPy's Hessian of $\ell(u)$, with $z_j = e^{u_j}$, is exactly "
        r"$\mathrm{diag}(\pi) - \pi\pi^\top$ for $\pi_j = c_j z_j / \sum_l c_l z_l$ "
        "(it does not depend on $y$: the label enters $\\ell$ linearly)."
    )


def _semidefinite(proof: Derivation, hessian_formula: HessianFormula, size: int) -> None:
    """Steps 2 and 3: the quadratic form is a weighted sum of squares with the null direction 1."""
    p = [sp.Symbol(f"pi_{j}", positive=True) for j in range(size - 1)]
    p.append(1 - sum(p, sp.S.Zero))
    P = sp.Matrix(p)
    H = hessian_formula(P)
    v = sp.Matrix([sp.Symbol(f"v_{j}", real=True) for j in range(size)])
    mean = sum((P[j] * v[j] for j in range(size)), sp.S.Zero)
    squares = sum((P[j] * (v[j] - mean) ** 2 for j in range(size)), sp.S.Zero)
    proof.require_zero((v.T * H * v)[0, 0] - squares, "v^T H v = sum_j pi_j (v_j - vbar)^2 when sum pi = 1")
    proof.say(
        r"Step 2 (positive semidefinite). Writing $\pi_{m} = 1 - \sum_{j<m} \pi_j$ "
        f"($m = {size - 1}$), the quadratic form is a weighted sum of squares, exactly:"
    )
    proof.show(
        r"v^\top (\mathrm{diag}(\pi) - \pi\pi^\top) v"
        r" = \sum_j \pi_j \Big(v_j - \sum_l \pi_l v_l\Big)^2 \ge 0."
    )
    ones = sp.ones(size, 1)
    proof.require_zero(H * ones, "(diag(pi) - pi pi^T) 1 = 0")
    proof.say(
        r"Step 3 (null direction). "
        r"$(\mathrm{diag}(\pi) - \pi\pi^\top)\mathbf 1 = \pi - \pi(\mathbf 1^\top\pi) = 0$. "
        r"Conversely if the form vanishes then every $v_j = \bar v$ (all $\pi_j > 0$), so the null "
        r"space is exactly $\mathrm{span}\{\mathbf 1\}$: shifting every potential of a query by the "
        "same amount changes no probability."
    )


def _lift_to_weights(proof: Derivation, hessian_formula: HessianFormula) -> None:
    """Step 4: the Hessian in W is A^T (diag(pi) - pi pi^T) A, checked on small sequences."""
    t = sp.Symbol("t", real=True)
    rows = []
    for tokens, label, symbolic, d in _W_CASES:
        K = max(tokens) + 1
        E = symbolic_embeddings(K, d) if symbolic else sp.eye(d)
        W = weight_matrix(d)
        k = tokens[-1]
        present = sorted(set(tokens))
        counts = Counter(tokens)
        scores = sequence_scores(W, E, list(tokens))
        potentials = {x: scores[i] for i, x in enumerate(tokens)}
        A = sp.Matrix([list((E[j, :].T * E[k, :]).reshape(1, d * d)) for j in present])
        mass_total = sum((counts[j] * sp.exp(potentials[j]) for j in present), sp.S.Zero)
        pi_w = sp.Matrix([counts[j] * sp.exp(potentials[j]) / mass_total for j in present])
        derived_w = matrix_hessian(log_loss(W, E, list(tokens), label), W)
        lifted = A.T * hessian_formula(pi_w) * A
        residue, _ = exponentials_as_symbols(derived_w - lifted, potentials)
        where = f"{'symbolic' if symbolic else 'one-hot'} d={d}, tokens {list(tokens)}, label {label}"
        proof.require_zero(residue, f"Hessian in W = A^T (diag(pi) - pi pi^T) A for {where}")
        if not symbolic:
            shift = W + t * sp.ones(d, 1) * E[k, :]
            moved = log_loss(shift, E, list(tokens), label) - log_loss(W, E, list(tokens), label)
            proof.require_zero(
                sp.expand_log(sp.expand(moved, power_exp=True), force=True),
                f"loss invariant under W + t 1 e_k^T for {where}",
            )
        rows.append((list(tokens), label, "symbolic" if symbolic else "one-hot", d, f"{d * d}×{d * d}"))
    proof.say(
        r"Step 4 (convexity in $W$). $u_j = e_j^\top W e_k = \langle e_j e_k^\top, W\rangle$, so with "
        r"$A$ the matrix whose rows are $\mathrm{vec}(e_j e_k^\top)$, $\nabla^2_W \ell = A^\top "
        r"(\mathrm{diag}(\pi) - \pi\pi^\top) A \succeq 0$. Checked against SymPy's full Hessian in "
        r"the $d^2$ entries of $W$ (row-major), and, for one-hot embeddings, the loss is invariant "
        r"under $W \mapsto W + t\,\mathbf 1 e_k^\top$ (the null direction in $W$):"
    )
    proof.table(("sequence", "label", "embeddings", "$d$", "Hessian checked"), rows)


def render() -> str:
    """The Markdown page of this proof."""
    return check().markdown()


def test_hessian() -> None:
    """The Hessian identity, PSD certificate, null direction and lift to W hold."""
    check()
