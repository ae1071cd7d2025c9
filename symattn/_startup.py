"""Start-up of the ``symattn`` command: a Ctrl-C or SIGTERM before the command line is ready.

Importing symattn takes a moment (NumPy, SciPy, networkx). When this process is the
``symattn`` command (or ``python -m symattn``), SIGINT and SIGTERM end it at once with exit
code 130 and one line on stderr, instead of a ``KeyboardInterrupt`` traceback, until
:func:`symattn.cli.main` installs its own handling; nothing is computed or written before
then. A program that merely imports symattn keeps its own signal handling.
"""

from __future__ import annotations

import itertools
import os
import signal
import sys

__all__ = ["ignore_further_signals"]


def _is_command() -> bool:
    """True in the ``symattn`` console script and in ``python -m symattn`` (while it imports)."""
    name = os.path.basename(sys.argv[0]) if sys.argv else ""
    if name in ("symattn", "symattn.exe", "symattn-script.py"):
        return True
    orig = getattr(sys, "orig_argv", [])
    return name == "-m" and any(pair == ("-m", "symattn") for pair in itertools.pairwise(orig))


def _quit(_signum: int, _frame: object) -> None:
    os.write(2, b"symattn: interrupted while starting; nothing was done\n")
    os._exit(130)


_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM") if hasattr(signal, name))
_COMMAND = _is_command()


def ignore_further_signals() -> None:
    """In the command, after a signal was handled: ignore more while Python shuts down.

    Python resets its handlers to the default at exit, so a late Ctrl-C would otherwise kill
    the finished process by SIGINT. Does nothing when symattn is merely imported.
    """
    if _COMMAND:
        for sig in _SIGNALS:
            signal.signal(sig, signal.SIG_IGN)


if _COMMAND:
    for _sig in _SIGNALS:
        signal.signal(_sig, _quit)
