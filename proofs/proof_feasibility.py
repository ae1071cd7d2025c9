r"""The graph-SVM is feasible whenever the embeddings of the tokens are linearly independent.

Claim (docs/theory.md §4): with independent rows :math:`e_j`, the potential that gives each token its
level in the condensation of :math:`G_k` (longest path down to a sink) is realised by
:math:`W = E^{+} U E^{+\top}`, :math:`E^{+} = E^\top (E E^\top)^{-1}`, and meets every constraint.
"""

from __future__ import annotations

from collections.abc import Callable

import networkx as nx
import sympy as sp

from proofs._support import Derivation, latex
from symattn.data import Dataset
from symattn.embeddings import Embeddings
from symattn.examples import load_example
from symattn.graphs import priority_graphs
from symattn.symbolic import ConstraintKind, exact_embeddings, graph_svm_problem, symbolic_embeddings

__all__ = ["NAME", "TITLE", "check", "condensation_levels", "level_potential", "render"]

NAME = "feasibility"
TITLE = "Feasibility of the graph-SVM for independent embeddings"

Levels = Callable[[nx.DiGraph], dict[int, int]]


def condensation_levels(graph: nx.DiGraph) -> dict[int, int]:
    """Each token's level: the longest path from its SCC to a sink of the condensation.

    >>> condensation_levels(nx.DiGraph([(0, 1), (1, 0), (1, 2)]))
    {0: 1, 1: 1, 2: 0}
    """
    dag = nx.condensation(graph)
    level: dict[int, int] = {}
    for node in reversed(list(nx.topological_sort(dag))):
        level[node] = max((level[child] + 1 for child in dag.successors(node)), default=0)
    return {token: level[dag.graph["mapping"][token]] for token in graph.nodes}


def level_potential(ds: Dataset, levels: Levels = condensation_levels) -> sp.Matrix:
    """The K×K matrix :math:`U` with :math:`U_{jk}` the level of token j in :math:`G_k` (0 off the graph).

    >>> level_potential(Dataset.from_samples([([0, 1], 0)], vocab=2)).col(1).T
    Matrix([[1, 0]])
    """
    U = sp.zeros(ds.K, ds.K)
    for k, graph in priority_graphs(ds).items():
        for token, value in levels(graph.graph).items():
            U[token, k] = value
    return U


def check(*, levels: Levels = condensation_levels) -> Derivation:
    """Build the level potential, realise it by W, and verify every constraint exactly."""
    proof = Derivation(
        TITLE,
        r"If the rows of $E$ ($K \times d$) are linearly independent, let $U_{jk}$ be the level of "
        r"$j$'s SCC in the condensation of $G_k$ (longest path to a sink; 0 for tokens outside "
        r"$G_k$) and $W = E^{+} U E^{+\top}$ with $E^{+} = E^\top(EE^\top)^{-1}$. Then "
        r"$(e_i - e_j)^\top W e_k = U_{ik} - U_{jk}$, which is 0 inside an SCC and $\ge 1$ along "
        "every edge between SCCs: the graph-SVM is feasible.",
    )
    proof.say(
        r"Why it holds. $E E^{+} = I_K$, so $E W E^\top = U$, i.e. $e_j^\top W e_k = U_{jk}$. An "
        r"edge $i \to j$ of $G_k$ inside an SCC joins tokens of equal level; an edge between SCCs "
        r"is an edge $C_i \to C_j$ of the condensation, so "
        r"$\mathrm{level}(C_i) \ge \mathrm{level}(C_j) + 1$."
    )
    rows = [_case_row(proof, label, ds, symbolic, levels) for label, ds, symbolic in _cases()]
    proof.say(
        "Method. For each case the level potential $U$ is computed with networkx's condensation, "
        "$W$ is formed exactly and every constraint value $(e_i - e_j)^\\top W e_k$ is read from "
        "$E W E^\\top$ and compared with its bound. For the symbolic $E$ (nine independent symbols) "
        "$E^{+} = E^\\top \\operatorname{adj}(G)/\\det(G)$ with $G = EE^\\top$: the polynomial "
        "identity $G \\operatorname{adj}(G) = \\det(G) I$ and $E E^{+} = I$ are checked exactly, and "
        "$E W E^\\top = (EE^{+}) U (EE^{+})^\\top$."
    )
    proof.table(("case", "equalities met", "inequalities met", "levels of the last query's column"), rows)
    return proof


def _cases() -> tuple[tuple[str, Dataset, sp.Matrix | None], ...]:
    """The default example under three exact embeddings, and a 2-cycle under symbolic ones."""
    base = load_example("default")
    triangular = [[int(a <= j) for a in range(6)] for j in range(6)]
    wide = [[*row, j * j] for j, row in enumerate(triangular)]
    small = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1), ([1, 2], 1)], vocab=3)
    return (
        ("default example, one-hot", base, None),
        ("default example, triangular rows (d = K = 6)",
         base.with_embeddings(Embeddings.given(triangular)), None),
        ("default example, K = 6 rows in d = 7", base.with_embeddings(Embeddings.given(wide)), None),
        ("2-cycle above the query, symbolic E (3×3, det ≠ 0)", small, symbolic_embeddings(3, 3)),
    )


def _case_row(
    proof: Derivation, label: str, ds: Dataset, symbolic: sp.Matrix | None, levels: Levels
) -> tuple[object, ...]:
    """Realise the level potential of one case by W and check every constraint value exactly."""
    E = exact_embeddings(ds.embeddings) if symbolic is None else symbolic
    U = level_potential(ds, levels)
    gram = E * E.T
    if symbolic is None:
        pinv = E.T * gram.inv()
        W = pinv * U * pinv.T
        EWE = E * W * E.T
    else:
        adjugate, det = gram.adjugate(), gram.det()
        proof.require_zero(gram * adjugate - det * sp.eye(E.rows), f"{label}: G adj(G) = det(G) I")
        identity = (E * E.T * adjugate / det).applyfunc(sp.cancel)
        proof.require(identity == sp.eye(E.rows), f"{label}: E E^+ = I")
        EWE = identity * U * identity.T
    equalities = inequalities = 0
    for c in graph_svm_problem(ds).constraints:
        value = sp.expand(EWE[c.high, c.query] - EWE[c.low, c.query])
        where = f"{label}: edge {c.high}→{c.low} of G_{c.query}"
        proof.require(value.is_Integer, f"{where}: the constraint value {value} is an integer level gap")
        if c.kind is ConstraintKind.EQUALITY:
            equalities += 1
            proof.require(value == 0, f"{where}: equality holds (value {value})")
        else:
            inequalities += 1
            proof.require(value >= 1, f"{where}: margin {value} is at least 1")
    return label, equalities, inequalities, f"${latex(U.T.row(ds.K - 1))}$"



def render() -> str:
    """The Markdown page of this proof."""
    return check().markdown()


def test_feasibility() -> None:
    """The level potential meets every constraint for independent embeddings, also symbolic ones."""
    check()
