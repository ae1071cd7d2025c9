r"""The graph-SVM constraint set: one row per edge (or per reachable pair) of every :math:`G_k`.

Constraint ``c`` reads :math:`(e_{high_c} - e_{low_c})^\top W e_{query_c} = 0` when its two
tokens share an SCC of :math:`G_{query_c}` and :math:`\ge 1` otherwise (docs/theory.md §4).

>>> from symattn.data import Dataset
>>> c = svm_constraints(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3))
>>> len(c), c.n_equalities
(4, 2)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from symattn._validate import require_graphs
from symattn.data import Dataset
from symattn.graphs import PriorityGraphs

__all__ = ["SVMConstraints", "svm_constraints"]


@dataclass(frozen=True, eq=False)
class SVMConstraints:
    r"""The graph-SVM constraints, one per edge (or per reachable pair) of every :math:`G_k`.

    Constraint ``c`` reads :math:`(e_{high_c} - e_{low_c})^\top W e_{query_c} = 0` when
    ``equality[c]`` (same SCC) and :math:`\ge 1` otherwise.

    Attributes
    ----------
    query, high, low : numpy.ndarray of int, shape (m,)
        Query token and the preferred / dispreferred tokens, sorted by query.
    equality : numpy.ndarray of bool, shape (m,)
        Within-SCC equality or cross-SCC margin constraint.
    all_pairs : bool
        True when every reachable pair is constrained, not only the edges.
    """

    query: np.ndarray
    high: np.ndarray
    low: np.ndarray
    equality: np.ndarray
    all_pairs: bool = False

    def __len__(self) -> int:
        return int(self.query.shape[0])

    @property
    def n_equalities(self) -> int:
        """Number of within-SCC equality constraints.

        >>> from symattn.data import Dataset
        >>> svm_constraints(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3)).n_equalities
        2
        """
        return int(self.equality.sum())

    @property
    def n_inequalities(self) -> int:
        """Number of cross-SCC margin constraints.

        >>> from symattn.data import Dataset
        >>> svm_constraints(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3)).n_inequalities
        2
        """
        return len(self) - self.n_equalities


def svm_constraints(data: Dataset | PriorityGraphs, *, all_pairs: bool = False) -> SVMConstraints:
    r"""The constraint set of the graph-SVM: one row per edge :math:`i \to j` of each :math:`G_k`.

    With ``all_pairs=True`` every ordered pair with a path :math:`i \rightsquigarrow j`
    (:math:`i \ne j`) is constrained instead; the solution is the same (docs/theory.md §4), at a
    quadratic cost, so use it for checks on small data.

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3)
    >>> c = svm_constraints(ds)
    >>> list(zip(c.high.tolist(), c.low.tolist(), c.equality.tolist()))
    [(0, 1, True), (0, 2, False), (1, 0, True), (1, 2, False)]
    >>> len(svm_constraints(ds, all_pairs=True))
    4
    """
    graphs = require_graphs(data, "svm_constraints")
    queries, highs, lows, equal = [], [], [], []
    for k, g in graphs.items():
        if all_pairs:
            pairs = np.array(
                [(i, j) for i in g.nodes.tolist() for j in g.nodes.tolist() if i != j and g.reaches(i, j)],
                dtype=np.int64,
            ).reshape(-1, 2)
        else:
            pairs = g.edges
        comp = g.component[np.searchsorted(g.nodes, pairs)]
        queries.append(np.full(pairs.shape[0], k, dtype=np.int64))
        highs.append(pairs[:, 0])
        lows.append(pairs[:, 1])
        equal.append(comp[:, 0] == comp[:, 1])
    return SVMConstraints(
        np.concatenate(queries), np.concatenate(highs).astype(np.int64),
        np.concatenate(lows).astype(np.int64), np.concatenate(equal), all_pairs,
    )
