r"""The finite component of the cyclic example, in closed form.

Claim (docs/theory.md §5): for labels 0, 1, 1, 2, 2, 2 on the sequence [0, 1, 2] (query 2), stationarity
of the reduced loss on :math:`S_{fin}` forces :math:`\pi = (1/6, 1/3, 1/2)`, and
:math:`W^{fin} e_2 = \big(\tfrac13 \log\tfrac{\pi_j^2}{\pi_l \pi_m}\big)_j
= \big(\tfrac13\log\tfrac16, \tfrac13\log\tfrac43, \tfrac13\log\tfrac92\big)`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sympy as sp

from proofs._support import Derivation, exponentials_as_symbols, latex
from symattn.data import Dataset
from symattn.graphs import priority_graphs
from symattn.symbolic import dataset_loss, fin_basis

__all__ = ["CLAIMED_PI", "NAME", "TITLE", "check", "log_ratio_column", "render"]

NAME = "finite"
TITLE = "The finite component of the cyclic example"

ClosedForm = Callable[[Sequence[sp.Expr]], list[sp.Expr]]

CLAIMED_PI: tuple[sp.Rational, ...] = (sp.Rational(1, 6), sp.Rational(1, 3), sp.Rational(1, 2))


def log_ratio_column(pi: Sequence[sp.Expr]) -> list[sp.Expr]:
    r"""The zero-sum potentials with softmax ``pi``: :math:`u_j = \frac1m \sum_l \log(\pi_j / \pi_l)`.

    >>> log_ratio_column([sp.Rational(1, 3), sp.Rational(2, 3)])
    [-log(2)/2, log(2)/2]
    """
    m = len(pi)
    return [sp.log(sp.Mul(*(pi[j] / pi[other] for other in range(m)))) / m for j in range(m)]


def check(
    *, claimed_pi: Sequence[sp.Expr] = CLAIMED_PI, closed_form: ClosedForm = log_ratio_column
) -> Derivation:
    """Derive the stationarity conditions on S_fin, solve them, and verify W^fin by substitution."""
    proof = Derivation(
        TITLE,
        r"For the dataset of six samples $[0, 1, 2] \to y$ with $y = 0, 1, 1, 2, 2, 2$ (query 2), "
        r"$G_2$ is one SCC, $S_{fin} = \{u\, e_2^\top : u_0 + u_1 + u_2 = 0\}$, and the unique "
        r"minimiser of $L_{red}$ on $S_{fin}$ puts mass $\pi = (1/6, 1/3, 1/2)$, with "
        r"$W^{fin}_{j2} = \frac13 \log \frac{\pi_j^2}{\pi_l \pi_m}$ ($\{j, l, m\} = \{0, 1, 2\}$).",
    )
    ds, basis, coords, u, loss = _instance(proof)
    p, z, gradient = _stationarity(proof, ds, basis, coords, u, loss)
    _solve(proof, basis, p, claimed_pi)
    ratios = _closed_form(proof, claimed_pi, closed_form, gradient, z)
    _uniqueness(proof, basis, coords, u, loss, z, ratios)
    return proof


def _instance(
    proof: Derivation
) -> tuple[Dataset, tuple[sp.Matrix, ...], tuple[sp.Symbol, ...], list[sp.Expr], sp.Expr]:
    """The dataset, the symbolic basis of S_fin, a general W in it and the reduced loss."""
    ds = Dataset.from_samples([([0, 1, 2], y) for y in (0, 1, 1, 2, 2, 2)], vocab=3)
    graph = priority_graphs(ds)[2]
    proof.require(graph.sccs == ((0, 1, 2),), f"G_2 is one SCC (got {graph.sccs})")
    basis = fin_basis(ds)
    coords = sp.symbols(f"a_0:{len(basis)}", real=True)
    W = sum((a * B for a, B in zip(coords, basis, strict=True)), sp.zeros(3, 3))
    u = list(W.col(2))
    proof.require(
        sp.expand(sum(u)) == 0 and all(W[:, c].is_zero_matrix for c in (0, 1)),
        "S_fin coordinates give zero-sum potentials on column 2 only",
    )
    loss = dataset_loss(ds, W, reduced=True)
    proof.require_zero(loss - dataset_loss(ds, W), "the reduced loss is the full loss here (one SCC)")
    return ds, basis, coords, u, loss


def _stationarity(
    proof: Derivation, ds: Dataset, basis: tuple[sp.Matrix, ...], coords: tuple[sp.Symbol, ...],
    u: list[sp.Expr], loss: sp.Expr,
) -> tuple[list[sp.Rational], tuple[sp.Symbol, ...], list[sp.Expr]]:
    """Step 1: the derivatives of the reduced loss are <pi - p, B e_2>, derived by SymPy."""
    p = [sp.Rational(int((ds.labels == j).sum()), len(ds)) for j in range(3)]
    z = sp.symbols("z_0:3", positive=True)
    pi = [zj / sum(z) for zj in z]
    gradient = []
    for a, B in zip(coords, basis, strict=True):
        derived, _ = exponentials_as_symbols(sp.diff(loss, a), dict(enumerate(u)))
        column = B.col(2)
        claimed = sum(((pi[j] - p[j]) * column[j] for j in range(3)), sp.S.Zero)
        proof.require_zero(derived - claimed, f"dL/d{a} = <pi - p, B e_2>")
        gradient.append(derived)
    proof.say(
        r"Step 1 (stationarity, by differentiation). $S_{fin}$ has the basis "
        + ", ".join(f"${latex(B.col(2).T)}\\,e_2^\\top$" for B in basis)
        + r" (`fin_basis`). With $W = \sum_m a_m B_m$ and $z_j = e^{u_j}$, SymPy's derivatives "
        r"of $L_{red}$ are exactly $\partial L / \partial a_m = \langle \pi - p, B_m e_2\rangle$ "
        f"where $p = {latex(sp.Matrix(p).T)}$ are the label frequencies."
    )
    return p, z, gradient


def _solve(
    proof: Derivation, basis: tuple[sp.Matrix, ...], p: list[sp.Rational], claimed_pi: Sequence[sp.Expr]
) -> None:
    """Step 2: stationarity is linear in pi; its unique solution is the claimed one."""
    P = sp.symbols("pi_0:3", positive=True)
    equations = [sum(((P[j] - p[j]) * B.col(2)[j] for j in range(3)), sp.S.Zero) for B in basis]
    (solution,) = sp.linsolve([*equations, sum(P) - 1], P)
    proof.require(list(solution) == list(claimed_pi), f"stationarity forces pi = {list(solution)}")
    proof.say(
        r"Step 2 (solve). Stationarity is linear in $\pi$: $\langle \pi - p, B_m e_2\rangle = 0$ for "
        r"both $m$, with $\sum_j \pi_j = 1$, has the unique solution "
        f"$\\pi = {latex(sp.Matrix(list(solution)).T)}$: the attention reproduces the label frequencies."
    )


def _closed_form(
    proof: Derivation, claimed_pi: Sequence[sp.Expr], closed_form: ClosedForm, gradient: list[sp.Expr],
    z: tuple[sp.Symbol, ...],
) -> list[sp.Expr]:
    """Step 3: the closed form lies in S_fin, reproduces pi and zeroes the gradient."""
    column = closed_form(list(claimed_pi))
    proof.require(sp.simplify(sum(column)) == 0, "the closed form sums to zero, so it lies in S_fin")
    ratios = [sp.simplify(sp.exp(column[j] - column[2])) for j in range(3)]
    proof.require(
        all(ratios[j] == claimed_pi[j] / claimed_pi[2] for j in range(3)),
        f"exp(u_j - u_2) = pi_j / pi_2 at the closed form (got {ratios})",
    )
    t = sp.Symbol("t", positive=True)
    for m, g in enumerate(gradient):
        proof.require_zero(g.xreplace({zj: t * zj for zj in z}) - g, f"dL/da_{m} depends on pi only")
        proof.require_zero(g.xreplace(dict(zip(z, ratios, strict=True))), f"dL/da_{m} = 0 at W^fin")
    Wfin = sp.zeros(3, 3)
    Wfin[:, 2] = sp.Matrix(column)
    proof.say(
        r"Step 3 (closed form). On $S_{fin}$ the potentials have zero sum, and "
        r"$\pi_j \propto e^{u_j}$, so $u_j = \log \pi_j - \frac13\sum_l \log \pi_l$, a logarithm of "
        r"ratios:"
    )
    proof.show(
        r"W^{fin} = " + latex(Wfin) + r",\qquad W^{fin}_{j2} = \frac13\log\frac{\pi_j^2}{\pi_l\,\pi_m}."
    )
    proof.say(
        r"Verified by substitution: the column sums to 0; $e^{u_j - u_2} = \pi_j/\pi_2$ exactly; "
        r"the derived gradient is invariant under $z \mapsto t z$ and vanishes at "
        r"$z_j = e^{u_j - u_2}$, i.e. at $W^{fin}$."
    )
    return ratios


def _uniqueness(
    proof: Derivation, basis: tuple[sp.Matrix, ...], coords: tuple[sp.Symbol, ...], u: list[sp.Expr],
    loss: sp.Expr, z: tuple[sp.Symbol, ...], ratios: list[sp.Expr],
) -> None:
    """Step 4: the Hessian on S_fin at W^fin is positive definite."""
    t = sp.Symbol("t", positive=True)
    at_fin = dict(zip(z, ratios, strict=True))
    hessian = sp.zeros(len(basis), len(basis))
    for r in range(len(basis)):
        for c in range(len(basis)):
            second, _ = exponentials_as_symbols(sp.diff(loss, coords[r], coords[c]), dict(enumerate(u)))
            scaled = second.xreplace({zj: t * zj for zj in z})
            proof.require_zero(scaled - second, "the Hessian depends on pi only")
            hessian[r, c] = sp.cancel(second.xreplace(at_fin))
    proof.require(
        hessian[0, 0] > 0 and hessian.det() > 0, f"the Hessian on S_fin {hessian} is positive definite"
    )
    proof.say(
        "Step 4 (uniqueness). The Hessian of $L_{red}$ in the coordinates $a$ at $W^{fin}$ is "
        f"${latex(hessian)}$, positive definite (positive corner and determinant "
        f"${latex(hessian.det())}$); $L_{{red}}$ is convex, so $W^{{fin}}$ is its unique minimiser "
        "on $S_{fin}$."
    )


def render() -> str:
    """The Markdown page of this proof."""
    return check().markdown()


def test_finite() -> None:
    """The cyclic example's finite component has pi = (1/6, 1/3, 1/2) and the log-ratio closed form."""
    check()
