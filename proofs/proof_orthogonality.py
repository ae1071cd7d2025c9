r"""The graph-SVM direction is orthogonal to the cyclic subspace.

Claim (docs/theory.md §5): every :math:`W` meeting the equality constraints of the graph-SVM, in
particular :math:`W^{svm}`, satisfies :math:`\langle W, (e_i - e_j) e_k^\top \rangle = 0` for all
:math:`i \asymp_k j`, i.e. :math:`W^{svm} \perp S_{fin}`.
"""

from __future__ import annotations

from collections.abc import Callable

import networkx as nx
import sympy as sp

from proofs._support import Derivation, latex
from symattn.embeddings import Embeddings
from symattn.examples import load_example
from symattn.graphs import priority_graphs
from symattn.symbolic import ConstraintKind, SymbolicConstraint, exact_embeddings, graph_svm_problem

__all__ = ["NAME", "TITLE", "check", "render"]

NAME = "orthogonality"
TITLE = "W^svm is orthogonal to S_fin"

Selector = Callable[[SymbolicConstraint], bool]

_TRIANGULAR = tuple(tuple(int(a <= j) for a in range(6)) for j in range(6))


def check(*, is_equality: Selector = lambda c: c.kind is ConstraintKind.EQUALITY) -> Derivation:
    """Solve the equality constraints in general and show every S_fin direction is orthogonal."""
    proof = Derivation(
        TITLE,
        r"If $W$ satisfies $(e_i - e_j)^\top W e_k = 0$ for every edge $i \to j$ of $G_k$ inside "
        r"an SCC, then $\langle W, (e_i - e_j) e_k^\top\rangle_F = 0$ for every pair $i \asymp_k j$. "
        r"$W^{svm}$ is feasible, so $W^{svm} \perp S_{fin}$.",
    )
    proof.say(
        r"Why it holds. $\langle W, (e_i - e_j) e_k^\top\rangle_F = \mathrm{tr}(W^\top (e_i - e_j) "
        r"e_k^\top) = (e_i - e_j)^\top W e_k$, the constraint's own left side. For $i \asymp_k j$ a "
        "path $i \\rightsquigarrow j$ stays inside the SCC, so this is a sum of equality-constraint "
        "terms (see the reachability proof), hence 0."
    )
    proof.say(
        "Method. On the embedded default example (three queries: one SCC of three tokens, a chain, "
        "a 2-cycle above two tokens) with one-hot embeddings and with the independent but not "
        "orthogonal rows $e_j = \\sum_{a \\le j} \\epsilon_a$, the equality constraints are solved "
        "exactly for a general symbolic $W$ (`linsolve`, free parameters kept), and the inner "
        "product with every same-SCC pair direction, for every pair found by networkx, must "
        "expand to 0."
    )
    rows = []
    base = load_example("default")
    for label, embeddings in (
        ("one-hot", base.embeddings),
        ("triangular (independent)", Embeddings.given([list(r) for r in _TRIANGULAR])),
    ):
        ds = base.with_embeddings(embeddings)
        E = exact_embeddings(ds.embeddings)
        problem = graph_svm_problem(ds)
        W = problem.W
        equations = [c.expr for c in problem.constraints if is_equality(c)]
        (solution,) = sp.linsolve(equations, list(W))
        general = sp.Matrix(W.rows, W.cols, list(solution))
        free = len(set().union(*(v.free_symbols for v in solution)))
        pairs = 0
        for k, graph in priority_graphs(ds).items():
            for component in nx.strongly_connected_components(graph.graph):
                for i in sorted(component):
                    for j in sorted(component):
                        if i == j:
                            continue
                        pairs += 1
                        direction = (E[i, :] - E[j, :]).T * E[k, :]
                        inner = sum((a * b for a, b in zip(general, direction, strict=True)), sp.S.Zero)
                        proof.require_zero(inner, f"{label}: <W, (e_{i} - e_{j}) e_{k}^T> = 0")
        rows.append((label, len(equations), free, pairs))
        if label == "one-hot":
            column = general.col(base.vocab.index("c"))
    proof.table(("embeddings", "equality constraints", "free parameters left in $W$", "pairs checked"), rows)
    proof.say(
        "For one-hot embeddings the general feasible column of query `c` (tokens a, b, c in one "
        f"SCC) is ${latex(column.T)}$: constant on the SCC, so orthogonal to every "
        r"$(e_i - e_j)e_c^\top$."
    )
    return proof


def render() -> str:
    """The Markdown page of this proof."""
    return check().markdown()


def test_orthogonality() -> None:
    """Feasible weights (so W^svm) are orthogonal to S_fin on one-hot and non-orthogonal embeddings."""
    check()
