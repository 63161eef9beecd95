"""The French curated files (codes/knowledge/*/fr/) stay in step with their English originals.

A French file translates the text, never the facts: the keys that say which code it is and how it
is classified (code, name, family, severity, and the sources it was checked against; all of a
family's keys) are the English file's, and its `## ` headings are the English ones, because the
loader matches sections by heading. Title, severity reason, FAQ and body are French. Commands,
names and paths in backticks and code blocks stay as they are; only comments in code blocks and
Event Viewer navigation paths (`A > B > C`, as the French interface names them) may change.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from codes import knowledge

KNOWLEDGE = knowledge.KNOWLEDGE_DIR
FRENCH_CODES = sorted((KNOWLEDGE / "codes" / "fr").glob("*.md"))
FRENCH_FAMILIES = sorted((KNOWLEDGE / "families" / "fr").glob("*.md"))
FRENCH_FILES = FRENCH_FAMILIES + FRENCH_CODES
SAME_IN_CODE_FILES = ("code", "name", "family", "severity", "sources")
TRANSLATED_IN_CODE_FILES = ("title", "severity_reason")
HEADING = re.compile(r"^## +(.+?)\s*$", re.MULTILINE)
FENCE = re.compile(r"```[A-Za-z0-9_-]*\s*\n(.*?)\n```", re.DOTALL)
SPAN = re.compile(r"`([^`]+)`")


def file_id(path: Path) -> str:
    return f"{path.parent.parent.name}/{path.stem}"


def english_of(path: Path) -> Path:
    """codes/knowledge/<kind>/fr/<name>.md -> codes/knowledge/<kind>/<name>.md"""
    return path.parent.parent / path.name


def without_comments(block: str) -> list[str]:
    """A PowerShell block's lines with `#` comments and trailing blanks removed."""
    return [line.split("#", 1)[0].rstrip() for line in block.splitlines()]


def prose(text: str) -> str:
    return re.sub(r"\s+", " ", FENCE.sub("", text)).strip()


def literal_spans(text: str) -> Counter:
    """The backtick spans outside code blocks, less Event Viewer paths (translated on purpose)."""
    return Counter(s for s in SPAN.findall(FENCE.sub("", text)) if " > " not in s)


def test_every_family_has_a_french_text():
    assert {path.stem for path in FRENCH_FAMILIES} == set(knowledge.FAMILY_SLUGS)


@pytest.mark.parametrize("path", FRENCH_FILES, ids=file_id)
def test_french_file_matches_its_english_original(path: Path):
    english = english_of(path)
    assert english.is_file(), f"{path}: no English file {english.name} beside fr/"
    meta, body = knowledge._split(path)
    english_meta, english_body = knowledge._split(english)
    assert set(meta) == set(english_meta), f"{path.name}: front matter keys differ"
    if path in FRENCH_FAMILIES:
        assert meta == english_meta, f"{path.name}: front matter differs from the English file"
    else:
        for key in SAME_IN_CODE_FILES:
            assert meta[key] == english_meta[key], f"{path.name}: '{key}' differs from English"
        for key in TRANSLATED_IN_CODE_FILES:
            assert meta[key] != english_meta[key], f"{path.name}: '{key}' is still English"
        assert len(meta["faq"]) == len(english_meta["faq"]), f"{path.name}: FAQ items differ"
        for french_item, english_item in zip(meta["faq"], english_meta["faq"], strict=True):
            assert french_item != english_item, f"{path.name}: a FAQ item is still English"
    assert HEADING.findall(body) == HEADING.findall(english_body)
    assert prose(body) != prose(english_body), f"{path.name}: body is a copy of the English"


@pytest.mark.parametrize("path", FRENCH_FILES, ids=file_id)
def test_french_file_keeps_commands_names_and_paths(path: Path):
    french, english = path.read_text(encoding="utf-8"), english_of(path).read_text(encoding="utf-8")
    assert literal_spans(french) == literal_spans(english), f"{path.name}: a `literal` changed"
    assert [without_comments(b) for b in FENCE.findall(french)] == [
        without_comments(b) for b in FENCE.findall(english)
    ], f"{path.name}: a command in a code block changed"


@pytest.mark.parametrize("path", FRENCH_FILES, ids=file_id)
def test_french_file_parses_like_an_english_one(path: Path):
    # The loader's own parser: known keys, every section present and non-empty, a powershell block.
    if path in FRENCH_FAMILIES:
        assert knowledge.parse_family_file(path).slug == path.stem
    else:
        assert knowledge.parse_code_file(path).hex == path.stem
