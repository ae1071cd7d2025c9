"""Tables, slopes and the command-line options shared by the benchmarks.

Every benchmark module exposes ``add_arguments(parser)``, ``tables(args) -> list[Table]`` and
``smallest_instances()``; :func:`run_module` is its ``main``: it parses the shared options
(``--quick``, ``--json``, ``--reps``, ``--time-cap``, ``--mem-cap``), sets the memory cap,
prints each table as it is finished and writes them all as JSON when asked.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from _timing import limit_memory

__all__ = ["Column", "Table", "add_common_arguments", "lift_dense_guard", "loglog_slope", "predict_power",
           "run_module", "settle", "write_json"]


@dataclass(frozen=True)
class Column:
    """A table column: the row key, its header, and a format spec for numbers (``str`` for text)."""

    key: str
    header: str
    fmt: str = ".3g"


def _cell(value: object, fmt: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and math.isnan(value):
        return "-"
    if fmt == "str" or isinstance(value, str):
        return str(value)
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    return format(value, fmt)


@dataclass
class Table:
    """Rows (dicts) under named columns, printed aligned, with notes below."""

    title: str
    columns: list[Column]
    rows: list[dict[str, object]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, **row: object) -> None:
        self.rows.append(row)

    def render(self) -> str:
        cells = [[c.header for c in self.columns]]
        cells += [[_cell(r.get(c.key), c.fmt) for c in self.columns] for r in self.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.columns))]
        first_text = [c.fmt == "str" for c in self.columns]

        def line(row: list[str]) -> str:
            return "  ".join(v.ljust(w) if t else v.rjust(w)
                             for v, w, t in zip(row, widths, first_text, strict=True)).rstrip()

        out = [f"== {self.title} ==", line(cells[0]), "-" * len(line(cells[0]))]
        out += [line(row) for row in cells[1:]]
        out += [f"  {note}" for note in self.notes]
        return "\n".join(out)

    def as_dict(self) -> dict[str, object]:
        def plain(v: object) -> object:
            if isinstance(v, np.generic):
                v = v.item()
            if isinstance(v, float) and not math.isfinite(v):
                return None
            return v

        return {"title": self.title, "columns": [c.key for c in self.columns],
                "rows": [{k: plain(v) for k, v in r.items()} for r in self.rows], "notes": self.notes}


def loglog_slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of log y against log x over the finite positive points (NaN if < 2)."""
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True)
           if x > 0 and y is not None and math.isfinite(y) and y > 0]
    if len(pts) < 2 or len({p[0] for p in pts}) < 2:
        return float("nan")
    lx, ly = np.array(pts).T
    return float(np.polyfit(lx, ly, 1)[0])


def predict_power(xs: Sequence[float], ys: Sequence[float], x: float, default_slope: float = 1.0) -> float:
    """Extrapolate y at ``x`` from the last two measured points (one point: ``default_slope``).

    The slope used is at least ``default_slope`` when fewer than two points exist and at least 0
    otherwise: a cost never shrinks as the instance grows.
    """
    pts = [(a, b) for a, b in zip(xs, ys, strict=True) if b is not None and math.isfinite(b) and b > 0]
    if not pts:
        return float("nan")
    if len(pts) == 1:
        slope = default_slope
    else:
        (x0, y0), (x1, y1) = pts[-2], pts[-1]
        slope = max(0.0, math.log(y1 / y0) / math.log(x1 / x0)) if x1 != x0 else default_slope
    xl, yl = pts[-1]
    return yl * (x / xl) ** slope


def add_common_arguments(parser: argparse.ArgumentParser, *, time_cap: float = 300.0) -> None:
    parser.add_argument("--quick", action="store_true", help="small sizes only (every benchmark in about a minute)")
    parser.add_argument("--json", metavar="PATH", help="also write the tables as JSON to PATH")
    parser.add_argument("--reps", type=int, default=None,
                        help="repetitions of symattn's timings (median; default 3, 1 with --quick)")
    parser.add_argument("--time-cap", type=float, default=None,
                        help=f"seconds one measured call may take before it is stopped (default {time_cap:g}, "
                             "30 with --quick)")
    parser.set_defaults(default_time_cap=time_cap)
    parser.add_argument("--mem-cap", type=float, default=8.0,
                        help="GiB of address space the run may add; an allocation beyond raises MemoryError "
                             "and is reported as 'memory cap' (default 8; 0 for none)")


def lift_dense_guard() -> None:
    """Let symattn allocate dense K x K arrays beyond its default guard (``SYMATTN_MAX_TOKENS``):
    the benchmarks measure what they cost, and the memory cap decides, unless the variable is set."""
    os.environ.setdefault("SYMATTN_MAX_TOKENS", str(10**9))


def settle(args: argparse.Namespace) -> argparse.Namespace:
    """Fill the defaults that depend on ``--quick`` (repetitions and the time cap)."""
    if args.reps is None:
        args.reps = 1 if args.quick else 3
    if args.time_cap is None:
        args.time_cap = 30.0 if args.quick else args.default_time_cap
    return args


def write_json(tables: Sequence[Table], path: str, meta: dict[str, object]) -> None:
    Path(path).write_text(json.dumps({"meta": meta, "tables": [t.as_dict() for t in tables]}, indent=1))


def run_module(description: str, add_arguments: Callable[[argparse.ArgumentParser], None],
               tables: Callable[[argparse.Namespace], Iterable[Table]], argv: list[str] | None = None,
               *, time_cap: float = 300.0) -> int:
    """Parse the options, set the memory cap, run ``tables`` and print (and write) the result."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser, time_cap=time_cap)
    add_arguments(parser)
    args = settle(parser.parse_args(argv))
    lift_dense_guard()
    print(limit_memory(args.mem_cap), f"; time cap {args.time_cap:g} s per measured call", file=sys.stderr)
    done = []
    for table in tables(args):
        print(table.render(), end="\n\n", flush=True)
        done.append(table)
    if args.json:
        write_json(done, args.json, {"argv": sys.argv, "quick": args.quick, "time_cap": args.time_cap,
                                     "mem_cap": args.mem_cap})
    return 0
