"""Arguments, loading and progress shared by the commands of the command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from symattn.data import Dataset
from symattn.errors import SymAttnError
from symattn.examples import EXAMPLES, load_example
from symattn.finite import FiniteResult, finite_component
from symattn.formats import load_dataset
from symattn.graphs import PriorityGraphs, priority_graphs
from symattn.svm import SVMResult, SVMStatus, solve_graph_svm, svm_constraints

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FAILED",
    "EXIT_OK",
    "analyse",
    "dataset_arg",
    "load_data",
    "prediction_or_none",
    "progress",
    "write_plots",
]

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def dataset_arg(parser: argparse.ArgumentParser) -> None:
    """Add the dataset source (a file or ``--example``) and ``--drop-unrealizable`` to ``parser``."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("data", nargs="?", help="dataset file (.json or text 'a b c -> b')")
    source.add_argument("--example", choices=sorted(EXAMPLES), help="an embedded example instead")
    parser.add_argument(
        "--drop-unrealizable", action="store_true",
        help="drop samples whose label is not in their sequence (and say how many)",
    )


def load_data(args: argparse.Namespace) -> Dataset:
    """The dataset named by the arguments :func:`dataset_arg` added."""
    if args.example:
        return load_example(args.example)
    return load_dataset(args.data, drop_unrealizable=args.drop_unrealizable)


def analyse(dataset: Dataset) -> tuple[PriorityGraphs, SVMResult, FiniteResult, int]:
    """Graphs, graph-SVM and finite component of ``dataset``, and the exit code they call for."""
    graphs = priority_graphs(dataset)
    svm = solve_graph_svm(dataset, constraints=svm_constraints(graphs))
    fin = finite_component(graphs)
    ok = fin.certified and (
        (svm.status is SVMStatus.INFEASIBLE and svm.farkas is not None and svm.farkas.verified)
        or (svm.success and (svm.certified or not dataset.embeddings.is_exact))
    )
    return graphs, svm, fin, EXIT_OK if ok else EXIT_FAILED


def progress(total: int, desc: str, enabled: bool) -> tuple[Any, Callable[[int, int], None] | None]:
    """A tqdm bar on stderr and the callback that advances it (the library only calls back)."""
    if not enabled:
        return None, None
    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, file=sys.stderr, leave=False, mininterval=0.2)

    def callback(done: int, _total: int) -> None:
        bar.update(done - bar.n)

    return bar, callback


def prediction_or_none(dataset: Dataset) -> Any:
    """The theory's prediction for ``dataset``, or ``None`` (with a note on stderr) when there is none."""
    from symattn.predict import predict

    try:
        return predict(dataset)
    except SymAttnError as exc:
        sys.stderr.write(f"symattn: note: no prediction to compare with ({type(exc).__name__}: {exc})\n")
        return None


def write_plots(out: str, runs: list[Any], *, title: str, stem: str = "trajectory", **kw: Any) -> list[str]:
    """Draw ``runs`` into ``out/stem.png``; the paths written (none without matplotlib)."""
    from symattn.plots import plot_trajectories

    try:
        return [str(plot_trajectories(runs, Path(out) / f"{stem}.png", title=title, **kw))]
    except ModuleNotFoundError as exc:
        sys.stderr.write(f"symattn: note: no figures ({exc})\n")
        return []
