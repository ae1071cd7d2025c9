"""Named graph-SVM instances shared by the SVM, finite-component, prediction and result tests."""

from __future__ import annotations

import numpy as np

from symattn import Dataset, Embeddings, realise

# K = 5 tokens in d = 2: with e_2 = e_0 + e_1 and e_4 = 2 e_0 + e_1, the cycle {0, 1} forces
# u_0 = u_1 = t, token 2 above it forces t >= 1, and every label above the query 4 forces t <= -1.
INFEASIBLE = {4: [(0, 1), (1, 0), (2, 0), (2, 1), (0, 3), (1, 3), (0, 4), (1, 4), (2, 4)]}
INFEASIBLE_ROWS = [[1, 0], [0, 1], [1, 1], [1, -1], [2, 1]]

# K = 4 tokens in d = 3 with e_2 = e_0 + e_1, where the dependent token 2 is also a query.
DEPENDENT_QUERY = {0: [(2, 0), (2, 1)], 1: [(2, 1)], 2: [(1, 2)]}
DEPENDENT_QUERY_ROWS = [[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1]]


def chain_and_cycle() -> Dataset:
    """Query 3: the cycle {0, 1} above 2 above 3; query 4: the chain 2 > 0 > 4."""
    return realise({
        3: [(0, 1), (1, 0), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)],
        4: [(2, 0), (2, 4), (0, 4)],
    }, vocab=5)


def random_dataset(K: int, n: int, T: int, L: int, seed: int, embeddings: Embeddings | None = None) -> Dataset:
    """``n`` samples of ``T`` uniform tokens over ``K``, queries among ``L`` tokens, labels from the sequence."""
    rng = np.random.default_rng(seed)
    queries = rng.choice(K, size=L, replace=False)
    tokens = rng.integers(0, K, size=(n, T))
    tokens[:, -1] = queries[rng.integers(0, L, size=n)]
    labels = tokens[np.arange(n), rng.integers(0, T, size=n)]
    return Dataset.from_arrays(tokens.ravel(), np.arange(n + 1) * T, labels, vocab=K, embeddings=embeddings)
