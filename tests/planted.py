"""The planted-DAG datasets of the long-run drift check (written apart from symattn's generators).

Per query token a random total order of 2–16 tokens (the query among them); every sample of that
query draws a sequence from those tokens, ends it with the query, and is labelled with the
highest-ordered token present. Every token-priority graph is then acyclic (S_fin = {0}), so
normalised GD must align W with W^svm, and corr(W, W^svm) must only rise.
"""

from __future__ import annotations

import numpy as np

from symattn.data import Dataset
from symattn.embeddings import Embeddings


def planted_dag(
    *, vocab: int = 16, queries: int = 4, per_query: int = 6, length: int = 5, seed: int = 0
) -> list[tuple[list[int], int]]:
    """Samples ``(tokens, label)`` over ``vocab`` tokens with a planted total order per query."""
    rng = np.random.default_rng(seed)
    samples = []
    for k in rng.choice(vocab, size=queries, replace=False).tolist():
        size = int(rng.integers(2, min(16, vocab) + 1))
        others = rng.choice([t for t in range(vocab) if t != k], size=size - 1, replace=False).tolist()
        order = [k, *others]
        rng.shuffle(order)  # order[0] is the highest-ordered token
        rank = {t: r for r, t in enumerate(order)}
        for _ in range(per_query):
            body = rng.choice(order, size=length - 1).tolist()
            tokens = [*body, k]
            samples.append((tokens, min(tokens, key=rank.__getitem__)))
    return samples


def planted_datasets(seed: int = 0) -> dict[str, Dataset]:
    """The reproduction's two datasets: orthonormal and general independent embeddings."""
    samples = planted_dag(seed=seed)
    gauss = np.random.default_rng(seed + 100).standard_normal((16, 20))
    return {
        "orthonormal": Dataset.from_samples(samples, vocab=16, embeddings=Embeddings.orthonormal(16, 20, seed=seed)),
        "general": Dataset.from_samples(samples, vocab=16, embeddings=Embeddings.given(gauss / np.sqrt(20))),
    }
