"""Find catalog entries from what an operator types in the search box.

A query that reads as a code in any notation (`0x8024000B`, `8024000B`, `-2145107957`,
`2149859339`, `1603`) is an exact lookup of that value; anything else matches symbolic names
(exact, then prefix, then anywhere) and words of the message or title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Case, IntegerField, Q, QuerySet, TextField, Value, When
from django.db.models.functions import Cast

from codes.models import ErrorCode
from codes.parse import CodeError, ParsedCode, parse_code

MAX_WORDS = 8
_WORD = re.compile(r"[\w.'-]+")


@dataclass(frozen=True)
class SearchResult:
    query: str
    code: ParsedCode | None  # set when the query read as a code: its page exists in any case
    codes: QuerySet[ErrorCode]


def search_codes(query: str, *, curated_only: bool = False) -> SearchResult:
    """Entries matching `query`, best matches first; all entries for an empty query."""
    query = (query or "").strip()
    codes = ErrorCode.objects.select_related("family")
    if curated_only:
        codes = codes.filter(curated=True)
    if not query:
        return SearchResult(query, None, codes.order_by("value"))
    try:
        parsed = parse_code(query)
    except CodeError:
        parsed = None
    if parsed is not None:
        return SearchResult(query, parsed, codes.filter(value=parsed.value))
    return SearchResult(query, None, _text_matches(codes, query))


def _text_matches(codes: QuerySet[ErrorCode], query: str) -> QuerySet[ErrorCode]:
    words = _WORD.findall(query)[:MAX_WORDS]
    if not words:
        return codes.none()
    in_message = Q()
    in_title = Q()
    for word in words:
        in_message &= Q(message__icontains=word)
        in_title &= Q(title__icontains=word)
    # Symbolic names have no spaces; "call cancelled" should still find WU_E_CALL_CANCELLED.
    name = "_".join(words)
    return (
        # Aliases (E_ACCESSDENIED for ERROR_ACCESS_DENIED) live in a JSON list; its text form
        # is searchable the same way on SQLite and PostgreSQL.
        codes.annotate(aliases=Cast("other_names", TextField()))
        .filter(Q(name__icontains=name) | Q(aliases__icontains=name) | in_message | in_title)
        .annotate(
            rank=Case(
                When(name__iexact=name, then=Value(0)),
                When(name__istartswith=name, then=Value(1)),
                When(name__icontains=name, then=Value(2)),
                When(aliases__icontains=name, then=Value(3)),
                When(curated=True, then=Value(4)),
                default=Value(5),
                output_field=IntegerField(),
            )
        )
        .order_by("rank", "value")
    )
