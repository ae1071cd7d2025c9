r"""Search a conjecture about datasets for a counterexample with Hypothesis, and shrink it.

A **conjecture** is a plain function of a :class:`~symattn.data.Dataset` that fails by raising
:class:`AssertionError` or by returning ``False``; anything else it returns means it held. The
:func:`conjecture` decorator names it and declares its other arguments (prompts, weights, radii)
with the strategies that draw them. Any other exception is an *error of the conjecture*: it is
reported with its traceback and never counts as a refutation.

**The search** (:func:`check_conjecture`) is Hypothesis's own engine: the ``examples`` are cut
into batches of :data:`BATCH_SIZE`; batch ``b`` is one ``@given`` run of at most that many
examples, seeded with :func:`batch_seed` ``(seed, b)``, no example database, no deadline. The
batches run in order and the first that finds a failure shrinks it (Hypothesis's shrinker) and
ends the search. A batch depends only on ``(seed, b)``, so a Dask sweep
(:mod:`symattn.conjecture.sweep`) that runs the batches on other processes reaches the same
verdict, the same counterexample and the same count of examples tried.

>>> from symattn.conjecture.declare import conjecture
>>> from symattn.graphs import priority_graphs
>>> @conjecture
... def labels_head_their_sequence(ds):
...     graphs = priority_graphs(ds)
...     for i, sample in enumerate(ds):
...         assert graphs.top_sccs(sample.tokens).indices == (graphs.label_scc[i],)
>>> check_conjecture(labels_head_their_sequence, examples=20, seed=0).status.value
'survived'
>>> @conjecture
... def every_graph_is_acyclic(ds):
...     return not priority_graphs(ds).cyclic
>>> result = check_conjecture(every_graph_is_acyclic, examples=50, seed=0)
>>> result.status.value, [(s.tokens, s.label) for s in result.counterexample.dataset]
('refuted', [((1, 0), 0), ((1, 0), 1)])
"""

from __future__ import annotations

import contextlib
import hashlib
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, reject, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import Flaky, HypothesisDeprecationWarning, HypothesisException, Unsatisfiable
from hypothesis.strategies import SearchStrategy

from symattn.conjecture.declare import (
    ArgumentSpec,
    Conjecture,
    ConjectureError,
    as_conjecture,
    dataset_strategy,
)
from symattn.data import Dataset
from symattn.errors import InvalidInput
from symattn.graphs import priority_graphs
from symattn.results import ResultMixin, Status

__all__ = [
    "BATCH_SIZE",
    "KIND_KEYS",
    "BatchOutcome",
    "ConjectureResult",
    "ConjectureStatus",
    "Counterexample",
    "Failure",
    "batch_plan",
    "batch_seed",
    "check_conjecture",
    "check_count",
    "check_seed",
    "evaluate",
    "finish",
    "merge_kinds",
    "run_batch",
    "tally",
]

BATCH_SIZE = 200
"""Examples per batch: one Hypothesis run, and one Dask task in a sweep (see ``docs/conjectures.md``)."""


class ConjectureStatus(Status, success={"survived"}):
    """The outcome of a search or a replay; only ``SURVIVED`` counts as success."""

    SURVIVED = "survived"
    """No counterexample among the examples tried."""
    REFUTED = "refuted"
    """A counterexample was found (and shrunk)."""
    ERROR = "error"
    """The conjecture (or its strategy) raised an exception other than ``AssertionError``."""


# -- one example ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Failure:
    """What went wrong on one example: ``kind`` (``REFUTED`` or ``ERROR``), a message, a traceback."""

    kind: ConjectureStatus
    message: str
    traceback: str


class _Failed(Exception):
    """Raised inside the Hypothesis run so that its engine sees the failure and shrinks it."""


def evaluate(conj: Conjecture, dataset: Dataset, arguments: Mapping[str, Any]) -> Failure | None:
    """Run the conjecture once: ``None`` when it held, else the :class:`Failure`.

    ``AssertionError`` or a ``False`` return refutes; any other exception is an error of the
    conjecture; Hypothesis's own exceptions (``assume``) pass through to the engine.

    >>> from symattn.conjecture.declare import as_conjecture
    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1], 0)], vocab=2)
    >>> evaluate(as_conjecture(lambda d: len(d) > 1), ds, {}).message
    'the conjecture returned False'
    >>> evaluate(as_conjecture(lambda d: 1 / 0), ds, {}).kind.value
    'error'
    """
    try:
        value = conj.func(dataset, **arguments)
    except AssertionError as exc:
        return Failure(ConjectureStatus.REFUTED, _assertion_message(exc), _format(exc))
    except HypothesisException:
        raise  # assume() and friends belong to the engine
    except Exception as exc:
        return Failure(ConjectureStatus.ERROR, f"{type(exc).__name__}: {exc}", _format(exc))
    if value is False or (isinstance(value, np.bool_) and not value):
        return Failure(ConjectureStatus.REFUTED, "the conjecture returned False", "")
    return None


def _assertion_message(exc: AssertionError) -> str:
    text = str(exc)
    if text:
        return text
    frames = traceback.extract_tb(exc.__traceback__)
    line = frames[-1].line if frames else ""
    return f"assertion failed: {line}" if line else "assertion failed"


def _format(exc: BaseException) -> str:
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return "".join(lines[:1] + lines[2:])  # drop the harness's own frame


@st.composite
def _examples(draw: st.DrawFn, datasets: SearchStrategy, arguments: Mapping[str, ArgumentSpec]) -> tuple:
    dataset = draw(datasets)
    drawn = {}
    for key, spec in arguments.items():
        strategy = spec if isinstance(spec, SearchStrategy) else spec(dataset)
        if not isinstance(strategy, SearchStrategy):
            raise ConjectureError(f"the strategy of argument {key!r} returned {strategy!r}, not a strategy")
        drawn[key] = draw(strategy)
    return dataset, drawn


# -- one batch ------------------------------------------------------------------------------------
def batch_seed(seed: int, index: int) -> int:
    """The Hypothesis seed of batch ``index`` of a search with ``seed`` (64 bits of SHA-256).

    >>> batch_seed(0, 0) == batch_seed(0, 0) != batch_seed(0, 1)
    True
    """
    digest = hashlib.sha256(f"symattn.conjecture/{seed}/{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def batch_plan(examples: int, size: int = BATCH_SIZE) -> list[int]:
    """The sizes of the batches of a search of ``examples`` examples.

    >>> batch_plan(450, 200)
    [200, 200, 50]
    """
    full, rest = divmod(check_count(examples, "examples"), check_count(size, "batch size"))
    return [int(size)] * full + ([rest] if rest else [])


def check_count(value: object, label: str) -> int:
    """``value`` as a positive int, else :class:`InvalidInput` naming ``label``.

    >>> check_count(5, "examples")
    5
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise InvalidInput(f"{label}={value!r} must be a positive integer")
    return int(value)


KIND_KEYS = ("cyclic", "acyclic", "repeated_tokens", "unequal_lengths", "several_queries")


def tally(kinds: dict[str, int], dataset: Dataset) -> None:
    """Count what kind of dataset was tried (cycles, repeats, lengths, queries, sizes) into ``kinds``.

    >>> from symattn.data import Dataset
    >>> kinds = {}
    >>> tally(kinds, Dataset.from_samples([([0, 1], 0), ([0, 1], 1), ([1, 1, 0], 1)], vocab=2))
    >>> kinds["cyclic"], kinds["repeated_tokens"], kinds["unequal_lengths"], kinds["max_length"]
    (1, 1, 1, 3)
    """
    flags = {
        "cyclic": priority_graphs(dataset).cyclic,
        "repeated_tokens": bool(np.any(dataset.counts.count > 1)),
        "unequal_lengths": bool(np.ptp(dataset.lengths) > 0),
        "several_queries": np.unique(dataset.queries).size > 1,
    }
    flags["acyclic"] = not flags["cyclic"]
    for key in KIND_KEYS:
        kinds[key] = kinds.get(key, 0) + int(flags[key])
    for key, value in (("max_samples", len(dataset)), ("max_length", int(dataset.lengths.max())),
                       ("max_vocab", dataset.K)):
        kinds[key] = max(kinds.get(key, 0), value)


def merge_kinds(parts: list[Mapping[str, int]]) -> dict[str, int]:
    """Add the counts and take the maxima of several tallies.

    >>> merge_kinds([{"cyclic": 2, "max_samples": 3}, {"cyclic": 1, "max_samples": 5}])
    {'cyclic': 3, 'max_samples': 5}
    """
    out: dict[str, int] = {}
    for part in parts:
        for key, value in part.items():
            out[key] = max(out.get(key, 0), value) if key.startswith("max_") else out.get(key, 0) + value
    return out


@dataclass(frozen=True)
class BatchOutcome(ResultMixin):
    """What one batch found: ``status``, examples ``tried`` (up to the first failure) and their kinds.

    ``found_after``: seconds from the start of the batch to its first failure.
    """

    index: int
    status: ConjectureStatus
    tried: int
    kinds: Mapping[str, int]
    message: str = ""
    found_after: float | None = None

    @property
    def iterations(self) -> int:
        """The examples tried (the result protocol's count of work done)."""
        return self.tried


@dataclass(frozen=True, eq=False)
class Counterexample:
    """The shrunk failing example and how it was found.

    Attributes
    ----------
    dataset : Dataset
        The shrunk dataset.
    arguments : dict
        The conjecture's other arguments, as drawn.
    message, traceback : str
        What the conjecture said (the traceback of an error or a failed assertion).
    batch : int
        The batch that found it.
    shrink_steps : int
        Failing examples the shrinker accepted after the first, each simpler than the last.
    shrink_calls : int
        Calls of the conjecture while shrinking.
    shrink_seconds : float
        Wall time spent shrinking. Hypothesis stops shrinking after five minutes, so a shrink
        that took that long may end at a larger example than a faster machine would reach.
    """

    dataset: Dataset
    arguments: Mapping[str, Any]
    message: str
    traceback: str
    batch: int
    shrink_steps: int
    shrink_calls: int
    shrink_seconds: float = 0.0


@dataclass
class _BatchState:
    kind: ConjectureStatus | None = None
    tried: int = 0
    failures: int = 0
    shrink_calls: int = 0
    last: tuple[Dataset, dict, Failure] | None = None
    kinds: dict[str, int] = field(default_factory=dict)
    found_after: float | None = None


@contextlib.contextmanager
def _same_in_every_process() -> Iterator[None]:
    """Make a batch a function of its seed alone, in any process.

    Hypothesis draws about one value in twenty from the constants written in the source of the
    "local" modules loaded in the process (``hypothesis.internal.conjecture.providers``), so the
    same seed would draw different examples in a Dask worker, under pytest and from the command
    line; inside a batch that pool is empty. Hypothesis also warns when the global ``random``
    state changes during a draw, which other threads (Dask's event loop) do; the warning (an
    error under ``-W error``) is silenced here, as the strategies never use ``random``. The
    constants are Hypothesis internals: when they are missing nothing is changed, and
    ``tests/test_conjecture_sweep.py`` checks that a worker and this process still agree.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Do not use the `random` module",
                                category=HypothesisDeprecationWarning)
        try:
            from hypothesis.internal.conjecture import providers

            original, cache = providers._get_local_constants, providers.CONSTANTS_CACHE
            empty = providers.Constants()
        except (ImportError, AttributeError):
            yield
            return
        cache.cache.clear()
        providers._get_local_constants = lambda: empty
        try:
            yield
        finally:
            providers._get_local_constants = original
            cache.cache.clear()


def _settings(size: int, shrink: bool) -> settings:
    return settings(
        settings.get_profile("default"), max_examples=size, database=None, derandomize=False,
        deadline=None, report_multiple_bugs=False, print_blob=False, verbosity=Verbosity.quiet,
        phases=(Phase.generate, Phase.shrink) if shrink else (Phase.generate,),
        suppress_health_check=list(HealthCheck),
    )


def run_batch(
    conj: Conjecture,
    datasets: SearchStrategy,
    seed: int,
    index: int,
    size: int,
    *,
    shrink: bool = True,
    progress: Callable[[int], None] | None = None,
) -> tuple[BatchOutcome, Counterexample | None]:
    """Run batch ``index`` of a search: one seeded Hypothesis run of at most ``size`` examples.

    Generation stops at the first failure, which is returned as a :class:`Counterexample`,
    shrunk when ``shrink`` is true; failures of the other kind (an error while shrinking a
    refutation, or the reverse) are rejected, so a refutation never slips into an error.
    ``progress(1)`` is called after each example tried.

    >>> from symattn.conjecture.declare import as_conjecture, dataset_strategy
    >>> datasets, _ = dataset_strategy("uniform")
    >>> outcome, found = run_batch(as_conjecture(lambda ds: len(ds) < 2), datasets, 0, 0, 50)
    >>> outcome.status.value, len(found.dataset)
    ('refuted', 2)
    """
    state = _BatchState()
    began = time.perf_counter()
    test = _examine(conj, state, began, progress)
    run = hypothesis_seed(batch_seed(seed, index))(
        _settings(size, shrink)(given(_examples(datasets, conj.arguments))(test))
    )
    try:
        with _same_in_every_process():
            run()
    except _Failed:
        pass
    except Flaky as exc:
        return _engine_error(index, state, "the conjecture is not deterministic: the same example "
                             f"passed once and failed once ({type(exc).__name__})", exc)
    except Unsatisfiable as exc:
        return _engine_error(index, state, "no example satisfied the conjecture's assumptions", exc)
    except Exception as exc:
        return _engine_error(index, state, f"drawing an example failed: {type(exc).__name__}: {exc}", exc)
    return _batch_outcome(index, state, began)


def _examine(
    conj: Conjecture, state: _BatchState, began: float, progress: Callable[[int], None] | None
) -> Callable[[tuple[Dataset, dict]], None]:
    """The test Hypothesis runs on each example of a batch, recording into ``state``.

    Until the first failure it counts the examples tried; after it (shrinking) it counts the
    calls and rejects failures of the other kind. Every failure kept raises ``_Failed``.
    """

    def test(example: tuple[Dataset, dict]) -> None:
        dataset, arguments = example
        failure = evaluate(conj, dataset, arguments)
        if state.kind is None:
            state.tried += 1
            tally(state.kinds, dataset)
            if progress is not None:
                progress(1)
            if failure is None:
                return
            state.kind = failure.kind
            state.found_after = time.perf_counter() - began
        else:
            state.shrink_calls += 1
            if failure is None:
                return
            if failure.kind is not state.kind:
                reject()
        state.failures += 1
        state.last = (dataset, arguments, failure)
        raise _Failed

    return test


def _batch_outcome(
    index: int, state: _BatchState, began: float
) -> tuple[BatchOutcome, Counterexample | None]:
    """The outcome of a batch the engine finished: survived, or its last (most shrunk) failure."""
    if state.last is None:
        return BatchOutcome(index, ConjectureStatus.SURVIVED, state.tried, state.kinds), None
    dataset, arguments, failure = state.last
    outcome = BatchOutcome(index, failure.kind, state.tried, state.kinds, failure.message, state.found_after)
    steps = max(state.failures - 2, 0)  # minus the first failure and Hypothesis's final replay
    calls = max(state.shrink_calls - 1, 0)
    shrinking = time.perf_counter() - began - (state.found_after or 0.0)
    found = Counterexample(
        dataset, arguments, failure.message, failure.traceback, index, steps, calls, shrinking
    )
    return outcome, found


def _engine_error(
    index: int, state: _BatchState, message: str, exc: BaseException
) -> tuple[BatchOutcome, Counterexample | None]:
    outcome = BatchOutcome(
        index, ConjectureStatus.ERROR, state.tried, state.kinds, message, state.found_after
    )
    if state.last is None:
        return outcome, None
    dataset, arguments, _ = state.last
    return outcome, Counterexample(dataset, arguments, message, _format(exc), index, 0, state.shrink_calls)


# -- the search -----------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ConjectureResult(ResultMixin):
    """The verdict of a search (or a replay) and what it rests on.

    Attributes
    ----------
    status : ConjectureStatus
        ``SURVIVED``, ``REFUTED`` or ``ERROR``; ``success`` only when it survived.
    message : str
        One sentence for people.
    iterations : int
        Examples tried (up to and including the failing one).
    name : str
        The conjecture's name.
    origin : str or None
        Its address (``catalogue:NAME`` or ``/path/file.py::NAME``) when it has one.
    strategy : str
        What the dataset strategy draws.
    seed, examples, batch_size : int
        The search: ``examples`` asked for, in batches of ``batch_size``, from ``seed``.
    kinds : dict
        How many examples tried were cyclic, acyclic, had repeated tokens, unequal lengths,
        several queries, and the largest sample count, length and vocabulary seen.
    counterexample : Counterexample or None
        The shrunk failing example (``None`` when it survived).
    seconds : float
        Wall time of the search, shrinking included.
    seconds_to_find : float or None
        Wall time until the failing example was first met (``None`` when it survived).
    workers : int
        Dask worker processes that ran the batches (0: this process).
    """

    status: ConjectureStatus
    message: str
    iterations: int
    name: str
    origin: str | None
    strategy: str
    seed: int
    examples: int
    batch_size: int
    kinds: Mapping[str, int]
    counterexample: Counterexample | None
    seconds: float
    seconds_to_find: float | None = None
    workers: int = 0

    @property
    def tried(self) -> int:
        """Examples tried (the same as ``iterations``)."""
        return self.iterations


def check_seed(seed: object) -> int:
    """``seed`` as a non-negative int, else :class:`InvalidInput`.

    >>> check_seed(3)
    3
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InvalidInput(f"seed={seed!r} must be a non-negative integer")
    return int(seed)


def check_conjecture(
    conj: Conjecture | Callable[..., object],
    *,
    examples: int = 1000,
    seed: int = 0,
    strategy: str | SearchStrategy | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
    shrink: bool = True,
) -> ConjectureResult:
    """Search ``examples`` examples for a counterexample to ``conj`` in this process.

    Parameters
    ----------
    conj : Conjecture or callable
        The conjecture (a plain function of a dataset is accepted).
    examples : int
        How many examples to try at most.
    seed : int
        The search's seed: the same seed gives the same examples, verdict and counterexample.
    strategy : str, SearchStrategy or None
        Overrides the conjecture's dataset strategy (see :func:`dataset_strategy`).
    batch_size : int
        Examples per batch (keep the default to compare with a sweep).
    progress : callable, optional
        ``progress(n)`` after every ``n`` examples tried.
    shrink : bool
        Shrink the failing example (default); without, it is returned as first met.

    Returns
    -------
    ConjectureResult
        The verdict; a refutation or error carries the shrunk :class:`Counterexample`.

    >>> check_conjecture(lambda ds: len(ds) < 3, examples=100, seed=1).counterexample.dataset.n
    3
    """
    conj = as_conjecture(conj)
    seed = check_seed(seed)
    datasets, described = dataset_strategy(strategy if strategy is not None else conj.strategy)
    plan = batch_plan(examples, batch_size)
    start = time.perf_counter()
    outcomes: list[BatchOutcome] = []
    found: Counterexample | None = None
    to_find = None
    for index, size in enumerate(plan):
        began = time.perf_counter() - start
        outcome, found = run_batch(conj, datasets, seed, index, size, shrink=shrink, progress=progress)
        outcomes.append(outcome)
        if outcome.status is not ConjectureStatus.SURVIVED:
            to_find = began + (outcome.found_after or 0.0)
            break
    return finish(conj, described, seed, examples, batch_size, outcomes, found, start, to_find, 0)


def finish(
    conj: Conjecture, described: str, seed: int, examples: int, batch_size: int,
    outcomes: list[BatchOutcome], found: Counterexample | None, start: float, to_find: float | None,
    workers: int,
) -> ConjectureResult:
    """Assemble the :class:`ConjectureResult` of batches run in order up to the first failure."""
    tried = sum(o.tried for o in outcomes)
    last = outcomes[-1]
    if last.status is ConjectureStatus.SURVIVED:
        message = f"no counterexample in {tried} examples"
    elif last.status is ConjectureStatus.REFUTED:
        message = f"refuted after {tried} examples: {last.message}"
    else:
        message = f"the conjecture raised an error after {tried} examples: {last.message}"
    return ConjectureResult(
        last.status, message, tried, conj.name, conj.origin, described, seed, examples, batch_size,
        merge_kinds([o.kinds for o in outcomes]), found, time.perf_counter() - start, to_find, workers,
    )
