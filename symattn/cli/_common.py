"""Arguments, loading, outputs, signals and progress shared by the commands of the command line."""

from __future__ import annotations

import argparse
import contextlib
import decimal
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from symattn._io import check_output_dir, check_output_file, exclusive
from symattn.cli.render import err
from symattn.data import Dataset
from symattn.errors import SymAttnError
from symattn.examples import EXAMPLES, load_example
from symattn.formats import load_dataset
from symattn.predict import Analysis, analysis

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "Interrupts",
    "analyse",
    "count",
    "dataset_arg",
    "load_data",
    "locked_outputs",
    "prediction_or_none",
    "progress",
    "write_plots",
]

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130

logger = logging.getLogger("symattn")


def count(text: str) -> int:
    """An argparse type: a whole number, written ``1000``, ``1e6`` or ``1_000`` (``1.5`` is refused).

    >>> count("1e6"), count("12")
    (1000000, 12)
    """
    try:
        value = decimal.Decimal(text.replace("_", ""))
    except decimal.InvalidOperation:
        value = decimal.Decimal("NaN")
    if not value.is_finite() or value != value.to_integral_value() or value.adjusted() > 100:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (of at most 100 digits)")
    return int(value)


def dataset_arg(parser: argparse.ArgumentParser) -> None:
    """Add the dataset source (a file, ``-`` or ``--example``) and ``--drop-unrealizable`` to ``parser``."""
    parser.usage = "%(prog)s (DATA | --example NAME) [options]"
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "data",
        nargs="?",
        metavar="DATA",
        help="dataset file (.json, or text 'a b c -> b'); - reads standard input",
    )
    source.add_argument("--example", choices=sorted(EXAMPLES), help="an embedded example instead")
    parser.add_argument(
        "--drop-unrealizable",
        action="store_true",
        help="drop samples whose label is not in their sequence (and say how many)",
    )


def load_data(args: argparse.Namespace) -> Dataset:
    """The dataset named by the arguments :func:`dataset_arg` added."""
    started = time.perf_counter()
    if args.example:
        dataset = load_example(args.example)
    elif args.data == "-":
        dataset = load_dataset(sys.stdin.buffer, drop_unrealizable=args.drop_unrealizable)
    else:
        dataset = load_dataset(args.data, drop_unrealizable=args.drop_unrealizable)
    logger.info(
        "loaded %s: n=%d samples, K=%d tokens, d=%d (%.2f s)",
        args.example or args.data,
        dataset.n,
        dataset.K,
        dataset.embeddings.dim,
        time.perf_counter() - started,
    )
    return dataset


def analyse(dataset: Dataset) -> tuple[Analysis, int]:
    """Graphs, graph-SVM and finite component of ``dataset``, and the exit code they call for."""
    parts = analysis(dataset)
    return parts, EXIT_OK if parts.certified else EXIT_FAILED


class Interrupts:
    """SIGINT and SIGTERM handled alike, installed by ``main`` for the whole command.

    The first signal raises ``KeyboardInterrupt`` at once, except inside :meth:`deferred`
    (a training run and the writing of its outputs), where it is only recorded and
    :meth:`check` (called after every step) raises it, so that the run stops between steps,
    saves its checkpoint and writes ``--out``. Later signals are ignored while that happens.
    """

    def __init__(self) -> None:
        self.received: int | None = None
        self._deferring = False

    def __call__(self, signum: int, _frame: object) -> None:
        first = self.received is None
        if first:
            self.received = signum
        if first and not self._deferring:
            raise KeyboardInterrupt

    @property
    def name(self) -> str:
        """The name of the signal received (``SIGTERM``), empty if none was."""
        return "" if self.received is None else signal.Signals(self.received).name

    @contextlib.contextmanager
    def installed(self) -> Iterator[Interrupts]:
        """Handle SIGINT and SIGTERM with this object in the block (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        signals = [getattr(signal, n) for n in ("SIGINT", "SIGTERM") if hasattr(signal, n)]
        previous = {sig: signal.signal(sig, self) for sig in signals}
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, signal.SIG_DFL if handler is None else handler)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Record signals in the block instead of raising; :meth:`check` raises them."""
        self._deferring = True
        try:
            yield
        finally:
            self._deferring = False

    def check(self) -> None:
        """Raise ``KeyboardInterrupt`` if a signal was received."""
        if self.received is not None:
            raise KeyboardInterrupt


@contextlib.contextmanager
def locked_outputs(out: str | None, checkpoint: str | None) -> Iterator[None]:
    """Check ``--out`` and ``--checkpoint`` before any work and hold them for the block.

    Both are checked as the user gave them (exit 2 naming them): the directory is created and
    shown writable, the checkpoint must be a regular file or absent in a writable directory.
    A lock naming this process keeps a second run from writing the same place meanwhile.
    """
    with contextlib.ExitStack() as stack:
        if checkpoint is not None:
            file = check_output_file(checkpoint, "--checkpoint")
            stack.enter_context(exclusive(file.with_name(f".{file.name}.lock"), f"--checkpoint {checkpoint}"))
        if out is not None:
            folder = check_output_dir(out, "--out")
            stack.enter_context(exclusive(folder / ".symattn.lock", f"--out {out}"))
        yield


def progress(
    total: int, desc: str, enabled: bool, interrupts: Interrupts | None = None
) -> tuple[Any, Callable[[int, int], None] | None]:
    """A tqdm bar on stderr and the callback that advances it (and stops on a recorded signal)."""
    bar = None
    if enabled:
        from tqdm import tqdm

        bar = tqdm(total=total, desc=desc, file=sys.stderr, leave=False, mininterval=0.2)
    if bar is None and interrupts is None:
        return None, None

    def callback(done: int, _total: int) -> None:
        if bar is not None:
            bar.update(done - bar.n)
        if interrupts is not None:
            interrupts.check()

    return bar, callback


def prediction_or_none(source: Dataset | Analysis) -> Any:
    """The theory's prediction for a dataset, or of its analysis (reused, not solved again), or
    ``None`` (with a note on stderr) when there is none."""
    from symattn.predict import predict

    try:
        return source.prediction() if isinstance(source, Analysis) else predict(source)
    except SymAttnError as exc:
        err(f"note: no prediction to compare with ({type(exc).__name__}: {exc})")
        return None


def write_plots(out: str, runs: list[Any], *, title: str, stem: str = "trajectory", **kw: Any) -> list[str]:
    """Draw ``runs`` into ``out/stem.png``; the paths written (none without matplotlib, with a note)."""
    from symattn.plots import plot_trajectories

    try:
        return [str(plot_trajectories(runs, Path(out) / f"{stem}.png", title=title, **kw))]
    except ModuleNotFoundError as exc:
        err(f"note: no figures ({exc})")
        return []
