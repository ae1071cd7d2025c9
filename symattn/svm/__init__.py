r"""The graph-SVM of docs/theory.md §4: the hard-retrieval direction :math:`W^{svm}`, solved and certified.

.. math::

    W^{svm} = \arg\min \|W\|_F \quad\text{s.t.}\quad (e_i - e_j)^\top W e_k
    \begin{cases} = 0 & i \asymp_k j \\ \ge 1 & i \succ_k j \end{cases}
    \quad\text{for every edge } i \to j \text{ of every } G_k .

The package is split by job: :mod:`~symattn.svm.constraints` builds the constraint set,
:mod:`~symattn.svm.kkt` checks the KKT conditions one by one (in floats and exactly) and holds
the certificates, :mod:`~symattn.svm.solve` runs the solvers. The within-SCC equalities are
massively redundant, so no solver ever sees them as given: each SCC is collapsed to one
potential (orthonormal embeddings: one minimum-norm potential problem per query on the
condensation DAG) or to a star of independent equalities (general embeddings: one QP in the
Gram metric). Every answer is then checked against the full constraint set; with exact
embeddings the KKT conditions are re-solved and verified in rationals, condition by condition.
Infeasible problems (dependent embeddings) come back with Farkas multipliers.

>>> from symattn.data import Dataset
>>> ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1), ([1, 2], 1)], vocab=3)
>>> res = solve_graph_svm(ds)
>>> res.status, res.certified
(<SVMStatus.OPTIMAL: 'optimal'>, True)
>>> res.certificate.exact_matrix()[2]
[Fraction(0, 1), Fraction(0, 1), Fraction(-2, 3)]
"""

from symattn.svm.constraints import SVMConstraints, svm_constraints
from symattn.svm.kkt import (
    CertificateStatus,
    FarkasCertificate,
    KKTChecks,
    KKTResiduals,
    SVMCertificate,
    check_complementarity,
    check_dual_signs,
    check_primal_feasibility,
    check_stationarity,
    exact_margins,
)
from symattn.svm.solve import TOLERANCE, SVMMethod, SVMResult, SVMStatus, solve_graph_svm

__all__ = [
    "TOLERANCE",
    "CertificateStatus",
    "FarkasCertificate",
    "KKTChecks",
    "KKTResiduals",
    "SVMCertificate",
    "SVMConstraints",
    "SVMMethod",
    "SVMResult",
    "SVMStatus",
    "check_complementarity",
    "check_dual_signs",
    "check_primal_feasibility",
    "check_stationarity",
    "exact_margins",
    "solve_graph_svm",
    "svm_constraints",
]
