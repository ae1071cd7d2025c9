"""The worked example of docs/verifying.md runs, and prints what the page shows.

Every fenced block of the section "A worked example" is run in order in one namespace (inside a
temporary directory): ``py`` blocks (Python that needs torch, which tests/test_docs.py leaves out)
are executed, ``bash`` blocks ``$ symattn ...`` run the
command line, and each ``text`` block must equal what the block before it printed.
"""

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="the worked example trains with PyTorch (the bench extra)")

from symattn.cli import main

PAGE = Path(__file__).resolve().parents[1] / "docs" / "verifying.md"
SECTION = "## A worked example"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)


def blocks(text: str) -> list[tuple[str, str]]:
    section = text[text.index(SECTION):]
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(section)]


def run_block(kind: str, body: str, namespace: dict) -> str:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        if kind == "py":
            exec(compile(body, str(PAGE), "exec"), namespace)  # the page's own example code
        else:
            for line in body.splitlines():
                command = shlex.split(line.removeprefix("$ "))
                assert command[0] == "symattn", line
                namespace["exit_codes"].append(main(command[1:]))
    return buffer.getvalue()


def test_worked_example_output_matches(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "worked_example", "exit_codes": []}
    printed = ""
    shown = 0
    for kind, body in blocks(PAGE.read_text(encoding="utf-8")):
        if kind == "text":
            expected = [line.rstrip() for line in body.rstrip("\n").splitlines()]
            assert [line.rstrip() for line in printed.rstrip("\n").splitlines()] == expected
            shown += 1
            printed = ""
        else:
            printed = run_block(kind, body, namespace)
    assert shown >= 5
    assert namespace["exit_codes"] == [0]
