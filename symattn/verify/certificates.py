r"""Export the graph-SVM's exact certificate for the standalone checker :mod:`symattn.cli.checkcert`.

A certificate is a JSON object (``"format": "symattn.certificate/1"``, documented in
``docs/verifying.md``) holding the dataset (samples by token id, exact embedding rows or
``"onehot"``), the constraint list of ``docs/theory.md`` §4 (one ``[query, high, low, "eq" | "ge"]``
per edge, in the order of :func:`~symattn.svm.svm_constraints`) and either the exact
:math:`W^{svm}` with exact multipliers (``"status": "optimal"``) or exact Farkas multipliers scaled
so that the inequality ones sum to 1 (``"status": "infeasible"``). Every number is an integer or a
string like ``"-2/3"``. ``checkcert.py`` verifies it with the standard library alone.

>>> from symattn.data import Dataset
>>> from symattn.cli.checkcert import check
>>> cert = certificate_json(Dataset.from_samples([([0, 1, 2], 0), ([1, 2], 1)], vocab=3))
>>> cert["constraints"], cert["multipliers"]
([[2, 0, 1, 'ge'], [2, 0, 2, 'ge'], [2, 1, 2, 'ge']], ['1', '0', '1'])
>>> [row[2] for row in cert["W"]]
['1', '0', '-1']
>>> all(ok for _, ok, _ in check(cert))
True
"""

from __future__ import annotations

import json
import os
from fractions import Fraction
from pathlib import Path
from typing import Any

from symattn._io import save_text
from symattn._validate import require_dataset, require_dense_size
from symattn.data import Dataset
from symattn.errors import CertificateError, InvalidInput
from symattn.svm import SVMResult, SVMStatus, solve_graph_svm

__all__ = ["CERTIFICATE_FORMAT", "certificate_json", "export_certificate"]

CERTIFICATE_FORMAT = "symattn.certificate/1"


def _text(value: Fraction | int) -> str:
    return str(Fraction(value))


def certificate_json(dataset: Dataset, result: SVMResult | None = None) -> dict[str, Any]:
    """The certificate of ``dataset``'s graph-SVM as a JSON-ready dict (see the module docstring).

    Parameters
    ----------
    dataset : Dataset
        The data; its embeddings must be exact (one-hot, or rows given as integers or fractions).
    result : SVMResult, optional
        A result of :func:`~symattn.svm.solve_graph_svm` for ``dataset`` with its edge constraints
        (solved here when omitted).

    Raises
    ------
    InvalidInput
        When the embeddings are floating point, ``result`` used all-pairs constraints, or ``d`` is
        above the dense limit (:func:`~symattn._validate.max_dense`; the file holds ``W`` densely).
    CertificateError
        When the result carries no verified exact certificate.

    Returns
    -------
    dict
        The certificate, every number an integer or a string like ``"-1/2"``.

    Examples
    --------
    >>> cert = certificate_json(Dataset.from_samples([([0, 1], 0)], vocab=2))
    >>> cert["status"], cert["constraints"], cert["W"], cert["multipliers"]
    ('optimal', [[1, 0, 1, 'ge']], [['0', '1/2'], ['0', '-1/2']], ['1/2'])
    """
    dataset = require_dataset(dataset, "certificate_json")
    emb = dataset.embeddings
    if not emb.is_exact:
        raise InvalidInput(
            f"a certificate needs exact embeddings; these are {emb.kind.value} floats (use one-hot "
            "embeddings or rows given as integers or fractions like '1/3')"
        )
    # the file holds W as d x d rows of exact strings (what the standalone checker reads)
    require_dense_size("the certificate file (W as d x d rows)", d=emb.dim)
    res = solve_graph_svm(dataset) if result is None else result
    if res.constraints.all_pairs:
        raise InvalidInput(
            "export the certificate of the edge constraints (all_pairs=False): the checker rebuilds those"
        )
    cons = res.constraints
    out: dict[str, Any] = {
        "format": CERTIFICATE_FORMAT,
        "status": "infeasible" if res.status is SVMStatus.INFEASIBLE else "optimal",
        "vocab": dataset.K,
        "dim": emb.dim,
        "embeddings": "onehot" if emb.is_onehot else [[_text(v) for v in row] for row in emb.exact_matrix()],
        "samples": [[list(s.tokens), s.label] for s in dataset],
        "constraints": [[int(k), int(i), int(j), "eq" if e else "ge"] for k, i, j, e in
                        zip(cons.query, cons.high, cons.low, cons.equality, strict=True)],
    }
    if res.status is SVMStatus.INFEASIBLE:
        farkas = res.farkas
        if farkas is None or not farkas.exact or not farkas.verified:
            raise CertificateError("the graph-SVM is infeasible but no exact Farkas certificate was found")
        total = sum((v for v, e in zip(farkas.multipliers, cons.equality, strict=True) if not e), Fraction(0))
        out["multipliers"] = [_text(Fraction(v) / total) for v in farkas.multipliers]
        return out
    cert = res.certificate
    if cert is None or not cert.checks.holds:
        raise CertificateError(
            f"the graph-SVM result has no verified exact certificate (status {res.status.value}); "
            "solve with certify=True on exact embeddings"
        )
    out["W"] = [[_text(v) for v in row] for row in cert.exact_matrix()]
    out["multipliers"] = [_text(v) for v in cert.multipliers]
    return out


def export_certificate(
    dataset: Dataset, path: str | os.PathLike[str], result: SVMResult | None = None
) -> Path:
    """Write :func:`certificate_json` of ``dataset`` to ``path`` atomically and return the path.

    Raises :class:`~symattn.errors.FileFormatError` naming ``path`` when it is a directory or
    cannot be written.

    >>> import tempfile
    >>> from symattn.data import Dataset
    >>> path = export_certificate(Dataset.from_samples([([0, 1], 0)], vocab=2),
    ...                           Path(tempfile.mkdtemp()) / "cert.json")
    >>> json.loads(path.read_text())["multipliers"]
    ['1/2']
    """
    return save_text(path, json.dumps(certificate_json(dataset, result), indent=1) + "\n")
