"""The automaton on new prompts: agreement with trained weights, and the time per prompt.

Agreement: the published datasets (those of ``symattn reproduce``: 10 trials, seed 0, random
unit embeddings, n=6, T=4, K=6, d=8), 1,000 random prompts each (4 tokens, uniform over the
vocabulary, so some queries never occur in training). For the regularisation path's weights at
R = 1e2 and 1e3 and for normalised GD (4000 steps, lr 0.01, from 0) the table reports the share
of prompts whose retrieved set agrees (``Agreement.retrieval_agrees``), the share the theory
fixes (``determined``), the mean and max total variation over those, and the largest
within-group total variation and mass outside the retrieved set over all prompts.

Time: ``Automaton.next`` (retrieval with its reasons, composition) and ``Automaton.transition``
(the step generation uses) per prompt on a one-hot dataset with K = 1000.

    python benchmarks/bench_automaton.py [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _instances import uniform
from _report import Column, Table, run_module

from symattn import Dataset, automaton, regularization_path, train
from symattn.embeddings import as_generator
from symattn.reproduce import random_cyclic_dataset

FULL = {"trials": 10, "prompts": 1000, "steps": 4000, "timing": (1000, 5000, 16, 20)}
QUICK = {"trials": 1, "prompts": 50, "steps": 4000, "timing": (100, 300, 8, 5)}

RESOLVED = 20.0
"""A prompt counts as resolved at norm R when R * margin / ||W^svm|| >= 20 (outside mass ~e^-20)."""


def _tv(p: np.ndarray, q: np.ndarray) -> float:
    return 0.5 * float(np.abs(p - q).sum())


def agreement_rows(trials: int, prompts: int, steps: int) -> dict[str, list[dict[str, float]]]:
    rng = as_generator(0)  # the seed of `symattn reproduce`: the same datasets in the same order
    draw = np.random.default_rng(1)
    names = ("path R=1e2", "path R=1e3", "NGD 4000 x 0.01", "path at NGD norm")
    rows: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for _ in range(trials):
        ds = random_cyclic_dataset(seed=rng)
        auto = automaton(ds)
        ngd = train(ds, method="ngd", steps=steps, lr=0.01)
        R_ngd = float(np.linalg.norm(ngd.W))
        radii = sorted([10.0, 100.0, 1000.0, R_ngd])
        path = regularization_path(ds, radii, prediction=auto.prediction)
        assert path.success, path.message
        at = dict(zip(radii, path.weights, strict=True))
        sequences = draw.integers(0, ds.K, size=(prompts, 4)).tolist()
        margins = [auto.retrieve(p).margin for p in sequences]
        scale = auto.prediction.svm.norm
        for name, W, R in zip(names, (at[100.0], at[1000.0], ngd.W, at[R_ngd]), (100.0, 1000.0, R_ngd, R_ngd),
                              strict=True):
            found = [auto.compare(p, W) for p in sequences]
            tv = [a.tv for a in found if a.tv is not None]
            resolved = [a for a, m in zip(found, margins, strict=True)
                        if a.tv is not None and R * m / scale >= RESOLVED]
            row = {
                "norm": R,
                "agree": float(np.mean([a.retrieval_agrees for a in found])),
                "determined": len(tv) / len(found),
                "tv_mean": float(np.mean(tv)) if tv else float("nan"),
                "tv_max": max(tv, default=float("nan")),
                "resolved": len(resolved) / len(found),
                "resolved_agree": float(np.mean([a.retrieval_agrees for a in resolved])) if resolved else float("nan"),
                "resolved_tv_max": max((a.tv for a in resolved), default=float("nan")),
                "within_max": max(a.within_tv for a in found),
            }
            if name.startswith("NGD"):
                row["tv_to_path"] = max(
                    _tv(auto.attend(p, ngd.W).probs, auto.attend(p, at[R_ngd]).probs) for p in sequences
                )
            rows[name].append(row)
    return rows


def smallest_instances() -> list[Dataset]:
    """The instances of the smallest configuration (``--quick``)."""
    return [random_cyclic_dataset(seed=as_generator(0)), uniform(*QUICK["timing"])]


def timing(K: int, n: int, T: int, L: int, prompts: int) -> dict[str, float]:
    rng = np.random.default_rng(0)
    ds = uniform(K, n, T, L)
    start = time.perf_counter()
    auto = automaton(ds)
    solve = time.perf_counter() - start
    queries = np.unique(ds.queries)
    seqs = rng.integers(0, K, size=(prompts, T))
    seqs[:, -1] = queries[rng.integers(0, queries.size, size=prompts)]
    seqs = seqs.tolist()
    start = time.perf_counter()
    results = [auto.next(p) for p in seqs]
    per_next = (time.perf_counter() - start) / prompts
    start = time.perf_counter()
    for p in seqs:
        auto.transition(p)
    per_step = (time.perf_counter() - start) / prompts
    determined = np.mean([r.success for r in results])
    dropped = np.mean([len(r.retrieval.dropped) for r in results])
    return {"K": K, "n": n, "T": T, "L": L, "prompts": prompts, "solve_s": solve, "next_ms": 1e3 * per_next,
            "transition_ms": 1e3 * per_step, "determined": float(determined), "dropped_mean": float(dropped)}


def _over_trials(reduce: object, values: list[float]) -> float:
    """``reduce`` over the finite values (NaN when none is finite)."""
    return float(reduce(values)) if np.isfinite(values).any() else float("nan")


AGREEMENT = [Column("weights", "weights", "str"), Column("norm", "||W||", ".1f"), Column("agree", "agree", ".3f"),
             Column("determined", "determ.", ".3f"), Column("tv_mean", "TV mean", ".1e"),
             Column("tv_max", "TV max", ".1e"), Column("resolved", "resolved", ".3f"),
             Column("resolved_agree", "agree", ".3f"), Column("resolved_tv_max", "TV max", ".1e"),
             Column("within_max", "within max", ".1e"), Column("tv_to_path", "TV to path", ".2e")]
TIMING = [Column("K", "K", "d"), Column("n", "n", "d"), Column("T", "T", "d"), Column("L", "L", "d"),
          Column("prompts", "prompts", "d"), Column("solve_s", "W^svm + W^fin s", ".3g"),
          Column("next_ms", "next ms", ".3f"), Column("transition_ms", "transition ms", ".3f"),
          Column("determined", "determined", ".3f"), Column("dropped_mean", "dropped/prompt", ".1f")]


def tables(args: argparse.Namespace) -> Iterator[Table]:
    cfg = QUICK if args.quick else FULL
    rows = agreement_rows(cfg["trials"], cfg["prompts"], cfg["steps"])
    table = Table(f"automaton: agreement on the published datasets ({cfg['trials']} trials x {cfg['prompts']} "
                  "random prompts, T=4)", AGREEMENT)
    for name, trial_rows in rows.items():
        row: dict[str, object] = {"weights": name}
        for key in ("norm", "agree", "determined", "tv_mean", "resolved", "resolved_agree"):
            row[key] = _over_trials(np.nanmean, [r[key] for r in trial_rows])
        for key in ("tv_max", "resolved_tv_max", "within_max", "tv_to_path"):
            if key in trial_rows[0]:
                row[key] = _over_trials(np.nanmax, [r[key] for r in trial_rows])
        table.rows.append(row)
    table.notes = [f"'resolved': R * margin / ||W^svm|| >= {RESOLVED:g}; means over trials, maxima of the TVs.",
                   "TV to path: max TV between NGD and the path at the same norm."]
    yield table
    yield Table("automaton: time per prompt (one-hot)", TIMING, [timing(*cfg["timing"], cfg["prompts"])])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No options beyond the shared ones."""


def main(argv: list[str] | None = None) -> int:
    return run_module(__doc__, add_arguments, tables, argv)


if __name__ == "__main__":
    raise SystemExit(main())
