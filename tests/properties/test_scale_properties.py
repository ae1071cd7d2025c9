"""Scaling the embeddings by c scales W^svm and W^fin by 1/c^2 and changes nothing else (docs/theory.md §2, scale).

For random datasets and embeddings (exact integer rows scaled exactly as fractions, float rows
scaled in floating point, including more tokens than dimensions so that some problems are
infeasible) and c in {1e-8, 1e-4, 1e-2, 1, 1e2, 1e4, 1e8}: the same dim S_fin, the same statuses,
the same certification, and W c^2 equal to the c = 1 answer.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from symattn.embeddings import Embeddings
from symattn.finite import finite_component
from symattn.strategies import realised_datasets
from symattn.svm import SVMStatus, solve_graph_svm

EXPONENTS = (-8, -4, -2, 0, 2, 4, 8)


@st.composite
def scalable(draw):
    ds = draw(realised_datasets(max_queries=2, max_tokens=5, max_repeats=2))
    K = ds.K
    kind = draw(st.sampled_from(["exact", "float", "float-dependent"]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if kind == "exact":
        while True:
            rows = rng.integers(-2, 3, size=(K, K + 1))
            if np.linalg.matrix_rank(rows) == K:
                break
        return ds, kind, [[Fraction(int(v)) for v in row] for row in rows]
    d = K + 1 if kind == "float" else max(1, K - 1)
    return ds, kind, rng.standard_normal((K, d))


def _scaled(ds, kind, rows, exponent):
    if kind == "exact":
        c = Fraction(10) ** exponent
        return ds.with_embeddings(Embeddings.given([[v * c for v in row] for row in rows]))
    return ds.with_embeddings(Embeddings.given(np.asarray(rows) * 10.0**exponent))


@settings(max_examples=max(1, settings().max_examples // 2))  # 7 scales each: half the profile
@given(scalable())
def test_scaling_the_embeddings_changes_nothing_but_the_scale(case):
    ds, kind, rows = case
    results = {e: (solve_graph_svm(_scaled(ds, kind, rows, e)), finite_component(_scaled(ds, kind, rows, e)))
               for e in EXPONENTS}
    svm1, fin1 = results[0]
    for e, (svm, fin) in results.items():
        c2 = 10.0 ** (2 * e)
        where = f"c = 1e{e} ({kind})"
        assert svm.status is svm1.status and svm.certified == svm1.certified, where
        assert fin.dim == fin1.dim and fin.status is fin1.status and fin.certified == fin1.certified, where
        if svm.status is SVMStatus.INFEASIBLE:
            assert (svm.farkas.exact, svm.farkas.verified) == (svm1.farkas.exact, svm1.farkas.verified), where
        else:
            assert np.linalg.norm(svm.W * c2 - svm1.W) <= 1e-9 * np.linalg.norm(svm1.W), where
        if svm.certified:
            scale = Fraction(10) ** (2 * e)
            assert [[v * scale for v in row] for row in svm.certificate.exact_matrix()] == svm1.certificate.exact_matrix()
        gap = np.linalg.norm(fin.W * c2 - fin1.W)
        if kind == "exact" and fin.proof.proven:
            assert gap <= (c2 * fin.error_bound + fin1.error_bound) * (1 + 1e-9), where
        assert gap <= 1e-9 * np.linalg.norm(fin1.W) + 1e-14, where
