"""Argument checks shared by the model and the trainers: enum options and dataset arguments."""

from __future__ import annotations

import enum
from typing import TypeVar

from symattn.data import Dataset
from symattn.errors import InvalidInput

__all__ = ["parse_enum", "require_dataset"]

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
