r"""The automaton on new prompts: hard retrieval, soft composition, next-token distributions, generation.

For a prompt with query :math:`k` (its last token) the theory's automaton (docs/theory.md §6 P5
and §7) does two things:

1. **retrieval**: keep the present tokens with the largest score :math:`e_j^\top W^{svm} e_k`.
   When the tokens present have a unique top SCC in :math:`G_k` these are exactly its present
   tokens; every dropped token is then reached from them by a priority path of :math:`G_k`.
   Tokens absent from :math:`G_k` are flagged (their score is 0 for orthogonal embeddings) and a
   query never seen in training is flagged (its column :math:`W^{svm} e_k` is then 0 for
   orthogonal embeddings, so every token ties);
2. **composition**: mix the retrieved tokens by
   :math:`\pi_j \propto \exp(e_j^\top W^{fin} e_k + \log c_j)` (copies counted); the next token is
   drawn from this token mass :math:`\pi`, and the layer outputs :math:`X^\top s = \sum_j \pi_j e_j`.

**What the theory does not fix.** Along the regularisation path :math:`W_R` the differences of
scores inside one SCC of :math:`G_k` converge to those of :math:`W^{fin}` (the direction
:math:`(e_i - e_j) e_k^\top` lies in :math:`S_{fin}`), and with orthogonal embeddings every token
absent from :math:`G_k` keeps the score 0 for every :math:`R`. Between two such *groups* (two SCCs,
or an SCC and the absent tokens) with tied :math:`W^{svm}` scores nothing in :math:`W^{svm}` or
:math:`W^{fin}` fixes the relative weight. Then no rule is invented: the result has status
``INCOMPARABLE``, no overall distribution, and the distribution *within* each group, which is
fixed.

The same quantities are computed for any weights :math:`W` (:meth:`Automaton.attend`), compared
with the theory's (:meth:`Automaton.compare`: total variation, mass outside the retrieved set,
retrieved-set agreement), and continuations are generated token by token for either
(:func:`symattn.generation.generate`). Everything is in log-space, so weights of norm :math:`10^3` and
beyond are fine.

>>> from symattn.examples import load_example
>>> auto = automaton(load_example())
>>> nxt = auto.next("a b f")                    # query f: {b, d} is above a and f
>>> auto.names(nxt.retrieved), [auto.names(d.path) for d in nxt.retrieval.dropped]
(('b',), [('b', 'a'), ('b', 'f')])
>>> nxt = auto.next("a b d f")
>>> auto.names(nxt.retrieved), {auto.vocab.name(t): round(p, 4) for t, p in nxt.distribution().items()}
(('b', 'd'), {'a': 0.0, 'b': 0.5, 'd': 0.5, 'f': 0.0})
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.sparse import csc_matrix, csr_matrix, issparse
from scipy.sparse.csgraph import shortest_path

from symattn._arrays import locate_sorted
from symattn.data import Dataset, Vocabulary
from symattn.errors import InvalidInput
from symattn.graphs import TokenGraph
from symattn.predict import Prediction, predict
from symattn.prompts import Prompt, PromptLike, Prompts
from symattn.results import ResultMixin, Status
from symattn.scores import MAX_POTENTIAL, check_weights, segment_logsumexp

__all__ = [
    "Agreement",
    "Automaton",
    "DropReason",
    "Dropped",
    "NextStatus",
    "NextToken",
    "PromptRetrieval",
    "Source",
    "automaton",
]

DEFAULT_THRESHOLD = 1e-2
"""Mass above which a token counts as retrieved by given weights (the selection level of P6)."""


class NextStatus(Status, success={"determined"}):
    """Whether the theory fixes the next-token distribution of a prompt."""

    DETERMINED = "determined"
    """The retrieved tokens form one group: the distribution is fixed."""
    INCOMPARABLE = "incomparable"
    """The retrieved tokens span several groups with tied scores: only within-group weights are fixed."""


class Source(enum.Enum):
    """Where a next-token distribution comes from."""

    THEORY = "theory"
    """The automaton of :math:`W^{svm}` and :math:`W^{fin}`."""
    WEIGHTS = "weights"
    """Given weights :math:`W` (the model's actual attention)."""


class DropReason(enum.Enum):
    """Why a present token is not retrieved."""

    PRIORITY = "priority"
    """A retrieved token reaches it in :math:`G_k`: it is strictly lower in priority."""
    SCORE = "score"
    """No retrieved token reaches it (incomparable in, or absent from, :math:`G_k`); its score is lower."""


@dataclass(frozen=True)
class Dropped:
    r"""A present token the automaton does not retrieve, and why.

    Attributes
    ----------
    token : int
        The dropped token.
    reason : DropReason
        ``PRIORITY`` with a path, else ``SCORE``.
    path : tuple of int
        For ``PRIORITY``: a shortest path of :math:`G_k` from a retrieved token to ``token``
        (each edge :math:`a \to b` reads "``a`` was preferred over ``b``"); empty for ``SCORE``.
    witnesses : tuple of int
        For each edge of ``path``, a training sample (index) with query :math:`k`, label ``a``
        and ``b`` in its sequence.
    gap : float
        The best score minus this token's score (:math:`> 0`).
    """

    token: int
    reason: DropReason
    path: tuple[int, ...]
    witnesses: tuple[int, ...]
    gap: float


@dataclass(frozen=True, eq=False)
class PromptRetrieval:
    r"""The theory's retrieval for one prompt, with the reasons (docs/theory.md §6 P5, §7).

    Attributes
    ----------
    prompt : Prompt
        The prompt.
    tokens, counts : tuple of int
        Its distinct tokens (ascending) and their counts :math:`c_j`.
    scores : numpy.ndarray, shape (m,)
        :math:`e_j^\top W^{svm} e_k` for each distinct token.
    exact : bool
        Ties were decided in exact arithmetic (certified one-hot :math:`W^{svm}`).
    retrieved : tuple of int
        The tokens of maximal score, ascending.
    groups : tuple of tuple of int
        The retrieved tokens grouped: one SCC of :math:`G_k` each (in priority order), then the
        tokens absent from :math:`G_k` (one group for orthogonal embeddings, whose scores are 0
        under every weight training reaches; one group each otherwise).
    group_sccs : tuple of int or None
        Index into ``G_k.sccs`` of each group; ``None`` for absent tokens.
    dropped : tuple of Dropped
        Every present token not retrieved, with its reason.
    unseen_query : bool
        No training sample has query :math:`k` (there is no :math:`G_k`).
    absent : tuple of int
        Present tokens that are not nodes of :math:`G_k` (all of them when ``unseen_query``).
    graph_top : tuple of int
        The graph-level answer: the present tokens of the maximal SCCs of :math:`G_k` among the
        present tokens seen there (:meth:`TokenGraph.top_sccs`); empty for an unseen query.
    graph_unique : bool
        Exactly one SCC is maximal and no present token is absent from :math:`G_k`; then
        ``retrieved == graph_top`` (P5).
    """

    prompt: Prompt
    tokens: tuple[int, ...]
    counts: tuple[int, ...]
    scores: np.ndarray = field(repr=False)
    exact: bool
    retrieved: tuple[int, ...]
    groups: tuple[tuple[int, ...], ...]
    group_sccs: tuple[int | None, ...]
    dropped: tuple[Dropped, ...]
    unseen_query: bool
    absent: tuple[int, ...]
    graph_top: tuple[int, ...]
    graph_unique: bool

    @property
    def query(self) -> int:
        """The query token :math:`k` (the prompt's last token).

        >>> from symattn.examples import load_example
        >>> automaton(load_example()).retrieve("a d e").query
        4
        """
        return self.prompt.query

    @property
    def margin(self) -> float:
        r"""The smallest score gap between the retrieved tokens and a dropped one (``inf`` if none).

        Weights near :math:`R\,W^{svm}/\|W^{svm}\|` put about :math:`e^{-R\,\text{margin}/\|W^{svm}\|}`
        (times counts and a factor from the finite part) on the closest dropped token, so the
        retrieval shows only once :math:`R \gg \|W^{svm}\| / \text{margin}`.

        >>> from symattn.examples import load_example
        >>> automaton(load_example()).retrieve("a d e").margin
        1.0
        """
        return min((d.gap for d in self.dropped), default=float("inf"))

    @property
    def determined(self) -> bool:
        """Whether the retrieved tokens form a single group (the composition is then fixed).

        >>> from symattn.examples import load_example
        >>> automaton(load_example()).retrieve("a b d f").determined
        True
        """
        return len(self.groups) == 1


@dataclass(frozen=True, eq=False)
class NextToken(ResultMixin):
    r"""A next-token distribution for one prompt, by the theory or by given weights.

    Attributes
    ----------
    status : NextStatus
        ``DETERMINED``, or ``INCOMPARABLE`` (theory only) when the relative weights of the
        retrieved groups are not fixed; ``success`` derives from it.
    source : Source
        ``THEORY`` or ``WEIGHTS``.
    prompt : Prompt
        The prompt.
    tokens, counts : tuple of int
        Its distinct tokens (ascending) and their counts.
    retrieved : tuple of int
        Theory: the retrieved tokens. Weights: the tokens with mass above the threshold (and
        the most likely token).
    log_probs : numpy.ndarray or None, shape (m,)
        :math:`\log \pi_j` aligned with ``tokens`` (``-inf`` for tokens the theory drops);
        ``None`` when ``INCOMPARABLE``.
    groups : tuple of tuple of int
        Theory: the retrieved groups (see :class:`PromptRetrieval`). Weights: empty.
    log_within : tuple of numpy.ndarray
        Theory: for each group, :math:`\log \pi(j \mid \text{group})` aligned with its tokens.
    attention : numpy.ndarray or None, shape (T,)
        The attention :math:`s_t` on each position; ``None`` when ``INCOMPARABLE``.
    output : numpy.ndarray or None, shape (d,)
        The layer's output :math:`X^\top s = \sum_j \pi_j e_j`; ``None`` when ``INCOMPARABLE``.
    retrieval : PromptRetrieval or None
        The theory's retrieval with its reasons (theory only).
    message : str
        What the theory says about this prompt (flags, the incomparable case), or empty.
    iterations : int
        Always 0 (a direct computation).
    """

    status: NextStatus
    source: Source
    prompt: Prompt
    tokens: tuple[int, ...]
    counts: tuple[int, ...]
    retrieved: tuple[int, ...]
    log_probs: np.ndarray | None = field(repr=False)
    groups: tuple[tuple[int, ...], ...]
    log_within: tuple[np.ndarray, ...] = field(repr=False)
    attention: np.ndarray | None = field(repr=False)
    output: np.ndarray | None = field(repr=False)
    retrieval: PromptRetrieval | None = field(repr=False)
    message: str = ""
    iterations: int = 0

    @property
    def probs(self) -> np.ndarray | None:
        """:math:`\\pi_j` aligned with ``tokens`` (``None`` when ``INCOMPARABLE``).

        >>> from symattn.examples import load_example
        >>> auto = automaton(load_example())
        >>> auto.next("a b b c").probs.round(12).tolist(), auto.next("a f").probs is None
        ([0.125, 0.5, 0.375], True)
        """
        return None if self.log_probs is None else np.exp(self.log_probs)

    def distribution(self) -> dict[int, float]:
        """The next-token distribution over the tokens present (token -> probability).

        Raises :class:`InvalidInput` when the theory does not fix it (``INCOMPARABLE``): use
        :meth:`within_distributions` then.

        >>> from symattn.examples import load_example
        >>> nxt = automaton(load_example()).next([0, 1, 2])
        >>> {t: round(p, 4) for t, p in nxt.distribution().items()}
        {0: 0.1667, 1: 0.3333, 2: 0.5}
        """
        if self.log_probs is None:
            raise InvalidInput(
                f"the next-token distribution of prompt {list(self.prompt.tokens)} is not fixed by the "
                f"theory ({self.message}); use within_distributions()"
            )
        return dict(zip(self.tokens, np.exp(self.log_probs).tolist(), strict=True))

    def within_distributions(self) -> tuple[dict[int, float], ...]:
        """For each retrieved group, the distribution inside it (fixed in every case).

        >>> from symattn.examples import load_example
        >>> auto = automaton(load_example())
        >>> [{auto.vocab.name(t): round(p, 3) for t, p in d.items()}
        ...  for d in auto.next("a b d f").within_distributions()]
        [{'b': 0.5, 'd': 0.5}]
        """
        return tuple(
            dict(zip(group, np.exp(log).tolist(), strict=True))
            for group, log in zip(self.groups, self.log_within, strict=True)
        )


@dataclass(frozen=True)
class Agreement:
    r"""How far given weights' next-token distribution is from the theory's, for one prompt.

    Attributes
    ----------
    determined : bool
        The theory fixes the whole distribution (else only the within-group parts).
    retrieved_theory : tuple of int
        The theory's retrieved tokens.
    retrieved_weights : tuple of int
        The tokens to which the weights give more than ``threshold`` of the mass (and the most
        likely token).
    retrieval_agrees : bool
        ``retrieved_weights`` lies inside ``retrieved_theory`` and, when ``determined``, holds
        every token the theory gives more than ``threshold``.
    outside_mass, log_outside_mass : float
        The weights' mass outside the theory's retrieved set and its natural log (computed in
        log-space; ``-inf`` when every present token is retrieved).
    tv : float or None
        Total variation :math:`\tfrac12\sum_j |\pi^W_j - \pi_j|` when ``determined``, else ``None``.
    within_tv : float
        The largest total variation, over the theory's groups, between the weights' distribution
        conditioned on the group and the theory's within-group distribution.
    threshold : float
        The level used for ``retrieved_weights``.
    """

    determined: bool
    retrieved_theory: tuple[int, ...]
    retrieved_weights: tuple[int, ...]
    retrieval_agrees: bool
    outside_mass: float
    log_outside_mass: float
    tv: float | None
    within_tv: float
    threshold: float


@dataclass(frozen=True)
class _Core:
    """One next-token computation without explanations (shared by next and transition)."""

    tokens: tuple[int, ...]
    counts: tuple[int, ...]
    retrieved: tuple[int, ...]
    groups: tuple[tuple[int, ...], ...]
    group_sccs: tuple[int | None, ...]
    log_within: tuple[np.ndarray, ...]
    log_probs: np.ndarray | None
    scores: np.ndarray
    exact: bool


def _logsumexp(z: np.ndarray) -> float:
    return float(segment_logsumexp(z, np.array([0, z.size]))[0])


def _log_normalise(z: np.ndarray) -> np.ndarray:
    return z - _logsumexp(z)


@dataclass(frozen=True, eq=False)
class Automaton:
    """The theory's automaton for a dataset, built by :func:`automaton`.

    Attributes
    ----------
    prediction : Prediction
        :math:`W^{svm}`, :math:`W^{fin}` and the token-priority graphs of the training data.
    """

    prediction: Prediction
    _cache: dict[Any, Any] = field(default_factory=dict, init=False, repr=False)

    @property
    def dataset(self) -> Dataset:
        """The training data."""
        return self.prediction.dataset

    @property
    def vocab(self) -> Vocabulary:
        """The vocabulary prompts are read in."""
        return self.dataset.vocab

    def names(self, tokens: Iterable[int]) -> tuple[str, ...]:
        """Token names of ``tokens``.

        >>> from symattn.examples import load_example
        >>> automaton(load_example()).names([0, 5])
        ('a', 'f')
        """
        return tuple(self.vocab.name(t) for t in tokens)

    def prompt(self, value: PromptLike) -> Prompt:
        """``value`` as a validated :class:`Prompt` of this vocabulary (see :meth:`Prompt.parse`).

        >>> from symattn.examples import load_example
        >>> automaton(load_example()).prompt("a b c").tokens
        (0, 1, 2)
        """
        return Prompt.parse(value, self.vocab)

    def prompts(self, values: Prompts | PromptLike | Iterable[PromptLike]) -> Prompts:
        """Validated prompts: a :class:`Prompts`, one prompt (a string or a Prompt), or a list of them.

        >>> from symattn.examples import load_example
        >>> len(automaton(load_example()).prompts(["a c", "b c"]))
        2
        """
        if isinstance(values, Prompts):
            if values.vocab.names != self.vocab.names:
                raise InvalidInput(
                    f"the prompts use a vocabulary of {values.vocab.size} tokens "
                    f"{list(values.vocab.names[:5])}, the dataset one of {self.vocab.size} tokens "
                    f"{list(self.vocab.names[:5])}; build them with vocab=auto.vocab or pass the "
                    "prompts as strings"
                )
            return values
        if isinstance(values, str | Prompt):
            values = [values]
        return Prompts.from_sequences(values, vocab=self.vocab)  # type: ignore[arg-type]

    # -- the theory ----------------------------------------------------------------------------
    def _graph(self, k: int) -> TokenGraph | None:
        return self.prediction.graphs.graphs.get(k)

    def _potentials(self, W: np.ndarray, k: int, tokens: Sequence[int]) -> np.ndarray:
        r""":math:`e_j^\top W e_k` for ``tokens`` (never forms a :math:`K \times K` or one-hot matrix)."""
        emb = self.dataset.embeddings
        if emb.is_onehot and issparse(W):  # canonical CSC (check_weights): column k's rows are sorted
            a, b = int(W.indptr[k]), int(W.indptr[k + 1])
            pos, found = locate_sorted(W.indices[a:b], np.asarray(tokens, dtype=np.int64))
            return np.where(found, np.append(W.data[a:b], 0.0)[pos], 0.0)
        if emb.is_onehot:
            return W[list(tokens), k]
        E = emb.matrix()
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is detected by the callers
            return E[list(tokens)] @ (W @ E[k])

    def _groups(
        self, retrieved: Sequence[int], graph: TokenGraph | None
    ) -> list[tuple[int | None, list[int]]]:
        by_scc: dict[int, list[int]] = {}
        absent: list[int] = []
        for t in retrieved:
            if graph is not None and t in graph:
                by_scc.setdefault(graph.scc_of(t), []).append(t)
            else:
                absent.append(t)
        groups: list[tuple[int | None, list[int]]] = sorted(by_scc.items())
        if absent and self.dataset.embeddings.is_orthogonal:
            groups.append((None, absent))
        else:
            groups.extend((None, [t]) for t in absent)
        return groups

    def _theory_core(self, k: int, tokens: tuple[int, ...], counts: tuple[int, ...]) -> _Core:
        scores, top, exact = self.prediction.svm_scores(tokens, k)
        retrieved = tuple(t for t, hit in zip(tokens, top.tolist(), strict=True) if hit)
        groups = self._groups(retrieved, self._graph(k))
        fin_scores = self.prediction.fin_scores(retrieved, k)
        fin = dict(zip(retrieved, fin_scores.tolist(), strict=True))
        log_c = dict(zip(tokens, np.log(counts).tolist(), strict=True))
        log_within = tuple(
            _log_normalise(np.array([fin[t] + log_c[t] for t in members])) for _, members in groups
        )
        log_probs = None
        if len(groups) == 1:
            log_probs = np.full(len(tokens), -np.inf)
            position = {t: i for i, t in enumerate(tokens)}
            for t, value in zip(groups[0][1], log_within[0].tolist(), strict=True):
                log_probs[position[t]] = value
        return _Core(
            tokens, counts, retrieved, tuple(tuple(m) for _, m in groups), tuple(s for s, _ in groups),
            log_within, log_probs, scores, exact,
        )

    def retrieve(self, prompt: PromptLike) -> PromptRetrieval:
        """The theory's retrieval for ``prompt``, with the SCCs it forms and why each token is dropped.

        Parameters
        ----------
        prompt : Prompt, str or sequence of int or str
            The prompt (``"a b c"``, names or ids); its last token is the query.

        Returns
        -------
        PromptRetrieval
            Scores, retrieved tokens, their groups, a priority path (with the training samples
            witnessing each edge) to every dropped token a retrieved token reaches in
            :math:`G_k`, the flags for an unseen query and tokens absent from :math:`G_k`, and
            the graph-level answer.

        >>> from symattn.examples import load_example
        >>> auto = automaton(load_example())
        >>> r = auto.retrieve("a d e")                   # query e: the chain d > a > e
        >>> auto.names(r.retrieved), [(auto.names(d.path), d.witnesses) for d in r.dropped]
        (('d',), [(('d', 'a'), (6,)), (('d', 'e'), (6,))])
        """
        p = self.prompt(prompt)
        core = self._theory_core(p.query, *p.counts())
        return self._explain(p, core)

    def _explain(self, p: Prompt, core: _Core) -> PromptRetrieval:
        k = p.query
        graph = self._graph(k)
        absent = tuple(t for t in core.tokens if graph is None or t not in graph)
        best = float(core.scores.max())
        dropped_tokens = [t for t in core.tokens if t not in core.retrieved]
        sources = [t for t in core.retrieved if graph is not None and t in graph]
        paths = {}
        if graph is not None:
            key = ("adjacency", k)
            if key not in self._cache:
                self._cache[key] = _adjacency(graph)
            paths = _priority_paths(graph, self._cache[key], sources, dropped_tokens)
        position = {t: i for i, t in enumerate(core.tokens)}
        dropped = []
        for t in dropped_tokens:
            path = paths.get(t, ())
            witnesses = tuple(self._witness(k, a, b) for a, b in itertools.pairwise(path))
            reason = DropReason.PRIORITY if path else DropReason.SCORE
            dropped.append(Dropped(t, reason, path, witnesses, best - float(core.scores[position[t]])))
        graph_top: tuple[int, ...] = ()
        unique = False
        if graph is not None:
            answer = graph.top_sccs(core.tokens)
            graph_top, unique = answer.tokens, answer.unique
        return PromptRetrieval(
            p, core.tokens, core.counts, core.scores, core.exact, core.retrieved, core.groups,
            core.group_sccs, tuple(dropped), graph is None, absent, graph_top, unique,
        )

    def _witness(self, k: int, a: int, b: int) -> int:
        """The first training sample with query ``k``, label ``a`` and ``b`` in its sequence."""
        key = ("witness", k)
        if key not in self._cache:
            c = self.dataset.counts
            mine = np.flatnonzero((c.query[c.sample] == k) & (c.token != c.label[c.sample]))
            table: dict[tuple[int, int], int] = {}
            for s, t in zip(c.sample[mine].tolist(), c.token[mine].tolist(), strict=True):
                table.setdefault((int(c.label[s]), t), s)
            self._cache[key] = table
        return self._cache[key][(a, b)]

    def next(self, prompt: PromptLike) -> NextToken:
        r"""The theory's next-token distribution for ``prompt`` (retrieval, then composition).

        The retrieved tokens are mixed by :math:`\mathrm{softmax}(e_j^\top W^{fin} e_k + \log c_j)`;
        the attention on a position holding token :math:`j` is :math:`\pi_j / c_j`. When the
        retrieved tokens span several groups the status is ``INCOMPARABLE``: ``log_probs``,
        ``attention`` and ``output`` are ``None`` and only ``log_within`` is given.

        >>> from symattn.examples import load_example
        >>> auto = automaton(load_example())
        >>> nxt = auto.next("b a b f")          # query f: b and d tie above a and f; no d here
        >>> auto.names(nxt.retrieved), nxt.attention.tolist(), nxt.output.tolist()
        (('b',), [0.5, 0.0, 0.5, 0.0], [0.0, 1.0, 0.0, 0.0, 0.0, 0.0])
        """
        p = self.prompt(prompt)
        core = self._theory_core(p.query, *p.counts())
        retrieval = self._explain(p, core)
        attention = output = None
        if core.log_probs is not None:
            attention, output = self._attention_output(p, core.tokens, core.counts, core.log_probs)
        status = NextStatus.DETERMINED if core.log_probs is not None else NextStatus.INCOMPARABLE
        return NextToken(
            status, Source.THEORY, p, core.tokens, core.counts, core.retrieved, core.log_probs,
            core.groups, core.log_within, attention, output, retrieval,
            _theory_message(retrieval, self.vocab),
        )

    def next_many(self, prompts: Prompts | PromptLike | Iterable[PromptLike]) -> tuple[NextToken, ...]:
        """:meth:`next` for each prompt.

        >>> from symattn.examples import load_example
        >>> [n.status.value for n in automaton(load_example()).next_many(["a c", "a b d f"])]
        ['determined', 'determined']
        """
        return tuple(self.next(p) for p in self.prompts(prompts))

    def _attention_output(
        self, p: Prompt, tokens: tuple[int, ...], counts: tuple[int, ...], log_probs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        per_copy = dict(zip(tokens, (log_probs - np.log(counts)).tolist(), strict=True))
        attention = np.exp(np.array([per_copy[t] for t in p.tokens]))
        emb = self.dataset.embeddings
        probs = np.exp(log_probs)
        if emb.is_onehot:
            output = np.zeros(emb.size)
            output[list(tokens)] = probs
            return attention, output
        return attention, probs @ emb.matrix()[list(tokens)]

    # -- given weights -------------------------------------------------------------------------
    def _checked(self, W: object) -> np.ndarray | csc_matrix:
        """``W`` checked (:func:`~symattn.scores.check_weights`); sparse accepted for one-hot embeddings."""
        emb = self.dataset.embeddings
        return check_weights(W, emb.dim, sparse_ok=emb.is_onehot)

    def _weights_log_probs(
        self, W: np.ndarray, k: int, tokens: tuple[int, ...], counts: tuple[int, ...]
    ) -> np.ndarray:
        u = self._potentials(W, k, tokens)
        if not float(np.max(np.abs(u))) <= MAX_POTENTIAL:
            raise InvalidInput(
                f"the potentials e_j^T W e_k for query {self.vocab.name(k)!r} exceed {MAX_POTENTIAL:g} "
                "in absolute value; scale W down"
            )
        return _log_normalise(u + np.log(counts))

    def attend(
        self, prompt: PromptLike, W: np.ndarray, *, threshold: float = DEFAULT_THRESHOLD
    ) -> NextToken:
        r"""The next-token distribution of given weights ``W`` for ``prompt`` (the model's attention).

        :math:`s = \mathrm{softmax}(X W e_k)`, :math:`\pi_j = \sum_{t: x_t = j} s_t`, output
        :math:`X^\top s`; ``retrieved`` holds the tokens with mass above ``threshold``.

        >>> from symattn.examples import load_example
        >>> auto = automaton(load_example())
        >>> out = auto.attend("a b c", np.zeros((6, 6)))
        >>> out.attention.round(4).tolist(), out.source.value
        ([0.3333, 0.3333, 0.3333], 'weights')
        """
        p = self.prompt(prompt)
        W = self._checked(W)
        level = _check_threshold(threshold)
        tokens, counts = p.counts()
        log_probs = self._weights_log_probs(W, p.query, tokens, counts)
        attention, output = self._attention_output(p, tokens, counts, log_probs)
        chosen = {tokens[int(np.argmax(log_probs))]} | {
            t for t, lp in zip(tokens, log_probs.tolist(), strict=True) if lp > np.log(level)
        }
        return NextToken(
            NextStatus.DETERMINED, Source.WEIGHTS, p, tokens, counts, tuple(sorted(chosen)), log_probs,
            (), (), attention, output, None,
        )

    def compare(
        self, prompt: PromptLike, W: np.ndarray, *, threshold: float = DEFAULT_THRESHOLD
    ) -> Agreement:
        """Compare the next-token distribution of ``W`` with the theory's for ``prompt``.

        See :class:`Agreement` for the measures.

        >>> from symattn.examples import load_example
        >>> auto = automaton(load_example())
        >>> pred = auto.prediction
        >>> a = auto.compare("a b d f", 60 * pred.W_svm + pred.W_fin)
        >>> a.retrieval_agrees, a.tv < 1e-12, a.log_outside_mass < -25
        (True, True, True)
        """
        theory = self.next(prompt)
        weights = self.attend(theory.prompt, W, threshold=threshold)
        return _agreement(theory, weights, threshold)

    # -- the chain ----------------------------------------------------------------------------
    def transition(
        self, prompt: PromptLike, W: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """The next-token step after ``prompt``: ``(tokens, log_probs)``, or ``None`` when not fixed.

        The same distribution as :meth:`next` (theory) or :meth:`attend` (with ``W``), without
        the explanations. It depends only on the query and the counts. Used by
        :func:`~symattn.generation.generate`.

        >>> from symattn.examples import load_example
        >>> auto = automaton(load_example())
        >>> tokens, log_probs = auto.transition("a e a")     # query a is never a query in training
        >>> tokens.tolist(), np.exp(log_probs).round(4).tolist()
        ([0, 4], [0.6667, 0.3333])
        >>> auto.transition("a f") is None                   # a and f: incomparable, tied
        True
        """
        p = self.prompt(prompt)
        return self.transition_state(p.query, *p.counts(), W=W)

    def transition_state(
        self, query: int, tokens: Sequence[int], counts: Sequence[int], W: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """:meth:`transition` from the state itself: the query and the counts of the distinct tokens.

        Checks the state in time proportional to the number of distinct tokens, whatever the
        length of the sequence it stands for; :func:`~symattn.generation.generate` steps with it.

        Parameters
        ----------
        query : int
            The query token (one of ``tokens``).
        tokens : sequence of int
            The distinct tokens present, ascending.
        counts : sequence of int
            How often each occurs (positive).
        W : numpy.ndarray, optional
            Weights (shape (d, d)) instead of the theory.

        >>> from symattn.examples import load_example
        >>> auto = automaton(load_example())
        >>> tokens, log_probs = auto.transition_state(0, (0, 4), (2, 1))    # the state of "a e a"
        >>> tokens.tolist(), np.exp(log_probs).round(4).tolist()
        ([0, 4], [0.6667, 0.3333])
        """
        k, ids, tally = self._state(query, tokens, counts)
        if W is not None:
            weights = self._checked(W)
            return np.array(ids), self._weights_log_probs(weights, k, ids, tally)
        log_probs = self._theory_core(k, ids, tally).log_probs
        return None if log_probs is None else (np.array(ids), log_probs)

    def _state(
        self, query: object, tokens: Sequence[int], counts: Sequence[int]
    ) -> tuple[int, tuple[int, ...], tuple[int, ...]]:
        ids = Prompt(tuple(tokens)).tokens
        tally = tuple(_positive_count(c) for c in counts)
        K = self.vocab.size
        if len(tally) != len(ids):
            raise InvalidInput(f"{len(tally)} counts for {len(ids)} tokens; give one count per token")
        if any(a >= b for a, b in itertools.pairwise(ids)):
            raise InvalidInput(f"tokens {list(ids)[:10]} must be distinct and ascending")
        if ids[0] < 0 or ids[-1] >= K:
            bad = ids[0] if ids[0] < 0 else ids[-1]
            raise InvalidInput(f"token {bad} is out of range for K={K} (ids 0..{K - 1})")
        if isinstance(query, bool) or not isinstance(query, int | np.integer) or int(query) not in ids:
            raise InvalidInput(
                f"query {query!r} is not among the tokens {list(ids)[:10]}; the query is one of them"
            )
        return int(query), ids, tally


def _adjacency(graph: TokenGraph) -> csr_matrix:
    """The adjacency matrix of :math:`G_k` on the positions of ``graph.nodes``."""
    n = graph.nodes.size
    src = np.searchsorted(graph.nodes, graph.edges[:, 0])
    dst = np.searchsorted(graph.nodes, graph.edges[:, 1])
    return csr_matrix((np.ones(src.size), (src, dst)), shape=(n, n))


def _priority_paths(
    graph: TokenGraph, adjacency: csr_matrix, sources: Sequence[int], targets: Sequence[int]
) -> dict[int, tuple[int, ...]]:
    """A shortest path in :math:`G_k` from one of ``sources`` to each reachable target.

    Breadth-first search from every source (SciPy's compiled routine on the adjacency of
    :math:`G_k`); the source nearest to a target wins, the smallest source id among ties.
    """
    wanted = [t for t in targets if t in graph and any(graph.reaches(s, t) for s in sources)]
    if not wanted:
        return {}
    nodes = graph.nodes
    starts = np.searchsorted(nodes, sorted(sources))
    dist, pred = shortest_path(adjacency, unweighted=True, indices=starts, return_predecessors=True)
    paths = {}
    for t in wanted:
        column = int(np.searchsorted(nodes, t))
        row = int(np.argmin(dist[:, column]))
        path = [column]
        while path[-1] != starts[row]:
            path.append(int(pred[row, path[-1]]))
        paths[t] = tuple(int(nodes[i]) for i in reversed(path))
    return paths


def _theory_message(r: PromptRetrieval, vocab: Vocabulary) -> str:
    k = vocab.name(r.query)
    notes = []
    if r.unseen_query:
        notes.append(
            f"query {k!r} is never a query in training: there is no G_{k}, and W^svm e_{k} is 0 for "
            "orthogonal embeddings (every token ties)"
        )
    elif r.absent:
        names = ", ".join(vocab.name(t) for t in r.absent)
        notes.append(f"token(s) {names} are not in G_{k}: the graph says nothing about them (score 0 "
                     "for orthogonal embeddings)")
    if len(r.groups) > 1:
        groups = "; ".join("{" + ", ".join(vocab.name(t) for t in g) + "}" for g in r.groups)
        notes.append(
            f"the retrieved tokens form {len(r.groups)} groups with tied W^svm scores ({groups}): their "
            "relative weights are not fixed by the theory, only the weights within each group"
        )
    return "; ".join(notes)


def _agreement(theory: NextToken, weights: NextToken, threshold: float) -> Agreement:
    tokens = np.array(theory.tokens)
    inside = np.isin(tokens, theory.retrieved)
    lw = weights.log_probs
    assert lw is not None
    log_out = _logsumexp(lw[~inside]) if (~inside).any() else -np.inf
    within = 0.0
    position = {t: i for i, t in enumerate(theory.tokens)}
    for group, log in zip(theory.groups, theory.log_within, strict=True):
        conditional = _log_normalise(lw[[position[t] for t in group]])
        within = max(within, 0.5 * float(np.abs(np.exp(conditional) - np.exp(log)).sum()))
    tv = None
    agrees = set(weights.retrieved) <= set(theory.retrieved)
    if theory.log_probs is not None:
        p_theory = np.exp(theory.log_probs)
        tv = 0.5 * (float(np.exp(log_out)) + float(np.abs(np.exp(lw[inside]) - p_theory[inside]).sum()))
        agrees = agrees and set(tokens[p_theory > threshold].tolist()) <= set(weights.retrieved)
    return Agreement(
        theory.log_probs is not None, theory.retrieved, weights.retrieved, agrees,
        float(np.exp(log_out)), log_out, tv, within, threshold,
    )


def _positive_count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise InvalidInput(f"count {value!r} must be a positive integer (how often a token occurs)")
    return int(value)


def _check_threshold(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise InvalidInput(f"threshold={value!r} must be a number in (0, 1)")
    if not 0.0 < float(value) < 1.0:
        raise InvalidInput(f"threshold={value!r} must lie strictly between 0 and 1")
    return float(value)


def automaton(data: Dataset | Prediction) -> Automaton:
    """The theory's automaton for a dataset (or its :class:`~symattn.predict.Prediction`).

    Parameters
    ----------
    data : Dataset or Prediction
        The training data; a Prediction is reused, a Dataset is solved with
        :func:`~symattn.predict.predict` (needs linearly independent embeddings).

    Returns
    -------
    Automaton
        With :meth:`~Automaton.retrieve`, :meth:`~Automaton.next`, :meth:`~Automaton.attend`,
        :meth:`~Automaton.compare` and :meth:`~Automaton.transition` (used by
        :func:`~symattn.generation.generate`).

    Raises
    ------
    InvalidInput
        When ``data`` is neither.
    Infeasible
        When the graph-SVM has no solution (dependent embeddings).

    >>> from symattn.data import Dataset
    >>> auto = automaton(Dataset.from_samples([([0, 1], 0)], vocab=2))
    >>> auto.next([1, 0, 1]).distribution()
    {0: 1.0, 1: 0.0}
    """
    if isinstance(data, Prediction):
        return Automaton(data)
    if isinstance(data, Dataset):
        return Automaton(predict(data))
    raise InvalidInput(f"automaton needs a Dataset or its Prediction, got {type(data).__name__}")
