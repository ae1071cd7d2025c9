"""``symattn verify``: judge trained weights against the theory (pass / fail / inconclusive).

Exit codes: 0 pass, 1 fail, 3 inconclusive (the weights' norm is too small to judge), 2 bad input.
"""

from __future__ import annotations

import argparse
import json

from symattn.cli.render import out
from symattn.data import Dataset
from symattn.formats import load_dataset, load_prompts
from symattn.model import Loss
from symattn.verify.pseudo import DEFAULT_THRESHOLD
from symattn.verify.weights import DEFAULT_STEP, QuerySide, WeightsReport, verify_weights
from symattn.weights import load_embeddings, load_weights

__all__ = ["add_parser", "render_report", "run"]


def _non_negative(text: str) -> float:
    value = float(text)
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number >= 0")
    return value


def _mass(text: str) -> float:
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be an attention mass in [0, 1)")
    return value


def _removed(report: WeightsReport) -> str:
    """The removed norm, or 0 when it is rounding (below 1e-9 of the norm)."""
    return f"{report.removed:.4g}" if report.removed > 1e-9 * max(report.norm, 1.0) else "0"


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def render_report(report: WeightsReport, dataset: Dataset, source: str) -> list[str]:
    """The report as aligned text lines."""
    names = dataset.vocab.names
    lines = [
        f"weights: {source} ({report.dtype})",
        f"verdict: {report.verdict.value.upper()}: {report.message}",
        f"norm ||Pi_R W|| = {report.norm:.6g} (judged from {report.norm_needed:.4g}); removed "
        f"{_removed(report)} that no gradient reaches; raw corr {report.raw_corr:.4f}; "
        f"direction: {report.direction.value}",
        f"reference at this norm: {report.reference}",
        "",
        f"{'check':<18}{'value':>13}    {'expected':>13}{'tolerance':>12}  passed",
    ]
    for c in report.checks:
        mark = {True: "yes", False: "NO", None: "-"}[c.passed]
        lines.append(f"{c.name:<18}{_fmt(c.value):>13} {c.relation.value:>2} {_fmt(c.expected):>13}"
                     f"{_fmt(c.tolerance):>12}  {mark}")
    for c in report.checks:
        lines.append(f"  {c.name}: {c.detail}")
    if report.diagnoses:
        lines += ["", "diagnoses:"]
        lines += [f"  {d.name:<15}{'FOUND' if d.found else 'no':<6} {d.detail}" for d in report.diagnoses]
    if report.failing_samples:
        lines.append("failing samples: " + ", ".join(f"#{i}" for i in report.failing_samples[:20]))
    if report.failing_prompts:
        shown = ["'" + " ".join(names[t] for t in p) + "'" for p in report.failing_prompts[:10]]
        lines.append("failing prompts: " + ", ".join(shown))
    return lines


def run(args: argparse.Namespace) -> int:
    dataset = load_dataset(args.data)
    if args.embeddings:
        dataset = dataset.with_embeddings(load_embeddings(args.embeddings, key=args.embeddings_key,
                                                          size=dataset.K))
    weights = load_weights(args.weights, key=args.key, factors=args.factors, dim=dataset.embeddings.dim)
    prompts = list(load_prompts(args.prompts, dataset.vocab)) if args.prompts else None
    report = verify_weights(
        dataset, weights, prompts=prompts, loss=args.loss, step=args.step, threshold=args.threshold,
        query_side=args.query_side, seed=args.seed,
    )
    if args.json:
        out(json.dumps({"weights": weights.source, **report.to_dict(dataset.vocab.names)}, indent=1))
    else:
        out("\n".join(render_report(report, dataset, weights.source)))
    return report.verdict.exit_code


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "verify", help="judge trained weights against the theory: pass, fail or inconclusive",
        description="Judge trained weights W against the theory at their norm. Exit codes: 0 pass, 1 fail, "
        "3 inconclusive (norm too small), 2 bad input.",
    )
    parser.add_argument("data", help="dataset file the weights were trained on (.json or text 'a b c -> b')")
    parser.add_argument("weights", help="weights: .npy, .npz (see --key) or .json (numbers or '3/2')")
    parser.add_argument("--key", help="member of an .npz / key of a JSON object; with --factors 'K,Q'")
    parser.add_argument("--factors", action="store_true", help="the file holds factors K, Q with W = K Q^T")
    parser.add_argument("--embeddings", metavar="FILE",
                        help="embedding rows (K x d; .npy, .npz or .json) instead of the dataset's")
    parser.add_argument("--embeddings-key", metavar="KEY", help="member of the embeddings .npz / JSON object")
    parser.add_argument("--query-side", choices=[s.value for s in QuerySide], default="right",
                        help="right: scores e_x^T W e_query (symattn's); left: e_query^T W e_x")
    parser.add_argument("--prompts", metavar="FILE",
                        help="new prompts for the generalisation check: one a line, or JSON "
                        "(docs/formats.md); default: drawn from the graphs")
    parser.add_argument("--loss", choices=[k.value for k in Loss], default="log",
                        help="the loss trained with; non-convex losses may pass with a local direction")
    parser.add_argument("--step", type=_non_negative, default=DEFAULT_STEP,
                        help=f"normalised-GD step allowed in the finite part (default {DEFAULT_STEP}; "
                        "0 for exact methods)")
    parser.add_argument("--threshold", type=_mass, default=DEFAULT_THRESHOLD,
                        help="attention mass of a selected token, for the pseudo-graph "
                        f"(default {DEFAULT_THRESHOLD})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the drawn prompts (default 0)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(run=run)
