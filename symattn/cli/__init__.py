"""The ``symattn`` command. Only this package writes to the terminal.

One module per command, each with ``add_parser(subparsers)`` and ``run(args) -> int``;
:mod:`symattn.cli.render` holds the text and JSON renderings they share.

Exit codes: 0 success, 1 a computation failed (solver, certificate) or a check failed, 2 bad input,
3 inconclusive (``verify``).

>>> main(["analyze", "--example", "default", "--json"]) == 0  # doctest: +ELLIPSIS
{...}
True
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from symattn.cli import analyze, demo, generate, prove, reproduce, train, vectors, verify
from symattn.cli import next as next_command  # the module; keeps the builtin next() unshadowed
from symattn.cli._common import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK
from symattn.cli.prove import load_proofs
from symattn.errors import InvalidInput, SymAttnError

__all__ = ["COMMANDS", "EXIT_BAD_INPUT", "EXIT_FAILED", "EXIT_OK", "build_parser", "load_proofs", "main"]

COMMANDS = (demo, analyze, next_command, generate, train, reproduce, prove, verify, vectors)
"""The command modules, in the order ``symattn --help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``symattn`` command.

    >>> build_parser().parse_args(["train", "--example", "default", "--steps", "5"]).steps
    5
    """
    parser = argparse.ArgumentParser(
        prog="symattn",
        description="Token-priority graphs, the graph-SVM and the finite component of "
        "single-layer self-attention, computed and certified.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``) and return the exit code.

    0 success, 1 a computation failed or a run did not complete, 2 bad input (including an
    output path that cannot be written).

    >>> main(["train", "--example", "default", "--steps", "-1", "--no-progress"])
    2
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) and EXIT_BAD_INPUT
    if args.verbose:
        logging.basicConfig(
            level=logging.DEBUG if args.verbose > 1 else logging.INFO,
            format="symattn: %(message)s", stream=sys.stderr,
        )
    try:
        return int(args.run(args))
    except InvalidInput as exc:
        sys.stderr.write(f"symattn: error: {exc}\n")
        return EXIT_BAD_INPUT
    except SymAttnError as exc:
        sys.stderr.write(f"symattn: failed: {type(exc).__name__}: {exc}\n")
        return EXIT_FAILED
    except OSError as exc:
        where = exc.filename if exc.filename is not None else "a file"
        sys.stderr.write(f"symattn: error: cannot use {where}: {exc.strerror or exc}\n")
        return EXIT_BAD_INPUT
