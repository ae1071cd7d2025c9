"""``symattn train``: gradient descent, normalised GD or the regularisation path.

Every option given must apply to the method (``--radii`` to ``regpath``, ``--steps`` to ``gd``
and ``ngd``, ...), else exit 2 naming it. ``--out`` and ``--checkpoint`` are checked and locked
before the run; SIGINT and SIGTERM stop the run between steps, and its checkpoint and
``--out`` are then written before exit code 130.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from symattn._io import signals_deferred
from symattn.cli._common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    count,
    dataset_arg,
    load_data,
    locked_outputs,
    prediction_or_none,
    progress,
    write_plots,
)
from symattn.cli.render import err, json_number, out, render_final
from symattn.errors import InvalidInput

__all__ = ["add_parser", "run"]

_OPTIONS = {
    "method": "method",
    "steps": "steps",
    "lr": "lr",
    "radii": "radii",
    "loss": "loss",
    "init": "init",
    "scale": "scale",
    "seed": "seed",
    "records": "records",
    "time_budget": "time_budget",
    "checkpoint_steps": "checkpoint_every",
    "checkpoint_every": "checkpoint_seconds",
}
"""Command-line destination -> TrainConfig field (``--checkpoint-every`` is in seconds)."""


def _config(args: argparse.Namespace) -> Any:
    from symattn.train import TrainConfig

    if args.method == "regpath":
        given = [
            f
            for f, v in (
                ("--checkpoint", args.checkpoint),
                ("--checkpoint-every", args.checkpoint_every),
                ("--checkpoint-steps", args.checkpoint_steps),
            )
            if v is not None
        ]
        if given:
            raise InvalidInput(
                f"{', '.join(given)} apply to --method gd and ngd; the path keeps no checkpoint"
            )
    elif args.checkpoint is None and (args.checkpoint_every is not None or args.checkpoint_steps is not None):
        raise InvalidInput("--checkpoint-every and --checkpoint-steps need --checkpoint FILE")
    options = {
        field: getattr(args, dest) for dest, field in _OPTIONS.items() if getattr(args, dest) is not None
    }
    if "radii" in options:
        options["radii"] = tuple(options["radii"])
    return TrainConfig(**options)


def _write(args: argparse.Namespace, traj: Any) -> None:
    """``--out``: trajectory.npz, trajectory.json and (with matplotlib) trajectory.png."""
    npz, summary = traj.save(args.out)
    written = [str(npz), str(summary)]
    if not args.no_plot:
        source = "standard input" if args.data == "-" else args.data or args.example
        written.extend(write_plots(args.out, [traj], title=f"{traj.method.value} on {source}"))
    err("wrote " + ", ".join(written))


def run(args: argparse.Namespace) -> int:
    from symattn.train import TrainMethod, TrainStatus, train

    dataset = load_data(args)
    config = _config(args)
    with locked_outputs(args.out, args.checkpoint):
        prediction = prediction_or_none(dataset) if config.loss.convex else None
        total = len(config.radii) if config.method is TrainMethod.REGPATH else config.steps
        bar, callback = progress(total, f"train {config.method.value}", not args.no_progress, args.interrupts)
        with args.interrupts.deferred():
            try:
                traj = train(
                    dataset, config, prediction=prediction, callback=callback, checkpoint=args.checkpoint
                )
            finally:
                if bar is not None:
                    bar.close()
            with signals_deferred():
                if args.out:
                    _write(args, traj)
    _report(args, traj)
    if traj.status is TrainStatus.INTERRUPTED:
        return EXIT_INTERRUPTED
    return EXIT_OK if traj.success else EXIT_FAILED


def _report(args: argparse.Namespace, traj: Any) -> None:
    if args.json:
        final = traj.final()
        metrics = {key: json_number(final[key]) for key in final}
        out(
            json.dumps(
                {
                    "status": traj.status.value,
                    "message": traj.message,
                    "W": traj.W.tolist(),
                    "metrics": metrics,
                },
                indent=1,
            )
        )
    else:
        out("\n".join(render_final(traj)))


def add_parser(sub: argparse._SubParsersAction) -> None:
    from symattn.model import Loss
    from symattn.train import DEFAULT_CHECKPOINT_SECONDS, DEFAULT_RECORDS, DEFAULT_STEPS, Init, TrainMethod

    parser = sub.add_parser("train", help="train W by gd, normalised gd or the regularisation path")
    dataset_arg(parser)
    parser.add_argument("--method", choices=[m.value for m in TrainMethod], default="gd")
    parser.add_argument(
        "--steps", type=count, help=f"number of steps (gd, ngd; default {DEFAULT_STEPS}; 1e6 works)"
    )
    parser.add_argument(
        "--lr", type=float, help="step size (gd, ngd; default 1/smoothness for gd, 0.01 for ngd)"
    )
    parser.add_argument(
        "--radii", type=float, nargs="+", metavar="R", help="radii of the path (regpath only)"
    )
    parser.add_argument(
        "--loss", choices=[m.value for m in Loss], help="the loss (default log; regpath: log only)"
    )
    parser.add_argument("--init", choices=[m.value for m in Init], help="W(0) (gd, ngd; default zero)")
    parser.add_argument(
        "--scale", type=float, help="std of a Gaussian W(0) (--init gaussian only; default 1)"
    )
    parser.add_argument(
        "--seed", type=count, help="seed of a Gaussian W(0) (--init gaussian only; default 0)"
    )
    parser.add_argument(
        "--records", type=count, help=f"recorded steps per decade (gd, ngd; default {DEFAULT_RECORDS})"
    )
    parser.add_argument("--time-budget", type=float, metavar="SECONDS", help="stop after this many seconds")
    parser.add_argument(
        "--checkpoint",
        metavar="FILE",
        help="checkpoint .npz (gd, ngd): resumed from when present (also to extend a run to more --steps), "
        "saved periodically, at the end and on SIGINT/SIGTERM",
    )
    parser.add_argument(
        "--checkpoint-every",
        type=float,
        metavar="SECONDS",
        help=f"save the checkpoint at least this often (default {DEFAULT_CHECKPOINT_SECONDS:g}; "
        "0: only at the end)",
    )
    parser.add_argument("--checkpoint-steps", type=count, metavar="N", help="also save it every N steps")
    parser.add_argument(
        "--out", metavar="DIR", help="directory for trajectory.npz, trajectory.json and trajectory.png"
    )
    parser.add_argument("--no-plot", action="store_true", help="do not draw figures")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true", help="print the final W and metrics as JSON")
    parser.set_defaults(run=run)
