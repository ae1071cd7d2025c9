"""``symattn reproduce``: the published experiment, then the regularisation path."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from symattn._io import atomic_write_text, signals_deferred
from symattn.cli._common import EXIT_FAILED, EXIT_OK, count, locked_outputs, progress, write_plots
from symattn.cli.render import err, json_number, out

__all__ = ["add_parser", "run"]


def run(args: argparse.Namespace) -> int:
    from symattn.reproduce import PUBLISHED, reproduce

    with locked_outputs(args.out, None):
        bar, callback = progress(args.trials, "trials", not args.no_progress)
        try:
            rep = reproduce(
                args.trials,
                steps=args.steps,
                lr=args.lr,
                radii=tuple(args.radii),
                seed=args.seed,
                callback=callback,
            )
        finally:
            if bar is not None:
                bar.close()
        rows = rep.table()
        clean = [{key: json_number(value) for key, value in row.items()} for row in rows]
        payload = {"published": PUBLISHED, "success": rep.success, "trials": clean}
        if args.out:
            with signals_deferred():
                _write(args.out, rep, payload)
    out(json.dumps(payload, indent=1) if args.json else "\n".join(_render(rep, rows)))
    if not rep.success:
        failed = [i for i, t in enumerate(rep.trials) if not (t.ngd.success and t.path.success)]
        err(f"failed: trial(s) {failed} did not complete (see their status)")
        return EXIT_FAILED
    return EXIT_OK


def _write(folder: str, rep: Any, payload: dict[str, Any]) -> None:
    """``--out``: reproduce.json (the table) always, the two figures when matplotlib is there."""
    from symattn.reproduce import PUBLISHED

    written = [str(atomic_write_text(Path(folder) / "reproduce.json", json.dumps(payload, indent=1) + "\n"))]
    n = len(rep.trials)
    written += write_plots(
        folder,
        [t.ngd for t in rep.trials],
        stem="reproduce_ngd",
        title=f"normalised GD, lr {rep.lr}, {rep.steps} steps ({n} trials)",
        reference={"corr_svm": PUBLISHED["corr_svm"][0], "finite_error": PUBLISHED["finite_error"]},
    )
    written += write_plots(
        folder, [t.path for t in rep.trials], stem="reproduce_path", title=f"regularisation path ({n} trials)"
    )
    err("wrote " + ", ".join(written))


def _render(rep: Any, rows: list[dict[str, float]]) -> list[str]:
    from symattn.reproduce import PUBLISHED

    lo, hi = PUBLISHED["corr_svm"]
    lines = [
        f"published experiment: n=6, T=4, K=6, d=8, random unit embeddings, normalised GD lr={rep.lr}, "
        f"{rep.steps} steps, {len(rows)} trials",
        f"published: corr(W, W^svm) {lo}-{hi}, ||P_fin W - W^fin|| ~ {PUBLISHED['finite_error']}",
        "",
        f"{'trial':>5}  {'ngd corr':>10}  {'ngd fin err':>11}  {'path R':>7}  {'path corr':>10}  "
        f"{'path fin err':>12}",
    ]
    for i, r in enumerate(rows):
        lines.append(
            f"{i:>5}  {r['ngd_corr_svm']:>10.5f}  {r['ngd_finite_error']:>11.2e}  {r['path_radius']:>7.0f}  "
            f"{r['path_corr_svm']:>10.6f}  {r['path_finite_error']:>12.2e}"
        )
    ngd_c = [r["ngd_corr_svm"] for r in rows]
    ngd_f = [r["ngd_finite_error"] for r in rows]
    path_c = [r["path_corr_svm"] for r in rows]
    path_f = [r["path_finite_error"] for r in rows]
    lines += [
        "",
        f"normalised GD: corr {min(ngd_c):.4f}-{max(ngd_c):.4f}, finite error "
        f"{min(ngd_f):.1e}-{max(ngd_f):.1e}",
        f"regularisation path: corr {min(path_c):.6f}-{max(path_c):.6f}, finite error "
        f"{min(path_f):.1e}-{max(path_f):.1e}",
    ]
    return lines


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("reproduce", help="the published experiment, then the regularisation path")
    parser.add_argument("--trials", type=count, default=10, help="number of random datasets (default 10)")
    parser.add_argument(
        "--steps", type=count, default=4000, help="normalised-GD steps per trial (default 4000)"
    )
    parser.add_argument("--lr", type=float, default=0.01, help="normalised-GD step size (default 0.01)")
    parser.add_argument(
        "--radii",
        type=float,
        nargs="+",
        default=[10.0, 40.0, 100.0, 300.0],
        metavar="R",
        help="radii of the regularisation path (default 10 40 100 300)",
    )
    parser.add_argument("--seed", type=count, default=0, help="seed of the random datasets (default 0)")
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="directory for reproduce.json and the figures reproduce_ngd.png and reproduce_path.png",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(run=run)
