"""``python -m proofs [--only NAME] [--write-docs]`` is ``symattn prove``."""

import sys

from symattn.cli import main

raise SystemExit(main(["prove", *sys.argv[1:]]))
