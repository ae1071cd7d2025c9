import importlib
import pkgutil
import subprocess
import sys

import numpy as np
import pytest

import symattn
from symattn.cases import known_case

# Modules whose names live in their own namespace (``symattn.strategies.datasets``, ...).
NAMESPACED = {
    "cases", "cli", "conjecture", "examples", "plots", "reproduce", "results", "scores", "strategies", "symbolic",
    "verify",
}
# Module-level constants and low-level checks that stay in their module.
MODULE_ONLY = {
    "MAX_VOCAB", "SeedLike", "as_generator", "DECREMENT_TOL", "POTENTIAL_TOL", "MAX_ROW_SCALE",
    "MIN_ROW_SCALE", "DATASET_FORMAT", "dataset_from_json",
    "dataset_to_json", "TOLERANCE", "check_complementarity", "check_dual_signs",
    "check_primal_feasibility", "check_stationarity", "exact_margins", "Trainer", "record_steps",
    "Transform", "normalize",
    "MAX_ENTRIES", "HEADLINE_METRICS",
    "MAX_PROMPT_LENGTH", "MAX_PROMPTS_BYTES", "PROMPTS_FORMAT", "decode_text", "parse_prompts",
    "prompts_from_json", "prompts_to_json",
}


def _public_modules():
    for info in pkgutil.iter_modules(symattn.__path__):
        if not info.name.startswith("_"):
            yield info.name, importlib.import_module(f"symattn.{info.name}")


def test_every_public_name_exists():
    for name in symattn.__all__:
        assert hasattr(symattn, name), name


def test_every_module_declares_all():
    for name, module in _public_modules():
        assert hasattr(module, "__all__"), name
        for public in module.__all__:
            assert hasattr(module, public), f"{name}.{public}"


def test_core_modules_are_reexported():
    missing = [
        f"{name}.{public}"
        for name, module in _public_modules()
        if name not in NAMESPACED
        for public in module.__all__
        if public not in MODULE_ONLY and public not in symattn.__all__
    ]
    assert missing == []


def test_reexports_are_the_module_objects():
    for name, module in _public_modules():
        if name in NAMESPACED:
            continue
        for public in module.__all__:
            if public in symattn.__all__:
                assert getattr(symattn, public) is getattr(module, public), f"{name}.{public}"


def test_library_logging_is_silent_without_a_handler():
    code = "import logging, symattn; logging.getLogger('symattn').warning('should not be printed')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stderr == ""


def test_import_does_not_load_sympy_until_the_symbolic_layer_is_used():
    code = (
        "import sys, symattn; assert 'sympy' not in sys.modules, 'sympy loaded at import'; "
        "symattn.exact_graph_svm; assert 'sympy' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_renamed_public_names_still_work_and_warn():
    ds = symattn.Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1), ([1, 2], 1)], vocab=3)
    top = symattn.priority_graphs(ds)[2].top_sccs([0, 1, 2])
    pred = symattn.predict(ds)
    cert = pred.svm.certificate
    with pytest.warns(DeprecationWarning, match="TopSCCs.indices"):
        assert top.sccs == top.indices == (0,)
    with pytest.warns(DeprecationWarning, match="exact_matrix"):
        assert cert.matrix() == cert.exact_matrix()
    with pytest.warns(DeprecationWarning, match=r"finite\.basis"):
        assert np.array_equal(pred.fin_basis, pred.finite.basis.matrices())
    case = known_case("chain")
    with pytest.warns(DeprecationWarning, match=r"Case\.exact_svm_matrix"):
        assert np.array_equal(case.svm_matrix(), case.exact_svm_matrix())
