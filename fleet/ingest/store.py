"""Insert occurrences in bulk, skipping those already stored, and say exactly which were new.

`INSERT … ON CONFLICT (tenant, source, dedupe_key) DO NOTHING RETURNING code` works the same on
SQLite (3.35+) and PostgreSQL, and its RETURNING rows are the occurrences this statement stored,
so counts stay exact even when two imports of the same file run at once.

On PostgreSQL the rows first go by COPY into a session-local staging table (emptied at every
commit) and reach the real table with one `INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING`:
COPY is far cheaper than large parameter lists, and the conflict handling stays the same.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import connection, transaction
from django.utils import timezone

from fleet.models import Occurrence

CHUNK_ROWS = 500  # 14 parameters a row stays far below SQLite's 32,766 limit
COLUMNS = [
    "tenant_id", "device_id", "code", "code_extension", "occurred_at", "source", "dedupe_key",
    "update_title", "kb", "message", "extra", "received_at", "aggregated", "import_record_id",
]  # fmt: skip


@dataclass
class NewOccurrence:
    device_id: int
    code: int
    occurred_at: datetime
    source: str
    dedupe_key: str
    code_extension: str = ""
    update_title: str = ""
    kb: str = ""
    message: str = ""
    extra: dict = field(default_factory=dict)


def insert_occurrences(
    tenant_id: int, rows: list[NewOccurrence], import_record_id: int | None = None
) -> list[int]:
    """Store `rows`, ignoring any whose dedupe key is stored; return the codes of new rows.

    Call inside a transaction; the caller owns the commit.
    """
    if not rows:
        return []
    if connection.vendor == "postgresql":
        return _insert_by_copy(tenant_id, rows, import_record_id)
    quote = connection.ops.quote_name
    received = _sqlite_time(timezone.now())
    inserted: list[int] = []
    head = (
        f"INSERT INTO {quote(Occurrence._meta.db_table)} "
        f"({', '.join(quote(c) for c in COLUMNS)}) VALUES "
    )
    tail = (
        f" ON CONFLICT ({quote('tenant_id')}, {quote('source')}, {quote('dedupe_key')}) "
        f"DO NOTHING RETURNING {quote('code')}"
    )
    row_sql = "(" + ", ".join(["%s"] * len(COLUMNS)) + ")"
    for start in range(0, len(rows), CHUNK_ROWS):
        chunk = rows[start : start + CHUNK_ROWS]
        params: list = []
        for row in chunk:
            params += [
                tenant_id,
                row.device_id,
                row.code,
                row.code_extension[:32],
                _sqlite_time(row.occurred_at),
                row.source[:40],
                row.dedupe_key,
                row.update_title[:500],
                row.kb[:20],
                row.message,
                json.dumps(row.extra) if row.extra else "{}",
                received,
                False,
                import_record_id,
            ]
        with connection.cursor() as cursor:
            cursor.execute(head + ", ".join([row_sql] * len(chunk)) + tail, params)
            inserted.extend(code for (code,) in cursor.fetchall())
    return inserted


def _sqlite_time(value: datetime) -> str:
    """What Django's SQLite backend stores for a datetime (naive UTC text), without its per-call
    settings and time-zone lookups, which show in profiles at 1,000 rows a batch."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return str(value)


STAGE = "fleet_ingest_stage"


def _insert_by_copy(tenant_id: int, rows: list[NewOccurrence], import_record_id: int | None):
    quote = connection.ops.quote_name
    table = quote(Occurrence._meta.db_table)
    columns = ", ".join(quote(c) for c in COLUMNS)
    received = timezone.now()
    # The staging rows live until the commit, so all of this must share one transaction.
    with transaction.atomic(), connection.cursor() as cursor:
        # Created once per database session; ON COMMIT DELETE ROWS empties it after each batch.
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE} ON COMMIT DELETE ROWS AS "
            f"SELECT {columns} FROM {table} WITH NO DATA"
        )
        # Empty already unless a caller runs twice in one transaction. Not TRUNCATE: that gives
        # the table a new file and a catalog update on every batch.
        cursor.execute(f"DELETE FROM {STAGE}")
        with cursor.cursor.copy(f"COPY {STAGE} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    (
                        tenant_id,
                        row.device_id,
                        row.code,
                        row.code_extension[:32],
                        row.occurred_at,
                        row.source[:40],
                        row.dedupe_key,
                        row.update_title[:500],
                        row.kb[:20],
                        row.message,
                        json.dumps(row.extra) if row.extra else "{}",
                        received,
                        False,
                        import_record_id,
                    )
                )
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {STAGE} "
            f"ON CONFLICT ({quote('tenant_id')}, {quote('source')}, {quote('dedupe_key')}) "
            f"DO NOTHING RETURNING {quote('code')}"
        )
        return [code for (code,) in cursor.fetchall()]
