"""Everything the knowledge page and the JSON API show for one code, gathered in one place.

The decode comes from `codes.decode.decode` (catalog, curated files, admin edits, by the same
rule as `codes.facts`, so the page names a code as charts, triage and alerts do). The curated
text and the family texts come from the rows `import_codes` copied from the committed files under
codes/knowledge/ when it has run, otherwise from the files themselves. Admin shows those rows
read-only (curated codes and families are edited in git), so the page shows what the files said
at the last import. Knowledge typed in admin on a code without a curated file (description,
causes, steps) is not read here: only curated rows are.

In French (the request's language), the translated files under codes/knowledge/*/fr/ replace
the English text section by section (`codes.knowledge.translated_code`); what they leave out,
or a code without a translation, reads in English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from django.urls import reverse
from django.utils import translation

from codes.decode import DecodedCode, decode
from codes.families import family_name
from codes.knowledge import (
    CuratedCode,
    CuratedFamily,
    load_curated_codes,
    load_families,
    translated_code,
    translated_family,
)
from codes.models import CodeFamily, ErrorCode

# The first `$code = '…'` (or `$text = '…'`) assignment of a family snippet is its example.
_SNIPPET_EXAMPLE = re.compile(
    r"^(?P<lead>\$(?:code|text)\s*=\s*')(?P<example>[^']*)(?P<tail>')", re.M
)


@dataclass(frozen=True)
class KnowledgePage:
    decoded: DecodedCode
    family: CuratedFamily
    title: str = ""
    severity_reason: str = ""
    description: str = ""
    causes: str = ""
    steps: str = ""
    faq: list[dict[str, str]] = field(default_factory=list)
    decode_snippet: str = ""

    @property
    def curated(self) -> bool:
        return bool(self.description or self.causes or self.steps)


def knowledge_page(value: int, extension: str = "", language: str | None = None) -> KnowledgePage:
    """The page for an unsigned 32-bit value (and a setup extended code, if one was given);
    works for codes outside the catalog too. `language` defaults to the active one.

    Three queries: the code's row for the decode, the curated row, the family row.
    """
    language = language or translation.get_language()
    decoded = decode(f"0x{value:08X}_{extension}" if extension else value, use_db=True)
    row = ErrorCode.objects.filter(value=value, curated=True).first()
    curated_file = load_curated_codes().get(value)
    curated = None
    if row is not None:
        curated = CuratedCode(
            value=value,
            name=row.name,
            title=decoded.title,
            family=decoded.family,
            severity=decoded.severity,
            severity_reason=decoded.severity_reason,
            description=row.description,
            causes=row.causes,
            steps=row.steps,
            faq=list(row.faq or []),
        )
    elif curated_file is not None:
        curated = replace(
            curated_file, title=decoded.title, severity_reason=decoded.severity_reason
        )
    if curated is not None:
        curated = translated_code(curated, language)
        text = {
            "description": curated.description,
            "causes": curated.causes,
            "steps": curated.steps,
        }
        faq, title, reason = curated.faq, curated.title, curated.severity_reason
    else:
        text, faq, title, reason = {}, [], decoded.title, decoded.severity_reason
    family = curated_family(decoded.family, language)
    return KnowledgePage(
        decoded=decoded,
        family=family,
        title=title,
        severity_reason=reason,
        faq=[item for item in faq if isinstance(item, dict) and item.get("q")],
        decode_snippet=snippet_for(family.decode_snippet, decoded),
        **text,
    )


def curated_family(slug: str, language: str | None = None) -> CuratedFamily:
    """A family's name, default severity and shared texts (in `language` where a translation
    has them): the row `import_codes` copied from its file, else the committed file itself,
    else just the slug."""
    return translated_family(_english_family(slug), language or translation.get_language())


def _english_family(slug: str) -> CuratedFamily:
    row = CodeFamily.objects.filter(slug=slug).first()
    if row is not None:
        return CuratedFamily(
            slug=row.slug,
            name=row.name,
            default_severity=row.default_severity,
            summary=row.summary,
            where_logged=row.where_logged,
            troubleshooting=row.troubleshooting,
            decode_snippet=row.decode_snippet,
        )
    curated = load_families().get(slug)
    # The name the decoder, the charts and triage give the family (`codes.facts`).
    return curated or CuratedFamily(slug=slug, name=family_name(slug), default_severity="error")


def snippet_for(snippet: str, decoded: DecodedCode) -> str:
    """The family snippet with its example code replaced by this one, in the same notation
    (signed decimal stays signed decimal; a setup example keeps room for the extended code)."""
    match = _SNIPPET_EXAMPLE.search(snippet)
    if not match:
        return snippet
    example = match.group("example")
    if re.fullmatch(r"[+-]?\d+", example.strip()):
        ours = str(decoded.signed)
    elif decoded.extension and re.search(r"\s[-_]\s|_", example):
        ours = f"{decoded.hex} - 0x{decoded.extension}"
    else:
        ours = decoded.hex
    return f"{snippet[: match.start('example')]}{ours}{snippet[match.end('example') :]}"


def page_json(page: KnowledgePage) -> dict:
    """The JSON API answer: the decode (same keys as `manage.py decode --json`) plus the
    curated and family texts, all Markdown left as Markdown."""
    data = page.decoded.as_dict()
    data.update(
        {
            "url": reverse("codes:detail", kwargs={"code": page.decoded.notation}),
            "description": page.description,
            "causes": page.causes,
            "steps": page.steps,
            "faq": page.faq,
            "where_logged": page.family.where_logged,
            "family_summary": page.family.summary,
            "family_troubleshooting": page.family.troubleshooting,
            "decode_snippet": page.decode_snippet,
        }
    )
    return data
