r"""Conformance vectors: the known-answer catalogue with every reference value, for any implementation.

:func:`build_vectors` turns each case of :data:`symattn.cases.CASES` into one JSON object
(``"format": "symattn.vectors/1"``, schema in ``docs/verifying.md``): the dataset, weight points
(zero, random, far along the prediction) with the loss and gradient of all five losses (and the
scale each may be compared at), log-loss Hessian-vector products, :math:`W^{svm}` with multipliers
and constraint list (exact rationals as strings where the embeddings are exact, float64
otherwise), :math:`W^{fin}`, retrieval sets for prompts and per-case tolerances.
:func:`export_vectors` writes them to a directory, with the graph-SVM certificates and a copy of
the standalone checker, so that implementations in other languages can run them.

:func:`run_conformance` runs any object with some of the methods

* ``loss_and_gradient(case, W, loss) -> (loss, gradient)`` (``loss`` one of ``impl.losses``,
  default ``("log",)``),
* ``hessian_vector_product(case, W, V) -> array`` (log-loss),
* ``graph_svm(case) -> W`` or ``(W, multipliers)``, ``None`` when it finds the problem infeasible,
* ``finite_component(case) -> W``,
* ``retrieve(case, tokens) -> iterable of tokens``

against every case (a :class:`ConformanceCase` carries the dataset as a symattn ``Dataset`` and as
plain arrays) and returns a :class:`ConformanceTable`. Values are compared as in
:func:`~symattn.verify.check_gradient` (each error relative to the scale of the value); solver
answers through :func:`~symattn.verify.check_svm` and :func:`~symattn.verify.check_finite`.

>>> from symattn.model import Model
>>> class Mine:
...     def loss_and_gradient(self, case, W, loss):
...         return Model(case.dataset).value_and_gradient(W)
>>> table = run_conformance(Mine(), cases=["chain", "repeated-tokens"])
>>> table.status.value, len(table.rows)
('pass', 20)
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from symattn._io import atomic_write_text, check_output_dir
from symattn.cases import CASES, Case
from symattn.data import Dataset
from symattn.embeddings import as_generator
from symattn.errors import FileFormatError, Infeasible, InvalidInput
from symattn.finite import finite_component
from symattn.formats import dataset_from_json, dataset_to_json
from symattn.model import Loss, Model
from symattn.predict import predict
from symattn.svm import solve_graph_svm
from symattn.verify._inputs import as_float_array
from symattn.verify._reference import evaluate, hessian_vector_scale, random_points
from symattn.verify._report import Check, Verdict, VerdictResult
from symattn.verify.certificates import certificate_json
from symattn.verify.solutions import check_finite, check_svm

__all__ = [
    "VECTORS_FORMAT",
    "ConformanceCase",
    "ConformanceRow",
    "ConformanceTable",
    "build_vectors",
    "export_vectors",
    "load_vectors",
    "run_conformance",
]

logger = logging.getLogger("symattn")

CHECKER = Path(__file__).resolve().parents[1] / "cli" / "checkcert.py"
"""The standalone checker (a command of its own, standard library only), copied into every export."""

VECTORS_FORMAT = "symattn.vectors/1"
_TOLERANCE = 1.5e-8
_FAR_GAPS = (10.0, 40.0)
_RANDOM_SCALES = (1.0, 10.0)


# -- building ---------------------------------------------------------------------------------------
def _matrix(A: np.ndarray) -> list[list[float]]:
    return [[float(v) for v in row] for row in np.asarray(A, dtype=np.float64)]


def _exact(value: Fraction) -> str:
    return str(value)


def _points(ds: Dataset, far_W: Sequence[np.ndarray] | None, seed: int) -> list[tuple[str, np.ndarray]]:
    d = ds.embeddings.dim
    points = [("zero", np.zeros((d, d))), *random_points(ds, _RANDOM_SCALES, as_generator(seed))]
    if far_W is not None:
        points += [(f"far-{t:g}", W) for t, W in zip(_FAR_GAPS, far_W, strict=True)]
    return points


def _point_json(ds: Dataset, name: str, W: np.ndarray, rng: np.random.Generator) -> dict[str, Any]:
    losses = {}
    for kind in Loss:
        ev = evaluate(ds, W, kind)
        losses[kind.value] = {"loss": ev.loss, "loss_scale": ev.loss_scale, "gradient": _matrix(ev.gradient),
                              "gradient_scale": _matrix(ev.gradient_scale)}
    V = rng.standard_normal(W.shape)
    hvp = {"V": _matrix(V), "value": _matrix(Model(ds).hessian_vector_product(W, V)),
           "scale": _matrix(hessian_vector_scale(ds, W, V))}
    return {"name": name, "W": _matrix(W), "losses": losses, "hvp": [hvp]}


def _svm_json(ds: Dataset) -> tuple[dict[str, Any], np.ndarray | None]:
    res = solve_graph_svm(ds)
    cons = res.constraints
    out: dict[str, Any] = {
        "status": res.status.value,
        "constraints": [[int(k), int(i), int(j), "eq" if e else "ge"]
                        for k, i, j, e in zip(cons.query, cons.high, cons.low, cons.equality, strict=True)],
    }
    farkas = res.farkas
    if farkas is not None:
        out["exact"] = farkas.exact
        out["farkas"] = [_exact(Fraction(v)) if farkas.exact else float(v) for v in farkas.multipliers]
        return out, None
    cert = res.certificate
    if cert is not None and res.certified:
        out.update(exact=True, W=[[_exact(v) for v in row] for row in cert.exact_matrix()],
                   multipliers=[_exact(v) for v in cert.multipliers], norm_squared=_exact(cert.norm_squared))
    else:
        out.update(exact=False, W=_matrix(res.W), multipliers=[float(v) for v in res.multipliers],
                   norm_squared=float(res.norm) ** 2)
    return out, res.W


def _prompts(ds: Dataset) -> list[dict[str, Any]]:
    try:
        pred = predict(ds)
    except Infeasible:
        return []
    prompts: list[list[int]] = []
    for k, graph in pred.graphs.items():
        nodes = [int(t) for t in graph.nodes if t != k]
        prompts.append([*nodes, int(k)])
        prompts += [[j, int(k)] for j in nodes[:3]]
    unseen = sorted(set(range(ds.K)) - set(ds.queries.tolist()))
    if unseen:
        prompts.append([*range(min(ds.K, 3)), unseen[0]])
    return [{"tokens": p, "retrieved": list(pred.predict_retrieval(p).tokens)} for p in prompts]


def _case_json(case: Case, seed: int) -> dict[str, Any]:
    ds = case.dataset()
    svm, W_svm = _svm_json(ds)
    fin = finite_component(ds)
    far = None if W_svm is None or not np.any(W_svm) else [fin.W + t * W_svm for t in _FAR_GAPS]
    rng = as_generator(seed)
    return {
        "format": VECTORS_FORMAT,
        "name": case.name,
        "description": case.description,
        "tags": sorted(case.tags),
        "dataset": dataset_to_json(ds),
        "tolerances": {"loss": _TOLERANCE, "gradient": _TOLERANCE, "hvp": _TOLERANCE, "svm": _TOLERANCE,
                       "finite": _TOLERANCE},
        "points": [_point_json(ds, name, W, rng) for name, W in _points(ds, far, seed)],
        "svm": svm,
        "finite": {"W": _matrix(fin.W), "dim": fin.dim, "reduced_loss": fin.loss,
                   "error_bound": fin.error_bound, "status": fin.status.value},
        "prompts": _prompts(ds),
    }


@lru_cache(maxsize=4)
def _built(names: tuple[str, ...], seed: int) -> tuple[str, ...]:
    by_name = {c.name: c for c in CASES}
    return tuple(json.dumps(_case_json(by_name[name], seed)) for name in names)


def _case_names(cases: Iterable[str] | None) -> tuple[str, ...]:
    known = [c.name for c in CASES]
    if cases is None:
        return tuple(known)
    if isinstance(cases, str) or not isinstance(cases, Iterable):
        raise InvalidInput(f"cases={cases!r} must be a list of case names from {known}")
    names = tuple(cases)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise InvalidInput(f"unknown case(s) {unknown}; choose from {known}")
    if not names:
        raise InvalidInput(
            f"cases is empty; give case names such as {known[1]!r} (or leave them out for every case)"
        )
    return names


def _seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InvalidInput(f"seed={seed!r} must be a non-negative integer (it seeds the weight points)")
    return int(seed)


def build_vectors(cases: Iterable[str] | None = None, *, seed: int = 0) -> list[dict[str, Any]]:
    """The conformance vectors of the named cases (default: the whole catalogue) as JSON objects.

    >>> [v["name"] for v in build_vectors(["chain"])], build_vectors(["chain"])[0]["svm"]["W"][1]
    (['chain'], ['0', '0', '1'])
    """
    return [json.loads(text) for text in _built(_case_names(cases), _seed(seed))]


# -- files ------------------------------------------------------------------------------------------
def _prepare(directory: str | os.PathLike[str]) -> Path:
    """Create ``directory`` and prove it writable before any long work; never mix with other files."""
    if not isinstance(directory, str | os.PathLike) or not str(directory):
        raise InvalidInput(f"the output directory {directory!r} must be a non-empty path")
    path = Path(directory)
    index = path / "index.json"
    if index.is_file():
        try:
            fmt = json.loads(index.read_text(encoding="utf-8")).get("format")
        except (OSError, ValueError, AttributeError):
            fmt = None
        if fmt != VECTORS_FORMAT:
            raise InvalidInput(f"{index} is not a {VECTORS_FORMAT} index; refusing to overwrite it")
    elif path.is_dir() and any(path.iterdir()):
        raise InvalidInput(
            f"{path} is not empty and holds no conformance vectors; choose a new or empty directory "
            "(nothing there is overwritten)"
        )
    for folder in (path, path / "cases", path / "certificates"):
        check_output_dir(folder, "the vectors directory")
    return path


def export_vectors(
    directory: str | os.PathLike[str], cases: Iterable[str] | None = None, *, seed: int = 0
) -> dict[str, Any]:
    """Write the vectors to ``directory`` (atomically, file by file) and return the index.

    Layout: ``index.json`` (the list of cases and their files), ``cases/<name>.json`` (one vector
    each), ``certificates/<name>.json`` (``symattn.certificate/1``, for cases with exact embeddings)
    and ``checkcert.py`` (the standalone checker). ``directory`` must be new, empty, or an earlier
    export (it is then updated); a directory holding other files is refused.

    >>> import tempfile
    >>> index = export_vectors(tempfile.mkdtemp(), ["single-edge"])
    >>> index["cases"][0]["file"], index["cases"][0]["certificate"]
    ('cases/single-edge.json', 'certificates/single-edge.json')
    """
    names = _case_names(cases)
    seed = _seed(seed)
    path = _prepare(directory)
    entries = []
    for vector in build_vectors(names, seed=seed):
        name = vector["name"]
        atomic_write_text(path / "cases" / f"{name}.json", json.dumps(vector, indent=1) + "\n")
        ds = dataset_from_json(vector["dataset"])
        certificate = None
        if ds.embeddings.is_exact:
            certificate = f"certificates/{name}.json"
            atomic_write_text(path / certificate, json.dumps(certificate_json(ds), indent=1) + "\n")
        entries.append({"name": name, "file": f"cases/{name}.json", "tags": vector["tags"],
                        "certificate": certificate})
        logger.info("wrote conformance case %s", name)
    atomic_write_text(path / "checkcert.py", CHECKER.read_text(encoding="utf-8"))
    index = {"format": VECTORS_FORMAT, "cases": entries, "checker": "checkcert.py",
             "documentation": "docs/verifying.md (conformance vectors)"}
    atomic_write_text(path / "index.json", json.dumps(index, indent=1) + "\n")
    return index


def load_vectors(directory: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read the vectors written by :func:`export_vectors` (format checked case by case).

    Parameters
    ----------
    directory : str or PathLike
        The directory holding ``index.json`` and ``cases/``.

    Returns
    -------
    list of dict
        One ``symattn.vectors/1`` object per case, in the order of the index.

    Raises
    ------
    FileFormatError
        When a file is missing, is not JSON or is not a ``symattn.vectors/1`` file.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> _ = export_vectors(folder, ["single-edge"])
    >>> [v["name"] for v in load_vectors(folder)]
    ['single-edge']
    """
    path = Path(directory)
    try:
        index = json.loads((path / "index.json").read_text(encoding="utf-8"))
        if not isinstance(index, dict) or index.get("format") != VECTORS_FORMAT:
            raise FileFormatError(f"{path / 'index.json'}: not a {VECTORS_FORMAT} index")
        vectors = []
        for entry in index["cases"]:
            file = path / entry["file"]
            vector = json.loads(file.read_text(encoding="utf-8"))
            if not isinstance(vector, dict) or vector.get("format") != VECTORS_FORMAT:
                raise FileFormatError(f"{file}: not a {VECTORS_FORMAT} case")
            vectors.append(vector)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise FileFormatError(f"{path}: cannot read the conformance vectors ({exc})") from None
    return vectors


# -- running ----------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ConformanceCase:
    """What an implementation under test receives: one case's data.

    Attributes
    ----------
    name : str
        The case name.
    dataset : Dataset
        The data as a symattn dataset.
    sequences : tuple of tuple of int
        The token sequences (query last).
    labels : tuple of int
        The labels.
    embeddings : numpy.ndarray, shape (K, d)
        The embedding rows (float64).
    tags : tuple of str
        The catalogue's tags.
    """

    name: str
    dataset: Dataset = field(repr=False)
    sequences: tuple[tuple[int, ...], ...] = field(repr=False)
    labels: tuple[int, ...] = field(repr=False)
    embeddings: np.ndarray = field(repr=False)
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConformanceRow:
    """One row of the table: the case and a :class:`~symattn.verify.Check` (``name`` says what)."""

    case: str
    check: Check


@dataclass(frozen=True)
class ConformanceTable(VerdictResult):
    """The outcome of :func:`run_conformance`: one row per case and compared quantity.

    ``status`` is ``PASS`` when every row passed; ``success`` and ``passed`` derive from it.
    """

    status: Verdict
    rows: tuple[ConformanceRow, ...]
    message: str = ""
    iterations: int = 0

    @property
    def failures(self) -> tuple[ConformanceRow, ...]:
        """The rows that did not pass."""
        return tuple(r for r in self.rows if r.check.passed is not True)

    def table(self) -> list[dict[str, Any]]:
        """The rows as dicts (``case`` plus the check's JSON fields), for printing or JSON."""
        return [{"case": r.case, **r.check.to_dict()} for r in self.rows]

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of this table: ``verdict``, ``message`` and ``checks`` (the rows)."""
        return {"verdict": self.status.value, "passed": self.passed, "message": self.message,
                "checks": self.table()}


def _conformance_case(vector: dict[str, Any]) -> ConformanceCase:
    ds = dataset_from_json(vector["dataset"])
    return ConformanceCase(vector["name"], ds, tuple(s.tokens for s in ds), tuple(int(y) for y in ds.labels),
                           ds.embeddings.matrix().copy(), tuple(vector.get("tags", ())))


def _compare(name: str, got: object, want: np.ndarray, scale: np.ndarray, tol: float) -> Check:
    """``max |got - want| / scale`` against ``tol`` (scale floored at the smallest normal float)."""
    value = as_float_array(got, name).astype(np.float64)
    if value.shape != np.shape(want):
        return Check(name, math.inf, 0.0, tol, False, f"shape {value.shape}, expected {np.shape(want)}")
    err = np.abs(value - want) / np.maximum(scale, np.finfo(np.float64).tiny)
    worst = float(np.max(err, initial=0.0)) if np.all(np.isfinite(value)) else math.inf
    return Check.at_most(name, worst, 0.0, tol, "max |got - expected| / scale")


def _guarded(name: str, run: Callable[..., list[Check]], *args: Any) -> list[Check]:
    """``run(*args)``; an exception from the implementation becomes a failed row named ``name``."""
    try:
        return run(*args)
    except Exception as exc:  # the implementation under test is foreign code: report, do not crash
        return [Check(name, math.nan, 0.0, 0.0, False, f"raised {type(exc).__name__}: {exc}")]


def _loss_rows(impl: Any, case: ConformanceCase, W: np.ndarray, loss: str, ref: dict[str, Any],
               where: str, tol: float) -> list[Check]:
    value, grad = impl.loss_and_gradient(case, W.copy(), loss)
    return [
        _compare(f"{loss} loss at {where}", np.reshape(as_float_array(value, "loss"), ()),
                 np.array(ref["loss"]), np.array(ref["loss_scale"]), tol),
        _compare(f"{loss} gradient at {where}", grad, np.array(ref["gradient"]),
                 np.array(ref["gradient_scale"]), tol),
    ]


def _hvp_rows(impl: Any, case: ConformanceCase, W: np.ndarray, hvp: dict[str, Any], where: str,
              tol: float) -> list[Check]:
    V = np.array(hvp["V"], dtype=np.float64)
    got = impl.hessian_vector_product(case, W.copy(), V)
    return [_compare(f"hvp at {where}", got, np.array(hvp["value"]), np.array(hvp["scale"]), tol)]


def _prefixed(prefix: str, checks: Iterable[Check]) -> list[Check]:
    return [Check(f"{prefix} {c.name}", c.value, c.expected, c.tolerance, c.passed, c.detail, c.relation)
            for c in checks]


def _svm_rows(impl: Any, case: ConformanceCase, vector: dict[str, Any]) -> list[Check]:
    """``graph_svm`` returns ``W``, ``(W, multipliers)``, or ``None`` for an infeasible problem."""
    answer = impl.graph_svm(case)
    infeasible = vector["svm"]["status"] == "infeasible"
    if answer is None or infeasible:
        ok = answer is None and infeasible
        said = "infeasible" if answer is None else "a solution"
        return [Check("svm infeasibility", float(not ok), 0.0, 0.0, ok,
                      f"the implementation answered {said}; the graph-SVM is "
                      + ("infeasible (Farkas certificate)" if infeasible else "feasible"))]
    W, lam = answer if isinstance(answer, tuple) else (answer, None)
    return _prefixed("svm", check_svm(case.dataset, W, lam, tolerance=vector["tolerances"]["svm"]).checks)


def _finite_rows(impl: Any, case: ConformanceCase, tol: float) -> list[Check]:
    return _prefixed("finite", check_finite(case.dataset, impl.finite_component(case), tolerance=tol).checks)


def _retrieve_rows(impl: Any, case: ConformanceCase, prompt: dict[str, Any]) -> list[Check]:
    got = sorted(int(t) for t in impl.retrieve(case, list(prompt["tokens"])))
    want = sorted(prompt["retrieved"])
    return [Check(f"retrieve {prompt['tokens']}", float(got != want), 0.0, 0.0, got == want,
                  f"got {got}, expected {want}")]


def _case_rows(
    impl: Any, case: ConformanceCase, vector: dict[str, Any], losses: Sequence[str]
) -> list[Check]:
    """Every comparison the implementation's methods allow on one case, in a fixed order."""
    rows: list[Check] = []
    tol = vector["tolerances"]
    for point in vector["points"]:
        W = np.array(point["W"], dtype=np.float64)
        where = point["name"]
        if hasattr(impl, "loss_and_gradient"):
            for loss in losses:
                rows += _guarded(f"{loss} at {where}", _loss_rows, impl, case, W, loss, point["losses"][loss],
                                 where, tol["loss"])
        if hasattr(impl, "hessian_vector_product"):
            for hvp in point["hvp"]:
                rows += _guarded(f"hvp at {where}", _hvp_rows, impl, case, W, hvp, where, tol["hvp"])
    if hasattr(impl, "graph_svm"):
        rows += _guarded("svm", _svm_rows, impl, case, vector)
    if hasattr(impl, "finite_component"):
        rows += _guarded("finite", _finite_rows, impl, case, tol["finite"])
    if hasattr(impl, "retrieve"):
        for prompt in vector["prompts"]:
            rows += _guarded(f"retrieve {prompt['tokens']}", _retrieve_rows, impl, case, prompt)
    return rows


_METHODS = ("loss_and_gradient", "hessian_vector_product", "graph_svm", "finite_component", "retrieve")
_VECTOR_KEYS = ("name", "dataset", "tolerances", "points", "svm", "prompts")


def _losses(value: object) -> tuple[str, ...]:
    names = [k.value for k in Loss]
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidInput(
            f"impl.losses={value!r} must be a list of loss names such as ('log',); choose from {names}"
        )
    losses = tuple(value)
    bad = [loss for loss in losses if loss not in names]
    if bad:
        raise InvalidInput(f"impl.losses names unknown losses {bad}; choose from {names}")
    return losses


def _chosen(vectors: object, cases: Iterable[str] | None) -> list[dict[str, Any]]:
    """The vectors to run: built, loaded from a directory, or given (each checked for its keys)."""
    if vectors is None:
        return build_vectors(cases)
    if isinstance(vectors, str | os.PathLike):
        chosen = load_vectors(vectors)
    elif isinstance(vectors, Iterable) and not isinstance(vectors, bytes | Mapping):
        chosen = list(vectors)
    else:
        raise InvalidInput(f"vectors must be a directory or a list of cases from build_vectors, got "
                           f"{type(vectors).__name__}")
    for i, vector in enumerate(chosen):
        if not isinstance(vector, dict) or vector.get("format") != VECTORS_FORMAT \
                or any(key not in vector for key in _VECTOR_KEYS):
            raise InvalidInput(f"vectors[{i}] is not a {VECTORS_FORMAT} case (keys {list(_VECTOR_KEYS)}); "
                               "use build_vectors() or load_vectors(DIR)")
    if cases is not None:
        wanted = set(_case_names(cases))
        chosen = [v for v in chosen if v["name"] in wanted]
    return chosen


def run_conformance(
    impl: object,
    vectors: str | os.PathLike[str] | Sequence[dict[str, Any]] | None = None,
    *,
    cases: Iterable[str] | None = None,
) -> ConformanceTable:
    """Run ``impl`` against the conformance vectors and return the table (see the module docstring).

    Parameters
    ----------
    impl : object
        Anything with some of ``loss_and_gradient``, ``hessian_vector_product``, ``graph_svm``,
        ``finite_component``, ``retrieve``; an attribute ``losses`` names the losses it implements
        (default ``("log",)``).
    vectors : path or list of dict, optional
        A directory written by :func:`export_vectors`, or vectors from :func:`build_vectors`
        (default: built from the catalogue).
    cases : iterable of str, optional
        Only these cases (by name).

    Returns
    -------
    ConformanceTable
        One row per case and compared quantity; ``passed`` when all pass. An exception raised by
        ``impl`` is a failed row carrying its message.

    Raises
    ------
    InvalidInput
        When ``impl`` has none of the methods, ``impl.losses`` names unknown losses, a case name
        is unknown or ``vectors`` are not conformance vectors.

    Examples
    --------
    >>> from symattn.svm import solve_graph_svm
    >>> class HalfSolver:                  # a solver that stops at half of the answer
    ...     def graph_svm(self, case):
    ...         return solve_graph_svm(case.dataset).W / 2
    >>> table = run_conformance(HalfSolver(), cases=["single-edge"])
    >>> table.passed, [r.check.name for r in table.failures][:2]
    (False, ['svm primal feasibility', 'svm objective gap'])
    """
    present = [m for m in _METHODS if callable(getattr(impl, m, None))]
    if not present:
        raise InvalidInput(f"the implementation has none of the methods {list(_METHODS)}")
    losses = _losses(getattr(impl, "losses", ("log",)))
    chosen = _chosen(vectors, cases)
    rows = []
    for vector in chosen:
        case = _conformance_case(vector)
        rows += [ConformanceRow(case.name, check) for check in _case_rows(impl, case, vector, losses)]
    status = Verdict.of(r.check for r in rows)
    failed = sum(r.check.passed is not True for r in rows)
    message = f"{len(rows) - failed} of {len(rows)} rows passed over {len(chosen)} case(s)"
    return ConformanceTable(status, tuple(rows), message)

