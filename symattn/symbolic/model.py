r"""The attention model as SymPy expressions: scores, attention, token mass, losses, their derivatives.

Everything is built from symbols and numbers only (no string is ever parsed). Scores
:math:`a_t = e_{x_t}^\top W e_k`, attention :math:`s = \operatorname{softmax}(a)`, token mass
:math:`\pi_j = \sum_{t: x_t = j} s_t` and log-loss :math:`\ell = -\log \pi_y` (docs/theory.md §2);
gradients and Hessians come from :func:`sympy.diff`, never from the closed forms they check.

>>> W = weight_matrix(2)
>>> loss = log_loss(W, sp.eye(2), [0, 1, 1], label=1)
>>> sp.simplify(loss.subs({w: 0 for w in W}) - sp.log(sp.Rational(3, 2)))
0
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import sympy as sp

from symattn._validate import as_tokens, parse_enum
from symattn.data import Dataset
from symattn.embeddings import Embeddings
from symattn.errors import InvalidInput
from symattn.graphs import priority_graphs
from symattn.model import Head, Loss, Outer
from symattn.symbolic._common import check_dim

__all__ = [
    "compressed_log_loss",
    "dataset_loss",
    "exact_embeddings",
    "fin_basis",
    "label_probability",
    "log_loss",
    "matrix_gradient",
    "matrix_hessian",
    "sequence_scores",
    "softmax",
    "symbolic_embeddings",
    "token_mass",
    "weight_matrix",
]


def weight_matrix(d: int, name: str = "w") -> sp.Matrix:
    r"""A :math:`d \times d` matrix of independent real symbols ``w_a_b``.

    >>> weight_matrix(2)
    Matrix([
    [w_0_0, w_0_1],
    [w_1_0, w_1_1]])
    """
    check_dim("d", d)
    return sp.Matrix(d, d, lambda a, b: sp.Symbol(f"{name}_{a}_{b}", real=True))


def symbolic_embeddings(K: int, d: int, name: str = "e") -> sp.Matrix:
    r"""A :math:`K \times d` matrix of real symbols ``e_j_a``: row :math:`j` is :math:`e_j`.

    >>> symbolic_embeddings(2, 1)
    Matrix([
    [e_0_0],
    [e_1_0]])
    """
    check_dim("K", K)
    check_dim("d", d)
    return sp.Matrix(K, d, lambda j, a: sp.Symbol(f"{name}_{j}_{a}", real=True))


def exact_embeddings(embeddings: Embeddings) -> sp.Matrix:
    r"""The rows of exact ``embeddings`` as a SymPy matrix of rationals (:math:`I_K` for one-hot).

    >>> exact_embeddings(Embeddings.given([["1", "1/2"], [0, 1]]))
    Matrix([
    [1, 1/2],
    [0,   1]])
    """
    if embeddings.is_onehot:
        return sp.eye(embeddings.size)
    rows = embeddings.exact_matrix()
    return sp.Matrix([[sp.Rational(v.numerator, v.denominator) for v in row] for row in rows])


def sequence_scores(W: sp.Matrix, E: sp.Matrix, tokens: Sequence[int]) -> sp.Matrix:
    r"""Scores :math:`a_t = e_{x_t}^\top W e_k` of a sequence (query :math:`k = x_T`), as a T×1 matrix.

    >>> W = weight_matrix(2)
    >>> sequence_scores(W, sp.eye(2), [0, 1]).T
    Matrix([[w_0_1, w_1_1]])
    """
    tokens = as_tokens(tokens, E.rows)
    if W.shape != (E.cols, E.cols):
        raise InvalidInput(f"W has shape {W.shape}; the embeddings need ({E.cols}, {E.cols})")
    return _scores_with_query(W, E, tokens, tokens[-1])


def softmax(a: sp.Matrix) -> sp.Matrix:
    r""":math:`s_t = e^{a_t} / \sum_r e^{a_r}` for a column of scores.

    >>> x = sp.Symbol("x")
    >>> softmax(sp.Matrix([x, x]))
    Matrix([
    [1/2],
    [1/2]])
    """
    exps = a.applyfunc(sp.exp)
    total = sum(exps, sp.S.Zero)
    return exps.applyfunc(lambda v: v / total)


def token_mass(W: sp.Matrix, E: sp.Matrix, tokens: Sequence[int]) -> dict[int, sp.Expr]:
    r"""Token mass :math:`\pi_j = \sum_{t: x_t = j} s_t` for each distinct token :math:`j` of the sequence.

    >>> W = weight_matrix(2)
    >>> token_mass(sp.zeros(2, 2), sp.eye(2), [1, 0, 1])
    {0: 1/3, 1: 2/3}
    """
    s = softmax(sequence_scores(W, E, tokens))
    mass: dict[int, sp.Expr] = {}
    for t, token in enumerate(tokens):
        mass[int(token)] = mass.get(int(token), sp.S.Zero) + s[t]
    return dict(sorted(mass.items()))


def log_loss(W: sp.Matrix, E: sp.Matrix, tokens: Sequence[int], label: int) -> sp.Expr:
    r"""The log-loss :math:`\ell(W) = -\log \pi_y` of one sample, from the positions (not compressed).

    >>> sp.simplify(log_loss(sp.zeros(2, 2), sp.eye(2), [0, 1, 1], 0))
    log(3)
    """
    mass = token_mass(W, E, tokens)
    if int(label) not in mass:
        raise InvalidInput(f"label={label} is not in the sequence {list(tokens)}; a label must occur in it")
    return -sp.log(mass[int(label)])


def compressed_log_loss(
    potentials: Mapping[int, sp.Expr], counts: Mapping[int, sp.Expr | int], label: int
) -> sp.Expr:
    r"""The compressed form :math:`\log\sum_j e^{u_j + \log c_j} - u_y - \log c_y` (docs/theory.md §2).

    >>> u0, u1 = sp.symbols("u0 u1", real=True)
    >>> compressed_log_loss({0: u0, 1: u1}, {0: 1, 1: 2}, 1)
    -u1 + log(exp(u0) + 2*exp(u1)) - log(2)
    """
    if set(potentials) != set(counts):
        raise InvalidInput(
            f"potentials are given for tokens {sorted(potentials)} but counts for {sorted(counts)}"
        )
    if label not in counts:
        raise InvalidInput(f"label={label} is not among the tokens {sorted(counts)}")
    total = sum((sp.exp(potentials[j] + sp.log(counts[j])) for j in sorted(counts)), sp.S.Zero)
    return sp.log(total) - potentials[label] - sp.log(counts[label])


def matrix_gradient(expr: sp.Expr, W: sp.Matrix) -> sp.Matrix:
    r"""The gradient :math:`\partial\,\mathrm{expr} / \partial W_{ab}` as a matrix of W's shape.

    >>> W = weight_matrix(2)
    >>> matrix_gradient(W[0, 1] ** 2, W)
    Matrix([
    [0, 2*w_0_1],
    [0,       0]])
    """
    return W.applyfunc(lambda w: sp.diff(expr, w))


def matrix_hessian(expr: sp.Expr, W: sp.Matrix) -> sp.Matrix:
    r"""The Hessian in the row-major vectorisation :math:`\mathrm{vec}(W)_{a d + b} = W_{ab}`.

    >>> W = weight_matrix(1)
    >>> matrix_hessian(W[0, 0] ** 3, W)
    Matrix([[6*w_0_0]])
    """
    flat = list(W)
    return sp.hessian(expr, flat)


def label_probability(
    W: sp.Matrix, E: sp.Matrix, tokens: Sequence[int], label: int, *, head: Head | str = Head.IDENTITY
) -> sp.Expr:
    r"""The probability :math:`p` the model gives the label under the read-out ``head``.

    The identity head gives :math:`\pi_y`; the embedding head (docs/theory.md §2, variants) reads the
    output :math:`f = X^\top s` out through logits :math:`z = E f` and returns
    :math:`\operatorname{softmax}(z)_y`.

    >>> label_probability(sp.zeros(2, 2), sp.eye(2), [0, 1, 1], 1)
    2/3
    >>> label_probability(sp.zeros(2, 2), sp.eye(2), [1, 1], 1, head="embedding")
    E/(1 + E)
    """
    tokens = as_tokens(tokens, E.rows)
    return _probability(W, E, tokens, tokens[-1], int(label), parse_enum(Head, head, "head"))


def _probability(
    W: sp.Matrix, E: sp.Matrix, positions: Sequence[int], query: int, label: int, head: Head
) -> sp.Expr:
    s = softmax(_scores_with_query(W, E, positions, query))
    if head is Head.EMBEDDING:
        output = sp.Matrix([list(E[t, :]) for t in positions]).T * s
        return softmax(E * output)[label]
    if label not in positions:
        raise InvalidInput(f"label={label} is not in the sequence {list(positions)}; it must occur in it")
    return sum((s[t] for t, tok in enumerate(positions) if tok == label), sp.S.Zero)


_OUTER_FORMS: dict[Outer, Callable[[sp.Expr], sp.Expr]] = {
    Outer.LOG: lambda p: -sp.log(p),
    Outer.LINEAR: lambda p: -p,
    Outer.SQUARED: lambda p: (1 - p) ** 2,
}
r"""The outer functions :math:`\phi(p)` written from their definitions (not from the NumPy forms)."""


def dataset_loss(
    dataset: Dataset, W: sp.Matrix, *, reduced: bool = False, loss: Loss | str = Loss.LOG
) -> sp.Expr:
    r"""The empirical loss :math:`L(W) = \frac1n \sum_i \phi(p_i(W))`, or the reduced loss :math:`L_{red}`.

    ``loss`` (a :class:`~symattn.model.Loss`, default the log-loss) names the read-out head of
    :math:`p` (see :func:`label_probability`) and the outer function :math:`\phi`.
    With ``reduced=True`` each sample keeps only the positions whose token lies in its label's
    SCC (docs/theory.md §5); the query vector stays :math:`e_k` and the normaliser stays :math:`1/n`.
    The embeddings must be exact.

    >>> ds = Dataset.from_samples([([0, 1], 0), ([0, 1], 1)], vocab=2)
    >>> sp.simplify(dataset_loss(ds, sp.zeros(2, 2)))
    log(2)
    >>> dataset_loss(ds, sp.zeros(2, 2), reduced=True)
    log(2)
    >>> dataset_loss(ds, sp.zeros(2, 2), loss="squared")
    1/4
    """
    kind = parse_enum(Loss, loss, "loss")
    E = exact_embeddings(dataset.embeddings)
    phi = _OUTER_FORMS[kind.outer]
    keep = _kept_positions(dataset) if reduced else None
    terms: list[sp.Expr] = []
    for i, sample in enumerate(dataset):
        positions = [t for t in sample.tokens if keep is None or t in keep[i]]
        terms.append(phi(_probability(W, E, positions, sample.query, sample.label, kind.head)))
    return sp.Add(*terms) / len(dataset)


def _scores_with_query(W: sp.Matrix, E: sp.Matrix, tokens: Sequence[int], query: int) -> sp.Matrix:
    column = W * E[query, :].T
    return sp.Matrix([(E[t, :] * column)[0, 0] for t in tokens])


def _kept_positions(dataset: Dataset) -> list[frozenset[int]]:
    graphs = priority_graphs(dataset)
    return [frozenset(graphs.sample_scc(i)) for i in range(len(dataset))]


def fin_basis(dataset: Dataset) -> tuple[sp.Matrix, ...]:
    r"""A basis of :math:`S_{fin} = \mathrm{span}\{(e_i - e_j) e_k^\top : i \asymp_k j\}` (exact embeddings).

    The exact twin of :func:`symattn.finite.fin_basis` (a star basis, not orthonormalised). For
    every query :math:`k` and SCC :math:`C = (c_0 < c_1 < \dots)` of :math:`G_k` it takes
    :math:`(e_{c_0} - e_{c_m}) e_k^\top` for :math:`m \ge 1`: independent when the embeddings
    are, :math:`\sum_k \sum_C (|C| - 1)` of them.

    >>> ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3)
    >>> fin_basis(ds)
    (Matrix([
    [0, 0,  1],
    [0, 0, -1],
    [0, 0,  0]]),)
    """
    E = exact_embeddings(dataset.embeddings)
    basis: list[sp.Matrix] = []
    for k, graph in priority_graphs(dataset).items():
        for scc in graph.sccs:
            for j in scc[1:]:
                basis.append((E[scc[0], :] - E[j, :]).T * E[k, :])
    return tuple(basis)
