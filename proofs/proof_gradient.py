r"""The gradient of the log-loss, derived by differentiation, and its compressed token form.

Claim (docs/theory.md §2): for :math:`\ell(W) = -\log \pi_y`,
:math:`\nabla_W \ell = X^\top (s - q)\, \bar x^\top` with :math:`q_t = s_t 1[x_t = y] / \pi_y` and
:math:`\bar x = e_k` the query's embedding; in token form
:math:`\nabla_W \ell = \sum_j (\pi_j - 1[j = y])\, e_j e_k^\top`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import sympy as sp

from proofs._support import Derivation, exponentials_as_symbols, latex
from symattn.symbolic import (
    log_loss,
    matrix_gradient,
    sequence_scores,
    softmax,
    symbolic_embeddings,
    token_mass,
    weight_matrix,
)

__all__ = ["CASES", "NAME", "TITLE", "Case", "check", "render", "sequence_gradient", "token_gradient"]

NAME = "gradient"
TITLE = "Gradient of the log-loss"

GradientFormula = Callable[[sp.Matrix, sp.Matrix, sp.Matrix, sp.Matrix], sp.Matrix]
TokenFormula = Callable[[sp.Matrix, Mapping[int, sp.Expr], int, int], sp.Matrix]


@dataclass(frozen=True)
class Case:
    """One sequence (query last), its label, and the embeddings: one-hot (``d = K``) or symbolic K×d."""

    tokens: tuple[int, ...]
    label: int
    symbolic: bool
    d: int

    def embeddings(self) -> sp.Matrix:
        """The embedding matrix of the case."""
        K = max(self.tokens) + 1
        return symbolic_embeddings(K, self.d) if self.symbolic else sp.eye(self.d)


CASES: tuple[Case, ...] = (
    Case((0, 1, 1, 2), 1, False, 3),
    Case((2, 0, 2, 2), 2, False, 3),
    Case((1, 0), 0, False, 2),
    Case((1,), 1, False, 2),
    Case((0, 1, 1, 2), 0, True, 2),
    Case((0, 2, 1, 2), 2, True, 3),
)


def sequence_gradient(X: sp.Matrix, s: sp.Matrix, q: sp.Matrix, query: sp.Matrix) -> sp.Matrix:
    r"""The claimed gradient :math:`X^\top (s - q) \bar x^\top` (``query`` is the column :math:`\bar x`).

    >>> sequence_gradient(sp.eye(2), sp.Matrix([1, 0]), sp.Matrix([0, 1]), sp.Matrix([0, 1]))
    Matrix([
    [0,  1],
    [0, -1]])
    """
    return X.T * (s - q) * query.T


def token_gradient(E: sp.Matrix, mass: Mapping[int, sp.Expr], label: int, query: int) -> sp.Matrix:
    r"""The claimed token form :math:`\sum_j (\pi_j - 1[j = y]) e_j e_k^\top`.

    >>> token_gradient(sp.eye(2), {0: sp.Rational(1, 4), 1: sp.Rational(3, 4)}, 1, 1)
    Matrix([
    [0,  1/4],
    [0, -1/4]])
    """
    out = sp.zeros(E.cols, E.cols)
    for j, pi in mass.items():
        out += (pi - (1 if j == label else 0)) * E[j, :].T * E[query, :]
    return out


def check(
    *,
    gradient_formula: GradientFormula = sequence_gradient,
    token_formula: TokenFormula = token_gradient,
    cases: Sequence[Case] = CASES,
) -> Derivation:
    """Derive the gradient of every case by differentiation and compare it with both formulas."""
    proof = Derivation(
        TITLE,
        r"For $\ell(W) = -\log \pi_y$ with $\pi_j = \sum_{t: x_t = j} s_t$, $s = \mathrm{softmax}(a)$, "
        r"$a_t = e_{x_t}^\top W e_k$: $\nabla_W \ell = X^\top (s - q)\,\bar x^\top$ with "
        r"$q_t = s_t 1[x_t = y]/\pi_y$, $\bar x = e_k$; equivalently "
        r"$\nabla_W \ell = \sum_j (\pi_j - 1[j = y])\, e_j e_k^\top$.",
    )
    proof.say(
        "Method. For each case below, $W$ is a matrix of $d^2$ independent real symbols and the "
        "embeddings are either one-hot or a matrix of independent real symbols. The loss is built "
        "from the positions (repeated tokens kept apart), differentiated entry by entry with "
        "SymPy, and compared with both closed forms. Each $e^{m a_j}$ is replaced by $z_j^m$ "
        "(positive symbols), so each comparison is an identity of rational functions, decided "
        "exactly by `cancel`."
    )
    proof.say(
        r"Why it holds. $\partial a_t / \partial W = e_{x_t} e_k^\top$ and "
        r"$\partial(-\log \pi_y)/\partial a_t = s_t - s_t 1[x_t = y]/\pi_y = s_t - q_t$; "
        r"summing over $t$ gives $X^\top (s - q) e_k^\top$. Grouping positions by token, "
        r"$\sum_{t: x_t = j} s_t = \pi_j$ and $\sum_{t: x_t = j} q_t = 1[j = y]$."
    )
    rows = []
    example: tuple[list[int], int, sp.Matrix] | None = None
    for case in cases:
        row, candidate = _check_case(proof, case, gradient_formula, token_formula, example is None)
        rows.append(row)
        example = example or candidate
    proof.table(
        ("tokens $x_1..x_T$", "label $y$", "embeddings", "$d$", "derived = sequence form", "= token form"),
        rows,
    )
    if example is not None:
        tokens, label, in_z = example
        proof.say(
            f"Example: the derived gradient for the sequence {tokens} with label {label} "
            r"(one-hot, $z_j = e^{u_j}$ with $u_j = W_{j k}$):"
        )
        proof.show(r"\nabla_W \ell = " + latex(in_z))
    proof.say(
        "Every case of the table holds exactly. The default cases include repeated tokens, a "
        "repeated query that is also the label, a single-token sequence (zero gradient) and "
        "symbolic embeddings with more tokens than dimensions ($K = 3 > d = 2$)."
    )
    return proof


def _check_case(
    proof: Derivation, case: Case, gradient_formula: GradientFormula, token_formula: TokenFormula,
    want_example: bool,
) -> tuple[tuple[object, ...], tuple[list[int], int, sp.Matrix] | None]:
    """Differentiate one case and compare with both formulas; its table row and, if wanted, the example."""
    E = case.embeddings()
    W = weight_matrix(case.d)
    tokens = list(case.tokens)
    scores = sequence_scores(W, E, tokens)
    s = softmax(scores)
    mass = token_mass(W, E, tokens)
    derived = matrix_gradient(log_loss(W, E, tokens, case.label), W)
    q = sp.Matrix([s[t] * (1 if x == case.label else 0) / mass[case.label] for t, x in enumerate(tokens)])
    X = sp.Matrix([list(E[x, :]) for x in tokens])
    claimed = gradient_formula(X, s, q, E[tokens[-1], :].T)
    compressed = token_formula(E, mass, case.label, tokens[-1])
    exponents = {x: scores[t] for t, x in enumerate(tokens)}
    kind = "symbolic" if case.symbolic else "one-hot"
    where = f"tokens {tokens}, label {case.label}, {kind} d={case.d}"
    first, _ = exponentials_as_symbols(derived - claimed, exponents)
    proof.require_zero(first, f"derived gradient = X^T (s - q) e_k^T for {where}")
    second, _ = exponentials_as_symbols(derived - compressed, exponents)
    proof.require_zero(second, f"derived gradient = token form for {where}")
    example = None
    if want_example and not case.symbolic and len(set(tokens)) > 2:
        in_z, _ = exponentials_as_symbols(derived, exponents)
        example = (tokens, case.label, in_z.applyfunc(sp.factor))
    return (tokens, case.label, kind, case.d, "exact", "exact"), example



def render() -> str:
    """The Markdown page of this proof."""
    return check().markdown()


def test_gradient() -> None:
    """The gradient identity and its token form hold on every case."""
    check()
