"""Find catalog entries from what an operator types in the search box.

A query that reads as a code in any notation (`0x8024000B`, `8024000B`, `-2145124341`,
`2149842955`, `1603`) is an exact lookup of that value; a small number is a Win32 error too, so
its HRESULT (`1603` -> 0x80070643, as Windows Update and MSI report it) comes right after it.
Anything else matches symbolic names and words of the title or message, ranked in tiers:
the exact name, then curated pages that match (the ones we wrote for the codes MSPs meet),
then name prefix, name fragment, other names, title words and message words; within a tier the
shortest name (the closest match) first. The same SQL on SQLite and PostgreSQL.

With no query, an operator's list opens on the codes seen at their tenants, most occurrences
first (`fleet_codes`), rather than on page 1 of the whole catalog.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import (
    Case,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Length
from django.utils.translation import get_language

from codes.knowledge import CodeTranslation, base_language, load_code_translations
from codes.models import ErrorCode
from codes.parse import CodeError, ParsedCode, parse_code
from fleet.access import visible_tenants
from fleet.models import DailyCodeStat

MAX_WORDS = 8
# HRESULT_FROM_WIN32: a Win32 error (at most 0xFFFF) in facility 7 with the failure bit.
WIN32_MAX, WIN32_HRESULT = 0xFFFF, 0x80070000
_WORD = re.compile(r"[\w.'-]+")


@dataclass(frozen=True)
class SearchResult:
    query: str
    code: ParsedCode | None  # set when the query read as a code: its page exists in any case
    codes: QuerySet[ErrorCode]


def search_codes(
    query: str, *, curated_only: bool = False, language: str | None = None
) -> SearchResult:
    """Entries matching `query`, best matches first; all entries for an empty query. Curated
    text is matched in `language` (the active one by default)."""
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
        return SearchResult(query, parsed, _value_matches(codes, parsed))
    return SearchResult(query, None, _text_matches(codes, query, language or get_language()))


def _value_matches(codes: QuerySet[ErrorCode], parsed: ParsedCode) -> QuerySet[ErrorCode]:
    if parsed.extension or not 0 < parsed.value <= WIN32_MAX:
        return codes.filter(value=parsed.value)
    hresult = WIN32_HRESULT | parsed.value
    return codes.filter(value__in=[parsed.value, hresult]).order_by(
        Case(When(value=parsed.value, then=Value(0)), default=Value(1)), "value"
    )


def fleet_codes(
    user: AbstractBaseUser | AnonymousUser, codes: QuerySet[ErrorCode]
) -> QuerySet[ErrorCode]:
    """The catalog entries of the codes seen at the user's tenants, most occurrences first
    (all time the daily table holds); empty when their tenants have seen none."""
    seen = (
        DailyCodeStat.objects.filter(tenant__in=visible_tenants(user), code=OuterRef("value"))
        .order_by()
        .values("code")
        .annotate(total=Sum("occurrences"))
        .values("total")
    )
    return (
        codes.annotate(seen=Subquery(seen, output_field=IntegerField()))
        .filter(seen__gt=0)
        .order_by("-seen", "value")
    )


def _text_matches(codes: QuerySet[ErrorCode], query: str, language: str) -> QuerySet[ErrorCode]:
    words = _WORD.findall(query)[:MAX_WORDS]
    if not words:
        return codes.none()
    in_curated_text = Q(value__in=curated_text_matches(words, language))
    in_message = Q()
    in_title = Q()
    for word in words:
        in_message &= Q(message__icontains=word)
        in_title &= Q(title__icontains=word)
    # Symbolic names have no spaces; "call cancelled" should still find WU_E_CALL_CANCELLED.
    name = "_".join(words)
    in_names = Q(name__icontains=name) | Q(aliases__icontains=name)
    return (
        # Aliases (E_ACCESSDENIED for ERROR_ACCESS_DENIED) live in a JSON list; its text form
        # is searchable the same way on SQLite and PostgreSQL.
        codes.annotate(aliases=Cast("other_names", TextField()))
        .filter(in_names | in_message | in_title | in_curated_text)
        .annotate(
            rank=Case(
                When(name__iexact=name, then=Value(0)),
                When(Q(curated=True) & (in_names | in_message | in_title), then=Value(1)),
                When(name__istartswith=name, then=Value(2)),
                When(name__icontains=name, then=Value(3)),
                When(aliases__icontains=name, then=Value(4)),
                When(in_title, then=Value(5)),
                When(in_message, then=Value(6)),
                default=Value(7),  # curated text only
                output_field=IntegerField(),
            ),
            name_length=Length("name"),
        )
        .order_by("rank", "name_length", "value")
    )


def fold(text: str) -> str:
    """Lower case without accents, so "Annulée", "annulee" and "ANNULÉE" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def curated_text_matches(words: list[str], language: str | None) -> list[int]:
    """Values of the curated pages whose translation into `language` holds every word
    (accents and case aside); none for English."""
    folded = [fold(word) for word in words]
    index = _curated_text_index(base_language(language))
    return sorted(value for value, text in index.items() if all(w in text for w in folded))


_INDEXES: dict[tuple[str, int], dict[int, str]] = {}


def _curated_text_index(language: str) -> dict[int, str]:
    """value -> folded translated text of each curated page, built once per loaded set."""
    translations = load_code_translations(language)
    key = (language, id(translations))
    if key not in _INDEXES:
        _INDEXES.clear()  # the files were reloaded: every older index is stale
        _INDEXES[key] = {value: fold(_page_text(t)) for value, t in translations.items()}
    return _INDEXES[key]


def _page_text(code: CodeTranslation) -> str:
    faq = " ".join(f"{item['q']} {item['a']}" for item in code.faq)
    return "\n".join((code.title, code.description, code.causes, code.steps, faq))
