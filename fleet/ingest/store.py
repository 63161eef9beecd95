"""Insert occurrences in bulk, skipping those already stored, and say exactly which were new.

`INSERT … ON CONFLICT (tenant, source, dedupe_key) DO NOTHING RETURNING code` works the same on
SQLite (3.35+) and PostgreSQL, and its RETURNING rows are the occurrences this statement stored,
so counts stay exact even when two imports of the same file run at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
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
    ops = connection.ops
    quote = ops.quote_name
    received = ops.adapt_datetimefield_value(timezone.now())
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
                ops.adapt_datetimefield_value(row.occurred_at),
                row.source[:40],
                row.dedupe_key,
                row.update_title[:500],
                row.kb[:20],
                row.message,
                ops.adapt_json_value(row.extra, None),
                received,
                False,
                import_record_id,
            ]
        with connection.cursor() as cursor:
            cursor.execute(head + ", ".join([row_sql] * len(chunk)) + tail, params)
            inserted.extend(code for (code,) in cursor.fetchall())
    return inserted
