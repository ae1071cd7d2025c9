"""Text and JSON renderings of symattn results, shared by every command.

Only the command line writes to the terminal, and it does so through :func:`out` (standard
output) and :func:`err` (standard error), which never let control characters, ANSI escape
sequences or bidirectional overrides through raw (:func:`printable`).
"""

from __future__ import annotations

import itertools
import math
import re
import sys
from fractions import Fraction
from typing import Any

import numpy as np

from symattn._validate import max_dense
from symattn.data import Dataset
from symattn.finite import FiniteResult
from symattn.graphs import PriorityGraphs
from symattn.predict import HEADLINE_METRICS
from symattn.scores import pair_potentials
from symattn.svm import SVMResult, SVMStatus

__all__ = [
    "analysis_payload",
    "columns",
    "err",
    "graphs_payload",
    "json_number",
    "matrix_rows",
    "out",
    "printable",
    "query_columns",
    "render_analysis",
    "render_final",
    "render_graphs",
]

_FARKAS_NOTE = (
    "a relative tolerance of 1e-9 only (an estimate: the exact re-solve on these floating-point rows "
    "did not verify)"
)


_ASCII_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def printable(text: str) -> str:
    r"""``text`` with every character a terminal would act on written as an escape (``\x1b``,
    ``\u202e``); newlines and tabs are kept.

    >>> printable("a\x1b[31mred\u202e\nnext")
    'a\\x1b[31mred\\u202e\nnext'
    """
    if text.isascii() and not _ASCII_UNSAFE.search(text):
        return text
    return "".join(
        ch if ch.isprintable() or ch in "\n\t" else ch.encode("unicode_escape").decode("ascii") for ch in text
    )


def out(text: str = "") -> None:
    """Write one block of text and a newline to standard output (made :func:`printable`)."""
    sys.stdout.write(printable(text) + "\n")


def err(text: str) -> None:
    """Write one line to standard error, prefixed ``symattn:`` (made :func:`printable`)."""
    sys.stderr.write(printable(f"symattn: {text}") + "\n")


def json_number(value: float) -> float | None:
    """``value`` as a JSON number, ``None`` when it is not finite."""
    return float(value) if math.isfinite(value) else None


def graphs_payload(graphs: PriorityGraphs) -> dict[str, Any]:
    """The ``analyze --json`` object for the token-priority graphs.

    >>> from symattn.data import Dataset
    >>> from symattn.graphs import priority_graphs
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


def render_graphs(dataset: Dataset, graphs: PriorityGraphs) -> list[str]:
    """Lines describing every token-priority graph and the label SCC of each sample."""
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
    return lines + _sample_lines(dataset, graphs)


def _sample_lines(dataset: Dataset, graphs: PriorityGraphs) -> list[str]:
    """One line per sample: its tokens, label and label SCC (each SCC's text formed once)."""
    names = dataset.vocab.names
    width = len(str(len(dataset) - 1))
    tokens, offsets = dataset.tokens.tolist(), dataset.offsets.tolist()
    sccs: dict[tuple[int, int], str] = {}
    lines = []
    for i, (k, y, c) in enumerate(zip(dataset.queries.tolist(), dataset.labels.tolist(),
                                      graphs.label_scc.tolist(), strict=True)):
        if (k, c) not in sccs:
            members = ", ".join(names[t] for t in graphs[k].sccs[c])
            sccs[k, c] = f"SCC [{c}] of {names[k]} = {{{members}}}"
        seq = " ".join([names[t] for t in tokens[offsets[i] : offsets[i + 1]]])
        lines.append(f"  {i:>{width}}: {seq} -> {names[y]}   {sccs[k, c]}")
    return lines


def matrix_rows(W: Any, result: SVMResult | None = None) -> list[list[Any]]:
    """Rows of ``W``: exact strings like ``"-2/3"`` when ``result`` is certified, floats otherwise."""
    if result is not None and result.certified and result.certificate is not None:
        return [[str(v) for v in row] for row in result.certificate.exact_matrix()]
    return [[float(v) for v in row] for row in W]


def _dense_rows(result: SVMResult | FiniteResult) -> list[list[Any]] | None:
    """:func:`matrix_rows` of the result's ``W``, or ``None`` when ``d`` is above the dense limit."""
    if int(result.weights.shape[0]) > max_dense():
        return None
    return matrix_rows(result.W, result if isinstance(result, SVMResult) else None)


def query_columns(graphs: PriorityGraphs, result: SVMResult | FiniteResult) -> dict[str, dict[str, Any]]:
    """One-hot embeddings: :math:`e_j^\\top W e_k` for every token ``j`` of every :math:`G_k`, by names
    (exact strings when ``result`` is a certified graph-SVM), read from the sparse ``W``.

    >>> from symattn.data import Dataset
    >>> from symattn.graphs import priority_graphs
    >>> from symattn import solve_graph_svm
    >>> ds = Dataset.from_samples([([0, 1], 0)], vocab=10**6)
    >>> query_columns(priority_graphs(ds), solve_graph_svm(ds))
    {'1': {'0': '1/2', '1': '-1/2'}}
    """
    names = graphs.dataset.vocab.names
    return {names[k]: dict(zip((names[t] for t in g.nodes.tolist()), cells, strict=True))
            for (k, g), cells in zip(graphs.items(), _column_cells(graphs, result), strict=True)}


def _column_cells(graphs: PriorityGraphs, result: SVMResult | FiniteResult) -> list[list[Any]]:
    """Per graph, the values of its tokens in its query's column (see :func:`query_columns`)."""
    cert = result.certificate if isinstance(result, SVMResult) and result.certified else None
    if cert is not None:
        zero = Fraction(0)
        return [[str(cert.entries.get((t, k), zero)) for t in g.nodes.tolist()] for k, g in graphs.items()]
    tokens = [g.nodes for _, g in graphs.items()]
    flat_tokens = np.concatenate(tokens) if tokens else np.zeros(0, dtype=np.int64)
    flat_queries = np.repeat(np.array(list(graphs.graphs), dtype=np.int64), [t.size for t in tokens])
    values = pair_potentials(graphs.dataset.embeddings, result.weights, flat_tokens, flat_queries).tolist()
    cuts = np.cumsum([0] + [t.size for t in tokens]).tolist()
    return [values[a:b] for a, b in itertools.pairwise(cuts)]


def analysis_payload(
    svm: SVMResult, fin: FiniteResult, graphs: PriorityGraphs | None = None
) -> dict[str, Any]:
    """The ``svm`` and ``finite`` parts of the ``analyze --json`` object.

    Matrices are lists of rows, in token coordinates for one-hot embeddings
    (``W[j][k]`` = :math:`e_j^\\top W e_k`) and embedding coordinates otherwise; ``None`` when
    ``d`` is above the dense limit (:func:`~symattn._validate.max_dense`). For one-hot embeddings
    with ``graphs`` given, ``columns`` holds :func:`query_columns` (of the size of the data).

    >>> from symattn.data import Dataset
    >>> from symattn import finite_component, solve_graph_svm
    >>> ds = Dataset.from_samples([([0, 1], 0)], vocab=2)
    >>> part = analysis_payload(solve_graph_svm(ds), finite_component(ds))
    >>> part["svm"]["W"], part["finite"]["dim"]
    ([['0', '1/2'], ['0', '-1/2']], 0)
    """
    feasible = svm.status is not SVMStatus.INFEASIBLE
    columns = graphs if graphs is not None and graphs.dataset.embeddings.is_onehot else None
    svm_part: dict[str, Any] = {
        "status": svm.status.value,
        "certified": svm.certified,
        "W": _dense_rows(svm) if feasible else None,
        "norm": svm.norm if feasible else None,
    }
    if columns is not None and feasible:
        svm_part["columns"] = query_columns(columns, svm)
    if svm.certified and svm.certificate is not None:
        svm_part["norm_squared"] = str(svm.certificate.norm_squared)
    if svm.residuals is not None:
        svm_part["max_kkt_residual"] = svm.residuals.max
    if svm.farkas is not None:
        svm_part["farkas"] = {"verified": svm.farkas.verified, "exact": svm.farkas.exact}
    proof = fin.proof
    fin_part: dict[str, Any] = {
        "dim": fin.dim,
        "W": _dense_rows(fin),
        "certified": fin.certified,
        "grad_norm": fin.grad_norm,
        "status": fin.status.value,
        "hessian_min_eig": _finite_number(fin.hessian_min_eig),
        "error_bound": _finite_number(fin.error_bound),
        "error_estimate": _finite_number(fin.error_estimate),
        "decrement": _finite_number(fin.decrement),
        "proof": {"proven": proof.proven, "kappa": _finite_number(proof.kappa),
                  "nu": _finite_number(proof.nu), "message": proof.message},
    }
    if columns is not None:
        fin_part["columns"] = query_columns(columns, fin)
    return {"svm": svm_part, "finite": fin_part}


def columns(dataset: Dataset, graphs: PriorityGraphs, result: SVMResult | FiniteResult) -> list[str]:
    """Lines showing the result's ``W`` on the tokens of each ``G_k`` (one-hot, read from the sparse
    ``W``) or as a matrix."""
    names = dataset.vocab.names
    if not dataset.embeddings.is_onehot:
        return ["    " + "  ".join(f"{v:>10.6g}" for v in row) for row in result.W]
    lines = []
    for (k, g), cells in zip(graphs.items(), _column_cells(graphs, result), strict=True):
        shown = (f"{names[t]}={v if isinstance(v, str) else f'{v:.6g}'}"
                 for t, v in zip(g.nodes.tolist(), cells, strict=True))
        lines.append(f"    query {names[k]}: " + ", ".join(shown))
    return lines


def render_analysis(
    dataset: Dataset, graphs: PriorityGraphs, svm: SVMResult, fin: FiniteResult
) -> list[str]:
    """Lines describing the graph-SVM and the finite component."""
    lines = ["", f"graph-SVM W^svm ({svm.method.value} solver): status {svm.status.value}"]
    if svm.status is SVMStatus.INFEASIBLE:
        farkas = svm.farkas
        lines.append(
            "  infeasible: Farkas multipliers "
            + ("verified exactly (rows as exact rationals): proved" if farkas and farkas.exact
               else f"checked to {_FARKAS_NOTE}")
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
        lines.extend(columns(dataset, graphs, svm))
    lines.append("")
    lines.append(
        f"finite component W^fin: status {fin.status.value}, dim S_fin = {fin.dim}, "
        f"gradient norm {fin.grad_norm:.1e}, smallest Hessian eigenvalue {fin.hessian_min_eig:.3g}"
    )
    lines.append("  " + finite_certificate_line(fin))
    if fin.dim:
        lines.append("  W^fin e_k on the tokens of each G_k:" if dataset.embeddings.is_onehot else "  W^fin:")
        lines.extend(columns(dataset, graphs, fin))
    return lines


def finite_certificate_line(fin: FiniteResult) -> str:
    """What the W^fin certificate proves, or why there is none (the local estimate then)."""
    proof = fin.proof
    if proof.proven:
        verdict = "certified" if fin.certified else "NOT certified (bound too loose)"
        return (f"||W^fin - exact|| <= {fin.error_bound:.1e} proved (ball arithmetic, "
                f"kappa {proof.kappa:.1e}): {verdict}")
    return f"error bound not proved ({proof.message}); local estimate {fin.error_estimate:.1e}: NOT certified"


def _finite_number(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def render_final(traj: Any) -> list[str]:
    """Lines with the status and final metrics of a training run."""
    final = traj.final()
    lines = [f"status: {traj.status.value}"]
    if traj.message:
        lines.append(f"reason: {traj.message}")
    if not final:
        return [*lines, "nothing was recorded"]
    lines += [f"loss = {final['loss']:.6g}", f"||W|| = {final['norm']:.6g}"]
    lines += [f"{m.name} = {final[m.name]:.6g}" for m in HEADLINE_METRICS if m.name in final]
    return lines
