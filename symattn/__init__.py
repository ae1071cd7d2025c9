"""symattn: the theory of next-token prediction with one self-attention layer, executable.

Token-priority graphs, the graph-SVM direction :math:`W^{svm}`, the finite component
:math:`W^{fin}`, a reference trainer and Hypothesis strategies, with exact certificates
where the data are exact. See ``docs/`` and ``THEORY`` in the README.

>>> import symattn
>>> ds = symattn.Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3)
>>> symattn.priority_graphs(ds)[2].sccs
((0, 1), (2,))
"""

from symattn.data import CountsView, Dataset, Sample, Vocabulary
from symattn.embeddings import EmbeddingKind, Embeddings
from symattn.errors import (
    CertificateError,
    FileFormatError,
    Infeasible,
    InvalidInput,
    SolverError,
    SymAttnError,
)
from symattn.examples import load_example
from symattn.formats import load_dataset, save_dataset
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

__version__ = "0.1.0"

__all__ = [
    "CertificateError",
    "CountsView",
    "Dataset",
    "EmbeddingKind",
    "Embeddings",
    "FileFormatError",
    "GradientDescent",
    "Head",
    "Infeasible",
    "Init",
    "InvalidInput",
    "Loss",
    "Model",
    "NormalizedGradientDescent",
    "Outer",
    "Priority",
    "PriorityGraphs",
    "Sample",
    "SolverError",
    "SymAttnError",
    "TokenGraph",
    "TopSCCs",
    "TrainConfig",
    "TrainMethod",
    "TrainState",
    "TrainStatus",
    "Trajectory",
    "Vocabulary",
    "attention",
    "direct_loss_and_gradient",
    "gradient",
    "hessian",
    "hessian_vector_product",
    "initial_weights",
    "load_dataset",
    "load_example",
    "loss",
    "priority_graphs",
    "realisable_graph",
    "realise",
    "regularization_path",
    "save_dataset",
    "smoothness_bound",
    "token_mass",
    "train",
]
