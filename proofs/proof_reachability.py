r"""Constraining the edges of each token-priority graph is the same as constraining every reachable pair.

Claim (docs/theory.md §4): the graph-SVM with one constraint per edge of :math:`G_k` has the same
feasible set, hence the same solution, as the one with a constraint for every pair
:math:`i \rightsquigarrow j`: :math:`(e_i - e_j)^\top W e_k = 0` if :math:`i \asymp_k j`,
:math:`\ge 1` if :math:`i \succ_k j` (path-sum argument).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping

import networkx as nx
import sympy as sp

from proofs._support import Derivation
from symattn.graphs import realisable_graph, realise
from symattn.symbolic import ConstraintKind, SymbolicConstraint, graph_svm_problem

__all__ = ["GRAPHS", "NAME", "TITLE", "check", "render"]

NAME = "reachability"
TITLE = "Edge constraints are all-reachable-pair constraints"

EdgeBound = Callable[[SymbolicConstraint], sp.Expr]

GRAPHS: Mapping[str, tuple[int, list[tuple[int, int]]]] = {
    "path 0→1→2→3": (4, [(0, 1), (1, 2), (2, 3)]),
    "cycle 0→1→2→0 above 3": (4, [(0, 1), (1, 2), (2, 0), (2, 3)]),
}


def check(*, edge_bound: EdgeBound = lambda c: c.bound) -> Derivation:
    """Prove, for every reachable pair, that the edge constraints imply the pair constraint."""
    proof = Derivation(
        TITLE,
        r"If every edge $a \to b$ of $G_k$ satisfies $(e_a - e_b)^\top W e_k = 0$ (same SCC) or "
        r"$\ge 1$ (across SCCs), then every reachable pair $i \rightsquigarrow j$ satisfies "
        r"$(e_i - e_j)^\top W e_k = 0$ if $i \asymp_k j$ and $\ge 1$ if $i \succ_k j$. Edges are "
        "pairs, so the two feasible sets coincide and so do the minimisers.",
    )
    proof.say(
        r"Path sum. For a path $i = v_0 \to v_1 \to \dots \to v_m = j$, "
        r"$(e_i - e_j)^\top W e_k = \sum_{r=1}^{m} (e_{v_{r-1}} - e_{v_r})^\top W e_k$ (telescoping). "
        r"Write each edge term as its bound plus a slack: $b_e + \sigma_e$ with $\sigma_e \ge 0$ on "
        r"inequalities and $\sigma_e = 0$ on equalities. If $i \asymp_k j$ every vertex of the path "
        "lies in their SCC (it is reached from $i$ and reaches $j$, which reaches $i$), so all edges "
        "are equalities and the sum is 0. If $i \\succ_k j$ the path leaves the SCC of $i$, so some "
        r"edge crosses SCCs and the sum is $\ge 1 + \sum_e \sigma_e \ge 1$."
    )
    proof.say(
        "Method. For each graph below the dataset realising it is built, the graph-SVM constraints "
        "are read from `graph_svm_problem` (symbolic $W$), every ordered reachable pair is found by "
        "networkx (independently of the package's SCC code), the telescoping identity is checked "
        "by exact expansion, and the slack form is checked to be $0$ (same SCC) or a sum of "
        "nonnegative slacks plus a constant $\\ge 1$ (strictly higher)."
    )
    rows = []
    for label, (query, edges) in GRAPHS.items():
        rows.append(_graph_row(proof, label, query, edges, edge_bound))
    proof.table(
        ("graph $G_k$", "query $k$", "edges", "equality edges", "same-SCC pairs", "strict pairs"), rows
    )
    proof.say(
        "Each reachable pair of both graphs is implied by the edge constraints, so constraining "
        "edges only loses nothing and adds nothing."
    )
    return proof


def _graph_row(
    proof: Derivation, label: str, query: int, edges: list[tuple[int, int]], edge_bound: EdgeBound
) -> tuple[object, ...]:
    """Every reachable pair of one realised graph is implied by its edge constraints."""
    graph = realisable_graph(nx.DiGraph(edges), query)
    problem = graph_svm_problem(realise({query: graph}))
    W = problem.W
    by_edge = {(c.high, c.low): c for c in problem.constraints if c.query == query}
    proof.require(set(by_edge) == set(graph.edges), f"{label}: one constraint per edge")
    slack = {e: sp.Symbol(f"sigma_{e[0]}{e[1]}", nonnegative=True) for e in by_edge}
    same = strict = 0
    for i in sorted(graph.nodes):
        for j in sorted(nx.descendants(graph, i)):
            if _pair_implied(proof, label, graph, query, W, by_edge, slack, edge_bound, i, j):
                same += 1
            else:
                strict += 1
    kinds = [c.kind for c in by_edge.values()]
    return label, query, len(by_edge), kinds.count(ConstraintKind.EQUALITY), same, strict


def _pair_implied(
    proof: Derivation, label: str, graph: nx.DiGraph, query: int, W: sp.Matrix,
    by_edge: dict[tuple[int, int], SymbolicConstraint], slack: dict[tuple[int, int], sp.Symbol],
    edge_bound: EdgeBound, i: int, j: int,
) -> bool:
    """Telescope the pair i ⇝ j along a path; True when it is a same-SCC pair (forced to 0)."""
    path = nx.shortest_path(graph, i, j)
    steps = list(itertools.pairwise(path))
    pair = sp.expand(W[i, query] - W[j, query])
    proof.require_zero(
        pair - sum((by_edge[e].expr for e in steps), sp.S.Zero),
        f"{label}: telescoping along {path}",
    )
    in_scc = nx.has_path(graph, j, i)
    form = sp.expand(
        sum(
            (edge_bound(by_edge[e]) + (slack[e] if by_edge[e].kind is ConstraintKind.INEQUALITY
                                       else 0) for e in steps),
            sp.S.Zero,
        )
    )
    if in_scc:
        proof.require(form == 0, f"{label}: pair {i}≍{j} is forced to 0 by the edges of {path}")
        return True
    constant = form.subs({s: 0 for s in slack.values()})
    terms = sp.Add.make_args(form - constant)
    proof.require(
        constant >= 1 and all(term.is_nonnegative for term in terms),
        f"{label}: pair {i}≻{j} has margin ≥ 1 from the edges of {path} (slack form {form})",
    )
    return False


def render() -> str:
    """The Markdown page of this proof."""
    return check().markdown()


def test_reachability() -> None:
    """Every reachable pair's constraint follows from the edge constraints on a path and a cycle."""
    check()
