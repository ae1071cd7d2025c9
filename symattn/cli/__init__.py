"""The ``symattn`` command. Only this package writes to the terminal.

One module per command, each with ``add_parser(subparsers)`` and ``run(args) -> int``;
:mod:`symattn.cli.render` holds the text and JSON renderings they share. :mod:`symattn.cli.checkcert`
is a command of its own, the standalone certificate checker (``python checkcert.py FILE``, standard
library only), which ``symattn vectors`` copies next to the certificates it writes.

Exit codes: 0 success, 1 a computation failed (solver, certificate), a check failed, a run did not
complete or a conjecture was refuted, 2 bad input, 3 inconclusive (``verify``), 4 a conjecture raised
an error of its own (``conjecture``), 130 interrupted (SIGINT or SIGTERM, handled alike: a training
run saves its checkpoint and ``--out`` first).

>>> main(["analyze", "--example", "default", "--json"]) == 0  # doctest: +ELLIPSIS
{...}
True
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from symattn._startup import ignore_further_signals
from symattn.cli import analyze, conjecture, demo, generate, prove, reproduce, train, vectors, verify
from symattn.cli import next as next_command  # the module; keeps the builtin next() unshadowed
from symattn.cli._common import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, Interrupts
from symattn.cli.prove import load_proofs
from symattn.cli.render import err, printable
from symattn.errors import InvalidInput, SymAttnError

__all__ = [
    "COMMANDS",
    "EXIT_BAD_INPUT",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "build_parser",
    "load_proofs",
    "main",
]

COMMANDS = (demo, analyze, next_command, generate, train, reproduce, prove, verify, vectors, conjecture)
"""The command modules, in the order ``symattn --help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``symattn`` command.

    >>> build_parser().parse_args(["train", "--example", "default", "--steps", "5"]).steps
    5
    """
    from symattn import __version__

    parser = argparse.ArgumentParser(
        prog="symattn",
        description="Token-priority graphs, the graph-SVM and the finite component of "
        "single-layer self-attention, computed and certified.",
    )
    parser.add_argument("--version", action="version", version=f"symattn {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log progress to stderr (-vv: more)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


class _Printable(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record))


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args.run(args))
    except InvalidInput as exc:
        err(f"error: {exc}")
        return EXIT_BAD_INPUT
    except SymAttnError as exc:
        err(f"failed: {type(exc).__name__}: {exc}")
        return EXIT_FAILED
    except OSError as exc:
        where = exc.filename if exc.filename is not None else "a file"
        err(f"error: cannot use {where}: {exc.strerror or exc}")
        return EXIT_BAD_INPUT


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``) and return the exit code.

    0 success, 1 a computation failed or a run did not complete, 2 bad input (including an
    output path that cannot be written), 130 interrupted by SIGINT or SIGTERM.

    >>> main(["train", "--example", "default", "--steps", "-1", "--no-progress"])
    2
    """
    interrupts = Interrupts()
    with interrupts.installed():
        try:
            parser = build_parser()
            try:
                args = parser.parse_args(argv)
            except SystemExit as exc:
                return int(exc.code or 0) and EXIT_BAD_INPUT
            args.interrupts = interrupts
            logger = logging.getLogger("symattn")
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(_Printable("symattn: %(message)s"))
            level = logger.level
            if args.verbose:
                logger.addHandler(handler)
                logger.setLevel(logging.DEBUG if args.verbose > 1 else logging.INFO)
            try:
                code = _run(args)
            finally:
                logger.removeHandler(handler)
                logger.setLevel(level)
        except KeyboardInterrupt:
            err(f"interrupted by {interrupts.name or 'SIGINT'} before any result was written")
            ignore_further_signals()
            return EXIT_INTERRUPTED
    if interrupts.received is not None:
        err(f"stopped by {interrupts.name}; what was computed is saved (see above)")
        ignore_further_signals()
        return EXIT_INTERRUPTED
    return code
