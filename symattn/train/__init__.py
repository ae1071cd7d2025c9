"""Training: re-exported from :mod:`symattn.train.run` (split in the next change)."""

from symattn.train.run import *  # noqa: F403
from symattn.train.run import __all__  # noqa: F401
