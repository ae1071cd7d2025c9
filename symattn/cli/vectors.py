"""``symattn vectors``: export the conformance vectors, or one dataset's graph-SVM certificate."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from symattn.cases import CASES
from symattn.cli._common import EXIT_OK, dataset_arg, load_data
from symattn.cli.render import out
from symattn.errors import InvalidInput

__all__ = ["add_parser", "run"]


def _export(args: argparse.Namespace) -> int:
    from symattn.verify.vectors import export_vectors

    cases = None if args.cases is None else [c.strip() for c in args.cases.split(",") if c.strip()]
    start = time.perf_counter()
    index = export_vectors(args.directory, cases, seed=args.seed)
    seconds = time.perf_counter() - start
    root = Path(args.directory)
    written = ["index.json", index["checker"], *(c["file"] for c in index["cases"]),
               *(c["certificate"] for c in index["cases"] if c["certificate"])]
    size = sum((root / name).stat().st_size for name in written)
    if args.json:
        payload = {**index, "directory": str(root), "bytes": size, "seconds": round(seconds, 3)}
        out(json.dumps(payload, indent=1))
        return EXIT_OK
    out(f"symattn vectors: {len(index['cases'])} case(s) written to {root} ({size:,} bytes, {seconds:.2f} s)")
    width = max(len(c["name"]) for c in index["cases"])
    for case in index["cases"]:
        cert = "certificate" if case["certificate"] else "           "
        out(f"  {case['name']:<{width}}  {cert}  {', '.join(case['tags'])}")
    out(f"check a certificate with: python {root / 'checkcert.py'} {root / 'certificates'}/<case>.json")
    return EXIT_OK


def _certificate(args: argparse.Namespace) -> int:
    from symattn.verify.certificates import export_certificate

    dataset = load_data(args)
    path = export_certificate(dataset, args.output)
    status = json.loads(path.read_text(encoding="utf-8"))["status"]
    out(f"symattn vectors: {status} graph-SVM certificate written to {path}")
    out(f"check it with: python {Path(__file__).with_name('checkcert.py')} {path}")
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    if args.action == "export" and args.cases is not None and not args.cases.strip():
        raise InvalidInput("--cases is empty; give case names separated by commas")
    return _export(args) if args.action == "export" else _certificate(args)


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "vectors", help="export the conformance vectors, or a graph-SVM certificate for checkcert.py"
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = actions.add_parser("export", help="write the conformance vectors of the catalogued cases to DIR")
    export.add_argument("directory", metavar="DIR", help="output directory (created if missing)")
    export.add_argument("--cases", metavar="NAMES",
                        help=f"comma-separated case names (default all: {', '.join(c.name for c in CASES)})")
    export.add_argument("--seed", type=int, default=0, help="seed of the random weight points (default 0)")
    export.add_argument("--json", action="store_true", help="print the index as JSON")
    cert = actions.add_parser("certificate", help="write the exact graph-SVM certificate of a dataset")
    dataset_arg(cert)
    cert.add_argument("--output", "-o", required=True, metavar="FILE", help="the certificate file to write")
    parser.set_defaults(run=run)
