"""Every public result type answers the one result protocol of ``symattn.results``."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil

import numpy as np
import pytest
from svm_cases import INFEASIBLE, INFEASIBLE_ROWS

import symattn
from symattn import Dataset, Embeddings, load_example, realise
from symattn.errors import NotConverged
from symattn.results import Result, Status
from symattn.svm._gramqp import active_set_qp
from symattn.svm._potentials import min_norm_potentials
from symattn.train.path import PathProblem


def _results() -> dict[str, object]:
    """One instance of every public result type, built as a user would get it."""
    import proofs
    from symattn.reproduce import reproduce
    from symattn.symbolic import exact_graph_svm, graph_svm_problem

    ds = load_example("default")
    svm = symattn.solve_graph_svm(ds)
    dependent = realise(INFEASIBLE, vocab=5, embeddings=Embeddings.given(INFEASIBLE_ROWS))
    tiny = Dataset.from_samples([([0, 1], 0)], vocab=2)
    problem = PathProblem(ds)
    return {
        "PathPoint": problem.point(2.0, 0.0, problem.start(np.zeros((6, 6))))[0],
        "SVMResult": svm,
        "SVMCertificate": svm.certificate,
        "FarkasCertificate": symattn.solve_graph_svm(dependent).farkas,
        "FiniteResult": symattn.finite_component(ds),
        "KKTSolution": exact_graph_svm(graph_svm_problem(tiny)),
        "Trajectory": symattn.train(ds, steps=3),
        "Reproduction": reproduce(trials=1, steps=3, radii=(1.0,)),
        "ProofResult": proofs.run(["compression"])[0],
    }


def _public_classes() -> dict[str, type]:
    """Names of the public classes (symattn's modules and subpackages, and proofs) with a ``status``."""
    import proofs

    modules = [symattn, proofs]
    for info in pkgutil.walk_packages(symattn.__path__, "symattn."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            modules.append(importlib.import_module(info.name))
    found = {}
    for module in modules:
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if inspect.isclass(obj) and not issubclass(obj, Status) and name != "Result" and (
                (dataclasses.is_dataclass(obj) and "status" in {f.name for f in dataclasses.fields(obj)})
                or isinstance(getattr(obj, "status", None), property)
            ):
                found[name] = obj
    return found


def _answers(cls: type) -> set[str]:
    fields = {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
    return fields | {name for name in dir(cls) if isinstance(getattr(cls, name, None), property)}


def test_every_public_class_with_a_status_answers_the_protocol():
    classes = _public_classes()
    assert set(_results()) <= set(classes)
    for name, cls in classes.items():
        assert {"status", "success", "message", "iterations"} <= _answers(cls), name


def test_every_result_instance_answers_the_protocol():
    for name, result in _results().items():
        assert isinstance(result, Result), name
        assert isinstance(result.status, Status), name
        assert result.success is result.status.success, name
        assert isinstance(result.message, str) and isinstance(result.iterations, int), name
        assert result.success, name


def test_a_failed_status_is_not_success_and_says_why():
    from symattn.finite import FiniteStatus
    from symattn.svm import SVMStatus

    assert not SVMStatus.INACCURATE.success and not FiniteStatus.SINGULAR.success
    dependent = realise(INFEASIBLE, vocab=5, embeddings=Embeddings.given(INFEASIBLE_ROWS))
    res = symattn.solve_graph_svm(dependent)
    assert not res.success and "linearly dependent" in res.message


def test_the_active_set_solvers_raise_not_converged_with_the_iterations():
    with pytest.raises(NotConverged) as caught:
        min_norm_potentials(np.ones(4), np.array([0, 1, 2]), np.array([1, 2, 3]), max_iter=1)
    assert caught.value.iterations == 1
    assert min_norm_potentials(np.ones(4), np.array([0, 1, 2]), np.array([1, 2, 3])).iterations > 1
    A_in = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    with pytest.raises(NotConverged, match="did not converge in 1 iterations"):
        active_set_qp(np.zeros((0, 2)), A_in, np.array([5.0, 5.0]), max_iter=1)
