r"""Count compression of the log-loss: a sample depends only on its token counts.

Claim (docs/theory.md §2): with counts :math:`c_j` and potentials :math:`u_j = e_j^\top W e_k`,
:math:`-\log \pi_y = \operatorname{logsumexp}_j (u_j + \log c_j) - u_y - \log c_y`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence

import sympy as sp

from proofs._support import Derivation, latex
from symattn.symbolic import compressed_log_loss

__all__ = ["CASES", "NAME", "TITLE", "check", "positional_log_loss", "render"]

NAME = "compression"
TITLE = "Count compression of the log-loss"

Compressed = Callable[[Mapping[int, sp.Expr], Mapping[int, sp.Expr | int], int], sp.Expr]

CASES: tuple[tuple[tuple[int, ...], int], ...] = (
    ((0, 1, 1, 2), 1),
    ((2, 2, 0, 2, 1, 1, 1), 1),
    ((0, 1, 2, 3), 2),
    ((3, 3, 3), 3),
    ((1, 0, 0, 0, 1), 0),
)


def positional_log_loss(tokens: Sequence[int], label: int, u: Mapping[int, sp.Expr]) -> sp.Expr:
    r""":math:`-\log\big(\sum_{t: x_t = y} e^{u_{x_t}} / \sum_t e^{u_{x_t}}\big)`, position by position.

    >>> positional_log_loss([0, 1, 1], 1, {0: sp.S.Zero, 1: sp.S.Zero})
    -log(2/3)
    """
    top = sum((sp.exp(u[x]) for x in tokens if x == label), sp.S.Zero)
    bottom = sum((sp.exp(u[x]) for x in tokens), sp.S.Zero)
    return -sp.log(top / bottom)


def check(*, compressed: Compressed = compressed_log_loss, cases: Sequence = CASES) -> Derivation:
    """Compare the positional log-loss with the compressed form on every case, exactly."""
    proof = Derivation(
        TITLE,
        r"For a sequence with distinct tokens $j$ occurring $c_j$ times and potentials "
        r"$u_j = e_j^\top W e_k$, $-\log \pi_y = \log\sum_j e^{u_j + \log c_j} - u_y - \log c_y$. "
        "So a sample depends only on (query, label, counts), and the loss is convex in $W$ "
        "(a log-sum-exp of linear functions minus a linear function).",
    )
    proof.say(
        r"Why it holds. All copies of a token share one score, so "
        r"$\sum_t e^{a_t} = \sum_j c_j e^{u_j} = \sum_j e^{u_j + \log c_j}$ and "
        r"$\sum_{t: x_t = y} e^{a_t} = c_y e^{u_y}$; take $-\log$ of their ratio."
    )
    proof.say(
        "Method. For each sequence the potentials $u_j$ are independent real symbols; the loss "
        "built position by position and the compressed form are subtracted, logarithms of "
        "products are expanded (all arguments are positive), and the difference must expand to 0."
    )
    rows = []
    for tokens, label in cases:
        u = {j: sp.Symbol(f"u_{j}", real=True) for j in sorted(set(tokens))}
        counts = Counter(tokens)
        lhs = positional_log_loss(tokens, label, u)
        rhs = compressed(u, {j: sp.Integer(counts[j]) for j in u}, label)
        difference = sp.expand(sp.expand_log(lhs - rhs, force=True))
        proof.require_zero(difference, f"positional = compressed log-loss for {list(tokens)}, label {label}")
        rows.append((list(tokens), label, dict(sorted(counts.items())), f"${latex(rhs)}$"))
    proof.table(("sequence", "label $y$", "counts $c_j$", "compressed loss (equal, exactly)"), rows)
    return proof


def render() -> str:
    """The Markdown page of this proof."""
    return check().markdown()


def test_compression() -> None:
    """The compressed log-loss equals the positional one on every case."""
    check()
