"""Argument checks shared by the model and the trainers: enum options, dataset arguments, size limits."""

from __future__ import annotations

import enum
import os
from typing import TypeVar

from symattn._io import format_bytes
from symattn.data import Dataset
from symattn.errors import InvalidInput

__all__ = [
    "MAX_DENSE_DEFAULT",
    "MAX_DENSE_ENV",
    "max_dense",
    "parse_enum",
    "require_dataset",
    "require_dense",
]

E = TypeVar("E", bound=enum.Enum)


def parse_enum(kind: type[E], value: object, what: str) -> E:
    """``value`` as a member of the enum ``kind`` (a member or its value), else :class:`InvalidInput`.

    The one parser of string options (losses, training methods, initialisations).

    >>> from symattn.model import Loss
    >>> parse_enum(Loss, "squared", "loss")
    <Loss.SQUARED: 'squared'>
    """
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except (ValueError, TypeError):
        choices = [m.value for m in kind]
        raise InvalidInput(f"{what}={value!r} is not known; choose one of {choices}") from None


def require_dataset(dataset: object, what: str) -> Dataset:
    """``dataset`` if it is a :class:`~symattn.data.Dataset`, else :class:`InvalidInput` naming ``what``.

    >>> require_dataset([1, 2], "loss")
    Traceback (most recent call last):
    ...
    symattn.errors.InvalidInput: loss needs a Dataset, got list; build one with Dataset.from_samples
    """
    if not isinstance(dataset, Dataset):
        raise InvalidInput(
            f"{what} needs a Dataset, got {type(dataset).__name__}; build one with Dataset.from_samples"
        )
    return dataset


MAX_DENSE_DEFAULT = 4096
"""Default largest :math:`K` and :math:`d` for dense computations: :math:`W`, its gradient,
:math:`W^{svm}` and :math:`W^{fin}` are dense :math:`d \\times d` (or :math:`K \\times K`) float64
matrices, 128 MiB each at 4096."""
MAX_DENSE_ENV = "SYMATTN_MAX_TOKENS"


def max_dense() -> int:
    """The largest ``K`` and ``d`` dense computations accept: ``$SYMATTN_MAX_TOKENS``, else 4096.

    >>> max_dense()
    4096
    """
    raw = os.environ.get(MAX_DENSE_ENV, "").strip()
    if not raw:
        return MAX_DENSE_DEFAULT
    if not raw.isdigit() or int(raw) < 1:
        raise InvalidInput(f"{MAX_DENSE_ENV}={raw!r} must be a positive integer")
    return int(raw)


def require_dense(dataset: Dataset, what: str) -> Dataset:
    """``dataset`` if its ``K`` and ``d`` are within :func:`max_dense`, else :class:`InvalidInput`
    naming the memory one dense matrix would take (checked before anything is allocated).

    Token-priority graphs are sparse and have no such limit.

    >>> from symattn.data import Dataset
    >>> require_dense(Dataset.from_samples([([0, 1], 0)], vocab=10**6), "solve_graph_svm")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    symattn.errors.InvalidInput: solve_graph_svm ... K=1,000,000 needs 7.28 TiB for each, above the limit ...
    """
    top = max_dense()
    for name, size in (("K", dataset.K), ("d", dataset.embeddings.dim)):
        if size > top:
            raise InvalidInput(
                f"{what} forms dense {name} x {name} float64 matrices: {name}={size:,} needs "
                f"{format_bytes(8 * size * size)} for each, above the limit K, d <= {top:,}; raise it "
                f"with the environment variable {MAX_DENSE_ENV}=N if the memory is there"
            )
    return dataset
