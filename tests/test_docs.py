"""Every example in README.md and docs/*.md runs, and shows what it prints.

* ```bash blocks: each line that starts with ``symattn `` runs (install lines, with ``pip``, are
  skipped) and must exit 0;
* other blocks: each ``$ symattn ...`` line runs and its output must be the lines that follow it:
  the text exactly, the numbers in it to 1e-6 relative (numbers below 1e-10 in size only as such:
  they are rounding); a line ``...`` stands for any lines. A comment after the command may say
  ``exits N`` (the exit code; otherwise 0) and ``to X`` (numbers to X absolute: for outputs that
  move with the last bit of the arithmetic, such as a long normalised-GD run);
* the ```python blocks of a page run in order in one namespace, like a notebook.

Everything runs in a directory holding ``data.txt`` (the embedded example), the file the docs use.
"""

from __future__ import annotations

import math
import re
import shlex
from pathlib import Path

import pytest

from symattn.cli import main

ROOT = Path(__file__).resolve().parents[1]
# docs/conjectures.md runs a user's own conjecture file and a 1000-example search; its commands are
# exercised by tests/test_cli_conjecture.py and tests/test_conjecture_*.py instead.
PAGES = [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").glob("*.md") if p.name != "conjectures.md")]
_FENCE = re.compile(r"^```(\w*)\s*$")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _blocks(page: Path) -> list[tuple[str, int, list[str]]]:
    """(language, first line number, lines) of every fenced block of ``page``."""
    blocks, current, lang, start = [], None, "", 0
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
        fence = _FENCE.match(line.strip())
        if fence and current is None:
            current, lang, start = [], fence.group(1), number + 1
        elif line.strip() == "```" and current is not None:
            blocks.append((lang, start, current))
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def _examples() -> list[pytest.ParameterSet]:
    found = []
    for page in PAGES:
        name = page.relative_to(ROOT)
        python = [(start, lines) for lang, start, lines in _blocks(page) if lang == "python"]
        if python:
            found.append(pytest.param("python", python, None, id=f"{name}:python"))
        for lang, start, lines in _blocks(page):
            for i, line in enumerate(lines):
                text = line.strip()
                if lang == "bash" and text.startswith("symattn ") and "pip " not in text:
                    command = text.split("  #")[0].strip()
                    found.append(pytest.param("bash", command, None, id=f"{name}:{start + i}"))
                elif lang != "bash" and text.startswith("$ symattn "):
                    output = []
                    for rest in lines[i + 1 :]:
                        if rest.startswith("$ "):
                            break
                        output.append(rest)
                    found.append(pytest.param("shown", text[2:], output, id=f"{name}:{start + i}"))
    return found


def _same_number(shown: float, got: float, tolerance: float) -> bool:
    if abs(shown) < 1e-10 and abs(got) < 1e-10:
        return True
    return math.isclose(shown, got, rel_tol=1e-6, abs_tol=max(tolerance, 1e-12))


def _same_line(shown: str, got: str, tolerance: float) -> bool:
    """The same text once numbers are taken out, and the same numbers (see the module docstring)."""
    a, b = shown.rstrip(), got.rstrip()
    if _NUMBER.sub("#", a) != _NUMBER.sub("#", b):
        return False
    pairs = zip(_NUMBER.findall(a), _NUMBER.findall(b), strict=True)
    return all(x == y or _same_number(float(x), float(y), tolerance) for x, y in pairs)


def _matches(shown: list[str], got: list[str], tolerance: float = 0.0) -> bool:
    if not shown:
        return not got
    if shown[0].strip() == "...":
        return any(_matches(shown[1:], got[i:], tolerance) for i in range(len(got) + 1))
    return bool(got) and _same_line(shown[0], got[0], tolerance) and _matches(shown[1:], got[1:], tolerance)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "data.txt").write_text((ROOT / "symattn" / "examples" / "default.txt").read_text())
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(("kind", "example", "output"), _examples())
def test_documented_example(kind: str, example: object, output: list[str] | None, workdir: Path, capsys):
    if kind == "python":
        namespace: dict[str, object] = {"__name__": "docs_example"}
        for start, lines in example:  # type: ignore[attr-defined]
            exec(compile("\n".join(lines), f"<docs line {start}>", "exec"), namespace)  # the docs' own code
        return
    assert isinstance(example, str)
    command, _, comment = example.partition("  # ")
    exits = re.search(r"\bexits (\d+)", comment)
    within = re.search(r"\bto ([0-9.e-]+)", comment)
    code = main(shlex.split(command)[1:])
    got = capsys.readouterr()
    assert code == (int(exits.group(1)) if exits else 0), got.err
    if output is not None:
        shown = [line for line in output if line.strip() or not line]
        while shown and not shown[-1].strip():
            shown.pop()
        lines = got.out.rstrip("\n").split("\n")
        tolerance = float(within.group(1)) if within else 0.0
        assert _matches(shown, lines, tolerance), f"documented:\n{chr(10).join(shown)}\n\nprinted:\n{got.out}"


def test_the_examples_are_found():
    kinds = [p.values[0] for p in _examples()]
    assert kinds.count("bash") >= 4 and kinds.count("shown") >= 5 and kinds.count("python") >= 4
