"""One answer to "what is this code": name, title, family and operator severity.

Charts, the triage queue and rules, alert rules and emails all ask here, so a code never reads
"unknown" in one place and "error" in another. The rule is the knowledge page's: decode the
value (committed catalog, curated files, family defaults; `codes.decode`), then let the code's
`ErrorCode` row win on the fields it fills (`codes.decode.db_edits`: name, message, title,
severity, family). A code absent from the catalog keeps its decoded family and severity, and
`label` is never blank: the symbolic name, else the title or message, else a description read
from the bits.

Cache: the decode part, which depends only on the committed files, is kept per process and per
code, and is dropped when those files are reloaded. The row part is read on every lookup, in one
query per `LOOKUP_BATCH` codes (the one query callers made before), so a catalog import or an
admin edit shows at once in every web and worker process, with no cache to invalidate.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace

from django.db import connection

from codes.catalog import load_catalog
from codes.decode import db_edits, decode, hresult_fields
from codes.knowledge import load_curated_codes, load_families
from codes.models import ErrorCode

# Codes per catalog query; SQLite's default limit of bound parameters is 999.
LOOKUP_BATCH = 5_000
# The decode cache holds at most this many codes (a few hundred bytes each), then starts over:
# ingest accepts any 32-bit value, and a process should not grow without bound.
CACHE_LIMIT = 100_000


@dataclass(frozen=True)
class CodeFacts:
    """What every page, rule and email says about one code."""

    value: int
    name: str  # symbolic name (WU_E_CALL_CANCELLED); blank when no source knows one
    title: str  # curated or admin-written one-line title; may be blank
    message: str  # the system message text; may be blank
    family: str  # family slug (`codes.knowledge.FAMILY_SLUGS`, or an imported row's)
    family_name: str
    severity: str  # operator severity: error | warning | informational
    curated: bool  # our team wrote knowledge text for it (files or admin)
    in_catalog: bool

    @property
    def hex(self) -> str:
        return f"0x{self.value:08X}"

    @property
    def description(self) -> str:
        """One line, never blank: title, else message, else what the bits say."""
        if self.title:
            return self.title
        if self.message:
            return self.message
        bits = hresult_fields(self.value)
        kind = "failure" if bits.severity_bit else "success"
        return (
            f"{self.family_name}: unnamed {kind} code, {bits.facility_name}, code 0x{bits.code:04X}"
        )

    @property
    def label(self) -> str:
        """What a table cell or an email calls the code: its name, else its description."""
        return self.name or self.description


_FIELDS = frozenset(f.name for f in fields(CodeFacts))
_decoded: dict[int, CodeFacts] = {}
_decoded_from: tuple[int, ...] = ()
_lock = threading.Lock()


def _sources() -> tuple[int, ...]:
    """Identity of the loaded committed files: a reload (cache_clear) makes a new one."""
    return (id(load_catalog()), id(load_curated_codes()), id(load_families()))


def _decoded_facts(values: list[int]) -> dict[int, CodeFacts]:
    """Facts from the committed files alone, cached per code."""
    global _decoded_from
    sources = _sources()
    with _lock:
        if sources != _decoded_from or len(_decoded) + len(values) > CACHE_LIMIT:
            _decoded.clear()
            _decoded_from = sources
        found = {value: _decoded[value] for value in values if value in _decoded}
    missing = [value for value in values if value not in found]
    for value in missing:
        d = decode(value)
        found[value] = CodeFacts(
            value=d.value,
            name=d.name,
            title=d.title,
            message=d.message,
            family=d.family,
            family_name=d.family_name,
            severity=d.severity,
            curated=d.curated,
            in_catalog=d.in_catalog,
        )
    if missing:
        with _lock:
            _decoded.update((value, found[value]) for value in missing)
    return found


def with_row(facts: CodeFacts, row: ErrorCode | _Row | None) -> CodeFacts:
    """`facts` with what the catalog row fills in; an `ErrorCode` needs its family selected."""
    if row is None:
        return facts
    changes = {key: value for key, value in db_edits(row).items() if key in _FIELDS}
    changes["curated"] = facts.curated or row.curated
    return replace(facts, **changes)


def lookup_batch() -> int:
    """Codes per catalog query: LOOKUP_BATCH, or fewer where the backend binds fewer."""
    return min(LOOKUP_BATCH, (connection.features.max_query_params or LOOKUP_BATCH + 1) - 1)


@dataclass(frozen=True)
class _Family:
    slug: str
    name: str


@dataclass(frozen=True)
class _Row:
    """The columns of an `ErrorCode` row that `db_edits` reads, without a model instance
    (building ten thousand of those costs more than the query)."""

    value: int
    name: str
    message: str
    title: str
    severity: str
    severity_reason: str
    curated: bool
    family: _Family | None


_COLUMNS = (
    "value",
    "name",
    "message",
    "title",
    "severity",
    "severity_reason",
    "curated",
    "family__slug",
    "family__name",
)


def _rows(values: list[int]) -> dict[int, _Row]:
    """Catalog rows of `values`, one query per `lookup_batch()` codes."""
    batch = lookup_batch()
    rows: dict[int, _Row] = {}
    for start in range(0, len(values), batch):
        found = ErrorCode.objects.filter(value__in=values[start : start + batch]).values_list(
            *_COLUMNS
        )
        for *fields_, slug, family_name in found:
            family = _Family(slug, family_name) if slug is not None else None
            rows[fields_[0]] = _Row(*fields_, family=family)
    return rows


def facts_for(values: Iterable[int]) -> dict[int, CodeFacts]:
    """Facts for every code given, catalogued or not: no query for none, else one per batch."""
    wanted = sorted(set(values))
    if not wanted:
        return {}
    rows = _rows(wanted)
    decoded = _decoded_facts(wanted)
    return {value: with_row(decoded[value], rows.get(value)) for value in wanted}


def facts_of(value: int) -> CodeFacts:
    """Facts for one code (one query)."""
    return facts_for([value])[value]


def facts_from_rows(rows: Iterable[ErrorCode]) -> dict[int, CodeFacts]:
    """Facts for catalog rows already read (family selected), with no further query."""
    rows = list(rows)
    decoded = _decoded_facts([row.value for row in rows])
    return {row.value: with_row(decoded[row.value], row) for row in rows}
