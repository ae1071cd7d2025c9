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

>>> from symattn.graphs import priority_graphs
>>> @conjecture
... def labels_head_their_sequence(ds):
...     graphs = priority_graphs(ds)
...     for i, sample in enumerate(ds):
...         assert graphs.top_sccs(sample.tokens).sccs == (graphs.label_scc[i],)
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
import dataclasses
import hashlib
import importlib.util
import inspect
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, reject, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import Flaky, HypothesisDeprecationWarning, HypothesisException, Unsatisfiable
from hypothesis.strategies import SearchStrategy

from symattn import strategies as sts
from symattn.data import Dataset
from symattn.errors import InvalidInput
from symattn.graphs import priority_graphs
from symattn.results import ResultMixin, Status

__all__ = [
    "BATCH_SIZE",
    "STRATEGIES",
    "BatchOutcome",
    "Conjecture",
    "ConjectureError",
    "ConjectureResult",
    "ConjectureStatus",
    "Counterexample",
    "as_conjecture",
    "batch_plan",
    "batch_seed",
    "check_conjecture",
    "conjecture",
    "dataset_strategy",
    "load_conjecture",
    "run_batch",
]

BATCH_SIZE = 200
"""Examples per batch: one Hypothesis run, and one Dask task in a sweep (see ``docs/conjectures.md``)."""

ArgumentSpec = SearchStrategy | Callable[[Dataset], SearchStrategy]

STRATEGIES: Mapping[str, tuple[str, Callable[[], SearchStrategy]]] = {
    "realised": (
        "realised datasets: 1-3 query tokens, up to 5 tokens a graph, graphs with and without cycles, "
        "repeated samples and tokens, unequal lengths; one-hot embeddings",
        lambda: sts.realised_datasets(max_queries=3, max_tokens=5, max_repeats=3),
    ),
    "cyclic": (
        "realised datasets with at least one cycle; one-hot embeddings",
        lambda: sts.realised_datasets(max_queries=3, max_tokens=5, cyclic=True),
    ),
    "acyclic": (
        "realised datasets whose graphs are all acyclic; one-hot embeddings",
        lambda: sts.realised_datasets(max_queries=3, max_tokens=5, cyclic=False),
    ),
    "one-query": (
        "realised datasets with one query token, up to 4 tokens, up to 2 samples a label; one-hot "
        "embeddings (small, for conjectures that train)",
        lambda: sts.realised_datasets(max_queries=1, max_tokens=4, max_repeats=2),
    ),
    "uniform": (
        "uniformly random datasets: up to 5 tokens, 8 samples of length up to 5, labels drawn from "
        "their sequence; one-hot embeddings",
        lambda: sts.datasets(max_vocab=5, max_samples=8, max_length=5),
    ),
    "orthonormal": (
        "realised datasets with random orthonormal embeddings (d = K)",
        lambda: sts.realised_datasets(max_queries=3, max_tokens=5, embeddings="orthonormal"),
    ),
    "given": (
        "realised datasets with exact integer embedding rows, linearly independent (d = K)",
        lambda: sts.realised_datasets(max_queries=3, max_tokens=5, embeddings="given"),
    ),
    "random-unit": (
        "realised datasets with random unit-norm embeddings (d = K)",
        lambda: sts.realised_datasets(max_queries=3, max_tokens=5, embeddings="random_unit"),
    ),
}
"""Named dataset strategies for ``--strategy``: name -> (what it draws, factory)."""

DEFAULT_STRATEGY = "realised"


class ConjectureStatus(Status):
    """The outcome of a search or a replay; only ``SURVIVED`` counts as success."""

    SURVIVED = "survived"
    """No counterexample among the examples tried."""
    REFUTED = "refuted"
    """A counterexample was found (and shrunk)."""
    ERROR = "error"
    """The conjecture (or its strategy) raised an exception other than ``AssertionError``."""

    @classmethod
    def successes(cls) -> frozenset[Status]:
        """Only a surviving conjecture is a success."""
        return frozenset({cls.SURVIVED})


class ConjectureError(InvalidInput):
    """A conjecture cannot be loaded or declared: no such file or name, or a bad declaration."""


@dataclass(frozen=True, eq=False)
class Conjecture:
    """A named property of a dataset, with the strategies that draw its inputs.

    Attributes
    ----------
    func : callable
        ``func(dataset, **arguments)``; fails by ``AssertionError`` or by returning ``False``.
    name : str
        Its name (files of a refutation are called after it).
    strategy : str, SearchStrategy or None
        The dataset strategy: a name of :data:`STRATEGIES`, a strategy, or ``None`` for the default.
    arguments : mapping of str to strategy or callable
        The other arguments: a strategy, or a function of the drawn dataset returning one.
    description : str
        One line for people (defaults to the first line of the docstring).
    origin : str or None
        How to load it again in another process: ``"catalogue:NAME"`` or ``"/path/file.py::NAME"``.
    """

    func: Callable[..., object]
    name: str
    strategy: str | SearchStrategy | None = None
    arguments: Mapping[str, ArgumentSpec] = field(default_factory=dict)
    description: str = ""
    origin: str | None = None

    def __call__(self, dataset: Dataset, /, **arguments: Any) -> object:
        return self.func(dataset, **arguments)

    def __reduce_ex__(self, protocol: Any) -> Any:
        # A conjecture loaded from a file or the catalogue travels as its address, so another
        # process (a Dask worker) loads it itself instead of unpickling the user's module.
        if self.origin is not None:
            return (load_conjecture, (self.origin,))
        return super().__reduce_ex__(protocol)


def conjecture(
    func: Callable[..., object] | None = None,
    /,
    *,
    name: str | None = None,
    strategy: str | SearchStrategy | None = None,
    description: str | None = None,
    **arguments: ArgumentSpec,
) -> Any:
    """Declare a conjecture: ``@conjecture`` or ``@conjecture(strategy=..., prompt=..., R=...)``.

    Each keyword other than ``name``, ``strategy`` and ``description`` is an argument of the
    function, drawn by the given strategy or by ``spec(dataset)`` when ``spec`` is a function of
    the drawn dataset (for prompts and weights that must fit its vocabulary).

    >>> from hypothesis import strategies as st
    >>> @conjecture(strategy="cyclic", R=st.floats(1, 10))
    ... def demo(ds, R):
    ...     "A demo."
    ...     return R >= 1
    >>> demo.name, demo.strategy, sorted(demo.arguments), demo.description
    ('demo', 'cyclic', ['R'], 'A demo.')
    """

    def declare(f: Callable[..., object]) -> Conjecture:
        return _declare(f, name, strategy, description, arguments)

    return declare(func) if func is not None else declare


def _declare(
    func: Callable[..., object], name: str | None, strategy: str | SearchStrategy | None,
    description: str | None, arguments: Mapping[str, ArgumentSpec],
) -> Conjecture:
    if not callable(func):
        raise ConjectureError(f"a conjecture must be a function of a dataset, got {type(func).__name__}")
    for key, spec in arguments.items():
        if not (isinstance(spec, SearchStrategy) or callable(spec)):
            raise ConjectureError(
                f"argument {key!r} is declared with {spec!r}; give a Hypothesis strategy or a "
                "function of the dataset returning one"
            )
    try:
        inspect.signature(func).bind(None, **dict.fromkeys(arguments))
    except TypeError as exc:
        raise ConjectureError(
            f"{getattr(func, '__name__', func)!r} cannot be called as f(dataset, "
            f"{', '.join(f'{k}=...' for k in arguments)}): {exc}"
        ) from None
    except ValueError:
        pass  # builtins without a signature: trust the declaration
    if strategy is not None:
        dataset_strategy(strategy)
    doc = inspect.getdoc(func) or ""
    return Conjecture(
        func, name or getattr(func, "__name__", "conjecture"), strategy, dict(arguments),
        description if description is not None else (doc.splitlines()[0] if doc else ""),
    )


def as_conjecture(obj: object, name: str | None = None) -> Conjecture:
    """``obj`` itself when it is a :class:`Conjecture`, else a conjecture made from the callable.

    >>> as_conjecture(lambda ds: True, "trivial").name
    'trivial'
    """
    if isinstance(obj, Conjecture):
        return obj
    return _declare(obj, name, None, None, {})  # type: ignore[arg-type]


# -- loading --------------------------------------------------------------------------------------
_LOADED: dict[tuple[str, int], Any] = {}


def _load_file(path: Path) -> Any:
    """Execute the user's file as a module (once per process and file version)."""
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _LOADED:
        digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
        module_name = f"symattn_user_{digest}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise ConjectureError(f"{path}: cannot be loaded as a Python file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        _LOADED[key] = module
    return _LOADED[key]


def load_object(address: str, what: str) -> tuple[Any, str]:
    """The object named by ``"FILE.py::NAME"``, and the address with the file made absolute.

    Executes ``FILE.py`` (the user's own code, as ``python FILE.py`` would); exceptions it
    raises propagate. A missing file or name raises :class:`ConjectureError`.
    """
    file, sep, name = address.rpartition("::")
    if not sep or not file or not name:
        raise ConjectureError(f"{what} {address!r} must look like FILE.py::NAME")
    path = Path(file).expanduser().resolve()
    if not path.is_file():
        raise ConjectureError(f"{what} file {file!r} does not exist")
    module = _load_file(path)
    if not hasattr(module, name):
        found = sorted(k for k, v in vars(module).items() if callable(v) and not k.startswith("_"))
        raise ConjectureError(f"{file} has no {name!r}; it defines {found[:12]}")
    return getattr(module, name), f"{path}::{name}"


def load_conjecture(address: str) -> Conjecture:
    """Load ``"FILE.py::NAME"`` or ``"catalogue:NAME"`` as a :class:`Conjecture`.

    >>> load_conjecture("catalogue:svm-perp-fin").origin
    'catalogue:svm-perp-fin'
    """
    if not isinstance(address, str):
        raise ConjectureError(f"a conjecture address must be a string, got {address!r}")
    if address.startswith("catalogue:"):
        from symattn.conjecture.catalogue import catalogue_entry

        return catalogue_entry(address.partition(":")[2]).conjecture
    obj, absolute = load_object(address, "conjecture")
    if not callable(obj):
        raise ConjectureError(f"{address} is a {type(obj).__name__}, not a function of a dataset")
    conj = as_conjecture(obj, address.rpartition("::")[2])
    return dataclasses.replace(conj, origin=absolute)


def dataset_strategy(spec: str | SearchStrategy | None) -> tuple[SearchStrategy, str]:
    """The dataset strategy for ``spec`` and a sentence saying what it draws.

    ``spec``: ``None`` (the default, ``"realised"``), a name of :data:`STRATEGIES`,
    ``"FILE.py::NAME"`` (a strategy, or a function returning one, in the user's file), or a
    strategy.

    >>> dataset_strategy("cyclic")[1]
    'cyclic: realised datasets with at least one cycle; one-hot embeddings'
    """
    if spec is None:
        spec = DEFAULT_STRATEGY
    if isinstance(spec, SearchStrategy):
        return spec, f"a custom strategy {spec!r}"
    if not isinstance(spec, str):
        raise ConjectureError(f"strategy={spec!r} must be a name, FILE.py::NAME or a strategy")
    if spec in STRATEGIES:
        text, factory = STRATEGIES[spec]
        return factory(), f"{spec}: {text}"
    if "::" in spec:
        obj, absolute = load_object(spec, "strategy")
        strategy = obj if isinstance(obj, SearchStrategy) else obj() if callable(obj) else None
        if not isinstance(strategy, SearchStrategy):
            raise ConjectureError(f"{spec} is not a Hypothesis strategy (nor a function returning one)")
        return strategy, f"{absolute}"
    raise ConjectureError(f"unknown strategy {spec!r}; choose one of {sorted(STRATEGIES)} or FILE.py::NAME")


# -- one example ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Failure:
    kind: ConjectureStatus
    message: str
    traceback: str


class _Failed(Exception):
    """Raised inside the Hypothesis run so that its engine sees the failure and shrinks it."""


def evaluate(conj: Conjecture, dataset: Dataset, arguments: Mapping[str, Any]) -> _Failure | None:
    """Run the conjecture once: ``None`` when it held, else what went wrong."""
    try:
        value = conj.func(dataset, **arguments)
    except AssertionError as exc:
        return _Failure(ConjectureStatus.REFUTED, _assertion_message(exc), _format(exc))
    except HypothesisException:
        raise  # assume() and friends belong to the engine
    except Exception as exc:
        return _Failure(ConjectureStatus.ERROR, f"{type(exc).__name__}: {exc}", _format(exc))
    if value is False or (isinstance(value, np.bool_) and not value):
        return _Failure(ConjectureStatus.REFUTED, "the conjecture returned False", "")
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
    for label, value in (("examples", examples), ("batch size", size)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise InvalidInput(f"{label}={value!r} must be a positive integer")
    full, rest = divmod(int(examples), int(size))
    return [int(size)] * full + ([rest] if rest else [])


KIND_KEYS = ("cyclic", "acyclic", "repeated_tokens", "unequal_lengths", "several_queries")


def tally(kinds: dict[str, int], dataset: Dataset) -> None:
    """Count what kind of dataset was tried (cycles, repeats, lengths, queries, sizes)."""
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
    """Add the counts and take the maxima of several tallies."""
    out: dict[str, int] = {}
    for part in parts:
        for key, value in part.items():
            out[key] = max(out.get(key, 0), value) if key.startswith("max_") else out.get(key, 0) + value
    return out


@dataclass(frozen=True)
class BatchOutcome:
    """What one batch found: ``status``, examples ``tried`` (up to the first failure) and their kinds.

    ``found_after``: seconds from the start of the batch to its first failure.
    """

    index: int
    status: ConjectureStatus
    tried: int
    kinds: Mapping[str, int]
    message: str = ""
    found_after: float | None = None


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
    """

    dataset: Dataset
    arguments: Mapping[str, Any]
    message: str
    traceback: str
    batch: int
    shrink_steps: int
    shrink_calls: int


@dataclass
class _BatchState:
    kind: ConjectureStatus | None = None
    tried: int = 0
    failures: int = 0
    shrink_calls: int = 0
    last: tuple[Dataset, dict, _Failure] | None = None
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
    """
    state = _BatchState()
    began = time.perf_counter()

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
    if state.last is None:
        return BatchOutcome(index, ConjectureStatus.SURVIVED, state.tried, state.kinds), None
    dataset, arguments, failure = state.last
    outcome = BatchOutcome(index, failure.kind, state.tried, state.kinds, failure.message, state.found_after)
    steps = max(state.failures - 2, 0)  # minus the first failure and Hypothesis's final replay
    calls = max(state.shrink_calls - 1, 0)
    found = Counterexample(dataset, arguments, failure.message, failure.traceback, index, steps, calls)
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
    """``seed`` as a non-negative int, else :class:`InvalidInput`."""
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
