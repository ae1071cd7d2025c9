"""``symattn generate``: continue prompts token by token with the automaton (or given weights)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from symattn.automaton import Automaton, automaton
from symattn.cli._common import EXIT_FAILED, EXIT_OK, dataset_arg, load_data
from symattn.cli._prompts import collect_prompts, weights_arg, weights_of
from symattn.cli.render import out
from symattn.generation import Generation, generate

__all__ = ["add_parser", "generation_payload", "render_generation", "run"]


def generation_payload(auto: Automaton, gen: Generation) -> dict[str, Any]:
    """The ``generate --json`` object.

    >>> from symattn.examples import load_example
    >>> auto = automaton(load_example())
    >>> obj = generation_payload(auto, generate(auto, "a e", steps=2, greedy=True))
    >>> obj["status"], obj["prompts"][0]["continuations"][0]["tokens"]
    ('completed', ['a', 'a'])
    """
    return {
        "source": gen.source.value,
        "status": gen.status.value,
        "message": gen.message,
        "steps": gen.steps,
        "samples": gen.samples,
        "greedy": gen.greedy,
        "seed": gen.seed,
        "prompts": [
            {
                "prompt": list(auto.names(p.tokens)),
                "continuations": [
                    {"tokens": list(auto.names(tokens)), "log_prob": float(gen.log_probs[i, s]),
                     "stopped": bool(gen.stopped[i, s])}
                    for s, tokens in enumerate(gen.continuations[i])
                ],
            }
            for i, p in enumerate(gen.prompts)
        ],
    }


def render_generation(auto: Automaton, gen: Generation) -> list[str]:
    """Lines showing each prompt and its continuations (``|`` marks where the prompt ends).

    >>> from symattn.examples import load_example
    >>> auto = automaton(load_example())
    >>> render_generation(auto, generate(auto, "a e", steps=2, greedy=True))
    ['theory: 2 step(s), 1 sample(s) a prompt, greedy', '  a e | a a   (log p = -0.4055)']
    """
    how = "greedy" if gen.greedy else f"sampled, seed {gen.seed}"
    lines = [f"{gen.source.value}: {gen.steps} step(s), {gen.samples} sample(s) a prompt, {how}"]
    for i, p in enumerate(gen.prompts):
        prompt = " ".join(auto.names(p.tokens))
        for s in range(gen.samples):
            stop = "  [stopped: not fixed by the theory]" if gen.stopped[i, s] else ""
            lines.append(f"  {prompt} | {gen.text(i, s)}   (log p = {gen.log_probs[i, s]:.4g}){stop}")
    if gen.message:
        lines.append(f"note: {gen.message}")
    return lines


def run(args: argparse.Namespace) -> int:
    dataset = load_data(args)
    prompts = collect_prompts(dataset, args.prompt or [], args.prompts_file or [])
    W = weights_of(args, dataset)
    auto = automaton(dataset)
    gen = generate(auto, prompts, steps=args.steps, seed=args.seed, samples=args.samples,
                   greedy=args.greedy, W=W)
    out(json.dumps(generation_payload(auto, gen), indent=1) if args.json
        else "\n".join(render_generation(auto, gen)))
    return EXIT_OK if gen.success else EXIT_FAILED


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("generate", help="continue prompts token by token with the automaton or weights")
    dataset_arg(parser)
    parser.add_argument("--prompt", action="append", metavar="PROMPT",
                        help="a prompt, its tokens in one quoted argument (repeatable); '-' reads standard "
                        "input, one prompt a line")
    parser.add_argument("--prompts", dest="prompts_file", action="append", metavar="FILE",
                        help="a prompts file: one prompt a line, or JSON symattn.prompts/1 (repeatable)")
    parser.add_argument("--steps", type=int, default=10,
                        help="tokens to generate per continuation (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the draws (default 0)")
    parser.add_argument("--samples", type=int, default=1, help="continuations per prompt (default 1)")
    parser.add_argument("--greedy", action="store_true", help="take the most likely token instead of drawing")
    weights_arg(parser)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(run=run)
