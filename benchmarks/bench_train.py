"""Full-batch training step: symattn's compressed NumPy model against a padded PyTorch loop.

The PyTorch side is what a user writes by hand: sequences padded to ``[n, T, d]`` float64
tensors, scores ``X W e_k``, a masked log-softmax over positions, ``log pi_y`` as a logsumexp over
the label's positions, ``loss.backward()`` by autograd, and a plain gradient step, on the CPU.
The NumPy side is :class:`symattn.Model` (one entry per (sample, distinct token), token
coordinates) with :class:`symattn.GradientDescent`. Both use the same instance: orthonormal
embeddings with K = d, uniform tokens, the query drawn from L = 5 tokens, the label drawn
from the sequence, fixed seeds.

Timing: median seconds per full-batch gradient step over several repetitions. Memory: each side
runs in its own subprocess, which reports the growth of its peak resident set size (``ru_maxrss``)
from just before the data are built to the end of the steps: data, model and step workspace,
without the interpreter and the imported libraries. The NumPy side also reports the
``tracemalloc`` peak of one step. Accuracy: both sides' loss and gradient are compared on the
instance (max absolute difference). The last column shows that the NumPy cost follows nnz, the
number of (sample, distinct token) pairs (plus a fixed O(K d (K + d)) for the two products with E
in token coordinates), not n·T·d. Both sides use the same number of threads (``--threads``).

    python benchmarks/bench_train.py [--quick] [--reps 5] [--threads 1]

torch is in the ``bench`` extra (``pip install 'symattn[bench]'``); without it only the NumPy side runs.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _timing import median_time  # noqa: E402

from symattn import Dataset, Embeddings, GradientDescent, Model  # noqa: E402

L_QUERIES = 5
FULL_GRID = [(n, T, K) for n in (6, 1000, 10_000) for T in (4, 64) for K in (6, 50, 200)]
QUICK_GRID = [(6, 4, 6), (1000, 4, 50), (1000, 64, 50), (1000, 64, 200), (10_000, 64, 200)]


def instance(n: int, T: int, K: int, seed: int = 0) -> Dataset:
    """Uniform tokens, the query among L tokens, the label drawn from the sequence, orthonormal E."""
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, K, size=(n, T))
    tokens[:, -1] = rng.integers(0, min(L_QUERIES, K), size=n)
    labels = tokens[np.arange(n), rng.integers(0, T, size=n)]
    emb = Embeddings.orthonormal(K, K, seed=seed + 1)
    return Dataset.from_arrays(tokens.ravel(), np.arange(n + 1) * T, labels, vocab=K, embeddings=emb)


def start_weights(K: int) -> np.ndarray:
    return 0.1 * np.random.default_rng(7).standard_normal((K, K))


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _current_rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def worker_numpy(n: int, T: int, K: int, reps: int) -> dict[str, float]:
    before = _current_rss_mb()
    ds = instance(n, T, K)
    model = Model(ds)
    lr = 0.5
    gd = GradientDescent(model, lr)
    state = gd.init(start_weights(K))
    state = gd.step(state)  # warm-up

    def step() -> None:
        nonlocal state
        state = gd.step(state)

    seconds, _ = median_time(step, reps)
    tracemalloc.start()
    gd.step(state)
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    value, grad = model.value_and_gradient(start_weights(K))
    return {
        "time": seconds, "rss_mb": _peak_rss_mb() - before, "traced_mb": traced / 2**20,
        "nnz": ds.counts.nnz, "loss": value, "grad": grad.tolist(),
    }


def worker_torch(n: int, T: int, K: int, reps: int) -> dict[str, float]:
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    before = _current_rss_mb()
    ds = instance(n, T, K)
    E = torch.tensor(ds.embeddings.matrix(), dtype=torch.float64)
    tokens = torch.tensor(ds.tokens.reshape(n, T))
    labels = torch.tensor(ds.labels)
    X = E[tokens]  # [n, T, d] padded (all lengths equal here, so the mask is all true)
    mask = torch.ones(n, T, dtype=torch.bool)
    is_label = tokens == labels[:, None]
    W = torch.tensor(start_weights(K), dtype=torch.float64, requires_grad=True)

    def loss_fn(W: torch.Tensor) -> torch.Tensor:
        q = X[:, -1, :]  # query embedding [n, d]
        scores = torch.einsum("ntd,nd->nt", X, q @ W.T)  # a_t = x_t^T W e_k
        scores = scores.masked_fill(~mask, float("-inf"))
        log_s = torch.log_softmax(scores, dim=1)
        log_pi_y = torch.logsumexp(log_s.masked_fill(~is_label, float("-inf")), dim=1)
        return -log_pi_y.mean()

    def step() -> None:
        W.grad = None
        loss = loss_fn(W)
        loss.backward()
        with torch.no_grad():
            W.sub_(0.5 * W.grad)

    step()
    seconds, _ = median_time(step, reps)
    W0 = torch.tensor(start_weights(K), dtype=torch.float64, requires_grad=True)
    value = loss_fn(W0)
    value.backward()
    return {
        "time": seconds, "rss_mb": _peak_rss_mb() - before,
        "loss": float(value), "grad": W0.grad.numpy().tolist(),
    }


def run_side(side: str, n: int, T: int, K: int, reps: int, threads: int) -> dict[str, float]:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    out = subprocess.run(
        [sys.executable, __file__, "--worker", side, str(n), str(T), str(K), str(reps)],
        capture_output=True, text=True, check=True, env=env,
    )
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a subset of the grid")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS / torch threads, the same on both sides (default 1: stable timings)")
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        side, n, T, K, reps = args.worker
        fn = worker_numpy if side == "numpy" else worker_torch
        sys.stdout.write(json.dumps(fn(int(n), int(T), int(K), int(reps))))
        return
    have_torch = importlib.util.find_spec("torch") is not None
    if not have_torch:
        print("torch is not installed (pip install 'symattn[bench]'): the PyTorch side is skipped")
    grid = QUICK_GRID if args.quick else FULL_GRID
    header = (f"{'n':>6} {'T':>3} {'K=d':>4} {'nnz':>8} | {'numpy s/step':>12} {'torch s/step':>12} "
              f"{'speed-up':>8} | {'numpy MB':>8} {'(traced)':>8} {'torch MB':>8} {'mem ratio':>9} | "
              f"{'|dloss|':>8} {'|dgrad|':>8} | {'numpy us/1k nnz':>15}")
    print(header)
    print("-" * len(header))
    for n, T, K in grid:
        npy = run_side("numpy", n, T, K, args.reps, args.threads)
        row = f"{n:>6} {T:>3} {K:>4} {npy['nnz']:>8} | {npy['time']:>12.2e} "
        if have_torch:
            tch = run_side("torch", n, T, K, args.reps, args.threads)
            dloss = abs(npy["loss"] - tch["loss"])
            dgrad = np.abs(np.array(npy["grad"]) - np.array(tch["grad"])).max()
            row += (f"{tch['time']:>12.2e} {tch['time'] / npy['time']:>7.1f}x | {npy['rss_mb']:>8.1f} "
                    f"{npy['traced_mb']:>8.1f} {tch['rss_mb']:>8.1f} "
                    f"{tch['rss_mb'] / max(npy['rss_mb'], npy['traced_mb'], 0.1):>8.1f}x | "
                    f"{dloss:>8.1e} {dgrad:>8.1e} | ")
        else:
            row += f"{'-':>12} {'-':>8} | {npy['rss_mb']:>8.1f} {npy['traced_mb']:>8.1f} {'-':>8} {'-':>9} | {'-':>8} {'-':>8} | "
        row += f"{1e6 * npy['time'] / npy['nnz'] * 1000:>15.1f}"
        print(row, flush=True)


if __name__ == "__main__":
    main()
