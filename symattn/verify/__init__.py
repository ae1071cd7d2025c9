"""Verify other implementations against the theory: weights, gradients, solver answers, vectors.

>>> from symattn.verify import Check, Verdict
>>> Verdict.of([Check.at_most("finite part", 0.004, 0.0, 0.01)]).value
'pass'
"""

from symattn.verify._report import Check, Diagnosis, Relation, Verdict
from symattn.verify.certificates import CERTIFICATE_FORMAT, certificate_json, export_certificate
from symattn.verify.gradients import GradientCheck, GradientPoint, check_gradient
from symattn.verify.pseudo import DEFAULT_THRESHOLD, pseudo_graph, selected_tokens
from symattn.verify.solutions import SolutionCheck, Violation, check_finite, check_svm
from symattn.verify.vectors import (
    VECTORS_FORMAT,
    ConformanceCase,
    ConformanceRow,
    ConformanceTable,
    build_vectors,
    export_vectors,
    load_vectors,
    run_conformance,
)
from symattn.verify.weights import (
    DEFAULT_STEP,
    Direction,
    QuerySide,
    WeightsReport,
    draw_prompts,
    norm_needed,
    reference_weights,
    verify_weights,
)

__all__ = [
    "CERTIFICATE_FORMAT",
    "DEFAULT_STEP",
    "DEFAULT_THRESHOLD",
    "VECTORS_FORMAT",
    "Check",
    "ConformanceCase",
    "ConformanceRow",
    "ConformanceTable",
    "Diagnosis",
    "Direction",
    "GradientCheck",
    "GradientPoint",
    "QuerySide",
    "Relation",
    "SolutionCheck",
    "Verdict",
    "Violation",
    "WeightsReport",
    "build_vectors",
    "certificate_json",
    "check_finite",
    "check_gradient",
    "check_svm",
    "draw_prompts",
    "export_certificate",
    "export_vectors",
    "load_vectors",
    "norm_needed",
    "pseudo_graph",
    "reference_weights",
    "run_conformance",
    "selected_tokens",
    "verify_weights",
]
