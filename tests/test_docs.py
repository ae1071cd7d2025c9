"""Every example in README.md and docs/*.md runs, and shows what it prints.

* ```bash blocks: each line that starts with ``symattn `` runs (install lines, with ``pip``, are
  skipped) and must exit 0;
* other blocks: each ``$ symattn ...`` line runs and its output must be the lines that follow it,
  numbers compared to 1e-6 relative (numbers below 1e-10 in size only as such: they are rounding);
  a line ``...`` stands for any lines; a command ending in ``# exits N`` must exit with N, others 0;
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
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```(\w*)\s*$")
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


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


def _same_token(shown: str, got: str) -> bool:
    if shown == got:
        return True
    if not (_NUMBER.match(shown) and _NUMBER.match(got)):
        return False
    a, b = float(shown), float(got)
    return (abs(a) < 1e-10 and abs(b) < 1e-10) or math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12)


def _same_line(shown: str, got: str) -> bool:
    # a range "3.8e-15-6.9e-14" is two numbers (the dash between a digit and a digit splits it)
    split = re.compile(r"([\s,;:()\[\]{}=|]+|(?<=\d)-(?=\d))")
    a, b = split.split(shown.rstrip()), split.split(got.rstrip())
    return len(a) == len(b) and all(_same_token(x, y) for x, y in zip(a, b, strict=True))


def _matches(shown: list[str], got: list[str]) -> bool:
    if not shown:
        return not got
    if shown[0].strip() == "...":
        return any(_matches(shown[1:], got[i:]) for i in range(len(got) + 1))
    return bool(got) and _same_line(shown[0], got[0]) and _matches(shown[1:], got[1:])


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
    command, _, comment = example.partition("  # exits ")
    code = main(shlex.split(command)[1:])
    got = capsys.readouterr()
    assert code == int(comment or 0), got.err
    if output is not None:
        shown = [line for line in output if line.strip() or not line]
        while shown and not shown[-1].strip():
            shown.pop()
        lines = got.out.rstrip("\n").split("\n")
        assert _matches(shown, lines), f"documented:\n{chr(10).join(shown)}\n\nprinted:\n{got.out}"


def test_the_examples_are_found():
    kinds = [p.values[0] for p in _examples()]
    assert kinds.count("bash") >= 4 and kinds.count("shown") >= 5 and kinds.count("python") >= 4
