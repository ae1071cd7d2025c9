r"""Private: the graph-SVM constraints collapsed to one node per SCC, and multipliers spread back.

The within-SCC equalities are massively redundant. :func:`collapse` ties every SCC into one
group (one potential) and keeps one realising constraint per condensation edge;
:func:`stars` turns the equalities into independent stars for the Gram-metric QP. The
multipliers found on the collapsed problem are spread back over the original constraints by
:func:`edge_multipliers` (flows along a spanning forest of each SCC) and :func:`star_multipliers`.

>>> from symattn.data import Dataset
>>> from symattn.svm.constraints import svm_constraints
>>> prob = collapse(svm_constraints(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3)), 3)
>>> prob.weights.tolist(), prob.dag_tail.tolist(), prob.dag_head.tolist()
([2, 1], [0], [1])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from symattn._arrays import unique_sorted
from symattn._exact import zeros
from symattn.errors import InvalidInput
from symattn.svm._potentials import forest_flows, forest_order
from symattn.svm.constraints import SVMConstraints

__all__ = ["Collapsed", "Stars", "collapse", "edge_multipliers", "star_multipliers", "stars"]


@dataclass(frozen=True, eq=False)
class Collapsed:
    """All queries' constraints collapsed at once: nodes are (query, token) pairs, equality
    groups are the SCCs, and the DAG joins groups (one disjoint problem per query)."""

    node_token: np.ndarray  # token of each node
    node_query: np.ndarray  # query of each node
    hi: np.ndarray  # node of each constraint's high token
    lo: np.ndarray
    equality: np.ndarray
    group: np.ndarray  # group of each node
    weights: np.ndarray  # group sizes
    dag_tail: np.ndarray
    dag_head: np.ndarray
    dag_rep: np.ndarray  # a constraint realising each DAG edge
    reps: np.ndarray  # representative node of each group

    @property
    def n_nodes(self) -> int:
        """Number of (query, token) nodes."""
        return int(self.node_token.size)


def collapse(cons: SVMConstraints, K: int) -> Collapsed:
    """Collapse ``cons`` (over a vocabulary of ``K`` tokens); refuses a margin inside an SCC."""
    keys_hi = cons.query * K + cons.high
    keys_lo = cons.query * K + cons.low
    keys = unique_sorted(np.concatenate([keys_hi, keys_lo]))
    hi, lo = np.searchsorted(keys, keys_hi), np.searchsorted(keys, keys_lo)
    n = keys.size
    eq = cons.equality
    adjacency = csr_matrix((np.ones(int(eq.sum())), (hi[eq], lo[eq])), shape=(n, n))
    n_groups, group = connected_components(adjacency, directed=False)
    ga, gb = group[hi[~eq]], group[lo[~eq]]
    if np.any(ga == gb):
        c = int(np.flatnonzero(~eq)[np.argmax(ga == gb)])
        raise InvalidInput(
            f"constraint {c} asks ({cons.high[c]} - {cons.low[c]})ᵀ W e_{cons.query[c]} >= 1 between "
            "tokens that equality constraints tie together; no W satisfies it"
        )
    _, first = np.unique(ga.astype(np.int64) * n_groups + gb, return_index=True)
    _, reps = np.unique(group, return_index=True)
    return Collapsed(
        keys % K, keys // K, hi, lo, eq, group, np.bincount(group, minlength=n_groups).astype(np.int64),
        ga[first].astype(np.int64), gb[first].astype(np.int64), np.flatnonzero(~eq)[first], reps,
    )


def edge_multipliers(prob: Collapsed, demand: np.ndarray, dag_lam: np.ndarray) -> np.ndarray:
    """Multipliers on the original constraints (float, exact ``Fraction`` or integer, like ``demand``).

    ``demand`` is the net flow each token needs (:math:`\\Lambda_{tk}`), ``dag_lam`` the
    multipliers of the condensation edges; each goes on one realising constraint and the
    within-SCC equality multipliers balance every token along a spanning tree of the SCC.
    """
    exact = demand.dtype == object
    lam = zeros(prob.hi.size, exact) if exact else np.zeros(prob.hi.size, dtype=demand.dtype)
    lam[prob.dag_rep] = dag_lam
    net = zeros(prob.n_nodes, exact) if exact else np.zeros(prob.n_nodes, dtype=demand.dtype)
    np.add.at(net, prob.hi, lam)
    np.subtract.at(net, prob.lo, lam)
    eq = np.flatnonzero(prob.equality)
    forest = forest_order(prob.n_nodes, prob.hi[eq], prob.lo[eq])
    lam[eq] = forest_flows(forest, prob.hi[eq], prob.lo[eq], demand - net)
    return lam


@dataclass(frozen=True, eq=False)
class Stars:
    """Independent stars for the equalities and one row per condensation edge (equalities first)."""

    hi_node: np.ndarray
    lo_node: np.ndarray
    equality: np.ndarray
    dag: np.ndarray  # DAG edge of each inequality row (-1 for equalities)
    query: np.ndarray
    high: np.ndarray
    low: np.ndarray


def stars(prob: Collapsed) -> Stars:
    """The rows of the Gram-metric QP: each SCC member tied to its representative, then the DAG."""
    members = np.flatnonzero(prob.reps[prob.group] != np.arange(prob.n_nodes))
    hi = np.concatenate([prob.reps[prob.group[members]], prob.reps[prob.dag_tail]]).astype(np.int64)
    lo = np.concatenate([members, prob.reps[prob.dag_head]]).astype(np.int64)
    eq = np.arange(hi.size) < members.size
    dag = np.concatenate([np.full(members.size, -1), np.arange(prob.dag_tail.size)]).astype(np.int64)
    return Stars(hi, lo, eq, dag, prob.node_query[hi], prob.node_token[hi], prob.node_token[lo])


def star_multipliers(prob: Collapsed, red: Stars, mu: np.ndarray) -> np.ndarray:
    """Spread star-row multipliers over the original constraints (the same combination of rows)."""
    exact = mu.dtype == object
    demand = zeros(prob.n_nodes, exact)
    np.add.at(demand, red.hi_node, mu)
    np.subtract.at(demand, red.lo_node, mu)
    dag_lam = zeros(prob.dag_tail.size, exact)
    ineq = ~red.equality
    dag_lam[red.dag[ineq]] = mu[ineq]
    return edge_multipliers(prob, demand, dag_lam)
