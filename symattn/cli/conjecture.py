"""``symattn conjecture``: search a conjecture for a counterexample, shrink it, write and replay it.

``TARGET`` is ``FILE.py::NAME`` (the file is executed as Python, as ``python FILE.py`` would:
it is the user's own code) or ``catalogue:NAME``. Exit codes: 0 survived, 1 refuted (or still
fails on replay), 2 bad input, 4 the conjecture raised another exception, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path
from typing import Any

from symattn.cli._common import EXIT_FAILED, EXIT_OK, count, locked_outputs
from symattn.cli.render import err, out, printable
from symattn.data import Dataset

__all__ = ["EXIT_CONJECTURE_ERROR", "add_parser", "dataset_lines", "run"]

EXIT_CONJECTURE_ERROR = 4


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "conjecture", help="search a conjecture for a counterexample, shrink it, write and replay it",
        description="TARGET is FILE.py::NAME (executes FILE.py: your own code) or catalogue:NAME.",
    )
    parser.add_argument("target", nargs="?", help="FILE.py::NAME or catalogue:NAME")
    parser.add_argument("--examples", type=count, default=1000, help="examples to try (default 1000)")
    parser.add_argument("--seed", type=count, default=0, help="seed of the search (default 0)")
    parser.add_argument("--strategy", help="dataset strategy: a name (see --list) or FILE.py::NAME")
    parser.add_argument("--out", default=".", help="directory for NAME.json and NAME.report.json (default .)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--replay", metavar="FILE", help="run the conjecture on a bundle or dataset file")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=count, help="sweep on a local Dask cluster of N worker processes")
    where.add_argument("--scheduler", metavar="ADDRESS", help="sweep on a running Dask scheduler")
    parser.add_argument("--list", action="store_true", help="list the catalogue and the strategies")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.set_defaults(run=run)


class _FileRaised(Exception):
    """The user's file raised while it was executed (an error of the conjecture, exit 4)."""


def run(args: argparse.Namespace) -> int:
    from symattn.conjecture.declare import ConjectureError

    if args.list:
        return _list(args.json)
    try:
        if args.replay:
            return _replay(args)
        if not args.target:
            raise ConjectureError("give a conjecture: FILE.py::NAME or catalogue:NAME (or --list)")
        conj = _load(args.target)
        with locked_outputs(args.out, None):
            return _search(args, conj)
    except _FileRaised as exc:
        cause = exc.__cause__ or exc
        err(f"error: {exc}")
        lines = traceback.format_exception(type(cause), cause, cause.__traceback__)
        sys.stderr.write(printable("".join(lines)))
        return EXIT_CONJECTURE_ERROR


def _load(target: str) -> Any:
    from symattn.conjecture.declare import ConjectureError, load_conjecture

    try:
        return load_conjecture(target)
    except ConjectureError:
        raise
    except Exception as exc:  # the user's file raised while it was executed
        raise _FileRaised(f"the file of {target} raised {type(exc).__name__} when executed") from exc


def _search(args: argparse.Namespace, conj: Any) -> int:
    from symattn.conjecture.harness import check_conjecture

    options = {"examples": args.examples, "seed": args.seed, "strategy": args.strategy}
    bar = None
    if not args.no_progress:
        from tqdm import tqdm

        bar = tqdm(total=args.examples, desc=f"conjecture {conj.name}", file=sys.stderr, leave=False,
                   mininterval=0.2, unit="ex")
    try:
        if args.workers is not None or args.scheduler is not None:
            from symattn.conjecture.sweep import sweep_conjecture

            result = sweep_conjecture(conj, workers=args.workers, scheduler=args.scheduler,
                                      progress=bar.update if bar else None, **options)
        else:
            result = check_conjecture(conj, progress=bar.update if bar else None, **options)
    finally:
        if bar is not None:
            bar.close()
    files: list[str] = []
    if result.counterexample is not None:
        from symattn.conjecture.bundle import write_bundle

        files = [str(p) for p in write_bundle(result, args.out)]
    _show(result, files, args.json)
    return _exit_code(result)


def _replay(args: argparse.Namespace) -> int:
    from symattn.conjecture.bundle import load_bundle, replay
    from symattn.conjecture.declare import ConjectureError

    bundle = load_bundle(args.replay)
    target = args.target or (bundle.report or {}).get("conjecture", {}).get("origin")
    if not target:
        raise ConjectureError(
            f"{args.replay} does not name its conjecture; give FILE.py::NAME before --replay"
        )
    result = replay(_load(target), bundle)
    _show(result, [], args.json)
    return _exit_code(result)


def _exit_code(result: Any) -> int:
    from symattn.conjecture.harness import ConjectureStatus

    codes = {ConjectureStatus.SURVIVED: EXIT_OK, ConjectureStatus.REFUTED: EXIT_FAILED}
    return codes.get(result.status, EXIT_CONJECTURE_ERROR)


# -- rendering ------------------------------------------------------------------------------------
def _show(result: Any, files: list[str], as_json: bool) -> None:
    if as_json:
        out(json.dumps(_payload(result, files), indent=1))
    else:
        out("\n".join(_lines(result, files)))


def _payload(result: Any, files: list[str]) -> dict[str, Any]:
    from symattn.conjecture.bundle import counterexample_report

    summary = {
        "verdict": result.status.value, "message": result.message, "conjecture": result.name,
        "origin": result.origin, "strategy": result.strategy, "seed": result.seed,
        "examples_requested": result.examples, "examples_tried": result.tried, "kinds": dict(result.kinds),
        "seconds": round(result.seconds, 3), "workers": result.workers, "files": files,
    }
    if result.counterexample is not None:
        summary["report"] = counterexample_report(result, files[0] if files else "")
    return summary


def _kinds(kinds: Any) -> str:
    if not kinds:
        return ""
    return (
        f"{kinds.get('cyclic', 0)} cyclic, {kinds.get('acyclic', 0)} acyclic; "
        f"{kinds.get('repeated_tokens', 0)} with repeated tokens, {kinds.get('unequal_lengths', 0)} with "
        f"unequal lengths, {kinds.get('several_queries', 0)} with several query tokens; up to "
        f"{kinds.get('max_samples', 0)} samples, length {kinds.get('max_length', 0)}, "
        f"{kinds.get('max_vocab', 0)} tokens"
    )


def dataset_lines(dataset: Dataset) -> list[str]:
    """One ``tokens -> label`` line per sample, with the vocabulary's names."""
    names = dataset.vocab.names
    return [f"  {' '.join(names[t] for t in s.tokens)} -> {names[s.label]}" for s in dataset]


def _lines(result: Any, files: list[str]) -> list[str]:
    verdict = result.status.value.upper()
    head = f"conjecture {result.name}: {verdict}"
    found = result.counterexample
    if result.strategy.startswith("replay of"):
        lines = [f"{head} {result.message.partition(': ')[0].partition(' ')[2]}"]
    else:
        where = f"seed {result.seed}" + (f", {result.workers} Dask workers" if result.workers else "")
        text = (f", no counterexample in {result.tried} examples" if found is None
                else f" after {result.tried} of {result.examples} examples")
        lines = [
            f"{head}{text} ({where}), {result.seconds:.1f} s",
            f"  strategy {result.strategy}",
            f"  examples tried: {_kinds(result.kinds)}",
        ]
    if found is None:
        return lines
    ds = found.dataset
    lines.append(f"  {found.message}")
    if result.seconds_to_find is not None:
        lines.append(f"  found after {result.seconds_to_find:.1f} s; shrunk in {found.shrink_steps} steps "
                     f"({found.shrink_calls} calls, {found.shrink_seconds:.1f} s)")
    lines.append(f"counterexample: {len(ds)} sample(s), {int(ds.lengths.sum())} positions, K={ds.K}, "
                 f"embeddings {ds.embeddings.kind.value}")
    lines.extend(dataset_lines(ds))
    lines.extend(f"  {key} = {value!r}" for key, value in found.arguments.items())
    if found.traceback and result.status.value == "error":
        lines.append(found.traceback.rstrip())
    if files:
        from symattn.conjecture.bundle import replay_command

        lines.append("wrote " + " and ".join(files))
        lines.append("replay: " + replay_command(result.origin, Path(files[0])))
    return lines


def _list(as_json: bool) -> int:
    from symattn.conjecture.catalogue import CATALOGUE
    from symattn.conjecture.declare import STRATEGIES

    if as_json:
        out(json.dumps({
            "catalogue": [
                {"name": e.name, "expect": e.expect.value, "cites": e.cites,
                 "description": e.conjecture.description, "ci_examples": e.examples}
                for e in CATALOGUE.values()
            ],
            "strategies": {name: text for name, (text, _) in STRATEGIES.items()},
        }, indent=1))
        return EXIT_OK
    width = max(len(name) for name in CATALOGUE)
    lines = ["the catalogue (symattn conjecture catalogue:NAME):"]
    for e in CATALOGUE.values():
        lines.append(f"  {e.name:<{width}}  {e.expect.value:<8}  {e.conjecture.description}  [{e.cites}]")
    lines.append("")
    lines.append("dataset strategies (--strategy NAME):")
    lines.extend(f"  {name:<12} {text}" for name, (text, _) in STRATEGIES.items())
    out("\n".join(lines))
    return EXIT_OK
