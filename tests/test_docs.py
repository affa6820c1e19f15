"""The documentation in docs/: every section the code cites exists, and the
numbering is the reference specification's (so a citation means the same
section in both)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import ROOT, SHARED, need

DOCS = ROOT / "docs"
CITED_IN = ("pybbolt", "cli", "tests", "benchmarks", "fuzz")
CITATION = re.compile(r"\b(CLI|FORMAT)\.md\s*§?\s*(\d+(?:\.\d+)*)")
HEADING = re.compile(r"^#{2,4} (\d+(?:\.\d+)*)\.? ", re.MULTILINE)


def _sections(path: Path) -> list[str]:
    return HEADING.findall(path.read_text(encoding="utf-8"))


def _citations() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {"CLI": set(), "FORMAT": set()}
    for folder in CITED_IN:
        for source in sorted((ROOT / folder).rglob("*.py")):
            for doc, number in CITATION.findall(source.read_text(encoding="utf-8")):
                found[doc].add(number)
    return found


def test_every_cited_section_exists() -> None:
    cited = _citations()
    assert cited["FORMAT"] and cited["CLI"]
    for doc, numbers in cited.items():
        sections = set(_sections(DOCS / f"{doc}.md"))
        assert numbers <= sections, (doc, sorted(numbers - sections))


@pytest.mark.parametrize("doc", ["FORMAT", "CLI"])
def test_numbering_is_the_reference_numbering(doc: str) -> None:
    reference = SHARED / "spec" / f"{doc}.md"
    need(reference.is_file(), f"../shared/spec/{doc}.md is not present next to the repository")
    assert _sections(DOCS / f"{doc}.md") == _sections(reference)


def test_architecture_names_existing_modules() -> None:
    text = (DOCS / "ARCHITECTURE.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:pybbolt|cli)/[a-z_]+\.py)`", text))
    assert named
    # A module of the planned restructuring is marked: "`x.py` (planned" or
    # "(planned: ... `x.py`".
    planned = {m for m in named
               if f"`{m}` (planned" in text or re.search(rf"\(planned[^)]*`{re.escape(m)}`", text)}
    missing = sorted(m for m in named - planned if not (ROOT / m).is_file())
    assert missing == []
