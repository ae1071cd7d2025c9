"""The ``symattn`` command. Only this module writes to the terminal.

Exit codes: 0 success, 1 a computation failed (solver, certificate), 2 bad input.

>>> main(["analyze", "--example", "default", "--json"]) == 0  # doctest: +ELLIPSIS
{...}
True
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from symattn.data import Dataset
from symattn.errors import InvalidInput, SymAttnError
from symattn.examples import EXAMPLES, load_example
from symattn.finite import FiniteResult, finite_component
from symattn.formats import load_dataset
from symattn.graphs import PriorityGraphs, priority_graphs
from symattn.svm import SVMResult, SVMStatus, solve_graph_svm, svm_constraints

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2

_FARKAS_NOTE = "a relative tolerance of 1e-9 (floating-point embeddings)"


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _dataset_arg(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("data", nargs="?", help="dataset file (.json or text 'a b c -> b')")
    source.add_argument("--example", choices=sorted(EXAMPLES), help="an embedded example instead")
    parser.add_argument(
        "--drop-unrealizable", action="store_true",
        help="drop samples whose label is not in their sequence (and say how many)",
    )


def _load(args: argparse.Namespace) -> Dataset:
    if args.example:
        return load_example(args.example)
    return load_dataset(args.data, drop_unrealizable=args.drop_unrealizable)


# -- analyze ------------------------------------------------------------------------------
def graphs_payload(graphs: PriorityGraphs) -> dict[str, Any]:
    """The ``analyze --json`` object for the token-priority graphs.

    >>> from symattn.data import Dataset
    >>> graphs_payload(priority_graphs(Dataset.from_samples([([0, 1], 0)], vocab=2)))["queries"]
    {'1': {'sccs': [['0'], ['1']], 'dag': [[0, 1]]}}
    """
    names = graphs.dataset.vocab.names
    queries = {
        names[k]: {
            "sccs": [sorted(names[t] for t in scc) for scc in g.sccs],
            "dag": [list(edge) for edge in g.dag],
        }
        for k, g in graphs.items()
    }
    samples = [
        {"query": names[int(k)], "label": names[int(y)], "label_scc": int(c)}
        for k, y, c in zip(
            graphs.dataset.queries, graphs.dataset.labels, graphs.label_scc, strict=True
        )
    ]
    return {"vocab": list(names), "queries": queries, "samples": samples}


def _render_graphs(dataset: Dataset, graphs: PriorityGraphs) -> list[str]:
    names = dataset.vocab.names
    lines = [
        f"dataset: n={len(dataset)} samples, K={dataset.K} tokens, "
        f"embeddings={dataset.embeddings.kind.value}, {len(graphs)} query token(s), "
        f"{graphs.n_edges} edge(s)"
        + (f", {dataset.n_dropped} unrealizable sample(s) dropped" if dataset.n_dropped else "")
    ]
    for k, g in graphs.items():
        kind = "cyclic" if g.cyclic else "acyclic"
        lines.append("")
        lines.append(f"query {names[k]}: {len(g.nodes)} tokens, {len(g.edges)} edges, {kind}")
        lines.append("  SCCs, highest priority first:")
        for c, scc in enumerate(g.sccs):
            lines.append(f"    [{c}] {{{', '.join(names[t] for t in scc)}}}")
        dag = ", ".join(f"{a}->{b}" for a, b in g.dag) or "(none)"
        lines.append(f"  condensation edges: {dag}")
    lines.append("")
    lines.append("label SCC of each sample:")
    width = len(str(len(dataset) - 1))
    for i in range(len(dataset)):
        k = int(dataset.queries[i])
        seq = " ".join(names[t] for t in dataset.tokens[dataset.offsets[i] : dataset.offsets[i + 1]])
        scc = graphs.sample_scc(i)
        lines.append(
            f"  {i:>{width}}: {seq} -> {names[int(dataset.labels[i])]}"
            f"   SCC [{int(graphs.label_scc[i])}] of {names[k]} = {{{', '.join(names[t] for t in scc)}}}"
        )
    return lines


def _matrix(W: Any, result: SVMResult | None = None) -> list[list[Any]]:
    """Rows of ``W``: exact strings like ``"-2/3"`` when ``result`` is certified, floats otherwise."""
    if result is not None and result.certified and result.certificate is not None:
        return [[str(v) for v in row] for row in result.certificate.matrix()]
    return [[float(v) for v in row] for row in W]


def analysis_payload(svm: SVMResult, fin: FiniteResult) -> dict[str, Any]:
    """The ``svm`` and ``finite`` parts of the ``analyze --json`` object.

    Matrices are lists of rows, in token coordinates for one-hot embeddings
    (``W[j][k]`` = :math:`e_j^\\top W e_k`) and embedding coordinates otherwise.

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1], 0)], vocab=2)
    >>> part = analysis_payload(solve_graph_svm(ds), finite_component(ds))
    >>> part["svm"]["W"], part["finite"]["dim"]
    ([['0', '1/2'], ['0', '-1/2']], 0)
    """
    feasible = svm.status is not SVMStatus.INFEASIBLE
    svm_part: dict[str, Any] = {
        "status": svm.status.value,
        "certified": svm.certified,
        "W": _matrix(svm.W, svm) if feasible else None,
        "norm": svm.norm if feasible else None,
    }
    if svm.certified and svm.certificate is not None:
        svm_part["norm_squared"] = str(svm.certificate.norm_squared)
    if svm.residuals is not None:
        svm_part["max_kkt_residual"] = svm.residuals.max
    if svm.farkas is not None:
        svm_part["farkas"] = {"verified": svm.farkas.verified, "exact": svm.farkas.exact}
    fin_part = {
        "dim": fin.dim,
        "W": _matrix(fin.W),
        "certified": fin.certified,
        "grad_norm": fin.grad_norm,
        "status": fin.status.value,
        "hessian_min_eig": fin.hessian_min_eig if np.isfinite(fin.hessian_min_eig) else None,
        "error_bound": fin.error_bound,
    }
    return {"svm": svm_part, "finite": fin_part}


def _columns(dataset: Dataset, graphs: PriorityGraphs, W: np.ndarray, result: SVMResult | None) -> list[str]:
    names = dataset.vocab.names
    if not dataset.embeddings.is_onehot:
        return ["    " + "  ".join(f"{v:>10.6g}" for v in row) for row in W]
    certified = result is not None and result.certified and result.certificate is not None
    exact = result.certificate.matrix() if certified and result and result.certificate else None
    lines = []
    for k, g in graphs.items():
        cells = [
            f"{names[t]}={exact[t][k] if exact is not None else f'{W[t, k]:.6g}'}" for t in g.nodes.tolist()
        ]
        lines.append(f"    query {names[k]}: " + ", ".join(cells))
    return lines


def _render_analysis(
    dataset: Dataset, graphs: PriorityGraphs, svm: SVMResult, fin: FiniteResult
) -> list[str]:
    lines = ["", f"graph-SVM W^svm ({svm.method.value} solver): status {svm.status.value}"]
    if svm.status is SVMStatus.INFEASIBLE:
        farkas = svm.farkas
        lines.append(
            "  infeasible: Farkas multipliers "
            + ("verified exactly" if farkas and farkas.exact else f"verified to {_FARKAS_NOTE}")
        )
    else:
        certificate = svm.certificate
        cert = "not certified (floating-point embeddings)"
        if certificate is not None:
            checks = certificate.checks
            cert = (
                f"certified exactly: ||W||^2 = {certificate.norm_squared}"
                if checks.holds else f"certificate FAILED: {checks}"
            )
        residual = svm.residuals.max if svm.residuals is not None else float("nan")
        lines.append(f"  ||W^svm|| = {svm.norm:.6g}, max KKT residual {residual:.1e}, {cert}")
        lines.append("  W^svm e_k on the tokens of each G_k:" if dataset.embeddings.is_onehot else "  W^svm:")
        lines.extend(_columns(dataset, graphs, svm.W, svm))
    lines.append("")
    lines.append(
        f"finite component W^fin: status {fin.status.value}, dim S_fin = {fin.dim}, "
        f"gradient norm {fin.grad_norm:.1e}, smallest Hessian eigenvalue {fin.hessian_min_eig:.3g}, "
        f"error bound {fin.error_bound:.1e}, " + ("certified" if fin.certified else "NOT certified")
    )
    if fin.dim:
        lines.append("  W^fin e_k on the tokens of each G_k:" if dataset.embeddings.is_onehot else "  W^fin:")
        lines.extend(_columns(dataset, graphs, fin.W, None))
    return lines


def _analyse(dataset: Dataset) -> tuple[PriorityGraphs, SVMResult, FiniteResult, int]:
    graphs = priority_graphs(dataset)
    svm = solve_graph_svm(dataset, constraints=svm_constraints(graphs))
    fin = finite_component(graphs)
    ok = fin.certified and (
        (svm.status is SVMStatus.INFEASIBLE and svm.farkas is not None and svm.farkas.verified)
        or (svm.success and (svm.certified or not dataset.embeddings.is_exact))
    )
    return graphs, svm, fin, EXIT_OK if ok else EXIT_FAILED


def _cmd_analyze(args: argparse.Namespace) -> int:
    dataset = _load(args)
    graphs, svm, fin, code = _analyse(dataset)
    if args.json:
        _out(json.dumps({**graphs_payload(graphs), **analysis_payload(svm, fin)}, indent=1))
    else:
        _out("\n".join(_render_graphs(dataset, graphs) + _render_analysis(dataset, graphs, svm, fin)))
    return code


def _add_analyze(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("analyze", help="token-priority graphs, SCCs, W^svm and W^fin of a dataset")
    _dataset_arg(parser)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(run=_cmd_analyze)


# -- demo ---------------------------------------------------------------------------------
def _cmd_demo(args: argparse.Namespace) -> int:
    dataset = load_example(args.example)
    graphs, svm, fin, code = _analyse(dataset)
    _out(f"symattn demo: the embedded example {args.example!r}")
    _out("")
    _out("\n".join(_render_graphs(dataset, graphs) + _render_analysis(dataset, graphs, svm, fin)))
    _out("")
    _out("\n".join(_render_demo_training(dataset)))
    return code


def _add_demo(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("demo", help="run the main analysis on the embedded example")
    parser.add_argument("--example", choices=sorted(EXAMPLES), default="default")
    parser.set_defaults(run=_cmd_demo)


# -- prove --------------------------------------------------------------------------------
def _proofs_root() -> Path:
    """The checkout directory holding the package (``proofs/`` lives beside ``symattn/``)."""
    return Path(__file__).resolve().parent.parent


def load_proofs(root: Path | None = None) -> ModuleType:
    """Import the ``proofs`` package of the checkout at ``root`` (default: beside this package).

    Raises :class:`SymAttnError` with the fix when the directory is absent (an install
    from a wheel has no ``proofs/``) or another ``proofs`` module is already imported.

    >>> load_proofs().NAMES[:2]
    ('gradient', 'compression')
    """
    init = (_proofs_root() if root is None else Path(root)) / "proofs" / "__init__.py"
    if not init.is_file():
        raise SymAttnError(
            f"the proofs/ directory was not found beside the symattn package (looked for {init}); "
            "`symattn prove` runs from a source checkout: clone the repository and install it "
            "with `pip install -e .`"
        )
    loaded = sys.modules.get("proofs")
    where = getattr(loaded, "__file__", None)
    if loaded is not None and where:
        if Path(where).resolve() == init.resolve():
            return loaded
        raise SymAttnError(
            f"a different module named 'proofs' is already imported from {where}; "
            f"run `symattn prove` in a fresh process to use {init.parent}"
        )
    spec = importlib.util.spec_from_file_location(
        "proofs", init, submodule_search_locations=[str(init.parent)]
    )
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["proofs"] = module
    try:
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    except BaseException:
        del sys.modules["proofs"]
        raise
    return module


def _cmd_prove(args: argparse.Namespace) -> int:
    proofs = load_proofs()
    results = proofs.run(args.only or None)
    width = max(len(r.name) for r in results)
    for r in results:
        _out(f"{r.name:<{width}}  {r.status.value:<6}  {r.seconds:6.2f} s  {r.message}")
    failed = [r.name for r in results if not r.success]
    total = sum(r.seconds for r in results)
    passed = len(results) - len(failed)
    _out(f"{len(results)} proof(s): {passed} passed, {len(failed)} failed in {total:.2f} s")
    if failed:
        return EXIT_FAILED
    if args.write_docs:
        for path in proofs.write_docs():
            _out(f"wrote {path}")
    return EXIT_OK


def _add_prove(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("prove", help="run the executable proofs in proofs/ (from a source checkout)")
    parser.add_argument(
        "--only", action="append", metavar="NAME", help="run only this proof (repeatable)"
    )
    parser.add_argument(
        "--write-docs", action="store_true",
        help="after all proofs pass, regenerate docs/proofs/*.md and the index",
    )
    parser.set_defaults(run=_cmd_prove)


# -- train / reproduce ---------------------------------------------------------------------
def _progress(total: int, desc: str, enabled: bool) -> tuple[Any, Callable[[int, int], None] | None]:
    """A tqdm bar on stderr and the callback that advances it (the library only calls back)."""
    if not enabled:
        return None, None
    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, file=sys.stderr, leave=False, mininterval=0.2)

    def callback(done: int, _total: int) -> None:
        bar.update(done - bar.n)

    return bar, callback


def _prediction_or_none(dataset: Dataset) -> Any:
    from symattn.predict import predict

    try:
        return predict(dataset)
    except SymAttnError as exc:
        sys.stderr.write(f"symattn: note: no prediction to compare with ({type(exc).__name__}: {exc})\n")
        return None


def _json_number(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _render_final(traj: Any) -> list[str]:
    final = traj.final()
    lines = [f"status: {traj.status.value}"]
    if traj.message:
        lines.append(f"reason: {traj.message}")
    if not final:
        return [*lines, "nothing was recorded"]
    lines += [f"loss = {final['loss']:.6g}", f"||W|| = {final['norm']:.6g}"]
    for key in ("corr_svm", "finite_error", "outside_mass_max", "within_error"):
        if key in final:
            lines.append(f"{key} = {final[key]:.6g}")
    return lines


def _cmd_train(args: argparse.Namespace) -> int:
    from symattn.train import TrainConfig, train

    dataset = _load(args)
    options: dict[str, Any] = {
        "method": args.method, "steps": args.steps, "lr": args.lr, "loss": args.loss, "init": args.init,
        "scale": args.scale, "seed": args.seed, "records": args.records, "time_budget": args.time_budget,
    }
    if args.radii:
        options["radii"] = tuple(args.radii)
    config = TrainConfig(**options)
    prediction = _prediction_or_none(dataset) if config.loss.convex else None
    total = len(config.radii) if config.method.value == "regpath" else config.steps
    bar, callback = _progress(total, f"train {config.method.value}", not args.no_progress)
    try:
        traj = train(dataset, config, prediction=prediction, callback=callback, checkpoint=args.checkpoint)
    finally:
        if bar is not None:
            bar.close()
    if args.out:
        npz, summary = traj.save(args.out)
        written = [str(npz), str(summary)]
        if not args.no_plot:
            title = f"{config.method.value} on {args.data or args.example}"
            written.extend(_plots(args.out, [traj], title=title))
        sys.stderr.write("symattn: wrote " + ", ".join(written) + "\n")
    if args.json:
        final = traj.final()
        metrics = {key: _json_number(final[key]) for key in final}
        _out(json.dumps(
            {"status": traj.status.value, "message": traj.message, "W": traj.W.tolist(), "metrics": metrics},
            indent=1,
        ))
    else:
        _out("\n".join(_render_final(traj)))
    return EXIT_OK if traj.success else EXIT_FAILED


def _plots(out: str, runs: list[Any], *, title: str, stem: str = "trajectory", **kw: Any) -> list[str]:
    from symattn.plots import plot_trajectories

    try:
        return [str(plot_trajectories(runs, Path(out) / f"{stem}.png", title=title, **kw))]
    except ModuleNotFoundError as exc:
        sys.stderr.write(f"symattn: note: no figures ({exc})\n")
        return []


def _add_train(sub: argparse._SubParsersAction) -> None:
    from symattn.model import Loss
    from symattn.train import Init, TrainMethod

    parser = sub.add_parser("train", help="train W by gd, normalised gd or the regularisation path")
    _dataset_arg(parser)
    parser.add_argument("--method", choices=[m.value for m in TrainMethod], default="gd")
    parser.add_argument("--steps", type=int, default=1000, help="number of steps (gd, ngd)")
    parser.add_argument("--lr", type=float, default=None,
                        help="step size (default: 1/smoothness for gd, 0.01 for ngd)")
    parser.add_argument("--radii", type=float, nargs="+", help="radii of the regularisation path")
    parser.add_argument("--loss", choices=[m.value for m in Loss], default="log")
    parser.add_argument("--init", choices=[m.value for m in Init], default="zero")
    parser.add_argument("--scale", type=float, default=1.0, help="std of the Gaussian initialisation")
    parser.add_argument("--seed", type=int, default=0, help="seed of the Gaussian initialisation")
    parser.add_argument("--records", type=int, default=60, help="about how many log-spaced records")
    parser.add_argument("--time-budget", type=float, default=None, help="stop after this many seconds")
    parser.add_argument("--checkpoint", help="checkpoint .npz: resumed from when present, updated at the end")
    parser.add_argument("--out", help="directory for trajectory.npz, trajectory.json and trajectory.png")
    parser.add_argument("--no-plot", action="store_true", help="do not draw figures")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true", help="print the final W and metrics as JSON")
    parser.set_defaults(run=_cmd_train)


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from symattn.reproduce import PUBLISHED, reproduce

    bar, callback = _progress(args.trials, "trials", not args.no_progress)
    try:
        rep = reproduce(args.trials, steps=args.steps, lr=args.lr, radii=tuple(args.radii), seed=args.seed,
                        callback=callback)
    finally:
        if bar is not None:
            bar.close()
    rows = rep.table()
    if args.json:
        clean = [{key: _json_number(value) for key, value in row.items()} for row in rows]
        _out(json.dumps({"published": PUBLISHED, "success": rep.success, "trials": clean}, indent=1))
    else:
        _out("\n".join(_render_reproduction(rep, rows)))
    if args.out:
        lo = PUBLISHED["corr_svm"][0]
        written = _plots(args.out, [t.ngd for t in rep.trials], stem="reproduce_ngd",
                         title=f"normalised GD, lr {rep.lr}, {rep.steps} steps ({len(rows)} trials)",
                         reference={"corr_svm": lo, "finite_error": PUBLISHED["finite_error"]})
        written += _plots(args.out, [t.path for t in rep.trials], stem="reproduce_path",
                          title=f"regularisation path ({len(rows)} trials)")
        if written:
            sys.stderr.write("symattn: wrote " + ", ".join(written) + "\n")
    if not rep.success:
        failed = [i for i, t in enumerate(rep.trials) if not (t.ngd.success and t.path.success)]
        sys.stderr.write(f"symattn: failed: trial(s) {failed} did not complete (see their status)\n")
        return EXIT_FAILED
    return EXIT_OK


def _render_reproduction(rep: Any, rows: list[dict[str, float]]) -> list[str]:
    from symattn.reproduce import PUBLISHED

    lo, hi = PUBLISHED["corr_svm"]
    lines = [
        f"published experiment: n=6, T=4, K=6, d=8, random unit embeddings, normalised GD lr={rep.lr}, "
        f"{rep.steps} steps, {len(rows)} trials",
        f"published: corr(W, W^svm) {lo}-{hi}, ||P_fin W - W^fin|| ~ {PUBLISHED['finite_error']}",
        "",
        f"{'trial':>5}  {'ngd corr':>10}  {'ngd fin err':>11}  {'path R':>7}  {'path corr':>10}  "
        f"{'path fin err':>12}",
    ]
    for i, r in enumerate(rows):
        lines.append(
            f"{i:>5}  {r['ngd_corr_svm']:>10.5f}  {r['ngd_finite_error']:>11.2e}  {r['path_radius']:>7.0f}  "
            f"{r['path_corr_svm']:>10.6f}  {r['path_finite_error']:>12.2e}"
        )
    ngd_c = [r["ngd_corr_svm"] for r in rows]
    ngd_f = [r["ngd_finite_error"] for r in rows]
    path_c = [r["path_corr_svm"] for r in rows]
    path_f = [r["path_finite_error"] for r in rows]
    lines += [
        "",
        f"normalised GD: corr {min(ngd_c):.4f}-{max(ngd_c):.4f}, finite error "
        f"{min(ngd_f):.1e}-{max(ngd_f):.1e}",
        f"regularisation path: corr {min(path_c):.6f}-{max(path_c):.6f}, finite error "
        f"{min(path_f):.1e}-{max(path_f):.1e}",
    ]
    return lines


def _add_reproduce(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("reproduce", help="the published experiment, then the regularisation path")
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--radii", type=float, nargs="+", default=[10.0, 40.0, 100.0, 300.0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="directory for the figures")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(run=_cmd_reproduce)


def _render_demo_training(dataset: Dataset) -> list[str]:
    from symattn.train import regularization_path, train

    prediction = _prediction_or_none(dataset)
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
            text += (
                f", corr(W, W^svm) = {final['corr_svm']:.6f}, ||P_fin W - W^fin|| = "
                f"{final['finite_error']:.2e}, max mass outside the label SCC = "
                f"{final['outside_mass_max']:.1e}"
            )
        lines.append(text)
    return lines


# -- entry point --------------------------------------------------------------------------
_COMMANDS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    _add_demo, _add_analyze, _add_train, _add_reproduce, _add_prove,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``symattn`` command.

    >>> build_parser().parse_args(["train", "--example", "default", "--steps", "5"]).steps
    5
    """
    parser = argparse.ArgumentParser(
        prog="symattn",
        description="Token-priority graphs, the graph-SVM and the finite component of "
        "single-layer self-attention, computed and certified.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in _COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``) and return the exit code.

    0 success, 1 a computation failed or a run did not complete, 2 bad input (including an
    output path that cannot be written).

    >>> main(["train", "--example", "default", "--steps", "-1", "--no-progress"])
    2
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) and EXIT_BAD_INPUT
    if args.verbose:
        logging.basicConfig(
            level=logging.DEBUG if args.verbose > 1 else logging.INFO,
            format="symattn: %(message)s", stream=sys.stderr,
        )
    try:
        return int(args.run(args))
    except InvalidInput as exc:
        sys.stderr.write(f"symattn: error: {exc}\n")
        return EXIT_BAD_INPUT
    except SymAttnError as exc:
        sys.stderr.write(f"symattn: failed: {type(exc).__name__}: {exc}\n")
        return EXIT_FAILED
    except OSError as exc:
        where = exc.filename if exc.filename is not None else "a file"
        sys.stderr.write(f"symattn: error: cannot use {where}: {exc.strerror or exc}\n")
        return EXIT_BAD_INPUT
