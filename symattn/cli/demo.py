"""``symattn demo``: the main analysis and training on the embedded example."""

from __future__ import annotations

import argparse

from symattn.cli._common import analyse, prediction_or_none
from symattn.cli.generate import render_generation
from symattn.cli.next import render_next
from symattn.cli.render import out, render_analysis, render_graphs
from symattn.data import Dataset
from symattn.examples import EXAMPLES, load_example
from symattn.predict import HEADLINE_METRICS, Prediction

__all__ = ["add_parser", "run"]


def run(args: argparse.Namespace) -> int:
    dataset = load_example(args.example)
    parts, code = analyse(dataset)
    graphs = parts.graphs
    out(f"symattn demo: the embedded example {args.example!r}")
    out("")
    out("\n".join(render_graphs(dataset, graphs) + render_analysis(dataset, graphs, parts.svm, parts.finite)))
    out("")
    prediction = prediction_or_none(parts)  # the analysis above, not solved again
    out("\n".join(_render_training(dataset, prediction)))
    out("")
    prompts = DEMO_PROMPTS.get(args.example, ())
    out("\n".join(_render_automaton(dataset if prediction is None else prediction, prompts)))
    return code


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("demo", help="run the main analysis on the embedded example")
    parser.add_argument("--example", choices=sorted(EXAMPLES), default="default")
    parser.set_defaults(run=run)


def _render_training(dataset: Dataset, prediction: Prediction | None) -> list[str]:
    from symattn.train import regularization_path, train

    lines = ["training (log-loss, identity readout, from W = 0):"]
    runs = [
        ("gradient descent, 2000 steps", train(dataset, method="gd", steps=2000, prediction=prediction)),
        ("normalised GD, lr 0.01, 4000 steps",
         train(dataset, method="ngd", steps=4000, prediction=prediction)),
        ("regularisation path, R = 100", regularization_path(dataset, [10.0, 100.0], prediction=prediction)),
    ]
    for name, traj in runs:
        final = traj.final()
        text = f"  {name}: ||W|| = {final['norm']:.4g}, loss = {final['loss']:.4g}"
        if prediction is not None:
            text += "".join(f", {m.label} = {final[m.name]:{m.fmt}}" for m in HEADLINE_METRICS[:3])
        lines.append(text)
    return lines


DEMO_PROMPTS = {"default": ("a b b c", "a d b f", "c a f")}
"""New prompts the demo runs the automaton on, per example."""


def _render_automaton(source: Dataset | Prediction, prompts: tuple[str, ...]) -> list[str]:
    from symattn.automaton import automaton
    from symattn.generation import generate

    if not prompts:
        return []
    auto = automaton(source)
    lines = ["the automaton on new prompts (retrieve by W^svm, mix by W^fin; docs/automaton.md):"]
    for prompt in prompts:
        lines.append("")
        lines.extend(render_next(auto, auto.next(prompt)))
    gen = generate(auto, prompts[:2], steps=8, seed=0, samples=2)
    lines.append("")
    lines.extend(render_generation(auto, gen))
    return lines
