"""Run every benchmark in one process and print (and optionally write) all their tables.

    python benchmarks/run.py --quick                      # every benchmark at small sizes
    nice python benchmarks/run.py --json results.json     # the full sizes (an hour or more)
    python benchmarks/run.py --only svm scaling --time-cap 120

The run records the machine beside the tables: CPU count, load averages at start and end, the
versions of the libraries compared, the commit measured. NumPy's BLAS threads are set to one
before NumPy is imported (unless already set), and PyTorch uses one thread, so both sides of
every comparison run single-threaded.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import importlib  # noqa: E402
import importlib.metadata  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _report import Table, add_common_arguments, lift_dense_guard, settle, write_json  # noqa: E402
from _timing import limit_memory  # noqa: E402

MODULES = ("svm", "finite", "path", "train", "graphs", "scaling", "automaton")
PACKAGES = ("numpy", "scipy", "networkx", "cvxpy", "clarabel", "scs", "torch")


def machine() -> dict[str, object]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    try:
        commit = subprocess.run(["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=False).stdout.strip()
    except OSError:
        commit = ""
    return {"cpus": os.cpu_count(), "load_start": os.getloadavg(), "versions": versions, "commit": commit,
            "threads": os.environ.get("OPENBLAS_NUM_THREADS")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser)
    parser.add_argument("--only", nargs="*", choices=MODULES, default=list(MODULES), help="benchmarks to run")
    args = settle(parser.parse_args(argv))
    meta = machine()
    print(f"{meta['cpus']} CPUs, load average {meta['load_start']}, commit {meta['commit']}, "
          f"versions {meta['versions']}", flush=True)
    lift_dense_guard()
    print(limit_memory(args.mem_cap), file=sys.stderr)
    done: list[Table] = []
    start = time.perf_counter()
    for name in args.only:
        module = importlib.import_module(f"bench_{name}")
        sub = argparse.ArgumentParser()
        add_common_arguments(sub)
        module.add_arguments(sub)
        forwarded = ["--reps", str(args.reps), "--mem-cap", str(args.mem_cap)]
        forwarded += ["--quick"] if args.quick else []
        forwarded += ["--time-cap", str(args.time_cap)]
        module_args = settle(sub.parse_args(forwarded))
        t0 = time.perf_counter()
        try:
            for table in module.tables(module_args):
                print(table.render(), end="\n\n", flush=True)
                done.append(table)
        except Exception:  # one broken benchmark must not cost the others' results
            print(f"[{name} failed:]\n{traceback.format_exc()}", flush=True)
        print(f"[{name}: {time.perf_counter() - t0:.1f} s]\n", flush=True)
        if args.json:  # written after every benchmark, so a long run keeps what it measured
            write_json(done, args.json, {**meta, "quick": args.quick, "time_cap": args.time_cap,
                                         "mem_cap": args.mem_cap, "load_now": os.getloadavg()})
    print(f"all benchmarks: {time.perf_counter() - start:.1f} s wall; load average now {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
