"""The report's "what we recommend" block: the first curated troubleshooting steps of the codes
that hurt the tenant most, taken from the codes' knowledge (our own text, `codes/knowledge/`).

Steps come from the curated `ErrorCode` row that `import_codes` copied from its file when it has
run, else from the committed file itself: the same source the knowledge page reads
(`codes.knowledge_page`). One query for every code asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils import translation

from codes.knowledge import base_language, load_code_translations, load_curated_codes
from codes.models import ErrorCode

CODES = 4  # codes the block covers
STEPS = 3  # steps shown per code; the knowledge page has the rest

_ITEM = re.compile(r"^\s*(?:\d+[.)]|[-*])\s+")


@dataclass
class Recommendation:
    code: int
    steps: list[str]  # Markdown, one list item each

    @property
    def hex(self) -> str:
        return f"0x{self.code:08X}"


def first_steps(markdown: str, limit: int = STEPS) -> list[str]:
    """The first `limit` items of a Markdown list, each item's wrapped lines joined."""
    items: list[str] = []
    for line in markdown.splitlines():
        if _ITEM.match(line):
            if len(items) == limit:
                break
            items.append(_ITEM.sub("", line).strip())
        elif items and line.strip():
            items[-1] = f"{items[-1]} {line.strip()}"
    return items


def recommendations(codes: list[int], limit: int = CODES) -> list[Recommendation]:
    """For `codes` in order of importance, the first `limit` that have curated steps."""
    rows = dict(
        ErrorCode.objects.filter(value__in=codes, curated=True)
        .exclude(steps="")
        .values_list("value", "steps")
    )
    files = load_curated_codes()
    # The steps of the reader's language where a translation has them (docs/i18n.md).
    translated = load_code_translations(base_language(translation.get_language()))
    found: list[Recommendation] = []
    for code in codes:
        text = (
            (translated[code].steps if code in translated else "")
            or rows.get(code)
            or (files[code].steps if code in files else "")
        )
        steps = first_steps(text)
        if steps:
            found.append(Recommendation(code, steps))
        if len(found) == limit:
            break
    return found
