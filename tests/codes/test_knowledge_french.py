"""The French curated files (codes/knowledge/**/fr/) stay in step with their English originals.

A French file only translates the body: its front matter (code, name, family, severity, ...) is
the English file's, byte for byte once parsed, and its `## ` headings are the English ones, because
the loader matches sections by heading. Commands in code blocks stay as they are; only comments
in them may be translated.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from codes import knowledge

KNOWLEDGE = knowledge.KNOWLEDGE_DIR
FRENCH_FILES = sorted(
    [*(KNOWLEDGE / "codes" / "fr").glob("*.md"), *(KNOWLEDGE / "families" / "fr").glob("*.md")]
)
HEADING = re.compile(r"^## +(.+?)\s*$", re.MULTILINE)
FENCE = re.compile(r"```[A-Za-z0-9_-]*\s*\n(.*?)\n```", re.DOTALL)


def english_of(path: Path) -> Path:
    """codes/knowledge/<kind>/fr/<name>.md -> codes/knowledge/<kind>/<name>.md"""
    return path.parent.parent / path.name


def without_comments(block: str) -> list[str]:
    """A PowerShell block's lines with `#` comments and trailing blanks removed."""
    return [line.split("#", 1)[0].rstrip() for line in block.splitlines()]


def prose(body: str) -> str:
    return re.sub(r"\s+", " ", FENCE.sub("", body)).strip()


def test_there_are_french_files_for_every_family():
    french = {path.stem for path in (KNOWLEDGE / "families" / "fr").glob("*.md")}
    assert french == set(knowledge.FAMILY_SLUGS)


@pytest.mark.parametrize("path", FRENCH_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_french_file_matches_its_english_original(path: Path):
    english = english_of(path)
    assert english.is_file(), f"{path}: no English file {english.name} beside fr/"
    meta, body = knowledge._split(path)
    english_meta, english_body = knowledge._split(english)
    assert meta == english_meta, f"{path.name}: front matter differs from the English file"
    assert HEADING.findall(body) == HEADING.findall(english_body)
    assert prose(body) != prose(english_body), f"{path.name}: body is a copy of the English"
    blocks, english_blocks = FENCE.findall(body), FENCE.findall(english_body)
    assert [without_comments(b) for b in blocks] == [without_comments(b) for b in english_blocks], (
        f"{path.name}: a command in a code block changed"
    )


@pytest.mark.parametrize("path", FRENCH_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_french_file_parses_like_an_english_one(path: Path):
    # The loader's own parser: same sections, non-empty, and the family's powershell block.
    if path.parent.parent.name == "families":
        assert knowledge.parse_family_file(path).slug == path.stem
    else:
        assert knowledge.parse_code_file(path).hex == path.stem
