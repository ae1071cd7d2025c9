"""symattn: the theory of next-token prediction with one self-attention layer, executable.

Token-priority graphs, the graph-SVM direction :math:`W^{svm}`, the finite component
:math:`W^{fin}`, a reference trainer and Hypothesis strategies, with exact certificates
where the data are exact. The mathematics is in ``docs/theory.md`` (cited as ``docs/theory.md §N``),
and ``docs/index.md`` lists every page.

>>> import symattn
>>> ds = symattn.Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3)
>>> symattn.priority_graphs(ds)[2].sccs
((0, 1), (2,))
"""

import logging

from symattn import _startup  # noqa: F401  (first: the command's Ctrl-C handling while importing)
from symattn.automaton import (
    Agreement,
    Automaton,
    Dropped,
    DropReason,
    NextStatus,
    NextToken,
    PromptRetrieval,
    Source,
    automaton,
)
from symattn.data import CountsView, Dataset, Sample, Vocabulary
from symattn.embeddings import EmbeddingKind, Embeddings
from symattn.errors import (
    CertificateError,
    FileFormatError,
    Infeasible,
    InvalidInput,
    NotConverged,
    SolverError,
    SymAttnError,
)
from symattn.examples import load_example
from symattn.finite import (
    FinBasis,
    FiniteProof,
    FiniteResult,
    FiniteStatus,
    ReducedData,
    fin_basis,
    finite_bound,
    finite_component,
    partition_basis,
    reachable_basis,
    reduced_data,
    reduced_loss,
)
from symattn.formats import load_dataset, load_prompts, save_dataset, save_prompts
from symattn.generation import Generation, GenerationStatus, generate
from symattn.graphs import (
    Priority,
    PriorityGraphs,
    TokenGraph,
    TopSCCs,
    priority_graphs,
    realisable_graph,
    realise,
)
from symattn.model import (
    Head,
    Loss,
    Model,
    Outer,
    attention,
    direct_loss_and_gradient,
    gradient,
    hessian,
    hessian_vector_product,
    loss,
    smoothness_bound,
    token_mass,
)
from symattn.predict import Analysis, Distances, Metric, Prediction, Retrieval, analysis, predict
from symattn.prompts import Prompt, PromptLike, Prompts
from symattn.svm import (
    CertificateStatus,
    FarkasCertificate,
    KKTChecks,
    KKTResiduals,
    SVMCertificate,
    SVMConstraints,
    SVMMethod,
    SVMResult,
    SVMStatus,
    solve_graph_svm,
    svm_constraints,
)
from symattn.train import (
    GradientDescent,
    Init,
    NormalizedGradientDescent,
    TrainConfig,
    TrainMethod,
    TrainState,
    TrainStatus,
    Trajectory,
    initial_weights,
    regularization_path,
    train,
)
from symattn.weights import Weights, as_weights, factor_weights, load_embeddings, load_weights

__version__ = "0.1.0"

# The SymPy layer is imported on first use, so ``import symattn`` does not pay for SymPy.
_SYMBOLIC = frozenset({
    "GraphSVMProblem", "KKTSolution", "KKTStatus", "NumericModel", "exact_graph_svm",
    "graph_svm_problem", "numeric_model", "solve_kkt",
})


def __getattr__(name: str) -> object:
    if name in _SYMBOLIC:
        import symattn.symbolic

        return getattr(symattn.symbolic, name)
    raise AttributeError(f"module 'symattn' has no attribute {name!r}")


# The library reports through this logger and never prints: without a handler of the
# application's own, messages go nowhere (not to stderr through logging's last resort).
logging.getLogger("symattn").addHandler(logging.NullHandler())

__all__ = [
    "Agreement",
    "Analysis",
    "Automaton",
    "CertificateError",
    "CertificateStatus",
    "CountsView",
    "Dataset",
    "Distances",
    "DropReason",
    "Dropped",
    "EmbeddingKind",
    "Embeddings",
    "FarkasCertificate",
    "FileFormatError",
    "FinBasis",
    "FiniteProof",
    "FiniteResult",
    "FiniteStatus",
    "Generation",
    "GenerationStatus",
    "GradientDescent",
    "GraphSVMProblem",
    "Head",
    "Infeasible",
    "Init",
    "InvalidInput",
    "KKTChecks",
    "KKTResiduals",
    "KKTSolution",
    "KKTStatus",
    "Loss",
    "Metric",
    "Model",
    "NextStatus",
    "NextToken",
    "NormalizedGradientDescent",
    "NotConverged",
    "NumericModel",
    "Outer",
    "Prediction",
    "Priority",
    "PriorityGraphs",
    "Prompt",
    "PromptLike",
    "PromptRetrieval",
    "Prompts",
    "ReducedData",
    "Retrieval",
    "SVMCertificate",
    "SVMConstraints",
    "SVMMethod",
    "SVMResult",
    "SVMStatus",
    "Sample",
    "SolverError",
    "Source",
    "SymAttnError",
    "TokenGraph",
    "TopSCCs",
    "TrainConfig",
    "TrainMethod",
    "TrainState",
    "TrainStatus",
    "Trajectory",
    "Vocabulary",
    "Weights",
    "analysis",
    "as_weights",
    "attention",
    "automaton",
    "direct_loss_and_gradient",
    "exact_graph_svm",
    "factor_weights",
    "fin_basis",
    "finite_bound",
    "finite_component",
    "generate",
    "gradient",
    "graph_svm_problem",
    "hessian",
    "hessian_vector_product",
    "initial_weights",
    "load_dataset",
    "load_embeddings",
    "load_example",
    "load_prompts",
    "load_weights",
    "loss",
    "numeric_model",
    "partition_basis",
    "predict",
    "priority_graphs",
    "reachable_basis",
    "realisable_graph",
    "realise",
    "reduced_data",
    "reduced_loss",
    "regularization_path",
    "save_dataset",
    "save_prompts",
    "smoothness_bound",
    "solve_graph_svm",
    "solve_kkt",
    "svm_constraints",
    "token_mass",
    "train",
]
