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

    python benchmarks/bench_automaton.py [--quick]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from symattn import Dataset, automaton, regularization_path, train
from symattn.embeddings import as_generator
from symattn.reproduce import random_cyclic_dataset

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


def timing(K: int, n: int, T: int, L: int, prompts: int) -> dict[str, float]:
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, K, size=(n, T))
    tokens[:, -1] = rng.integers(0, L, size=n)
    labels = tokens[np.arange(n), rng.integers(0, T, size=n)]
    ds = Dataset.from_arrays(tokens.ravel(), np.arange(n + 1) * T, labels, vocab=K)
    start = time.perf_counter()
    auto = automaton(ds)
    solve = time.perf_counter() - start
    seqs = rng.integers(0, K, size=(prompts, T))
    seqs[:, -1] = rng.integers(0, L, size=prompts)
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
    return {"solve_s": solve, "next_ms": 1e3 * per_next, "transition_ms": 1e3 * per_step,
            "determined": float(determined), "dropped_mean": float(dropped)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 trials, 100 prompts, K = 200")
    args = parser.parse_args()
    trials, prompts = (2, 100) if args.quick else (10, 1000)
    rows = agreement_rows(trials, prompts, 4000)
    print(f"published datasets: {trials} trials x {prompts} random prompts (T=4); 'resolved': "
          f"R * margin / ||W^svm|| >= {RESOLVED:g}")
    print(f"{'weights':<17} {'||W||':>7} {'agree':>6} {'determ.':>7} {'TV mean':>8} {'TV max':>8} "
          f"{'resolved':>8} {'agree':>6} {'TV max':>8} {'within max':>10}")
    for name, trial_rows in rows.items():
        def mean(key: str, trial_rows: list[dict[str, float]] = trial_rows) -> float:
            return float(np.nanmean([r[key] for r in trial_rows]))

        def top(key: str, trial_rows: list[dict[str, float]] = trial_rows) -> float:
            return float(np.nanmax([r[key] for r in trial_rows]))

        print(f"{name:<17} {mean('norm'):>7.1f} {mean('agree'):>6.3f} {mean('determined'):>7.3f} "
              f"{mean('tv_mean'):>8.1e} {top('tv_max'):>8.1e} {mean('resolved'):>8.3f} "
              f"{mean('resolved_agree'):>6.3f} {top('resolved_tv_max'):>8.1e} {top('within_max'):>10.1e}")
        if "tv_to_path" in trial_rows[0]:
            print(f"  max TV between NGD and the path at the same norm: {top('tv_to_path'):.2e}")
    K, n, T, L = (200, 1000, 16, 10) if args.quick else (1000, 5000, 16, 20)
    t = timing(K, n, T, L, prompts)
    print(f"\ntime per prompt, one-hot K={K}, n={n}, T={T}, {L} query tokens, {prompts} prompts of length {T}:")
    print(f"  W^svm and W^fin (once): {t['solve_s']:.2f} s; next: {t['next_ms']:.3f} ms; "
          f"transition: {t['transition_ms']:.3f} ms; determined {t['determined']:.3f}, "
          f"dropped tokens per prompt {t['dropped_mean']:.1f}")


if __name__ == "__main__":
    main()
