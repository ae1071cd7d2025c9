r"""The pseudo-graph: the token-priority graphs of what a trained ``W`` actually selects.

For non-convex heads or losses, gradient descent can converge in direction to the graph-SVM of
a *pseudo-graph* instead of the true one (docs/theory.md §6, P6). Under ``W`` each training sample
*selects* the tokens whose attention mass (summed over copies) exceeds ``threshold``; the sample
is replaced by one pseudo-sample per selected token ``s``, with ``s`` as its label. So ``s`` is
preferred over every other token of the sequence, and the selected tokens of one sample tie
(one SCC). When ``W`` follows the true graph's SVM, the selected tokens are the label's SCC and
the pseudo-graph has the true graph's SCC structure.

This lives with the verification code because it exists to judge trained weights: it needs a
``W`` and says which graph that ``W`` has converged to.

>>> from symattn.data import Dataset
>>> ds = Dataset.from_samples([([0, 1, 2], 0), ([0, 1, 2], 1)], vocab=3)
>>> W = np.zeros((3, 3)); W[2, 2] = 20.0        # everything attends to the query token 2
>>> pg = pseudo_graph(ds, W)
>>> [(s.tokens, s.label) for s in pg.dataset], pg[2].sccs
([((0, 1, 2), 2), ((0, 1, 2), 2)], ((2,), (0,), (1,)))
"""

from __future__ import annotations

import numpy as np

from symattn._arrays import range_indices
from symattn._validate import require_dataset
from symattn.data import Dataset
from symattn.errors import InvalidInput
from symattn.graphs import PriorityGraphs, priority_graphs
from symattn.scores import check_weights, log_token_mass

__all__ = ["DEFAULT_THRESHOLD", "pseudo_graph", "selected_tokens"]

DEFAULT_THRESHOLD = 1e-2
"""The attention mass above which a token counts as selected (the published local run's value)."""


def selected_tokens(dataset: Dataset, W: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> np.ndarray:
    r"""Which (sample, distinct token) entries ``W`` selects: mass :math:`\pi_j > ` ``threshold``.

    Aligned with ``dataset.counts``. A sample whose masses all stay at or below the threshold
    selects its tokens of maximal mass instead, so every sample selects at least one token.

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1], 1)], vocab=2)
    >>> selected_tokens(ds, np.zeros((2, 2)), 0.6).tolist()
    [True, True]
    """
    require_dataset(dataset, "selected_tokens")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 <= threshold < 1:
        raise InvalidInput(f"threshold={threshold!r} must be a number in [0, 1), e.g. 0.01")
    W = check_weights(W, dataset.embeddings.dim)
    c = dataset.counts
    log_pi = log_token_mass(dataset, W)
    chosen = log_pi > np.log(threshold) if threshold > 0 else np.isfinite(log_pi)
    lengths = np.diff(c.indptr)
    top = np.repeat(np.maximum.reduceat(log_pi, c.indptr[:-1]), lengths)
    empty = np.repeat(np.add.reduceat(chosen.astype(np.int64), c.indptr[:-1]) == 0, lengths)
    return chosen | (empty & (log_pi == top))


def pseudo_graph(dataset: Dataset, W: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> PriorityGraphs:
    r"""The token-priority graphs of the pseudo-dataset induced by ``W`` (P6).

    Parameters
    ----------
    dataset : Dataset
        The training data (its embeddings score ``W``).
    W : numpy.ndarray, shape (d, d)
        Trained weights.
    threshold : float
        Attention mass above which a token is selected (default 0.01).

    Returns
    -------
    PriorityGraphs
        The graphs of the pseudo-dataset (``.dataset``): one sample per (training sample,
        selected token), with the selected token as label and the original sequence.

    >>> from symattn.data import Dataset
    >>> ds = Dataset.from_samples([([0, 1, 2], 0)], vocab=3)
    >>> W = np.zeros((3, 3)); W[:, 2] = [5.0, 5.0, -5.0]
    >>> pseudo_graph(ds, W)[2].sccs
    ((0, 1), (2,))
    """
    chosen = selected_tokens(dataset, W, threshold)
    c = dataset.counts
    sample = c.sample[chosen]
    labels = c.token[chosen]
    lengths = np.diff(dataset.offsets)[sample]
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    index = range_indices(dataset.offsets[sample], lengths)
    pseudo = Dataset.from_arrays(
        dataset.tokens[index], offsets, labels, vocab=dataset.vocab, embeddings=dataset.embeddings,
    )
    return priority_graphs(pseudo)
