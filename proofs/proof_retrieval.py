r"""Hard retrieval: the attention outside the label's SCC decays exponentially along the direction of W^svm.

Claim (docs/theory.md §6, P3): at :math:`W = R\,\bar W^{svm} + W^{fin}`, with
:math:`\bar W^{svm} = W^{svm}/\|W^{svm}\|`, each training sample puts mass at most
:math:`(T - 1)\exp(-R/\|W^{svm}\| + C)` outside its label's SCC, with
:math:`C = \max (e_j - e_y)^\top W^{fin} e_k` over samples and tokens :math:`j` of the sequence
outside the SCC of :math:`y`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import sympy as sp

from proofs._support import Derivation, latex
from symattn.data import Dataset, Sample
from symattn.graphs import priority_graphs
from symattn.symbolic import exact_graph_svm, graph_svm_problem

__all__ = ["NAME", "RADII", "TITLE", "check", "decay_bound", "render"]

NAME = "retrieval"
TITLE = "Retrieval decay bound"

Bound = Callable[[int, sp.Expr, sp.Expr, sp.Expr], sp.Expr]

RADII: tuple[int, ...] = (1, 4, 16, 64)
_DIGITS = 60


def decay_bound(T: int, R: sp.Expr, norm: sp.Expr, C: sp.Expr) -> sp.Expr:
    r"""The claimed bound :math:`(T - 1) \exp(-R/\|W^{svm}\| + C)`.

    >>> decay_bound(3, sp.Integer(2), sp.Integer(1), sp.S.Zero)
    2*exp(-2)
    """
    return (T - 1) * sp.exp(-R / norm + C)


def _dataset() -> Dataset:
    samples = [([0, 1, 2], 0), ([0, 1, 2], 1), ([0, 1, 2], 1), ([3, 1, 1, 4], 3), ([1, 4], 1)]
    return Dataset.from_samples(samples, vocab=5)


def check(*, bound: Bound = decay_bound, radii: Sequence[int] = RADII) -> Derivation:
    """Derive the bound sample by sample, then evaluate it against the exact mass at a few radii."""
    proof = Derivation(
        TITLE,
        r"At $W_R = R\,W^{svm}/\|W^{svm}\| + W^{fin}$, every training sample puts attention mass "
        r"$\pi(\bar C_y) = \sum_{j \notin C_y} \pi_j \le (T - 1)\,e^{-R/\|W^{svm}\| + C}$ outside the "
        r"SCC $C_y$ of its label, with $C = \max_{i}\max_{j \in X_i \setminus C_{y_i}} "
        r"(e_j - e_{y_i})^\top W^{fin} e_{k_i}$.",
    )
    ds = _dataset()
    Wsvm, norm, Wfin = _instance(proof, ds)
    per_sample, C = _outside_tokens(proof, ds, Wsvm, Wfin)
    _one_sample_identity(proof, per_sample)
    proof.say(
        r"Step 2 (along the path). For $j \notin C_y$ in the sequence, $G_k$ has the edge $y \to j$ "
        r"across SCCs, so $(e_y - e_j)^\top W^{svm} e_k \ge 1$ (checked on the exact $W^{svm}$ for "
        r"every such pair), and $(e_j - e_y)^\top W^{fin} e_k \le C$. Hence "
        r"$u_j - u_y \le -R/\|W^{svm}\| + C$ at $W_R$, and at most $T - c_y \le T - 1$ positions "
        f"lie outside $C_y$. Here $C = {latex(C)}$, which gives the bound."
    )
    _evaluate(proof, per_sample, Wsvm / norm, Wfin, norm, C, bound, radii)
    return proof


Outside = list[tuple[int, Sample, set[int], list[int]]]
"""Per training sample: its index, the sample, its label's SCC and the present tokens outside it."""


def _instance(proof: Derivation, ds: Dataset) -> tuple[sp.Matrix, sp.Expr, sp.Matrix]:
    """:math:`W^{svm}` solved exactly, its norm, and :math:`W^{fin}` in closed form."""
    svm = exact_graph_svm(graph_svm_problem(ds))
    proof.require(svm.success, "W^svm is certified by the four KKT conditions")
    Wsvm = proof.require_present(svm.W, "W^svm exists")
    norm = sp.sqrt(sum((v**2 for v in Wsvm), sp.S.Zero))
    half_log2 = sp.log(2) / 2
    Wfin = sp.zeros(5, 5)
    Wfin[0, 2], Wfin[1, 2] = -half_log2, half_log2
    proof.require(
        sp.simplify(sp.exp(Wfin[0, 2] - Wfin[1, 2])) == sp.Rational(1, 2),
        "W^fin puts pi_0 / pi_1 = 1/2 on the SCC {0, 1} of G_2 (label frequencies 1/3, 2/3)",
    )
    proof.say(
        "Instance. Samples $[0,1,2] \\to 0$, $[0,1,2] \\to 1$ twice (query 2: SCC $\\{0,1\\}$ above "
        "2), $[3,1,1,4] \\to 3$ and $[1,4] \\to 1$ (query 4: chain $3 \\succ 1 \\succ 4$). "
        "$W^{svm}$ is solved exactly (`exact_graph_svm`, KKT-certified): columns "
        f"$W^{{svm}} e_2 = {latex(Wsvm.col(2).T)}$, $W^{{svm}} e_4 = {latex(Wsvm.col(4).T)}$, "
        f"$\\|W^{{svm}}\\| = {latex(norm)}$. $W^{{fin}} e_2 = {latex(Wfin.col(2).T)}$ (stationarity "
        r"on $S_{fin}$ gives $\pi_0 : \pi_1 = 1 : 2$ on $\{0, 1\}$; $G_4$ is acyclic so "
        r"$W^{fin} e_4 = 0$)."
    )
    return Wsvm, norm, Wfin


def _outside_tokens(
    proof: Derivation, ds: Dataset, Wsvm: sp.Matrix, Wfin: sp.Matrix
) -> tuple[Outside, sp.Expr]:
    """Every margin across SCCs is at least 1; :math:`C` bounds every :math:`W^{fin}` gap."""
    graphs = priority_graphs(ds)
    gaps = []
    per_sample = []
    for i, sample in enumerate(ds):
        k, y, T = sample.query, sample.label, len(sample.tokens)
        scc = set(graphs.sample_scc(i))
        counts = Counter(sample.tokens)
        outside = [j for j in sorted(counts) if j not in scc]
        for j in outside:
            margin = Wsvm[y, k] - Wsvm[j, k]
            proof.require(margin >= 1, f"sample {i}: y={y} ≻ j={j} in G_{k}, so its margin {margin} ≥ 1")
            gaps.append(Wfin[j, k] - Wfin[y, k])
        proof.require(sum(counts[j] for j in outside) <= T - 1, f"sample {i}: ≤ T - 1 positions outside")
        per_sample.append((i, sample, scc, outside))
    C = sp.Max(*gaps)
    proof.require(all(sp.simplify(C - g).is_nonnegative for g in gaps), "C bounds every W^fin gap")
    return per_sample, C


def _one_sample_identity(proof: Derivation, per_sample: Outside) -> None:
    """Step 1: the outside mass is at most :math:`\\sum_{j \\notin C_y} c_j e^{u_j - u_y}`, exactly."""
    proof.say(
        r"Step 1 (one sample, any $W$). With $z_j = e^{u_j}$, $u_j = e_j^\top W e_k$, the identity"
    )
    proof.show(
        r"\frac{1}{c_y}\sum_{j \notin C_y} c_j \frac{z_j}{z_y} - \frac{\sum_{j \notin C_y} c_j z_j}"
        r"{\sum_l c_l z_l} = \frac{\big(\sum_{j \notin C_y} c_j z_j\big)\big(\sum_{l \ne y} c_l z_l\big)}"
        r"{c_y z_y \sum_l c_l z_l} \;\ge\; 0"
    )
    proof.say(
        r"is checked exactly for every sample (rational functions of positive $z$), so "
        r"$\pi(\bar C_y) \le \sum_{j \notin C_y} c_j e^{u_j - u_y}$ (as $c_y \ge 1$)."
    )
    for i, sample, _scc, outside in per_sample:
        counts = Counter(sample.tokens)
        y = sample.label
        z = {j: sp.Symbol(f"z_{j}", positive=True) for j in counts}
        total = sum((counts[j] * z[j] for j in counts), sp.S.Zero)
        out = sum((counts[j] * z[j] for j in outside), sp.S.Zero)
        lhs = sum((counts[j] * z[j] / z[y] for j in outside), sp.S.Zero) / counts[y] - out / total
        rhs = out * (total - counts[y] * z[y]) / (counts[y] * z[y] * total)
        proof.require_zero(lhs - rhs, f"sample {i}: the Step 1 identity")


def _evaluate(
    proof: Derivation, per_sample: Outside, direction: sp.Matrix, Wfin: sp.Matrix, norm: sp.Expr,
    C: sp.Expr, bound: Bound, radii: Sequence[int],
) -> None:
    """Step 3: the exact masses against the bound at each radius, to :data:`_DIGITS` digits."""
    rows = []
    for radius in radii:
        at = radius * direction + Wfin
        worst = sp.S.Zero
        for _i, sample, _scc, outside in per_sample:
            counts = Counter(sample.tokens)
            k, T = sample.query, len(sample.tokens)
            u = {j: at[j, k] for j in counts}
            mass = sum((counts[j] * sp.exp(u[j]) for j in outside), sp.S.Zero) / sum(
                (counts[j] * sp.exp(u[j]) for j in counts), sp.S.Zero
            )
            limit = bound(T, sp.Integer(radius), norm, C)
            gap = (limit - mass).evalf(_DIGITS)
            proof.require(gap >= 0, f"R={radius}, sample {list(sample.tokens)}: mass {mass.evalf(8)} ≤ bound")
            ratio = (mass / limit).evalf(_DIGITS) if outside else sp.S.Zero
            worst = max(worst, ratio)
        rows.append((radius, f"{float(worst):.4f}"))
    proof.say(
        f"Step 3 (numbers). The exact masses and bounds, evaluated with {_DIGITS} digits, at each "
        "radius; the largest ratio mass / bound over the samples stays below 1 and settles "
        "(the rate $1/\\|W^{svm}\\|$ is the true one):"
    )
    proof.table(("$R$", "max over samples of mass / bound"), rows)


def render() -> str:
    """The Markdown page of this proof."""
    return check().markdown()


def test_retrieval() -> None:
    """The retrieval decay bound holds at every radius on a cyclic-plus-chain instance."""
    check()
