"""``symattn analyze``: token-priority graphs, W^svm with its certificate, and W^fin."""

from __future__ import annotations

import argparse
import json

from symattn.cli._common import analyse, dataset_arg, load_data
from symattn.cli.render import analysis_payload, graphs_payload, out, render_analysis, render_graphs

__all__ = ["add_parser", "run"]


def run(args: argparse.Namespace) -> int:
    dataset = load_data(args)
    parts, code = analyse(dataset)
    graphs, svm, fin = parts.graphs, parts.svm, parts.finite
    if args.json:
        out(json.dumps({**graphs_payload(graphs), **analysis_payload(svm, fin, graphs)}, indent=1))
    else:
        out("\n".join(render_graphs(dataset, graphs) + render_analysis(dataset, graphs, svm, fin)))
    return code


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("analyze", help="token-priority graphs, SCCs, W^svm and W^fin of a dataset")
    dataset_arg(parser)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(run=run)
