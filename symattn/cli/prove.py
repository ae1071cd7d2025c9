"""``symattn prove``: run the executable derivations of ``proofs/``."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from symattn.cli._common import EXIT_FAILED, EXIT_OK
from symattn.cli.render import out
from symattn.errors import SymAttnError

__all__ = ["add_parser", "load_proofs", "run"]


def _proofs_root() -> Path:
    """The checkout directory holding the package (``proofs/`` lives beside ``symattn/``)."""
    return Path(__file__).resolve().parent.parent.parent


def load_proofs(root: Path | None = None) -> ModuleType:
    """Import the ``proofs`` package of the checkout at ``root`` (default: beside this package).

    Raises :class:`SymAttnError` with the fix when the directory is absent (an install
    from a wheel has no ``proofs/``) or another ``proofs`` module is already imported.

    >>> load_proofs().NAMES[:2]
    ('gradient', 'compression')
    """
    init = (_proofs_root() if root is None else Path(root)) / "proofs" / "__init__.py"
    if not init.is_file():
        raise SymAttnError(
            f"the proofs/ directory was not found beside the symattn package (looked for {init}); "
            "`symattn prove` runs from a source checkout: clone the repository and install it "
            "with `pip install -e .`"
        )
    loaded = sys.modules.get("proofs")
    where = getattr(loaded, "__file__", None)
    if loaded is not None and where:
        if Path(where).resolve() == init.resolve():
            return loaded
        raise SymAttnError(
            f"a different module named 'proofs' is already imported from {where}; "
            f"run `symattn prove` in a fresh process to use {init.parent}"
        )
    spec = importlib.util.spec_from_file_location(
        "proofs", init, submodule_search_locations=[str(init.parent)]
    )
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["proofs"] = module
    try:
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    except BaseException:
        del sys.modules["proofs"]
        raise
    return module


def run(args: argparse.Namespace) -> int:
    proofs = load_proofs()
    results = proofs.run(args.only or None)
    width = max(len(r.name) for r in results)
    for r in results:
        out(f"{r.name:<{width}}  {r.status.value:<6}  {r.seconds:6.2f} s  {r.message}")
    failed = [r.name for r in results if not r.success]
    total = sum(r.seconds for r in results)
    passed = len(results) - len(failed)
    out(f"{len(results)} proof(s): {passed} passed, {len(failed)} failed in {total:.2f} s")
    if failed:
        return EXIT_FAILED
    if args.write_docs:
        for path in proofs.write_docs():
            out(f"wrote {path}")
    return EXIT_OK


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("prove", help="run the executable proofs in proofs/ (from a source checkout)")
    parser.add_argument(
        "--only", action="append", metavar="NAME", help="run only this proof (repeatable)"
    )
    parser.add_argument(
        "--write-docs", action="store_true",
        help="after all proofs pass, regenerate docs/proofs/*.md and the index",
    )
    parser.set_defaults(run=run)
