"""The documentation is self-contained: every theory citation and theory link points to a section that exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
THEORY = ROOT / "docs" / "theory.md"
CITED_IN = ("symattn", "proofs", "docs", "tests")
# "docs/theory.md §4", "``docs/theory.md`` §4", "docs/theory.md §2–§6", "docs/theory.md §3-§4"
CITATION = re.compile(r"docs/theory\.md`*\s*§(\d+)((?:\s*[-–,]\s*§?\d+)*)")
LINK = re.compile(r"\]\((?:docs/)?theory\.md#([^)\s]+)\)")


def _sections() -> dict[int, str]:
    found = re.findall(r"^## §(\d+) (.+)$", THEORY.read_text(encoding="utf-8"), flags=re.M)
    return {int(number): title for number, title in found}


def _anchor(title: str, number: int) -> str:
    """The GitHub anchor of the heading ``## §N title``: lower case, punctuation dropped, spaces to dashes."""
    text = f"{number} {title}".lower()
    return re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", text))


def _sources() -> list[Path]:
    return sorted(p for top in CITED_IN for p in (ROOT / top).rglob("*")
                  if p.suffix in {".py", ".md", ".txt"} and p.is_file() and p.name != "test_theory_citations.py")


def _citations() -> list[tuple[Path, int]]:
    out = []
    for path in _sources():
        for match in CITATION.finditer(path.read_text(encoding="utf-8")):
            numbers = [int(match.group(1)), *map(int, re.findall(r"\d+", match.group(2)))]
            out.extend((path, n) for n in numbers)
    return out


def test_the_theory_page_has_the_nine_sections_in_order():
    assert list(_sections()) == list(range(1, 10))
    assert _sections()[6] == "What training does (P1–P6)"


def test_every_theory_citation_names_a_section_that_exists():
    citations = _citations()
    assert len({path for path, _ in citations}) > 20  # the code, the proofs and the docs all cite it
    missing = [f"{path.relative_to(ROOT)}: §{n}" for path, n in citations if n not in _sections()]
    assert missing == []


def test_every_link_into_the_theory_page_hits_a_heading():
    anchors = {_anchor(title, n) for n, title in _sections().items()}
    links = [(path, a) for path in _sources() for a in LINK.findall(path.read_text(encoding="utf-8"))]
    assert links
    assert [f"{p.relative_to(ROOT)}#{a}" for p, a in links if a not in anchors] == []


@pytest.mark.parametrize("pattern", [r"THEORY §", r"THEORY P\d", r"``THEORY`` in the README"])
def test_no_citation_of_a_document_outside_the_repository(pattern):
    hits = [str(p.relative_to(ROOT)) for p in [*_sources(), ROOT / "README.md"]
            if re.search(pattern, p.read_text(encoding="utf-8"))]
    assert hits == []


def test_the_citation_pattern_catches_a_missing_section():
    text = "see docs/theory.md §12 and ``docs/theory.md`` §2–§11"
    numbers = [[int(m.group(1)), *map(int, re.findall(r"\d+", m.group(2)))] for m in CITATION.finditer(text)]
    assert numbers == [[12], [2, 11]]
    assert not {12, 11} <= set(_sections())
