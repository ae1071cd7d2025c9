"""``symattn next``: the automaton's next-token distribution for new prompts (and given weights')."""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from symattn.automaton import Agreement, Automaton, NextToken, automaton
from symattn.cli._common import EXIT_OK, load_data
from symattn.cli._prompts import collect_prompts, weights_arg, weights_of
from symattn.cli.render import json_number, out
from symattn.examples import EXAMPLES

__all__ = ["add_parser", "next_payload", "render_next", "run"]


def _dist(auto: Automaton, tokens: tuple[int, ...], log_probs: np.ndarray) -> dict[str, float]:
    return {auto.vocab.name(t): float(p) for t, p in zip(tokens, np.exp(log_probs).tolist(), strict=True)}


def _vector(values: np.ndarray | None) -> list[float] | None:
    return None if values is None else [float(v) for v in values]


def next_payload(
    auto: Automaton, nxt: NextToken, weights: NextToken | None = None, agreement: Agreement | None = None
) -> dict[str, Any]:
    """The ``next --json`` object of one prompt.

    ``distribution`` is ``null`` when the theory does not fix it (status ``incomparable``); the
    distribution inside each retrieved group is always given under ``groups``.

    >>> from symattn.examples import load_example
    >>> auto = automaton(load_example())
    >>> obj = next_payload(auto, auto.next("a b d f"))
    >>> obj["retrieved"], obj["distribution"], obj["dropped"][0]["path"]
    (['b', 'd'], {'a': 0.0, 'b': 0.5, 'd': 0.5, 'f': 0.0}, ['b', 'a'])
    """
    r = nxt.retrieval
    assert r is not None
    names = auto.names
    obj: dict[str, Any] = {
        "prompt": list(names(nxt.prompt.tokens)),
        "query": auto.vocab.name(nxt.prompt.query),
        "status": nxt.status.value,
        "retrieved": list(names(nxt.retrieved)),
        "distribution": None if nxt.log_probs is None else _dist(auto, nxt.tokens, nxt.log_probs),
        "groups": [
            {"tokens": list(names(g)), "scc": scc, "distribution": _dist(auto, g, log)}
            for g, scc, log in zip(r.groups, r.group_sccs, nxt.log_within, strict=True)
        ],
        "scores": {auto.vocab.name(t): float(v) for t, v in zip(r.tokens, r.scores.tolist(), strict=True)},
        "exact_ties": r.exact,
        "dropped": [
            {"token": auto.vocab.name(d.token), "reason": d.reason.value, "path": list(names(d.path)),
             "witnesses": list(d.witnesses), "gap": d.gap}
            for d in r.dropped
        ],
        "unseen_query": r.unseen_query,
        "absent": list(names(r.absent)),
        "graph_top": list(names(r.graph_top)),
        "graph_unique": r.graph_unique,
        "attention": _vector(nxt.attention),
        "output": _vector(nxt.output),
        "message": nxt.message,
    }
    if weights is not None and agreement is not None and weights.log_probs is not None:
        obj["weights"] = {
            "distribution": _dist(auto, weights.tokens, weights.log_probs),
            "retrieved": list(names(weights.retrieved)),
            "attention": _vector(weights.attention),
            "output": _vector(weights.output),
            "tv": agreement.tv,
            "within_tv": agreement.within_tv,
            "outside_mass": agreement.outside_mass,
            "log_outside_mass": json_number(agreement.log_outside_mass),
            "retrieval_agrees": agreement.retrieval_agrees,
            "threshold": agreement.threshold,
        }
    return obj


def _probs_text(auto: Automaton, tokens: tuple[int, ...], log_probs: np.ndarray) -> str:
    pairs = sorted(zip(tokens, np.exp(log_probs).tolist(), strict=True), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{auto.vocab.name(t)} {p:.4g}" for t, p in pairs)


def _sample_text(auto: Automaton, i: int) -> str:
    sample = auto.dataset[i]
    return " ".join(auto.names(sample.tokens)) + " -> " + auto.vocab.name(sample.label)


def _reason(auto: Automaton, nxt: NextToken) -> list[str]:
    r = nxt.retrieval
    assert r is not None
    k = auto.vocab.name(r.query)
    lines = []
    for group, scc in zip(r.groups, r.group_sccs, strict=True):
        members = "{" + ", ".join(auto.names(group)) + "}"
        where = f"SCC [{scc}] of G_{k}" if scc is not None else (
            f"no G_{k} (unseen query)" if r.unseen_query else f"not in G_{k}"
        )
        score = float(r.scores[r.tokens.index(group[0])])
        lines.append(f"  retrieved {members}: {where}, W^svm score {score:.6g}")
    for d in r.dropped:
        name = auto.vocab.name(d.token)
        if d.path:
            chain = " > ".join(auto.names(d.path))
            samples = "; ".join(f"sample {w}: {_sample_text(auto, w)}" for w in d.witnesses)
            lines.append(f"  dropped {name}: priority path {chain} in G_{k} ({samples})")
        else:
            lines.append(
                f"  dropped {name}: no retrieved token reaches it in G_{k}; its score is {d.gap:.6g} lower"
            )
    return lines


def render_next(
    auto: Automaton, nxt: NextToken, weights: NextToken | None = None, agreement: Agreement | None = None
) -> list[str]:
    """Lines describing the theory's answer for one prompt (and the weights', when given).

    >>> from symattn.examples import load_example
    >>> auto = automaton(load_example())
    >>> for line in render_next(auto, auto.next("a d e")):
    ...     print(line)
    prompt: a d e   (query e, determined)
      retrieved {d}: SCC [0] of G_e, W^svm score 1
      dropped a: priority path d > a in G_e (sample 6: a d e -> d)
      dropped e: priority path d > e in G_e (sample 6: a d e -> d)
      next token: d 1, a 0, e 0
    """
    prompt = " ".join(auto.names(nxt.prompt.tokens))
    lines = [f"prompt: {prompt}   (query {auto.vocab.name(nxt.prompt.query)}, {nxt.status.value})"]
    lines.extend(_reason(auto, nxt))
    if nxt.log_probs is not None:
        lines.append(f"  next token: {_probs_text(auto, nxt.tokens, nxt.log_probs)}")
    else:
        for group, log in zip(nxt.groups, nxt.log_within, strict=True):
            lines.append(f"  within {{{', '.join(auto.names(group))}}}: {_probs_text(auto, group, log)}")
    if nxt.message:
        lines.append(f"  note: {nxt.message}")
    if weights is not None and agreement is not None and weights.log_probs is not None:
        lines.append(f"  weights: {_probs_text(auto, weights.tokens, weights.log_probs)}")
        tv = "not fixed by the theory" if agreement.tv is None else f"{agreement.tv:.3g}"
        lines.append(
            f"  distance: TV {tv}, within-group TV {agreement.within_tv:.3g}, mass outside the retrieved "
            f"set {agreement.outside_mass:.3g} (log {agreement.log_outside_mass:.4g}), retrieval "
            + ("agrees" if agreement.retrieval_agrees else "DIFFERS")
        )
    return lines


def run(args: argparse.Namespace) -> int:
    values = list(args.prompts)
    if args.example and args.data is not None:
        values.insert(0, args.data)
        args.data = None
    if not args.example and args.data is None:
        args.data = values.pop(0) if values else None
    dataset = load_data(args)
    prompts = collect_prompts(dataset, values, args.prompts_file or [])
    W = weights_of(args, dataset)
    auto = automaton(dataset)
    payloads, blocks = [], []
    for p in prompts:
        nxt = auto.next(p)
        weights = agreement = None
        if W is not None:
            weights = auto.attend(p, W, threshold=args.threshold)
            agreement = auto.compare(p, W, threshold=args.threshold)
        payloads.append(next_payload(auto, nxt, weights, agreement))
        blocks.append("\n".join(render_next(auto, nxt, weights, agreement)))
    out(json.dumps(payloads, indent=1) if args.json else "\n\n".join(blocks))
    return EXIT_OK


def _level(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"{text} must lie strictly between 0 and 1")
    return value


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "next", help="the automaton on new prompts: what is retrieved, why, and the next-token distribution"
    )
    parser.add_argument("data", nargs="?", help="dataset file (.json or text 'a b c -> b')")
    parser.add_argument("prompts", nargs="*", metavar="PROMPT",
                        help="a prompt: its tokens in one quoted argument, e.g. \"a b c\"; '-' reads "
                        "standard input, one prompt a line")
    parser.add_argument("--example", choices=sorted(EXAMPLES), help="an embedded example dataset instead")
    parser.add_argument("--prompts", dest="prompts_file", action="append", metavar="FILE",
                        help="a prompts file: one prompt a line, or JSON symattn.prompts/1 (repeatable)")
    weights_arg(parser)
    parser.add_argument("--threshold", type=_level, default=1e-2,
                        help="mass above which the weights count a token as retrieved (default 0.01)")
    parser.add_argument("--drop-unrealizable", action="store_true",
                        help="drop training samples whose label is not in their sequence")
    parser.add_argument("--json", action="store_true",
                        help="machine-readable output: a list, one object a prompt")
    parser.set_defaults(run=run)
