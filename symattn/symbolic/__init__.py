r"""The model and the graph-SVM as SymPy expressions: exact oracles for the numeric code.

Three modules, by job: :mod:`~symattn.symbolic.model` (scores, attention, token mass, the
losses and their derivatives, the symbolic basis of :math:`S_{fin}`), :mod:`~symattn.symbolic.svm`
(the graph-SVM with its Lagrangian and KKT conditions, solved exactly) and
:mod:`~symattn.symbolic.oracles` (the same forms lambdified into NumPy callables). Everything is
built from symbols and numbers only; no string is ever parsed. ``import symattn`` does not load
SymPy: the package is imported on first use of one of its names.

>>> import sympy as sp
>>> W = weight_matrix(2)
>>> E = sp.eye(2)
>>> loss = log_loss(W, E, [0, 1, 1], label=1)
>>> sp.simplify(loss.subs({w: 0 for w in W}) - sp.log(sp.Rational(3, 2)))
0
"""

from symattn.symbolic.model import (
    compressed_log_loss,
    dataset_loss,
    exact_embeddings,
    fin_basis,
    label_probability,
    log_loss,
    matrix_gradient,
    matrix_hessian,
    sequence_scores,
    softmax,
    symbolic_embeddings,
    token_mass,
    weight_matrix,
)
from symattn.symbolic.oracles import NumericModel, numeric_model
from symattn.symbolic.svm import (
    ConstraintKind,
    ExactKKTResiduals,
    GraphSVMProblem,
    KKTSolution,
    KKTStatus,
    SymbolicConstraint,
    complementarity_residuals,
    dual_residuals,
    exact_graph_svm,
    graph_svm_problem,
    kkt_residuals,
    primal_residuals,
    solve_kkt,
    stationarity_residual,
)

__all__ = [
    "ConstraintKind",
    "ExactKKTResiduals",
    "GraphSVMProblem",
    "KKTSolution",
    "KKTStatus",
    "NumericModel",
    "SymbolicConstraint",
    "complementarity_residuals",
    "compressed_log_loss",
    "dataset_loss",
    "dual_residuals",
    "exact_embeddings",
    "exact_graph_svm",
    "fin_basis",
    "graph_svm_problem",
    "kkt_residuals",
    "label_probability",
    "log_loss",
    "matrix_gradient",
    "matrix_hessian",
    "numeric_model",
    "primal_residuals",
    "sequence_scores",
    "softmax",
    "solve_kkt",
    "stationarity_residual",
    "symbolic_embeddings",
    "token_mass",
    "weight_matrix",
]
