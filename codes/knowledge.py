"""Parse the curated knowledge files under codes/knowledge/ (our own words, reviewed in git).

`codes/<HEX>.md`: YAML front matter (code, name, title, family, severity, severity_reason,
sources, faq) then `## Description`, `## Common causes`, `## Troubleshooting steps`.
`families/<slug>.md`: front matter (slug, name, default_severity) then `## Summary`,
`## Where Windows logs it`, `## Troubleshooting`, `## Decode snippet` (a ```powershell block).
Every problem raises `KnowledgeError` naming the file, so a bad edit fails loudly in review.

Translations live beside them, `codes/fr/<HEX>.md` and `families/fr/<slug>.md`: the same front
matter (code, name, family, severity identical to the English file, checked) and the same English
`## ` headings, the text in French. A section or key a translation leaves out reads in English
(`translated_code`, `translated_family`), so a page is never half empty (docs/i18n.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import yaml

from codes.parse import CodeError, parse_code

# Every value falls in exactly one of these families (`codes.families.classify`). They live here,
# with the rest of the file schema, because a family file or curated code must name one of them.
FAMILY_SLUGS: tuple[str, ...] = (
    "windows-update",
    "windows-update-network",
    "cbs",
    "setup",
    "win32",
    "ntstatus",
    "bits",
    "mdm-enrollment",
    "device-registration",
    "intune",
    "configmgr",
    "delivery-optimization",
    "bitlocker",
    "hresult",
)
KNOWLEDGE_DIR = Path(__file__).resolve().parent / "knowledge"
SEVERITIES = ("error", "warning", "informational")

CODE_SECTIONS = {
    "Description": "description",
    "Common causes": "causes",
    "Troubleshooting steps": "steps",
}
FAMILY_SECTIONS = {
    "Summary": "summary",
    "Where Windows logs it": "where_logged",
    "Troubleshooting": "troubleshooting",
    "Decode snippet": "decode_snippet",
}
CODE_KEYS = {"code", "name", "title", "family", "severity", "severity_reason", "sources", "faq"}
FAMILY_KEYS = {"slug", "name", "default_severity"}

_FRONT_MATTER = re.compile(r"\A---\s*\n(?P<yaml>.*?)\n---\s*\n(?P<body>.*)\Z", re.DOTALL)
_HEADING = re.compile(r"^## +(?P<title>.+?)\s*$", re.MULTILINE)
_FENCE = re.compile(r"```(?P<lang>[A-Za-z0-9_-]*)\s*\n(?P<code>.*?)\n```", re.DOTALL)


class KnowledgeError(ValueError):
    """A curated file is malformed; the message names the file and the problem."""


@dataclass(frozen=True)
class CuratedFamily:
    """A family as its file under knowledge/families/ describes it (or the `CodeFamily` row
    `import_codes` copied from that file); a family without one has only its slug and name."""

    slug: str
    name: str
    default_severity: str
    summary: str = ""
    where_logged: str = ""
    troubleshooting: str = ""
    decode_snippet: str = ""
    path: Path | None = None


@dataclass(frozen=True)
class CuratedCode:
    value: int
    name: str
    title: str
    family: str
    severity: str
    severity_reason: str
    description: str
    causes: str
    steps: str
    sources: list[str] = field(default_factory=list)
    faq: list[dict[str, str]] = field(default_factory=list)
    path: Path | None = None

    @property
    def hex(self) -> str:
        return f"0x{self.value:08X}"


def _split(path: Path) -> tuple[dict, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeError(f"{path}: cannot read ({exc})") from exc
    match = _FRONT_MATTER.match(text.replace("\r\n", "\n"))
    if not match:
        raise KnowledgeError(f"{path}: must start with '---' YAML front matter closed by '---'")
    try:
        meta = yaml.safe_load(match.group("yaml"))
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"{path}: front matter is not valid YAML ({exc})") from exc
    if not isinstance(meta, dict):
        raise KnowledgeError(f"{path}: front matter must be a mapping of keys")
    return meta, match.group("body")


def _sections(
    path: Path, body: str, expected: dict[str, str], *, partial: bool = False
) -> dict[str, str]:
    headings = list(_HEADING.finditer(body))
    if body[: headings[0].start() if headings else len(body)].strip():
        raise KnowledgeError(f"{path}: text before the first '## ' section")
    found: dict[str, str] = {}
    for index, heading in enumerate(headings):
        title = heading.group("title")
        if title not in expected:
            allowed = ", ".join(f"'## {t}'" for t in expected)
            raise KnowledgeError(f"{path}: unknown section '## {title}' (expected {allowed})")
        if expected[title] in found:
            raise KnowledgeError(f"{path}: section '## {title}' appears twice")
        end = headings[index + 1].start() if index + 1 < len(headings) else len(body)
        content = body[heading.end() : end].strip()
        if not content:
            raise KnowledgeError(f"{path}: section '## {title}' is empty")
        found[expected[title]] = content
    missing = [f"'## {t}'" for t, key in expected.items() if key not in found]
    if missing and not partial:
        raise KnowledgeError(f"{path}: missing section {', '.join(missing)}")
    return found


def _text(path: Path, meta: dict, key: str, *, required: bool = True) -> str:
    value = meta.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise KnowledgeError(f"{path}: '{key}' must be text, got {type(value).__name__}")
    if required and not value.strip():
        raise KnowledgeError(f"{path}: '{key}' is required")
    return value.strip()


def _severity(path: Path, meta: dict, key: str) -> str:
    value = _text(path, meta, key)
    if value not in SEVERITIES:
        raise KnowledgeError(f"{path}: '{key}' is {value!r}; expected one of {SEVERITIES}")
    return value


def _unknown_keys(path: Path, meta: dict, allowed: set[str]) -> None:
    unknown = sorted(set(meta) - allowed)
    if unknown:
        raise KnowledgeError(f"{path}: unknown front matter key(s) {', '.join(unknown)}")


def parse_family_file(path: Path) -> CuratedFamily:
    meta, body = _split(path)
    _unknown_keys(path, meta, FAMILY_KEYS)
    slug = _text(path, meta, "slug")
    if slug not in FAMILY_SLUGS:
        raise KnowledgeError(
            f"{path}: unknown family slug {slug!r}; expected one of {FAMILY_SLUGS}"
        )
    if path.stem != slug:
        raise KnowledgeError(f"{path}: file name must be {slug}.md to match its slug")
    sections = _sections(path, body, FAMILY_SECTIONS)
    fence = _FENCE.search(sections["decode_snippet"])
    if not fence or fence.group("lang").lower() != "powershell":
        raise KnowledgeError(f"{path}: '## Decode snippet' must hold a ```powershell block")
    return CuratedFamily(
        slug=slug,
        name=_text(path, meta, "name"),
        default_severity=_severity(path, meta, "default_severity"),
        summary=sections["summary"],
        where_logged=sections["where_logged"],
        troubleshooting=sections["troubleshooting"],
        decode_snippet=fence.group("code").strip("\n"),
        path=path,
    )


def parse_code_file(path: Path) -> CuratedCode:
    meta, body = _split(path)
    _unknown_keys(path, meta, CODE_KEYS)
    raw_code = meta.get("code")
    if raw_code is None or isinstance(raw_code, bool):
        raise KnowledgeError(f"{path}: 'code' is required (quote it: code: \"0x8024000B\")")
    try:
        parsed = parse_code(str(raw_code))
    except CodeError as exc:
        raise KnowledgeError(f"{path}: bad code: {exc}") from exc
    if parsed.extension:
        raise KnowledgeError(f"{path}: code {raw_code!r} has an extension; curate the base code")
    if path.stem != parsed.hex:
        raise KnowledgeError(f"{path}: file name must be {parsed.hex}.md to match code {raw_code}")
    family = _text(path, meta, "family")
    if family not in FAMILY_SLUGS:
        raise KnowledgeError(f"{path}: unknown family {family!r}; expected one of {FAMILY_SLUGS}")
    sources = _sources(path, meta)
    faq = _faq(path, meta)
    sections = _sections(path, body, CODE_SECTIONS)
    return CuratedCode(
        value=parsed.value,
        name=_text(path, meta, "name", required=False),
        title=_text(path, meta, "title"),
        family=family,
        severity=_severity(path, meta, "severity"),
        severity_reason=_text(path, meta, "severity_reason", required=False),
        description=sections["description"],
        causes=sections["causes"],
        steps=sections["steps"],
        sources=sources,
        faq=faq,
        path=path,
    )


def _sources(path: Path, meta: dict) -> list[str]:
    sources = meta.get("sources") or []
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise KnowledgeError(f"{path}: 'sources' must be a list of text lines")
    return [s.strip() for s in sources]


def _faq(path: Path, meta: dict) -> list[dict[str, str]]:
    faq = meta.get("faq") or []
    if not isinstance(faq, list):
        raise KnowledgeError(f"{path}: 'faq' must be a list of {{q, a}} items")
    for number, item in enumerate(faq, start=1):
        if (
            not isinstance(item, dict)
            or set(item) != {"q", "a"}
            or not all(isinstance(item[k], str) and item[k].strip() for k in ("q", "a"))
        ):
            raise KnowledgeError(f"{path}: faq item {number} must have exactly 'q' and 'a' text")
    return [{"q": item["q"].strip(), "a": item["a"].strip()} for item in faq]


def read_families(directory: Path | None = None) -> dict[str, CuratedFamily]:
    directory = directory or KNOWLEDGE_DIR / "families"
    families = {}
    for path in sorted(directory.glob("*.md")):
        family = parse_family_file(path)
        families[family.slug] = family
    return families


def read_curated_codes(directory: Path | None = None) -> dict[int, CuratedCode]:
    directory = directory or KNOWLEDGE_DIR / "codes"
    curated = {}
    for path in sorted(directory.glob("*.md")):
        code = parse_code_file(path)
        curated[code.value] = code
    return curated


@cache
def load_families() -> dict[str, CuratedFamily]:
    """The committed family texts, read once per process."""
    return read_families()


@cache
def load_curated_codes() -> dict[int, CuratedCode]:
    """The committed curated code files, read once per process."""
    return read_curated_codes()


# Languages the curated files are translated into (a subdirectory each), beside English.
TRANSLATIONS: tuple[str, ...] = ("fr",)
# What a translation must say exactly as its English file does: a code is the same code.
_SAME_AS_ENGLISH = ("name", "family", "severity")


@dataclass(frozen=True)
class CodeTranslation:
    """What a translated code file gives; empty fields read in English."""

    value: int
    title: str = ""
    severity_reason: str = ""
    description: str = ""
    causes: str = ""
    steps: str = ""
    faq: list[dict[str, str]] = field(default_factory=list)
    path: Path | None = None


@dataclass(frozen=True)
class FamilyTranslation:
    slug: str
    summary: str = ""
    where_logged: str = ""
    troubleshooting: str = ""
    decode_snippet: str = ""
    path: Path | None = None


def parse_code_translation(path: Path, english: dict[int, CuratedCode]) -> CodeTranslation:
    """A translated code file, checked against the English file of the same code."""
    meta, body = _split(path)
    _unknown_keys(path, meta, CODE_KEYS)
    try:
        parsed = parse_code(str(meta.get("code", "")))
    except CodeError as exc:
        raise KnowledgeError(f"{path}: bad code: {exc}") from exc
    if path.stem != parsed.hex:
        raise KnowledgeError(f"{path}: file name must be {parsed.hex}.md to match its code")
    original = english.get(parsed.value)
    if original is None:
        raise KnowledgeError(f"{path}: no English file {parsed.hex}.md to translate")
    for key in _SAME_AS_ENGLISH:
        if key in meta and _text(path, meta, key, required=False) != getattr(original, key):
            raise KnowledgeError(
                f"{path}: '{key}' must be {getattr(original, key)!r} as in the English file"
            )
    sections = _sections(path, body, CODE_SECTIONS, partial=True)
    return CodeTranslation(
        value=parsed.value,
        title=_text(path, meta, "title", required=False),
        severity_reason=_text(path, meta, "severity_reason", required=False),
        faq=_faq(path, meta),
        path=path,
        **sections,
    )


def parse_family_translation(path: Path, english: dict[str, CuratedFamily]) -> FamilyTranslation:
    meta, body = _split(path)
    _unknown_keys(path, meta, FAMILY_KEYS)
    slug = _text(path, meta, "slug")
    original = english.get(slug)
    if original is None or path.stem != slug:
        raise KnowledgeError(f"{path}: must be named after an English family file (<slug>.md)")
    if "default_severity" in meta and meta["default_severity"] != original.default_severity:
        raise KnowledgeError(f"{path}: 'default_severity' must be as in the English file")
    sections = _sections(path, body, FAMILY_SECTIONS, partial=True)
    snippet = sections.pop("decode_snippet", "")
    if snippet:
        fence = _FENCE.search(snippet)
        if not fence or fence.group("lang").lower() != "powershell":
            raise KnowledgeError(f"{path}: '## Decode snippet' must hold a ```powershell block")
        snippet = fence.group("code").strip("\n")
    return FamilyTranslation(slug=slug, decode_snippet=snippet, path=path, **sections)


def read_code_translations(
    language: str, directory: Path | None = None, english: dict[int, CuratedCode] | None = None
) -> dict[int, CodeTranslation]:
    directory = directory or KNOWLEDGE_DIR / "codes" / language
    english = english if english is not None else load_curated_codes()
    found = {}
    for path in sorted(directory.glob("*.md")):
        translation = parse_code_translation(path, english)
        found[translation.value] = translation
    return found


def read_family_translations(
    language: str,
    directory: Path | None = None,
    english: dict[str, CuratedFamily] | None = None,
) -> dict[str, FamilyTranslation]:
    directory = directory or KNOWLEDGE_DIR / "families" / language
    english = english if english is not None else load_families()
    found = {}
    for path in sorted(directory.glob("*.md")):
        translation = parse_family_translation(path, english)
        found[translation.slug] = translation
    return found


@cache
def load_code_translations(language: str) -> dict[int, CodeTranslation]:
    """The committed translations of curated codes into `language` (none for English)."""
    return read_code_translations(language) if language in TRANSLATIONS else {}


@cache
def load_family_translations(language: str) -> dict[str, FamilyTranslation]:
    return read_family_translations(language) if language in TRANSLATIONS else {}


def base_language(language: str | None) -> str:
    """`fr-be` and `fr` read the French files; anything else English."""
    return (language or "en").split("-")[0].lower()


def translated_code(code: CuratedCode, language: str | None) -> CuratedCode:
    """The curated code in `language`, each field that the translation leaves out in English."""
    translation = load_code_translations(base_language(language)).get(code.value)
    if translation is None:
        return code
    return replace(
        code, **_filled(translation, ("title", "severity_reason", *CODE_SECTIONS.values(), "faq"))
    )


def translated_title(value: int, title: str, language: str | None) -> str:
    """A code's title in `language` where its translation gives one (the code list)."""
    translation = load_code_translations(base_language(language)).get(value)
    return (translation.title if translation is not None else "") or title


def translated_family(family: CuratedFamily, language: str | None) -> CuratedFamily:
    translation = load_family_translations(base_language(language)).get(family.slug)
    if translation is None:
        return family
    return replace(family, **_filled(translation, FAMILY_SECTIONS.values()))


def _filled(translation, names) -> dict:
    return {name: getattr(translation, name) for name in names if getattr(translation, name)}
