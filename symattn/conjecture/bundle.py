r"""Counterexample bundles: the shrunk dataset, a versioned report, and replaying them.

A refutation (or an error) of conjecture ``NAME`` writes two files into a directory:

- ``NAME.json``: the shrunk dataset in ``symattn.dataset/1``, loadable by every command;
- ``NAME.report.json``: ``symattn.counterexample/1``, saying which conjecture, the message, the
  seed, the examples tried, the shrink steps, the conjecture's other arguments, the
  counterexample's size and SCCs, the exact :math:`W^{svm}` (fractions, when certified) and
  :math:`W^{fin}` (floats with the Newton error bound; it is not rational in general).

:func:`replay` runs a conjecture on a bundle again. The schema is in ``docs/formats.md``.

>>> import tempfile
>>> from symattn.conjecture import check_conjecture, conjecture
>>> from symattn.svm import solve_graph_svm
>>> @conjecture
... def svm_is_zero(ds):
...     assert solve_graph_svm(ds).norm == 0, "W^svm is not zero"
>>> result = check_conjecture(svm_is_zero, examples=50, seed=0)
>>> data, report = write_bundle(result, tempfile.mkdtemp())
>>> data.name, report.name
('svm_is_zero.json', 'svm_is_zero.report.json')
>>> replay(svm_is_zero, report).status.value
'refuted'
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from symattn._io import atomic_write_text
from symattn.conjecture.declare import Conjecture, as_conjecture
from symattn.conjecture.harness import ConjectureResult, ConjectureStatus, Counterexample, evaluate
from symattn.data import Dataset
from symattn.errors import FileFormatError, InvalidInput, SymAttnError
from symattn.finite import finite_component
from symattn.formats import dataset_from_json, dataset_to_json, load_dataset
from symattn.graphs import priority_graphs
from symattn.prompts import Prompt
from symattn.svm import solve_graph_svm

__all__ = [
    "REPORT_FORMAT",
    "Bundle",
    "bundle_name",
    "compact_json",
    "counterexample_report",
    "decode_value",
    "encode_value",
    "load_bundle",
    "replay",
    "write_bundle",
]

REPORT_FORMAT = "symattn.counterexample/1"
_TAGS = ("array", "tuple", "dict", "fraction", "float", "dataset", "prompt", "repr")


def bundle_name(name: str) -> str:
    """A file stem for conjecture ``name``: letters, digits, ``-``, ``_`` and ``.`` only.

    >>> bundle_name("catalogue:w fin/minimises")
    'catalogue_w_fin_minimises'
    """
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")
    return stem or "conjecture"


# -- values ---------------------------------------------------------------------------------------
def encode_value(value: Any) -> Any:
    """A JSON form of a drawn argument that :func:`decode_value` restores exactly.

    Floats keep every bit (JSON numbers are written with ``repr``); arrays keep dtype and shape.

    >>> decode_value(encode_value((1, [0.1, np.arange(4.0).reshape(2, 2)])))[1][1].tolist()
    [[0.0, 1.0], [2.0, 3.0]]
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | np.integer) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else {"float": repr(number)}
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Fraction):
        return {"fraction": str(value)}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        flat = [encode_value(v) for v in value.ravel().tolist()]
        return {"array": flat, "shape": list(value.shape), "dtype": str(value.dtype)}
    if isinstance(value, tuple):
        return {"tuple": [encode_value(v) for v in value]}
    if isinstance(value, list):
        return [encode_value(v) for v in value]
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {"dict": {k: encode_value(v) for k, v in value.items()}}
    if isinstance(value, Dataset):
        return {"dataset": dataset_to_json(value)}
    if isinstance(value, Prompt):
        return {"prompt": list(value.tokens)}
    return {"repr": repr(value)}


def decode_value(obj: Any) -> Any:
    """The value :func:`encode_value` wrote (a ``repr`` cannot be restored: InvalidInput).

    >>> decode_value({"fraction": "2/3"}), decode_value({"float": "inf"})
    (Fraction(2, 3), inf)
    """
    if isinstance(obj, list):
        return [decode_value(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    tags = [t for t in _TAGS if t in obj]
    if len(tags) != 1:
        raise FileFormatError(f"argument value {obj!r} has no known tag; expected one of {list(_TAGS)}")
    tag = tags[0]
    if tag == "array":
        values = [float(v["float"]) if isinstance(v, dict) else v for v in obj["array"]]
        return np.array(values, dtype=np.dtype(obj["dtype"])).reshape(obj["shape"])
    if tag == "tuple":
        return tuple(decode_value(v) for v in obj["tuple"])
    if tag == "dict":
        return {k: decode_value(v) for k, v in obj["dict"].items()}
    if tag == "fraction":
        return Fraction(obj["fraction"])
    if tag == "float":
        return float(obj["float"])
    if tag == "dataset":
        return dataset_from_json(obj["dataset"])
    if tag == "prompt":
        return Prompt(tuple(obj["prompt"]))
    raise InvalidInput(f"an argument was saved only as its repr {obj['repr']!r} and cannot be restored")


# -- the report -----------------------------------------------------------------------------------
def _size(dataset: Dataset, n_edges: int) -> dict[str, int]:
    return {
        "samples": len(dataset), "positions": int(dataset.lengths.sum()),
        "tokens": int(np.unique(dataset.tokens).size), "vocab": dataset.K,
        "queries": int(np.unique(dataset.queries).size), "edges": n_edges,
    }


def _svm_part(dataset: Dataset) -> dict[str, Any]:
    try:
        svm = solve_graph_svm(dataset)
    except SymAttnError as exc:
        return {"status": "error", "message": str(exc)}
    part: dict[str, Any] = {"status": svm.status.value, "certified": svm.certified}
    if svm.certified and svm.certificate is not None:
        part["W"] = [[str(v) for v in row] for row in svm.certificate.exact_matrix()]
        part["norm_squared"] = str(svm.certificate.norm_squared)
    elif svm.success:
        part["W"] = [[float(v) for v in row] for row in svm.W]
        part["norm_squared"] = float(svm.norm) ** 2
    return part


def _finite_part(dataset: Dataset) -> dict[str, Any]:
    try:
        fin = finite_component(dataset)
    except SymAttnError as exc:
        return {"status": "error", "message": str(exc)}
    return {
        "status": fin.status.value, "certified": fin.certified, "dim": fin.dim,
        "W": [[float(v) for v in row] for row in fin.W], "loss": _number(fin.loss),
        "grad_norm": _number(fin.grad_norm), "error_bound": _number(fin.error_bound),
    }


def _number(value: float) -> float | None:
    """A JSON number, ``None`` when not finite (infinite bounds of a singular Hessian)."""
    return float(value) if math.isfinite(value) else None


def describe_dataset(dataset: Dataset) -> dict[str, Any]:
    """Size, graphs (SCCs highest first, condensation edges), label SCCs, W^svm and W^fin.

    Matrices are in token coordinates for one-hot embeddings (``W[j][k]`` is
    :math:`e_j^\\top W e_k`) and in embedding coordinates otherwise.

    >>> d = describe_dataset(Dataset.from_samples([([0, 1], 0)], vocab=2))
    >>> d["size"]["edges"], d["graphs"], d["svm"]["W"]
    (1, {'1': {'sccs': [['0'], ['1']], 'dag': [[0, 1]]}}, [['0', '1/2'], ['0', '-1/2']])
    """
    graphs = priority_graphs(dataset)
    names = dataset.vocab.names
    return {
        "size": _size(dataset, graphs.n_edges),
        "graphs": {
            names[k]: {"sccs": [[names[t] for t in scc] for scc in g.sccs], "dag": [list(e) for e in g.dag]}
            for k, g in graphs.items()
        },
        "label_scc": [[names[t] for t in graphs.sample_scc(i)] for i in range(len(dataset))],
        "svm": _svm_part(dataset),
        "finite": _finite_part(dataset),
    }


def replay_command(origin: str | None, dataset_path: Path) -> str:
    """The command line that replays a bundle.

    >>> replay_command("catalogue:p1-path", Path("out/p1-path.json"))
    'symattn conjecture catalogue:p1-path --replay out/p1-path.json'
    """
    target = origin if origin is not None else "FILE.py::NAME"
    return f"symattn conjecture {target} --replay {dataset_path}"


def counterexample_report(result: ConjectureResult, dataset_file: str = "") -> dict[str, Any]:
    """The ``symattn.counterexample/1`` object of a refuted (or failed) search."""
    found = result.counterexample
    if found is None:
        raise InvalidInput(f"conjecture {result.name!r} {result.status.value}: there is no counterexample")
    import hypothesis

    import symattn

    return {
        "format": REPORT_FORMAT,
        "conjecture": {"name": result.name, "origin": result.origin},
        "verdict": result.status.value,
        "message": found.message,
        "seed": result.seed,
        "strategy": result.strategy,
        "examples_requested": result.examples,
        "examples_tried": result.tried,
        "batch_size": result.batch_size,
        "batch": found.batch,
        "shrink_steps": found.shrink_steps,
        "shrink_calls": found.shrink_calls,
        "shrink_seconds": round(found.shrink_seconds, 3),
        "seconds": round(result.seconds, 3),
        "seconds_to_find": None if result.seconds_to_find is None else round(result.seconds_to_find, 3),
        "workers": result.workers,
        "kinds": dict(result.kinds),
        "dataset": dataset_file,
        "arguments": {k: encode_value(v) for k, v in found.arguments.items()},
        **describe_dataset(found.dataset),
        **({"traceback": found.traceback} if result.status is ConjectureStatus.ERROR else {}),
        "versions": {"symattn": symattn.__version__, "hypothesis": hypothesis.__version__},
    }


def write_bundle(result: ConjectureResult, directory: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write ``DIR/NAME.json`` (the dataset) and ``DIR/NAME.report.json`` atomically.

    Returns the two paths. The dataset file carries a description naming the conjecture.
    """
    found = result.counterexample
    if found is None:
        raise InvalidInput(f"conjecture {result.name!r} {result.status.value}: there is no counterexample")
    folder = Path(directory)
    stem = bundle_name(result.name)
    data = dataset_to_json(found.dataset)
    data["description"] = f"counterexample to conjecture {result.name} ({result.status.value})"
    data_path = atomic_write_text(folder / f"{stem}.json", compact_json(data) + "\n")
    report = counterexample_report(result, data_path.name)
    report["replay"] = replay_command(result.origin, data_path)
    report_path = atomic_write_text(folder / f"{stem}.report.json", compact_json(report) + "\n")
    return data_path, report_path


def compact_json(obj: Any, indent: int = 0) -> str:
    """JSON for people: objects one key a line, lists on one line when they fit in 100 characters.

    >>> print(compact_json({"W": [["0", "1/2"], ["0", "-1/2"]], "n": 1}))
    {
     "W": [["0", "1/2"], ["0", "-1/2"]],
     "n": 1
    }
    """
    flat = json.dumps(obj, allow_nan=False)
    if not isinstance(obj, dict | list) or (not isinstance(obj, dict) and len(flat) <= 100):
        return flat
    pad = " " * (indent + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{pad}{json.dumps(k)}: {compact_json(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    items = [pad + compact_json(v, indent + 1) for v in obj]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


# -- reading and replaying ------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Bundle:
    """A dataset to replay a conjecture on, with its arguments and report (when there is one)."""

    dataset: Dataset
    arguments: Mapping[str, Any]
    report: Mapping[str, Any] | None
    path: Path


def load_bundle(path: str | os.PathLike[str]) -> Bundle:
    """Read ``NAME.report.json`` (and its dataset) or ``NAME.json`` (and its report, if next to it).

    Any dataset file works too: it is replayed with no other arguments.
    """
    file = Path(path)
    if file.name.endswith(".report.json"):
        report = _read_report(file)
        data_file = file.parent / str(report.get("dataset") or file.name.replace(".report.json", ".json"))
    else:
        data_file = file
        sibling = file.with_name(file.name.removesuffix(".json") + ".report.json")
        report = _read_report(sibling) if file.suffix == ".json" and sibling.is_file() else None
    dataset = load_dataset(data_file)
    encoded = (report or {}).get("arguments") or {}
    if not isinstance(encoded, dict):
        raise FileFormatError(f"{file}: 'arguments' must be an object")
    return Bundle(dataset, {k: decode_value(v) for k, v in encoded.items()}, report, file)


def _read_report(path: Path) -> dict[str, Any]:
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise FileFormatError(f"{path}: cannot read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise FileFormatError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(obj, dict) or obj.get("format") != REPORT_FORMAT:
        found = obj.get("format") if isinstance(obj, dict) else type(obj).__name__
        raise FileFormatError(f"{path}: format is {found!r}, expected {REPORT_FORMAT!r}")
    return obj


def replay(conj: Conjecture | Any, path: str | os.PathLike[str] | Bundle) -> ConjectureResult:
    """Run ``conj`` once on a bundle: ``REFUTED`` if it still fails, ``SURVIVED`` if it now holds.

    The result's ``counterexample`` is the bundle's example when the conjecture fails on it.
    """
    conj = as_conjecture(conj)
    bundle = path if isinstance(path, Bundle) else load_bundle(path)
    missing = sorted(set(conj.arguments) - set(bundle.arguments))
    if missing:
        raise InvalidInput(f"{bundle.path} has no value for the argument(s) {missing} of {conj.name}")
    failure = evaluate(conj, bundle.dataset, {k: bundle.arguments[k] for k in conj.arguments})
    report = bundle.report or {}
    seed = int(report.get("seed", 0)) if isinstance(report.get("seed", 0), int) else 0
    if failure is None:
        status, message, found = ConjectureStatus.SURVIVED, f"holds on the example in {bundle.path}", None
    else:
        status = failure.kind
        message = f"{failure.kind.value} on the example in {bundle.path}: {failure.message}"
        found = Counterexample(bundle.dataset, dict(bundle.arguments), failure.message, failure.traceback,
                               0, 0, 0)
    return ConjectureResult(status, message, 1, conj.name, conj.origin, f"replay of {bundle.path}",
                            seed, 1, 1, {}, found, 0.0)
