"""``symattn train``: gradient descent, normalised GD or the regularisation path."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from symattn.cli._common import (
    EXIT_FAILED,
    EXIT_OK,
    dataset_arg,
    load_data,
    prediction_or_none,
    progress,
    write_plots,
)
from symattn.cli.render import json_number, out, render_final

__all__ = ["add_parser", "run"]


def run(args: argparse.Namespace) -> int:
    from symattn.train import TrainConfig, train

    dataset = load_data(args)
    options: dict[str, Any] = {
        "method": args.method, "steps": args.steps, "lr": args.lr, "loss": args.loss, "init": args.init,
        "scale": args.scale, "seed": args.seed, "records": args.records, "time_budget": args.time_budget,
    }
    if args.radii:
        options["radii"] = tuple(args.radii)
    config = TrainConfig(**options)
    prediction = prediction_or_none(dataset) if config.loss.convex else None
    total = len(config.radii) if config.method.value == "regpath" else config.steps
    bar, callback = progress(total, f"train {config.method.value}", not args.no_progress)
    try:
        traj = train(dataset, config, prediction=prediction, callback=callback, checkpoint=args.checkpoint)
    finally:
        if bar is not None:
            bar.close()
    if args.out:
        npz, summary = traj.save(args.out)
        written = [str(npz), str(summary)]
        if not args.no_plot:
            title = f"{config.method.value} on {args.data or args.example}"
            written.extend(write_plots(args.out, [traj], title=title))
        sys.stderr.write("symattn: wrote " + ", ".join(written) + "\n")
    if args.json:
        final = traj.final()
        metrics = {key: json_number(final[key]) for key in final}
        out(json.dumps(
            {"status": traj.status.value, "message": traj.message, "W": traj.W.tolist(), "metrics": metrics},
            indent=1,
        ))
    else:
        out("\n".join(render_final(traj)))
    return EXIT_OK if traj.success else EXIT_FAILED


def add_parser(sub: argparse._SubParsersAction) -> None:
    from symattn.model import Loss
    from symattn.train import Init, TrainMethod

    parser = sub.add_parser("train", help="train W by gd, normalised gd or the regularisation path")
    dataset_arg(parser)
    parser.add_argument("--method", choices=[m.value for m in TrainMethod], default="gd")
    parser.add_argument("--steps", type=int, default=1000, help="number of steps (gd, ngd)")
    parser.add_argument("--lr", type=float, default=None,
                        help="step size (default: 1/smoothness for gd, 0.01 for ngd)")
    parser.add_argument("--radii", type=float, nargs="+", help="radii of the regularisation path")
    parser.add_argument("--loss", choices=[m.value for m in Loss], default="log")
    parser.add_argument("--init", choices=[m.value for m in Init], default="zero")
    parser.add_argument("--scale", type=float, default=1.0, help="std of the Gaussian initialisation")
    parser.add_argument("--seed", type=int, default=0, help="seed of the Gaussian initialisation")
    parser.add_argument("--records", type=int, default=60, help="about how many log-spaced records")
    parser.add_argument("--time-budget", type=float, default=None, help="stop after this many seconds")
    parser.add_argument("--checkpoint", help="checkpoint .npz: resumed from when present, updated at the end")
    parser.add_argument("--out", help="directory for trajectory.npz, trajectory.json and trajectory.png")
    parser.add_argument("--no-plot", action="store_true", help="do not draw figures")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true", help="print the final W and metrics as JSON")
    parser.set_defaults(run=run)
