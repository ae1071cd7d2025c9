r"""Declaring conjectures: the :class:`Conjecture` type, the decorator, loading, and dataset strategies.

A conjecture is a plain function of a :class:`~symattn.data.Dataset`; :func:`conjecture` names
it and declares its other arguments with the strategies that draw them. :func:`load_conjecture`
loads ``"FILE.py::NAME"`` (executing the user's file, as ``python FILE.py`` would) or
``"catalogue:NAME"``. :data:`STRATEGIES` are the named dataset strategies of ``--strategy``.

>>> from hypothesis import strategies as st
>>> @conjecture(strategy="cyclic", R=st.floats(1, 10))
... def demo(ds, R):
...     "A demo."
...     return R >= 1
>>> demo.name, demo.strategy, sorted(demo.arguments), demo.description
('demo', 'cyclic', ['R'], 'A demo.')
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import inspect
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis.strategies import SearchStrategy

from symattn import strategies as sts
from symattn.data import Dataset
from symattn.errors import InvalidInput

__all__ = [
    "DEFAULT_STRATEGY",
    "STRATEGIES",
    "ArgumentSpec",
    "Conjecture",
    "ConjectureError",
    "as_conjecture",
    "conjecture",
    "dataset_strategy",
    "load_conjecture",
    "load_object",
]

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
        "uniformly random datasets: up to 5 tokens and 8 samples, lengths up to 5, labels drawn "
        "from their sequence; one-hot embeddings",
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

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "mine.py"
    >>> _ = path.write_text("LIMIT = 3")
    >>> load_object(f"{path}::LIMIT", "conjecture")[0]
    3
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
