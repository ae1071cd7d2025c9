"""Embedded example datasets, used by ``symattn demo`` and the docs.

>>> sorted(EXAMPLES)
['default']
>>> len(load_example("default"))
12
"""

from __future__ import annotations

from importlib import resources

from symattn.data import Dataset
from symattn.errors import InvalidInput
from symattn.formats import load_dataset

__all__ = ["EXAMPLES", "load_example"]

EXAMPLES = {"default": "default.txt"}


def load_example(name: str = "default") -> Dataset:
    """Load an embedded example dataset by name (one of :data:`EXAMPLES`).

    >>> ds = load_example()
    >>> ds.K, len(ds)
    (6, 12)
    """
    if not isinstance(name, str) or name not in EXAMPLES:
        raise InvalidInput(f"unknown example {name!r}; choose one of {sorted(EXAMPLES)}")
    with resources.as_file(resources.files(__package__) / EXAMPLES[name]) as path:
        return load_dataset(path)
