r"""Named known-answer cases: small datasets with hand-derived :math:`W^{svm}` and :math:`W^{fin}`.

One catalogue serves the project's own tests, the conformance vectors
(:mod:`symattn.verify.vectors`) and anyone checking another solver: each :class:`Case` names a
dataset (its samples and embeddings), tags what it exercises (embedding kind, cyclic or acyclic
graphs, repeated tokens, unequal lengths, infeasibility, the published experiment) and, where
the answer can be derived by hand, the exact :math:`W^{svm}` and :math:`W^{fin}`
(``docs/theory.md`` §4, §5). The derivations are in each case's ``description``.

Multipliers are not listed: the graph-SVM's edge constraints are redundant, so its multipliers
are not unique; a solver's multipliers are checked by the KKT conditions instead
(:func:`symattn.verify.check_svm`).

>>> [c.name for c in CASES][:3]
['single-edge', 'chain', 'unequal-lengths']
>>> c = known_case("chain")
>>> c.dataset().n, [str(v) for v in c.exact_svm_matrix()[:, 2]]
(2, ['0', '1', '-1'])
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from symattn._deprecate import warn_renamed
from symattn._exact import object_zeros
from symattn.data import Dataset
from symattn.embeddings import Embeddings
from symattn.errors import InvalidInput

__all__ = ["CASES", "Case", "known_case"]

Samples = tuple[tuple[tuple[int, ...], int], ...]


@dataclass(frozen=True, eq=False)
class Case:
    r"""One named case of the catalogue.

    Attributes
    ----------
    name : str
        A stable identifier (used as a file name by the conformance vectors).
    description : str
        What the case exercises and how its known answers were derived.
    tags : frozenset of str
        From ``onehot``, ``orthonormal``, ``independent``, ``dependent``, ``random-unit``,
        ``exact``, ``cyclic``, ``acyclic``, ``repeated-tokens``, ``unequal-lengths``,
        ``infeasible``, ``published``, ``multi-query``.
    samples : tuple of ((tokens...), label)
        The samples, tokens by id.
    embeddings : Embeddings
        The token embeddings (``K`` rows).
    svm : Mapping[(int, int), Fraction] or None
        Hand-derived nonzero entries of :math:`W^{svm}` (embedding coordinates); ``None`` when
        not derived by hand (then only the solvers' cross-checks apply) or infeasible.
    finite : Mapping[(int, int), float] or None
        Hand-derived nonzero entries of :math:`W^{fin}`; ``None`` when not derived.
    feasible : bool
        Whether the graph-SVM has a feasible point.
    """

    name: str
    description: str
    tags: frozenset[str]
    samples: Samples = field(repr=False)
    embeddings: Embeddings = field(repr=False)
    svm: Mapping[tuple[int, int], Fraction] | None = field(default=None, repr=False)
    finite: Mapping[tuple[int, int], float] | None = field(default=None, repr=False)
    feasible: bool = True

    def dataset(self) -> Dataset:
        """The case's dataset.

        >>> known_case("single-edge").dataset()[0]
        Sample(tokens=(0, 1), label=0)
        """
        emb = self.embeddings
        return Dataset.from_samples(list(self.samples), vocab=emb.size, embeddings=emb)

    def exact_svm_matrix(self) -> np.ndarray:
        """The known :math:`W^{svm}` as a ``(d, d)`` object array of ``Fraction``.

        >>> known_case("single-edge").exact_svm_matrix()[:, 1].tolist()
        [Fraction(1, 2), Fraction(-1, 2)]
        """
        if self.svm is None:
            raise InvalidInput(f"case {self.name!r} has no hand-derived W^svm")
        d = self.embeddings.dim
        out = object_zeros(d * d).reshape(d, d)
        for (r, c), value in self.svm.items():
            out[r, c] = value
        return out

    def svm_matrix(self) -> np.ndarray:
        """Deprecated name of :meth:`exact_svm_matrix` (exact-valued functions are ``exact_*``)."""
        warn_renamed("Case.svm_matrix()", "Case.exact_svm_matrix()")
        return self.exact_svm_matrix()

    def finite_matrix(self) -> np.ndarray:
        """The known :math:`W^{fin}` as a ``(d, d)`` float array.

        >>> known_case("repeated-tokens").finite_matrix()[:2, 2].round(6).tolist()
        [-0.346574, 0.346574]
        """
        if self.finite is None:
            raise InvalidInput(f"case {self.name!r} has no hand-derived W^fin")
        d = self.embeddings.dim
        out = np.zeros((d, d))
        for (r, c), value in self.finite.items():
            out[r, c] = value
        return out


def _column(query: int, values: Mapping[int, Fraction]) -> dict[tuple[int, int], Fraction]:
    return {(token, query): value for token, value in values.items() if value != 0}


def _centred_log(query: int, masses: Mapping[int, Fraction]) -> dict[tuple[int, int], float]:
    """The zero-sum potentials whose softmax is ``masses`` (W^fin of one SCC, counts 1)."""
    logs = {t: math.log(m) for t, m in masses.items()}
    mean = sum(logs.values()) / len(logs)
    return {(t, query): v - mean for t, v in logs.items()}


F = Fraction
_EXACT_ORTHONORMAL = Embeddings.given([["3/5", "4/5", 0, 0], ["-4/5", "3/5", 0, 0], [0, 0, 1, 0]])
_STRAIGHT = (((0, 1, 2), 0), ((0, 1, 2), 1), ((1, 2), 1))
_THEORY = tuple(((0, 1, 2), y) for y in (0, 1, 1, 2, 2, 2))
_DEFAULT = (
    *(((0, 1, 2), y) for y in (0, 1, 1, 2, 2, 2)),
    ((0, 3, 4), 3), ((0, 4), 0),
    ((1, 3, 5), 1), ((1, 3, 5), 3), ((0, 1, 5), 1), ((0, 3, 5), 3),
)
_PUBLISHED = {
    0: (((0, 0, 2, 4), 2), ((2, 4, 1, 1), 4), ((4, 5, 0, 0), 0), ((4, 2, 3, 0), 4), ((5, 2, 5, 4), 4),
        ((4, 1, 4, 0), 4)),
    1: (((3, 4, 0, 4), 4), ((4, 4, 5, 1), 4), ((3, 4, 2, 1), 1), ((2, 0, 1, 5), 1), ((4, 5, 5, 5), 5),
        ((1, 2, 3, 1), 3)),
    2: (((0, 4, 5, 3), 5), ((0, 0, 4, 1), 1), ((2, 5, 1, 4), 5), ((0, 0, 0, 1), 0), ((2, 0, 3, 4), 0),
        ((3, 0, 4, 0), 0)),
}
"""Samples of ``reproduce.random_cyclic_dataset(seed=s)`` (embeddings ``random_unit(6, 8, seed=s)``)."""


def _published(seed: int) -> Case:
    return Case(
        f"published-{seed}",
        f"The published experiment's kind (docs/theory.md §8): random_cyclic_dataset(seed={seed}), "
        "n=6, T=4, K=6, d=8, random unit embeddings; no hand-derived answer (floating point).",
        frozenset({"published", "random-unit", "independent", "cyclic", "repeated-tokens", "multi-query"}),
        _PUBLISHED[seed], Embeddings.random_unit(6, 8, seed=seed),
    )


CASES: tuple[Case, ...] = (
    Case(
        "single-edge",
        "[0 1] -> 0: one edge 0 -> 1 in G_1; min u0^2 + u1^2 with u0 - u1 >= 1 gives u = (1/2, -1/2).",
        frozenset({"onehot", "exact", "acyclic"}),
        (((0, 1), 0),), Embeddings.onehot(2),
        _column(1, {0: F(1, 2), 1: F(-1, 2)}), {},
    ),
    Case(
        "chain",
        "[0 1 2] -> 1, [0 2] -> 0: G_2 is the chain 1 > 0 > 2 (edge 1 -> 2 slack); the tight margins "
        "u1 - u0 = u0 - u2 = 1 at minimum norm give u = (0, 1, -1).",
        frozenset({"onehot", "exact", "acyclic", "unequal-lengths"}),
        (((0, 1, 2), 1), ((0, 2), 0)), Embeddings.onehot(3),
        _column(2, {0: F(0), 1: F(1), 2: F(-1)}), {},
    ),
    Case(
        "unequal-lengths",
        "[3] -> 3, [0 3] -> 0, [1 0 3] -> 1, [2 1 0 3] -> 2: lengths 1 to 4, G_3 the chain "
        "2 > 1 > 0 > 3; equally spaced centred potentials (-1/2, 1/2, 3/2, -3/2), norm^2 = 5.",
        frozenset({"onehot", "exact", "acyclic", "unequal-lengths"}),
        (((3,), 3), ((0, 3), 0), ((1, 0, 3), 1), ((2, 1, 0, 3), 2)), Embeddings.onehot(4),
        _column(3, {0: F(-1, 2), 1: F(1, 2), 2: F(3, 2), 3: F(-3, 2)}), {},
    ),
    Case(
        "theory-cyclic",
        "docs/theory.md §5: labels 0,1,1,2,2,2 on [0 1 2]; one SCC, so W^svm = 0 and W^fin puts the "
        "label frequencies pi = (1/6, 1/3, 1/2) on the tokens: column 2 is log(pi) centred.",
        frozenset({"onehot", "exact", "cyclic"}),
        _THEORY, Embeddings.onehot(3),
        {}, _centred_log(2, {0: F(1, 6), 1: F(1, 3), 2: F(1, 2)}),
    ),
    Case(
        "two-above-one",
        "[0 1 2] -> 0, [0 1 2] -> 1, [1 2] -> 1: SCC {0, 1} above 2; u0 = u1 = a, u2 = b, a - b = 1 "
        "at min 2a^2 + b^2: a = 1/3, b = -2/3. The reduced samples tie 0 and 1 once each: W^fin = 0.",
        frozenset({"onehot", "exact", "cyclic", "unequal-lengths"}),
        _STRAIGHT, Embeddings.onehot(3),
        _column(2, {0: F(1, 3), 1: F(1, 3), 2: F(-2, 3)}), {},
    ),
    Case(
        "three-cycle",
        "[0 1 3] -> 0, [1 2 3] -> 1, [2 0 3] -> 2: the cycle 0 -> 1 -> 2 -> 0 above 3; potentials "
        "(1/4, 1/4, 1/4, -3/4); W^fin = 0 by the cycle's symmetry.",
        frozenset({"onehot", "exact", "cyclic"}),
        (((0, 1, 3), 0), ((1, 2, 3), 1), ((2, 0, 3), 2)), Embeddings.onehot(4),
        _column(3, {0: F(1, 4), 1: F(1, 4), 2: F(1, 4), 3: F(-3, 4)}), {},
    ),
    Case(
        "repeated-tokens",
        "[0 0 1 2] -> 0, [0 0 1 2] -> 1, [0 2] -> 0, [1 1 2] -> 1: SCC {0, 1} above 2, W^svm as in "
        "two-above-one; the reduced loss sees counts (2, 1) with labels 0 and 1 once each, so "
        "2 e^(u0 - u1) = 1: W^fin column 2 is (-log 2 / 2, log 2 / 2, 0). Counts matter here: a "
        "loss on one position of the label instead of the mass of all its copies differs.",
        frozenset({"onehot", "exact", "cyclic", "repeated-tokens", "unequal-lengths"}),
        (((0, 0, 1, 2), 0), ((0, 0, 1, 2), 1), ((0, 2), 0), ((1, 1, 2), 1)), Embeddings.onehot(3),
        _column(2, {0: F(1, 3), 1: F(1, 3), 2: F(-2, 3)}),
        {(0, 2): -math.log(2) / 2, (1, 2): math.log(2) / 2},
    ),
    Case(
        "default-example",
        "The packaged example (symattn.load_example()): query 2 as theory-cyclic; query 4 the chain "
        "3 > 0 > 4 with potentials (0, 1, -1) on (0, 3, 4); query 5 the SCC {1, 3} above 0 and 5 "
        "with potentials 1/2 and -1/2 (norm^2 = 3 in all). W^fin: column 2 as theory-cyclic, "
        "column 5 zero (1 and 3 tie once each).",
        frozenset({"onehot", "exact", "cyclic", "multi-query", "unequal-lengths"}),
        _DEFAULT, Embeddings.onehot(6),
        {**_column(4, {3: F(1), 4: F(-1)}), **_column(5, {1: F(1, 2), 3: F(1, 2), 0: F(-1, 2), 5: F(-1, 2)})},
        _centred_log(2, {0: F(1, 6), 1: F(1, 3), 2: F(1, 2)}),
    ),
    Case(
        "orthonormal-exact",
        "two-above-one with exact orthonormal rows e0 = (3/5, 4/5, 0, 0), e1 = (-4/5, 3/5, 0, 0), "
        "e2 = (0, 0, 1, 0): W^svm = sum_j u_j e_j e_2^T with u = (1/3, 1/3, -2/3), so column 2 is "
        "(e0 + e1)/3 - 2 e2 / 3 = (-1/15, 7/15, -2/3, 0).",
        frozenset({"orthonormal", "exact", "cyclic", "unequal-lengths"}),
        _STRAIGHT, _EXACT_ORTHONORMAL,
        _column(2, {0: F(-1, 15), 1: F(7, 15), 2: F(-2, 3)}), {},
    ),
    Case(
        "orthonormal-float",
        "two-above-one with random orthonormal rows in d = 5 (seed 3); no hand-derived answer.",
        frozenset({"orthonormal", "cyclic", "unequal-lengths"}),
        _STRAIGHT, Embeddings.orthonormal(3, 5, seed=3),
    ),
    Case(
        "independent-exact",
        "two-above-one with independent rows (1,0,0), (1,1,0), (1,1,1): only v = W e_2 is "
        "constrained (v2 = 0, -v3 >= 1), so v = (0, 0, -1) and W = v e_2^T / |e_2|^2: row 2 is "
        "(-1/3, -1/3, -1/3), norm^2 = 1/3.",
        frozenset({"independent", "exact", "cyclic", "unequal-lengths"}),
        _STRAIGHT, Embeddings.given([[1, 0, 0], [1, 1, 0], [1, 1, 1]]),
        {(2, 0): F(-1, 3), (2, 1): F(-1, 3), (2, 2): F(-1, 3)}, {},
    ),
    Case(
        "dependent-feasible",
        "[0 1 2] -> 0 with rows (1,0), (0,1), (1,1) (K = 3 > d = 2): v = W e_2 needs v1 - v2 >= 1 and "
        "-v2 >= 1, so v = (0, -1) and W = v e_2^T / 2.",
        frozenset({"dependent", "exact", "acyclic"}),
        (((0, 1, 2), 0),), Embeddings.given([[1, 0], [0, 1], [1, 1]]),
        {(1, 0): F(-1, 2), (1, 1): F(-1, 2)}, {},
    ),
    Case(
        "dependent-infeasible",
        "[0 2 3] -> 2, [1 2 3] -> 2 with e2 = (e0 + e1)/2: u2 - u0 >= 1 and u2 - u1 >= 1 add up to "
        "0 >= 2, so no W exists (Farkas multipliers 1/2, 1/2 on those edges).",
        frozenset({"dependent", "exact", "acyclic", "infeasible"}),
        (((0, 2, 3), 2), ((1, 2, 3), 2)), Embeddings.given([[1, 0], [0, 1], ["1/2", "1/2"], [1, 1]]),
        None, None, False,
    ),
    *(_published(seed) for seed in sorted(_PUBLISHED)),
)


def known_case(name: str) -> Case:
    """The case called ``name`` (see :data:`CASES`).

    >>> known_case("three-cycle").svm[(3, 3)]
    Fraction(-3, 4)
    """
    for case in CASES:
        if case.name == name:
            return case
    raise InvalidInput(f"unknown case {name!r}; choose one of {[c.name for c in CASES]}")
