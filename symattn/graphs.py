r"""Token-priority graphs (TPGs), their strongly connected components and priority queries.

For each query token :math:`k`, :math:`G_k` has the tokens seen in :math:`D_k` as nodes and an
edge :math:`y_i \to j` for every sample of :math:`D_k` and every distinct token
:math:`j \ne y_i` of its sequence (docs/theory.md §3): "``y_i`` was preferred over ``j``". Components
are computed with :func:`scipy.sparse.csgraph.connected_components` (iterative, linear time);
the graphs themselves are exposed as :class:`networkx.DiGraph` for inspection.

>>> from symattn.data import Dataset
>>> ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3)
>>> G = priority_graphs(ds)[2]
>>> G.sccs
((0, 1), (2,))
>>> G.compare(0, 2), G.compare(0, 1)
(<Priority.HIGHER: 'higher'>, <Priority.SAME: 'same'>)
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from symattn._arrays import longest_path_levels, unique_sorted
from symattn._deprecate import warn_renamed
from symattn._validate import as_int, is_integer, require_dataset
from symattn.data import Dataset, Vocabulary
from symattn.embeddings import Embeddings
from symattn.errors import InvalidInput

__all__ = [
    "Priority",
    "PriorityGraphs",
    "TokenGraph",
    "TopSCCs",
    "priority_graphs",
    "realisable_graph",
    "realise",
]


class Priority(enum.Enum):
    """How two tokens compare in :math:`G_k`."""

    SAME = "same"
    """Same SCC: paths both ways (:math:`i \\asymp_k j`)."""
    HIGHER = "higher"
    """Strictly higher: a path :math:`i \\rightsquigarrow j` and none back (:math:`i \\succ_k j`)."""
    LOWER = "lower"
    """Strictly lower: the reverse of ``HIGHER``."""
    INCOMPARABLE = "incomparable"
    """No path either way."""


@dataclass(frozen=True)
class TopSCCs:
    """The highest-priority SCCs among the tokens of a sequence, under one :math:`G_k`.

    Attributes
    ----------
    query : int
        The query token :math:`k`.
    indices : tuple of int
        SCC indices (positions in ``TokenGraph.sccs``) of the maximal SCCs among the tokens present.
    tokens : tuple of int
        The present tokens that lie in those SCCs, ascending.
    unseen : tuple of int
        Present tokens that are not nodes of :math:`G_k` (the graph says nothing about them).
    """

    query: int
    indices: tuple[int, ...]
    tokens: tuple[int, ...]
    unseen: tuple[int, ...] = ()

    @property
    def sccs(self) -> tuple[int, ...]:
        """Deprecated name of :attr:`indices` (``sccs`` means tuples of tokens everywhere else)."""
        warn_renamed("TopSCCs.sccs", "TopSCCs.indices")
        return self.indices

    @property
    def unique(self) -> bool:
        """True when exactly one SCC is maximal and no present token is unseen.

        >>> from symattn.data import Dataset
        >>> pg = priority_graphs(Dataset.from_samples([([1, 2], 1), ([0, 2], 0)], vocab=3))
        >>> pg.top_sccs([1, 2]).unique, pg.top_sccs([0, 1, 2]).unique
        (True, False)
        """
        return len(self.indices) == 1 and not self.unseen


@dataclass(frozen=True, eq=False)
class TokenGraph:
    r"""The token-priority graph :math:`G_k` of one query token, with its SCCs.

    Attributes
    ----------
    query : int
        The query token :math:`k`.
    nodes : numpy.ndarray
        Tokens seen in :math:`D_k`, ascending.
    edges : numpy.ndarray, shape (m, 2)
        Distinct edges ``(i, j)`` in token ids, sorted.
    component : numpy.ndarray
        SCC index of each entry of ``nodes`` (an index into :attr:`sccs`).
    dag_edges : numpy.ndarray, shape (c, 2)
        Condensation edges between SCC indices, sorted (:attr:`dag` as an array).
    """

    query: int
    nodes: np.ndarray = field(repr=False)
    edges: np.ndarray = field(repr=False)
    component: np.ndarray = field(repr=False)
    dag_edges: np.ndarray = field(repr=False)

    def __repr__(self) -> str:
        return f"TokenGraph(query={self.query!r}, sccs={self.sccs!r}, dag={self.dag!r})"

    @cached_property
    def sccs(self) -> tuple[tuple[int, ...], ...]:
        """The SCCs in a topological order of the condensation, highest priority first: sorted by
        level (the longest path reaching the SCC from a source of the condensation), then by
        smallest token; each SCC's tokens ascending.

        >>> from symattn.data import Dataset
        >>> priority_graphs(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3))[2].sccs
        ((0, 1), (2,))
        """
        order = np.argsort(self.component, kind="stable")
        bounds = np.searchsorted(self.component[order], np.arange(1, int(self.component.max(initial=-1)) + 1))
        return tuple(tuple(part.tolist()) for part in np.split(self.nodes[order], bounds))

    @cached_property
    def dag(self) -> tuple[tuple[int, int], ...]:
        """Condensation edges between indices of :attr:`sccs`, sorted."""
        return tuple(map(tuple, self.dag_edges.tolist()))

    # -- views --------------------------------------------------------------------------
    @cached_property
    def graph(self) -> nx.DiGraph:
        """:math:`G_k` as a networkx graph on token ids (node attribute ``scc``).

        >>> from symattn.data import Dataset
        >>> g = priority_graphs(Dataset.from_samples([([0, 1], 0)], vocab=2))[1].graph
        >>> sorted(g.edges), g.nodes[0]['scc']
        ([(0, 1)], 0)
        """
        graph = nx.DiGraph()
        graph.add_nodes_from(
            (int(t), {"scc": int(c)}) for t, c in zip(self.nodes, self.component, strict=True)
        )
        graph.add_edges_from(map(tuple, self.edges.tolist()))
        return graph

    @cached_property
    def condensation(self) -> nx.DiGraph:
        """The condensation DAG on SCC indices (node attribute ``members``).

        >>> from symattn.data import Dataset
        >>> ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3)
        >>> c = priority_graphs(ds)[2].condensation
        >>> sorted(c.edges), c.nodes[0]['members']
        ([(0, 1)], (0, 1))
        """
        dag = nx.DiGraph()
        dag.add_nodes_from((c, {"members": members}) for c, members in enumerate(self.sccs))
        dag.add_edges_from(self.dag)
        return dag

    @cached_property
    def _below(self) -> tuple[frozenset[int], ...]:
        """For each SCC, the SCCs reachable from it (excluding itself)."""
        below: list[frozenset[int]] = [frozenset()] * len(self.sccs)
        children: list[list[int]] = [[] for _ in self.sccs]
        for a, b in self.dag:
            children[a].append(b)
        for c in reversed(range(len(self.sccs))):
            reach: set[int] = set()
            for child in children[c]:
                reach.add(child)
                reach |= below[child]
            below[c] = frozenset(reach)
        return tuple(below)

    @property
    def cyclic(self) -> bool:
        """True when some SCC has more than one token.

        >>> from symattn.data import Dataset
        >>> priority_graphs(Dataset.from_samples([([0, 1], 0), ([0, 1], 1)], vocab=2))[1].cyclic
        True
        """
        return any(len(scc) > 1 for scc in self.sccs)

    def __contains__(self, token: object) -> bool:
        if not is_integer(token):
            return False
        pos = int(np.searchsorted(self.nodes, token))
        return pos < self.nodes.size and int(self.nodes[pos]) == int(token)

    def scc_of(self, token: int) -> int:
        """Index into :attr:`sccs` of the SCC holding ``token``.

        >>> from symattn.data import Dataset
        >>> ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3)
        >>> priority_graphs(ds)[2].scc_of(2)
        1
        """
        token = as_int(token, "token")
        if token not in self:
            raise InvalidInput(
                f"token {token} is not a node of G_{self.query}; its nodes are {self.nodes.tolist()[:20]}"
            )
        return int(self.component[np.searchsorted(self.nodes, token)])

    def reaches(self, i: int, j: int) -> bool:
        """True when :math:`G_k` has a path :math:`i \\rightsquigarrow j` (``i`` ⪰ ``j``).

        >>> from symattn.data import Dataset
        >>> g = priority_graphs(Dataset.from_samples([([0, 1], 0)], vocab=2))[1]
        >>> g.reaches(0, 1), g.reaches(1, 0)
        (True, False)
        """
        a, b = self.scc_of(i), self.scc_of(j)
        return a == b or b in self._below[a]

    def compare(self, i: int, j: int) -> Priority:
        """The priority relation of ``i`` to ``j`` under :math:`G_k`.

        >>> from symattn.data import Dataset
        >>> g = priority_graphs(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3))[2]
        >>> g.compare(2, 0).value, g.compare(1, 0).value
        ('lower', 'same')
        """
        forward, backward = self.reaches(i, j), self.reaches(j, i)
        if forward and backward:
            return Priority.SAME
        if forward:
            return Priority.HIGHER
        return Priority.LOWER if backward else Priority.INCOMPARABLE

    def same_scc(self, i: int, j: int) -> bool:
        """:math:`i \\asymp_k j`.

        >>> from symattn.data import Dataset
        >>> priority_graphs(Dataset.from_samples([([0, 1], 0)], vocab=2))[1].same_scc(0, 1)
        False
        """
        return self.scc_of(i) == self.scc_of(j)

    def higher(self, i: int, j: int) -> bool:
        """:math:`i \\succ_k j` (strictly).

        >>> from symattn.data import Dataset
        >>> priority_graphs(Dataset.from_samples([([0, 1], 0)], vocab=2))[1].higher(0, 1)
        True
        """
        return self.compare(i, j) is Priority.HIGHER

    def top_sccs(self, tokens: Iterable[int]) -> TopSCCs:
        """The maximal SCCs among the tokens of a sequence (the graph-level answer of docs/theory.md §6, P5).

        >>> from symattn.data import Dataset
        >>> ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3)
        >>> priority_graphs(ds)[2].top_sccs([2, 1])
        TopSCCs(query=2, indices=(0,), tokens=(1,), unseen=())
        """
        present = sorted({as_int(t, "token") for t in tokens})
        seen = [t for t in present if t in self]
        unseen = tuple(t for t in present if t not in self)
        comps = {self.scc_of(t) for t in seen}
        top = tuple(sorted(c for c in comps if not any(c in self._below[o] for o in comps if o != c)))
        chosen = tuple(t for t in seen if self.scc_of(t) in top)
        return TopSCCs(self.query, top, chosen, unseen)


@dataclass(frozen=True, eq=False)
class PriorityGraphs(Mapping[int, TokenGraph]):
    """Every :math:`G_k` of a dataset, keyed by query token, plus per-sample SCC facts.

    Attributes
    ----------
    dataset : Dataset
        The dataset the graphs were built from.
    graphs : dict of int to TokenGraph
        :math:`G_k` for every query token :math:`k` that occurs, ascending.
    label_scc : numpy.ndarray, shape (n,)
        Index (into ``graphs[k].sccs``) of each sample's label SCC.
    in_label_scc : numpy.ndarray of bool, shape (nnz,)
        Aligned with ``dataset.counts``: whether each (sample, token) entry lies in the label's SCC.
    """

    dataset: Dataset = field(repr=False)
    graphs: dict[int, TokenGraph]
    label_scc: np.ndarray = field(repr=False)
    in_label_scc: np.ndarray = field(repr=False)

    def __getitem__(self, query: int) -> TokenGraph:
        try:
            return self.graphs[as_int(query, "query token")]
        except KeyError:
            raise InvalidInput(
                f"no sample has query token {query!r}; queries are {sorted(self.graphs)[:20]}"
            ) from None

    def __iter__(self) -> Iterator[int]:
        return iter(self.graphs)

    def __len__(self) -> int:
        return len(self.graphs)

    @property
    def n_edges(self) -> int:
        """Total number of edges over all :math:`G_k`.

        >>> from symattn.data import Dataset
        >>> priority_graphs(Dataset.from_samples([([0, 1], 0), ([1, 0], 0)], vocab=2)).n_edges
        2
        """
        return sum(g.edges.shape[0] for g in self.graphs.values())

    @property
    def cyclic(self) -> bool:
        """True when some :math:`G_k` has an SCC of more than one token.

        >>> from symattn.data import Dataset
        >>> priority_graphs(Dataset.from_samples([([0, 1], 0), ([1, 0], 0)], vocab=2)).cyclic
        False
        """
        return any(g.cyclic for g in self.graphs.values())

    def sample_scc(self, i: int) -> tuple[int, ...]:
        """The tokens of the label's SCC for sample ``i``.

        >>> from symattn.data import Dataset
        >>> priority_graphs(Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3)).sample_scc(1)
        (0, 1)
        """
        i = as_int(i, "sample index")
        if not -len(self.dataset) <= i < len(self.dataset):
            raise InvalidInput(f"sample index {i} is out of range for n={len(self.dataset)}")
        k = int(self.dataset.queries[i])
        return self.graphs[k].sccs[int(self.label_scc[i])]

    def top_sccs(self, tokens: Sequence[int]) -> TopSCCs:
        """:meth:`TokenGraph.top_sccs` under the graph of the sequence's own query (last token).

        >>> from symattn.data import Dataset
        >>> pg = priority_graphs(Dataset.from_samples([([0, 1, 2], 0), ([1, 2], 1)], vocab=3))
        >>> pg.top_sccs([1, 0, 2]).tokens
        (0,)
        """
        tokens = list(tokens)
        if len(tokens) == 0:
            raise InvalidInput("a sequence needs at least one token (its query)")
        return self[tokens[-1]].top_sccs(tokens)


def priority_graphs(dataset: Dataset) -> PriorityGraphs:
    """Build every token-priority graph :math:`G_k` of ``dataset`` (docs/theory.md §3).

    Vectorised over samples; linear in the number of (sample, distinct token) entries plus
    the sort of the edges, with no recursion, so a million edges are fine.

    Parameters
    ----------
    dataset : Dataset
        The training data.

    Returns
    -------
    PriorityGraphs
        A mapping from each query token :math:`k` to its :class:`TokenGraph` (nodes, edges, SCCs
        in topological order highest first, condensation DAG), plus ``label_scc`` per sample and
        ``in_label_scc`` per entry of ``dataset.counts``.

    Raises
    ------
    InvalidInput
        When ``dataset`` is not a Dataset.

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1], 0), ([1, 1], 1)], vocab=2)
    >>> pg = priority_graphs(ds)
    >>> sorted(pg), pg[1].edges.tolist(), pg.label_scc.tolist()
    ([1], [[0, 1]], [0, 1])
    """
    c = require_dataset(dataset, "priority_graphs").counts
    K = dataset.K
    k_of = c.query[c.sample]
    joint = _joint_graph(k_of, c.label[c.sample], c.token, K)
    comp = _condense(joint)
    queries = np.unique(joint.node_k)
    scc_lo = _bounds(comp.query_of_rank, queries)[0]
    graphs = _split_by_query(joint, comp, queries)
    entry_rank = comp.rank[comp.raw[np.searchsorted(joint.node_keys, k_of * K + c.token)]]
    label_scc = entry_rank[c.label_entry] - scc_lo[np.searchsorted(queries, c.query)]
    in_label = entry_rank == entry_rank[c.label_entry][c.sample]
    for array in (label_scc, in_label):
        array.setflags(write=False)
    return PriorityGraphs(dataset, graphs, label_scc, in_label)


@dataclass(frozen=True, eq=False)
class _JointGraph:
    """Every :math:`G_k` as one disjoint graph whose nodes are the (query, token) pairs.

    ``node_keys`` are ``query * K + token`` (sorted), ``node_k``/``node_t`` their parts; edge ``e``
    joins ``src[e] -> dst[e]`` (node indices) and reads ``edge_i[e] -> edge_j[e]`` in ``G_{edge_k[e]}``.
    """

    node_keys: np.ndarray
    node_k: np.ndarray
    node_t: np.ndarray
    edge_k: np.ndarray
    edge_i: np.ndarray
    edge_j: np.ndarray
    src: np.ndarray
    dst: np.ndarray


def _joint_graph(k_of: np.ndarray, y_of: np.ndarray, token: np.ndarray, K: int) -> _JointGraph:
    """The edges ``label -> token`` of every entry (query ``k_of``, label ``y_of``), deduplicated."""
    node_keys = unique_sorted(k_of * K + token)
    off = token != y_of
    edge_keys = unique_sorted((k_of[off] * K + y_of[off]) * K + token[off])
    edge_k, rest = np.divmod(edge_keys, K * K)
    edge_i, edge_j = np.divmod(rest, K)
    src = np.searchsorted(node_keys, edge_k * K + edge_i)
    dst = np.searchsorted(node_keys, edge_k * K + edge_j)
    node_k, node_t = np.divmod(node_keys, K)
    return _JointGraph(node_keys, node_k, node_t, edge_k, edge_i, edge_j, src, dst)


@dataclass(frozen=True, eq=False)
class _Condensed:
    """The SCCs of the joint graph, ranked by (query, level, smallest token).

    ``raw`` is the SCC of each node as scipy labels it, ``rank`` the position of each raw SCC in
    the ranking, ``query_of_rank`` the query of each ranked SCC and ``dag`` the condensation edges
    between ranks, sorted.
    """

    raw: np.ndarray
    rank: np.ndarray
    query_of_rank: np.ndarray
    dag: np.ndarray


def _condense(joint: _JointGraph) -> _Condensed:
    """Strongly connected components (scipy, iterative) and their order: highest priority first."""
    N = joint.node_keys.size
    src, dst = joint.src, joint.dst
    adjacency = csr_matrix((np.ones(src.size, dtype=np.int8), (src, dst)), shape=(N, N))
    n_raw, raw32 = connected_components(adjacency, directed=True, connection="strong")
    raw = raw32.astype(np.int64)  # int32 labels would overflow in the pair keys below
    cross = raw[src] != raw[dst]
    raw_edges = unique_sorted(raw[src][cross] * n_raw + raw[dst][cross])
    raw_src, raw_dst = np.divmod(raw_edges, n_raw)
    first_token = np.full(n_raw, np.iinfo(np.int64).max)
    np.minimum.at(first_token, raw, joint.node_t)
    raw_query = np.empty(n_raw, dtype=np.int64)
    raw_query[raw] = joint.node_k
    level = longest_path_levels(n_raw, raw_src, raw_dst)
    order = np.lexsort((first_token, level, raw_query))
    rank = np.empty(n_raw, dtype=np.int64)
    rank[order] = np.arange(n_raw)
    dag = np.stack([rank[raw_src], rank[raw_dst]], axis=1)
    return _Condensed(raw, rank, raw_query[order], dag[np.lexsort((dag[:, 1], dag[:, 0]))])


def _split_by_query(joint: _JointGraph, comp: _Condensed, queries: np.ndarray) -> dict[int, TokenGraph]:
    """One read-only :class:`TokenGraph` per query, cut out of the joint graph and its ranking."""
    node_lo, node_hi = _bounds(joint.node_k, queries)
    edge_lo, edge_hi = _bounds(joint.edge_k, queries)
    scc_lo = _bounds(comp.query_of_rank, queries)[0]
    dag_lo, dag_hi = _bounds(comp.query_of_rank[comp.dag[:, 0]], queries)
    node_rank = comp.rank[comp.raw]
    graphs: dict[int, TokenGraph] = {}
    for q, k in enumerate(queries.tolist()):
        base = scc_lo[q]
        nodes = joint.node_t[node_lo[q] : node_hi[q]]
        cut = slice(edge_lo[q], edge_hi[q])
        edges = np.stack([joint.edge_i[cut], joint.edge_j[cut]], axis=1)
        component = node_rank[node_lo[q] : node_hi[q]] - base
        local_dag = comp.dag[dag_lo[q] : dag_hi[q]] - base
        for array in (nodes, edges, component, local_dag):
            array.setflags(write=False)
        graphs[k] = TokenGraph(k, nodes, edges, component, local_dag)
    return graphs


def _bounds(sorted_keys: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end of each query's block in an array sorted by query."""
    return np.searchsorted(sorted_keys, queries), np.searchsorted(sorted_keys, queries, side="right")


def realisable_graph(graph: nx.DiGraph, query: int) -> nx.DiGraph:
    """The smallest supergraph of ``graph`` that some dataset with query ``query`` has as its TPG.

    Every sample of :math:`D_k` contains its query :math:`k`, so every label :math:`y \\ne k`
    is preferred over :math:`k`: the TPG has :math:`y \\to k` for each node with an out-edge,
    and every node other than :math:`k` needs an edge. This adds ``k``, the missing
    :math:`y \\to k` edges, and :math:`j \\to k` for any edgeless node :math:`j \\ne k`.

    >>> g = realisable_graph(nx.DiGraph([(0, 1)]), 2)
    >>> sorted(g.edges)
    [(0, 1), (0, 2)]
    """
    closed = nx.DiGraph(graph)
    closed.add_node(query)
    for node in list(closed.nodes):
        if node != query and (closed.out_degree(node) > 0 or closed.in_degree(node) == 0):
            closed.add_edge(node, query)
    return closed


def realise(
    graphs: Mapping[int, nx.DiGraph | Iterable[tuple[int, int]]],
    *,
    vocab: Vocabulary | int | Sequence[str] | None = None,
    embeddings: Embeddings | None = None,
) -> Dataset:
    """A dataset whose token-priority graphs are exactly ``graphs`` (one per query token).

    Each label ``y`` of :math:`G_k` gets one sample: its out-neighbours, then ``y``, then
    ``k``; an edgeless :math:`G_k` gets the single sample ``[k] -> k``. Graphs must be
    realisable (see :func:`realisable_graph`); otherwise the error names the missing edge.
    Self-loops are refused.

    Parameters
    ----------
    graphs : mapping of int to networkx.DiGraph or iterable of (int, int)
        :math:`G_k` for each query token :math:`k`, as a graph or an edge list.
    vocab : Vocabulary, int or sequence of str, optional
        The vocabulary (default: the smallest holding every token).
    embeddings : Embeddings, optional
        Token embeddings (default one-hot).

    Returns
    -------
    Dataset
        A dataset ``ds`` with ``priority_graphs(ds)[k]`` equal to ``graphs[k]`` for every ``k``.

    >>> ds = realise({2: [(0, 1), (1, 0), (0, 2), (1, 2)]})
    >>> [(list(s.tokens), s.label) for s in ds]
    [([1, 0, 2], 0), ([0, 1, 2], 1)]
    >>> sorted(priority_graphs(ds)[2].graph.edges) == sorted([(0, 1), (1, 0), (0, 2), (1, 2)])
    True
    >>> [(list(s.tokens), s.label) for s in realise({0: [(1, 0)], 1: []})]
    [([1, 0], 1), ([1], 1)]
    """
    if not isinstance(graphs, Mapping):
        raise InvalidInput(
            f"graphs must be a mapping {{query token: graph or edge list}}, got {type(graphs).__name__}"
        )
    samples: list[tuple[list[int], int]] = []
    for key, spec in sorted(graphs.items(), key=lambda item: repr(item[0])):
        k = as_int(key, "query token")
        if k < 0:
            raise InvalidInput(f"query token {k} is negative; token ids are non-negative integers")
        graph = _as_digraph(spec, k)
        _check_realisable(graph, k)
        nodes = set(graph.nodes) | {k}
        for y in sorted(nodes):
            out = sorted(j for j in graph.successors(y) if j != k) if y in graph else []
            if y == k and out:
                samples.append(([*out, k], k))
            elif y in graph and graph.out_degree(y) > 0:
                samples.append(([*out, y, k], y))
        if graph.number_of_edges() == 0:
            samples.append(([k], k))
    return Dataset.from_samples(samples, vocab=vocab, embeddings=embeddings)


def _as_digraph(spec: object, k: int) -> nx.DiGraph:
    if isinstance(spec, nx.DiGraph):
        return spec
    if isinstance(spec, str | bytes) or not isinstance(spec, Iterable):
        raise InvalidInput(f"G_{k} is {spec!r}; give a networkx.DiGraph or a list of (i, j) edges")
    edges = list(spec)
    for edge in edges:
        if not isinstance(edge, tuple | list) or len(edge) != 2:
            raise InvalidInput(f"G_{k}: edge {edge!r} is not a pair (i, j) of token ids")
    return nx.DiGraph([tuple(edge) for edge in edges])


def _check_realisable(graph: nx.DiGraph, k: int) -> None:
    for node in graph.nodes:
        if not is_integer(node) or node < 0:
            raise InvalidInput(f"G_{k}: node {node!r} is not a token id (a non-negative integer)")
    loops = list(nx.selfloop_edges(graph))
    if loops:
        raise InvalidInput(f"G_{k}: self-loop {loops[0]}; a token is never preferred over itself")
    for node in sorted(graph.nodes):
        if node == k:
            continue
        if graph.out_degree(node) > 0 and not graph.has_edge(node, k):
            raise InvalidInput(
                f"G_{k}: node {node} has out-edges but no edge ({node}, {k}); every label of a sample "
                f"with query {k} is preferred over the query itself. Add the edge, or pass the graph "
                "through realisable_graph()"
            )
        if graph.degree(node) == 0:
            raise InvalidInput(
                f"G_{k}: node {node} has no edge, but a token other than the query can only be seen "
                f"in D_{k} next to a label. Add an edge or remove the node (see realisable_graph())"
            )
