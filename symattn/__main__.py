"""``python -m symattn`` runs the command line."""

from symattn.cli import main

raise SystemExit(main())
