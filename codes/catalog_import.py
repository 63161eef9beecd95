"""Copy the committed catalog and curated knowledge into CodeFamily / ErrorCode rows.

Set-based and idempotent: one bulk upsert per table, a few UPDATEs, no query per row.
Ownership: the catalog file owns names, message, header, component and family; curated files
own the knowledge fields and the severity override of the codes they cover. Fields of other
codes that operators filled in admin (title, description, causes, steps, faq, sources, a
severity_override) are left alone, and RunbookNote is never touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from codes.catalog import Catalog, load_catalog
from codes.decode import decode
from codes.families import FALLBACK_NAMES
from codes.knowledge import (
    FAMILY_SLUGS,
    CuratedCode,
    CuratedFamily,
    load_curated_codes,
    load_families,
)
from codes.models import CodeFamily, ErrorCode

CATALOG_FIELDS = [
    "name",
    "other_names",
    "message",
    "message_source",
    "header",
    "component",
    "family",
    "severity",
    "severity_reason",
    "curated",
    "updated_at",
]
CURATED_FIELDS = ["title", "description", "causes", "steps", "faq", "sources", "severity_override"]


@dataclass
class ImportResult:
    families: int = 0
    codes: int = 0
    named: int = 0
    with_message: int = 0
    curated: int = 0
    warnings: list[str] = field(default_factory=list)


def import_codes(
    catalog: Catalog | None = None,
    families: dict[str, CuratedFamily] | None = None,
    curated: dict[int, CuratedCode] | None = None,
) -> ImportResult:
    """Upsert every family and code; arguments default to the committed files."""
    catalog = catalog if catalog is not None else load_catalog()
    families = families if families is not None else load_families()
    curated = curated if curated is not None else load_curated_codes()
    result = ImportResult(warnings=_name_conflicts(catalog, curated))

    with transaction.atomic():
        # A code whose curated file was removed loses the override that file gave it.
        ErrorCode.objects.filter(curated=True).exclude(value__in=list(curated)).update(
            curated=False, severity_override=""
        )
        family_ids = _upsert_families(families)
        result.families = len(family_ids)
        now = timezone.now()
        rows = [
            _row(value, catalog, curated, families, family_ids, now)
            for value in sorted({entry.value for entry in catalog} | set(curated))
        ]
        # Catalog-owned fields for every code; curated fields too, but only for curated codes.
        _upsert([row for row in rows if not row["curated"]], CATALOG_FIELDS)
        curated_rows = [row for row in rows if row["curated"]]
        _upsert(curated_rows, CATALOG_FIELDS + CURATED_FIELDS)
        # An override set in admin wins over the default the catalog just wrote.
        ErrorCode.objects.exclude(severity_override="").update(severity=F("severity_override"))

    result.codes = len(rows)
    result.named = sum(1 for row in rows if row["name"])
    result.with_message = sum(1 for row in rows if row["message"])
    result.curated = len(curated_rows)
    return result


def _upsert(rows: list[dict], update_fields: list[str]) -> None:
    """INSERT … ON CONFLICT (value) DO UPDATE in bulk: COPY through a temporary table on
    PostgreSQL, multi-row VALUES batches elsewhere (SQLite).

    Raw SQL because the ORM's bulk_create spends most of its time building model instances and
    compiling per-field SQL, and psycopg is slow to split statements with thousands of
    placeholders; COPY avoids both.
    """
    if not rows:
        return
    opts = ErrorCode._meta
    fields = [opts.get_field(name) for name in rows[0]]
    quote = connection.ops.quote_name
    table = quote(opts.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    on_conflict = (
        f"ON CONFLICT ({quote(opts.get_field('value').column)}) DO UPDATE SET "
        + ", ".join(
            f"{quote(opts.get_field(n).column)} = excluded.{quote(opts.get_field(n).column)}"
            for n in update_fields
        )
    )
    json_fields = {f.attname for f in fields if f.get_internal_type() == "JSONField"}

    def values(row: dict) -> list:
        return [
            connection.ops.adapt_json_value(row[f.attname], f.encoder)
            if f.attname in json_fields
            else row[f.attname]
            for f in fields
        ]

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            staging = quote("codes_import_staging")
            cursor.execute(f"DROP TABLE IF EXISTS {staging}")
            cursor.execute(
                f"CREATE TEMP TABLE {staging} AS SELECT {columns} FROM {table} WITH NO DATA"
            )
            with cursor.cursor.copy(f"COPY {staging} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(values(row))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging} {on_conflict}"
            )
            cursor.execute(f"DROP TABLE {staging}")
            return
        placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
        limit = connection.features.max_query_params or 30_000
        batch = max(1, min(1000, limit // len(fields)))
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) "
                f"VALUES {', '.join([placeholder] * len(chunk))} {on_conflict}",
                [value for row in chunk for value in values(row)],
            )


def _upsert_families(families: dict[str, CuratedFamily]) -> dict[str, int]:
    objects = []
    for slug in FAMILY_SLUGS:
        text = families.get(slug)
        objects.append(
            CodeFamily(
                slug=slug,
                name=text.name if text else FALLBACK_NAMES[slug],
                default_severity=text.default_severity if text else "error",
                summary=text.summary if text else "",
                where_logged=text.where_logged if text else "",
                troubleshooting=text.troubleshooting if text else "",
                decode_snippet=text.decode_snippet if text else "",
            )
        )
    CodeFamily.objects.bulk_create(
        objects,
        update_conflicts=True,
        unique_fields=["slug"],
        update_fields=[
            "name",
            "default_severity",
            "summary",
            "where_logged",
            "troubleshooting",
            "decode_snippet",
        ],
    )
    return dict(CodeFamily.objects.filter(slug__in=FAMILY_SLUGS).values_list("slug", "id"))


def _row(
    value: int,
    catalog: Catalog,
    curated_codes: dict[int, CuratedCode],
    families: dict[str, CuratedFamily],
    family_ids: dict[str, int],
    now,
) -> dict:
    # In memory (catalog file + the knowledge being imported), no database.
    decoded = decode(value, curated_codes=curated_codes, families=families)
    curated = curated_codes.get(value)
    entry = catalog.get(value)
    return dict(
        value=value,
        name=decoded.name[:120],
        other_names=decoded.other_names,
        message=decoded.message,
        message_source=decoded.message_source,
        header=entry.header if entry else "",
        component=decoded.component,
        family_id=family_ids[decoded.family],
        severity=decoded.severity,
        severity_reason=decoded.severity_reason,
        curated=curated is not None,
        updated_at=connection.ops.adapt_datetimefield_value(now),
        title=decoded.title,
        description=curated.description if curated else "",
        causes=curated.causes if curated else "",
        steps=curated.steps if curated else "",
        faq=curated.faq if curated else [],
        sources=curated.sources if curated else [],
        severity_override=curated.severity if curated else "",
    )


def _name_conflicts(catalog: Catalog, curated: dict[int, CuratedCode]) -> list[str]:
    """A curated name that the catalog gives to a different value is almost surely a typo."""
    warnings = []
    for value, code in curated.items():
        owner = catalog.by_name(code.name) if code.name else None
        if owner is not None and owner.value != value and not _same_win32(owner.value, value):
            warnings.append(
                f"{code.path}: name {code.name} belongs to {owner.hex} in the catalog, "
                f"not {code.hex}"
            )
    return warnings


def _same_win32(a: int, b: int) -> bool:
    """ERROR_FILE_NOT_FOUND is Win32 2 and also names 0x80070002."""
    return a <= 0xFFFF and b >> 16 == 0x8007 and b & 0xFFFF == a
