"""Full-batch training step: symattn against two PyTorch loops, and against the bandwidth bound.

Three sides on the same instance (``_instances.training``: orthonormal embeddings with K = d,
uniform tokens, the query among L = 5 tokens, the label drawn from the sequence, fixed seeds),
in one process, float64, CPU:

* symattn: :class:`symattn.Model` (one entry per (sample, distinct token), token coordinates)
  with :class:`symattn.GradientDescent`, one ``step``;
* padded PyTorch: what a user writes by hand - the sequences as a ``[n, T, d]`` tensor ``X``,
  scores ``X W e_k``, masked log-softmax, ``log pi_y`` as a logsumexp over the label's positions,
  ``loss.backward()``, a plain gradient step;
* gather PyTorch: the same loss from ``U = E W E^T`` gathered at ``[n, T]`` token ids, without
  the ``[n, T, d]`` tensor (the stronger baseline).

Per side: the median seconds per step (``--reps``, at least 5), the resident memory its data
hold and the peak its step adds (``_timing``), both per (sample, distinct token) pair ("B/pair"),
and the fraction of the bandwidth bound: one fused pass reads about 16 B per pair, so the bound is
``16 * nnz / BW`` with BW this machine's single-thread copy bandwidth, measured in the same run
(``_timing.copy_bandwidth``); "B/pair at BW" is the step's time in the same unit (bytes per pair
at BW), so the number of passes the step effectively makes is about that over 16. Loss and gradient of both PyTorch sides are compared with
symattn's at the same W. The padded side is skipped (with the reason) when its ``[n, T, d]``
tensors would exceed the memory cap.

Threads: PyTorch uses ``--threads`` (default 1); NumPy's BLAS follows OPENBLAS_NUM_THREADS /
OMP_NUM_THREADS (``benchmarks/run.py`` sets them to 1 before NumPy is imported).

    python benchmarks/bench_train.py [--quick] [--reps 5]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _instances import training
from _report import Column, Table, run_module
from _timing import copy_bandwidth, measure, release_free_memory, rss_mb

from symattn import Dataset, GradientDescent, Model

try:
    import torch
except ImportError:  # the optional "bench" extra
    torch = None

FULL = [(1000, 16, 50), (10_000, 16, 200), (10_000, 64, 200), (10_000, 64, 1000), (100_000, 64, 200)]
QUICK = [(1000, 16, 50)]
BYTES_PER_PAIR = 16.0
LR = 0.5


def smallest_instances() -> list[Dataset]:
    """The instances of the smallest configuration (``--quick``)."""
    return [training(n, T, K) for n, T, K in QUICK]


def start_weights(K: int) -> np.ndarray:
    return 0.1 * np.random.default_rng(7).standard_normal((K, K))


# Each side: build(ds) -> (step() -> None, loss_and_grad(W0) -> (float, ndarray))
Side = Callable[[Dataset], tuple[Callable[[], None], Callable[[np.ndarray], tuple[float, np.ndarray]]]]


def symattn_side(ds: Dataset) -> tuple[Callable[[], None], Callable]:
    model = Model(ds)
    gd = GradientDescent(model, LR)
    state = [gd.init(start_weights(ds.K))]

    def step() -> None:
        state[0] = gd.step(state[0])

    return step, model.value_and_gradient


def _torch_step(loss_fn: Callable, K: int) -> tuple[Callable[[], None], Callable]:
    W = torch.tensor(start_weights(K), dtype=torch.float64, requires_grad=True)

    def step() -> None:
        W.grad = None
        loss_fn(W).backward()
        with torch.no_grad():
            W.sub_(LR * W.grad)

    def loss_and_grad(W0: np.ndarray) -> tuple[float, np.ndarray]:
        Wt = torch.tensor(W0, dtype=torch.float64, requires_grad=True)
        value = loss_fn(Wt)
        value.backward()
        return float(value.detach()), Wt.grad.numpy()

    return step, loss_and_grad


def padded_side(ds: Dataset) -> tuple[Callable[[], None], Callable]:
    n, T = ds.n, int(ds.lengths.max())
    E = torch.tensor(ds.embeddings.matrix(), dtype=torch.float64)
    tokens = torch.tensor(ds.tokens.reshape(n, T))
    X = E[tokens]  # [n, T, d]: every length is T here, so no mask is needed
    is_label = tokens == torch.tensor(ds.labels)[:, None]

    def loss_fn(W: torch.Tensor) -> torch.Tensor:
        scores = torch.einsum("ntd,nd->nt", X, X[:, -1, :] @ W.T)  # a_t = x_t^T W e_k
        log_s = torch.log_softmax(scores, dim=1)
        return -torch.logsumexp(log_s.masked_fill(~is_label, float("-inf")), dim=1).mean()

    return _torch_step(loss_fn, ds.K)


def gather_side(ds: Dataset) -> tuple[Callable[[], None], Callable]:
    n, T = ds.n, int(ds.lengths.max())
    E = torch.tensor(ds.embeddings.matrix(), dtype=torch.float64)
    tokens = torch.tensor(ds.tokens.reshape(n, T))
    query = tokens[:, -1:]
    is_label = tokens == torch.tensor(ds.labels)[:, None]

    def loss_fn(W: torch.Tensor) -> torch.Tensor:
        U = E @ W @ E.T  # U[j, k] = e_j^T W e_k
        log_s = torch.log_softmax(U[tokens, query], dim=1)
        return -torch.logsumexp(log_s.masked_fill(~is_label, float("-inf")), dim=1).mean()

    return _torch_step(loss_fn, ds.K)


def run_side(name: str, side: Side, ds: Dataset, reps: int, cap: float | None, bound_s: float,
             reference: tuple[float, np.ndarray] | None) -> tuple[dict[str, object], tuple | None]:
    nnz = ds.counts.nnz
    release_free_memory()
    before = rss_mb()
    built = measure(lambda: side(ds), 1, cap)
    if not built.ok:
        return {"side": name, "status": f"{built.status}: {built.message}"[:60]}, None
    data_mb = rss_mb() - before
    step, loss_and_grad = built.result
    step()  # warm-up
    m = measure(step, reps, cap)
    if not m.ok:
        return {"side": name, "status": f"{m.status}: {m.message}"[:60]}, None
    value, grad = loss_and_grad(start_weights(ds.K))
    row: dict[str, object] = {
        "side": name, "seconds": m.seconds, "data_mb": data_mb, "step_mb": m.peak_mb,
        "data_bpp": data_mb * 2**20 / nnz, "step_bpp": m.peak_mb * 2**20 / nnz,
        "bound_frac": bound_s / m.seconds, "moved_bpp": BYTES_PER_PAIR * m.seconds / bound_s, "status": "ok",
    }
    if reference is not None:
        row.update(dloss=abs(value - reference[0]), dgrad=float(np.abs(grad - reference[1]).max()))
    return row, (value, grad)


def run_point(n: int, T: int, K: int, args: argparse.Namespace, bandwidth: float) -> list[dict[str, object]]:
    ds = training(n, T, K)
    nnz = ds.counts.nnz
    bound_s = BYTES_PER_PAIR * nnz / (bandwidth * 1e9)
    base = {"n": n, "T": T, "K": K, "nnz": nnz, "bound_ms": 1e3 * bound_s}
    reps = max(args.reps, 5)  # steps are short and the machine may be shared: at least five
    ours, reference = run_side("symattn step", symattn_side, ds, reps, args.time_cap, bound_s, None)
    rows = [{**base, **ours}]
    if torch is not None:
        padded_gib = 3 * n * T * K * 8 / 2**30  # X, its product with W's rows, and autograd's copy
        if args.mem_cap and padded_gib > args.mem_cap:
            rows.append({**base, "side": "padded torch",
                         "status": f"skipped: [n, T, d] tensors ~{padded_gib:.0f} GiB > cap {args.mem_cap:g} GiB"})
        else:
            rows.append({**base, **run_side("padded torch", padded_side, ds, reps, args.time_cap, bound_s,
                                             reference)[0]})
        rows.append({**base, **run_side("gather torch", gather_side, ds, reps, args.time_cap, bound_s,
                                         reference)[0]})
        speed = {r["side"]: r.get("seconds") for r in rows}
        for r in rows[1:]:
            if r.get("seconds") and speed["symattn step"]:
                r["speedup"] = r["seconds"] / speed["symattn step"]
    print(f"  n={n} T={T} K={K}: done", file=sys.stderr, flush=True)
    return rows


COLUMNS = [Column("n", "n", "d"), Column("T", "T", "d"), Column("K", "K=d", "d"), Column("nnz", "pairs", "d"),
           Column("side", "side", "str"), Column("seconds", "s/step", ".3g"),
           Column("speedup", "its s / symattn s", ".1f"), Column("data_mb", "data MB", ".1f"),
           Column("step_mb", "step MB", ".1f"), Column("data_bpp", "data B/pair", ".0f"),
           Column("step_bpp", "step B/pair", ".0f"), Column("bound_ms", "bound ms", ".3g"),
           Column("bound_frac", "of bound", ".1%"), Column("moved_bpp", "B/pair at BW", ".0f"), Column("dloss", "|dloss|", ".0e"),
           Column("dgrad", "|dgrad|", ".0e"), Column("status", "status", "str")]


def tables(args: argparse.Namespace) -> Iterator[Table]:
    if torch is None:
        print("torch is not installed (pip install 'symattn[bench]'): only symattn's side runs", file=sys.stderr)
    else:
        torch.set_num_threads(args.threads)
    bandwidth = copy_bandwidth()
    table = Table("training step: symattn against padded and gather PyTorch loops", COLUMNS)
    for n, T, K in QUICK if args.quick else FULL:
        table.rows.extend(run_point(n, T, K, args, bandwidth))
    table.notes = [
        f"bandwidth bound: {BYTES_PER_PAIR:g} B per (sample, distinct token) pair at the measured single-thread "
        f"copy bandwidth {bandwidth:.1f} GB/s (read + write of a 256 MB numpy copy); 'of bound' = bound / s.",
        "data MB: resident memory the side's data hold; step MB: the peak one step adds; B/pair = bytes / pairs.",
        f"B/pair at BW: the bytes per pair the step's time would move at that bandwidth (s/step x BW / pairs; "
        f"the fused pass needs {BYTES_PER_PAIR:g}); 'of bound' is their ratio.",
        "goal (issue 14): symattn's step >= 10x the gather loop and >= 30% of the bound.",
    ]
    yield table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", type=int, default=1, help="PyTorch threads (default 1)")


def main(argv: list[str] | None = None) -> int:
    return run_module(__doc__, add_arguments, tables, argv)


if __name__ == "__main__":
    raise SystemExit(main())
