"""``symattn prove``: run the executable derivations of ``proofs/``."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from symattn._io import atomic_write_text
from symattn.cli._common import EXIT_FAILED, EXIT_OK
from symattn.cli.render import out
from symattn.errors import InvalidInput, SymAttnError

__all__ = ["add_parser", "load_proofs", "run"]


def load_proofs(root: Path | None = None) -> ModuleType:
    """The ``proofs`` package: the installed one (it ships in the wheel beside ``symattn``), or the
    one in the checkout at ``root``.

    Raises :class:`SymAttnError` with the fix when there is no such package, or when the module
    named ``proofs`` is not symattn's.

    >>> load_proofs().NAMES[:2]
    ('gradient', 'compression')
    """
    if root is not None:
        return _load_from(Path(root) / "proofs" / "__init__.py")
    try:
        module = importlib.import_module("proofs")
    except ImportError:
        raise SymAttnError(
            "the proofs package is not installed; reinstall symattn (`pip install symattn` ships it) "
            "or run from a source checkout"
        ) from None
    if not callable(getattr(module, "run", None)) or not hasattr(module, "NAMES"):
        raise SymAttnError(
            f"the module named 'proofs' imported from {getattr(module, '__file__', '?')} is not symattn's; "
            "run `symattn prove` where that module is not on the path"
        )
    return module


def _load_from(init: Path) -> ModuleType:
    """Import ``proofs`` from the file ``init`` (a checkout's ``proofs/__init__.py``) as ``proofs``."""
    if not init.is_file():
        raise SymAttnError(f"the proofs/ directory was not found (looked for {init})")
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
    width = max((len(r.name) for r in results), default=0)
    for r in results:
        out(f"{r.name:<{width}}  {r.status.value:<6}  {r.seconds:6.2f} s  {r.message}")
    failed = [r.name for r in results if not r.success]
    total = sum(r.seconds for r in results)
    passed = len(results) - len(failed)
    out(f"{len(results)} proof(s): {passed} passed, {len(failed)} failed in {total:.2f} s")
    if failed:
        return EXIT_FAILED
    if args.write_docs:
        target = _docs_dir(args.docs_dir, proofs)
        for name, text in proofs.pages().items():
            out(f"wrote {atomic_write_text(target / name, text)}")
    return EXIT_OK


def _docs_dir(given: str | None, proofs: ModuleType) -> Path:
    """Where ``--write-docs`` writes: ``--docs-dir``, else ``docs/proofs`` beside the ``proofs`` package."""
    if given is not None:
        return Path(given)
    target = Path(str(proofs.__file__)).resolve().parent.parent / "docs" / "proofs"
    if not target.is_dir():
        raise InvalidInput(
            f"{target} does not exist (an installed package has no docs/); pass --docs-dir DIR"
        )
    return target


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("prove", help="run the executable proofs of the proofs package")
    parser.add_argument(
        "--only", action="append", metavar="NAME", help="run only this proof (repeatable)"
    )
    parser.add_argument(
        "--write-docs", action="store_true",
        help="after all proofs pass, regenerate docs/proofs/*.md and the index",
    )
    parser.add_argument(
        "--docs-dir", metavar="DIR",
        help="where --write-docs writes (default: docs/proofs of the source checkout)",
    )
    parser.set_defaults(run=run)
