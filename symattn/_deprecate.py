"""Private: the one way an old public name announces its replacement.

>>> import warnings
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     warn_renamed("TopSCCs.sccs", "TopSCCs.indices")
>>> str(caught[0].message)
'TopSCCs.sccs is deprecated; use TopSCCs.indices (see docs/glossary.md)'
"""

from __future__ import annotations

import warnings

__all__ = ["warn_renamed"]


def warn_renamed(old: str, new: str) -> None:
    """Warn (``DeprecationWarning``, pointing at the caller's caller) that ``old`` is now ``new``."""
    warnings.warn(f"{old} is deprecated; use {new} (see docs/glossary.md)", DeprecationWarning, stacklevel=3)
