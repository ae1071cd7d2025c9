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
    """The ``analyze --json`` object for the token-priority graphs."""
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
    lines = ["", f"graph-SVM W^svm ({svm.method} solver): status {svm.status.value}"]
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


# -- entry point --------------------------------------------------------------------------
_COMMANDS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (_add_demo, _add_analyze, _add_prove)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``symattn`` command."""
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
    """Run the command line with ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
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
