"""Insert occurrences in bulk, skipping those already stored, and say exactly which were new.

Both databases insert with `ON CONFLICT (tenant, dedupe_digest) DO NOTHING` and count only
what the statement stored, so counts stay exact even when two imports of the same file run at
once. On SQLite a few multi-row INSERT statements store a batch and the connection's change
counter says how many rows were new (the write lock is the transaction's, so nothing else
changes the table).

On PostgreSQL a batch first goes by COPY straight into the table, in a savepoint: if that
succeeds, every row was new. If it fails (some row is stored already), the rows go by COPY into a
session-local staging table (emptied at every commit) and reach the real table with one
`INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING`: COPY is far cheaper than large parameter
lists, and the conflict handling stays the same."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain
from sqlite3 import SQLITE_LIMIT_VARIABLE_NUMBER

from django.db import connection, transaction
from django.utils import timezone

from fleet.models import Occurrence
from fleet.models.core import dedupe_digest
from fleet.pending import Batch, close_batch, open_batch

COLUMNS = [
    "tenant_id", "device_id", "code", "code_extension", "occurred_at", "source", "dedupe_key",
    "dedupe_digest", "update_title", "kb", "message", "extra", "received_at", "batch",
    "import_record_id",
]  # fmt: skip


# Rows per SQLite INSERT statement, at most (the parameter limit may allow fewer).
ROWS_PER_STATEMENT = 2_000


@dataclass(slots=True)
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
    # Set by a caller that keys rows by a digest alone (the importer: its text key is a hash
    # of the row, of no use to a reader); else computed from source and dedupe_key.
    dedupe_digest: bytes = b""


def insert_occurrences(
    tenant_id: int, rows: list[NewOccurrence], import_record_id: int | None = None
) -> list[int]:
    """Store `rows`, ignoring any whose dedupe key is stored; return the codes of new rows.

    The rows form one pending batch (`fleet.pending`), committed with them. Call inside a
    transaction; the caller owns the commit.
    """
    if not rows:
        return []
    # No savepoint when nested: the batch and its rows share the caller's transaction.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        batch = open_batch(cursor)
        if connection.vendor == "postgresql":
            inserted = _insert_by_copy(tenant_id, rows, import_record_id, batch.id)
            close_batch(cursor, batch, len(inserted))
        else:
            inserted, high = _insert_sqlite(tenant_id, rows, import_record_id, batch)
            close_batch(cursor, batch, len(inserted), high)
    return inserted


def _insert_sqlite(
    tenant_id: int, rows: list[NewOccurrence], import_record_id: int | None, batch: Batch
) -> tuple[list[int], int | None]:
    """Multi-row `INSERT … ON CONFLICT DO NOTHING` statements on the sqlite3 connection itself,
    as many rows to a statement as SQLite's parameter limit allows; the new rows' codes and
    highest id.

    Few statements rather than one `executemany` step per row: binding a statement's rows at
    once and stepping it once cost less than a step per row (docs/performance.md). The count
    comes from the connection's `total_changes` (the table has no triggers, and the write lock
    is ours): when every row was new, the codes are the rows' own; otherwise one range read of
    this batch's rows (ids from `batch.low_id` up, `batch` column equal) says which were.
    Django's cursor wrapper is skipped because its placeholder rewrite and parameter handling
    cost more than SQLite's insert at this size.
    """
    table = connection.ops.quote_name(Occurrence._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in COLUMNS)
    raw = connection.connection
    per = max(
        1, min(ROWS_PER_STATEMENT, raw.getlimit(SQLITE_LIMIT_VARIABLE_NUMBER) // len(COLUMNS))
    )
    one = f"({', '.join(['?'] * len(COLUMNS))})"

    def statement(count: int) -> str:
        return (
            f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * count)} "
            'ON CONFLICT ("tenant_id", "dedupe_digest") DO NOTHING'
        )

    received = _sqlite_time(timezone.now())
    extras = _ExtraTexts(json.dumps)
    params = [
        (
            tenant_id,
            row.device_id,
            row.code,
            row.code_extension[:32],
            _sqlite_time(row.occurred_at),
            (source := row.source[:40]),
            row.dedupe_key,
            _digest(row, source),
            row.update_title[:500],
            row.kb[:20],
            row.message,
            extras.get(row.extra),
            received,
            batch.id,
            import_record_id,
        )
        for row in rows
    ]
    full = statement(per) if len(params) >= per else ""
    cursor = raw.cursor()
    try:
        before = raw.total_changes
        for start in range(0, len(params), per):
            part = params[start : start + per]
            sql = full if len(part) == per else statement(len(part))
            cursor.execute(sql, list(chain.from_iterable(part)))
        added = raw.total_changes - before
        if not added:
            return [], None
        (high,) = cursor.execute("SELECT last_insert_rowid()").fetchone()
        if added == len(rows):
            return [row.code for row in rows], high
        cursor.execute(
            f"SELECT code FROM {table} WHERE id BETWEEN ? AND ? AND batch = ?",
            (batch.low_id, high, batch.id),
        )
        return [code for (code,) in cursor.fetchall()], high
    finally:
        cursor.close()


def _digest(row: NewOccurrence, source: str) -> bytes:
    """The row's unique-index key: the digest its writer gave, else that of (source, key), as
    `Occurrence.fill_digest` does for rows saved through the ORM."""
    return row.dedupe_digest or dedupe_digest(source, row.dedupe_key)


def _sqlite_time(value: datetime) -> str:
    """What Django's SQLite backend stores for a datetime (naive UTC text), without its per-call
    settings and time-zone lookups, which show in profiles at 1,000 rows a batch."""
    if value.tzinfo is UTC:
        return str(value)[:-6]  # what the naive value prints, less its "+00:00"
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return str(value)


STAGE = "fleet_ingest_stage"


def _insert_by_copy(
    tenant_id: int, rows: list[NewOccurrence], import_record_id: int | None, batch: int
) -> list[int]:
    quote = connection.ops.quote_name
    table = quote(Occurrence._meta.db_table)
    columns = ", ".join(quote(c) for c in COLUMNS)
    received = timezone.now()
    text = _copy_text(tenant_id, rows, import_record_id, received, batch)
    storable = "\x00" not in text  # PostgreSQL text cannot hold NUL
    # The staging rows live until the commit, so all of this must share one transaction.
    with transaction.atomic(), connection.cursor() as cursor:
        if storable and _copy_all_new(cursor, table, columns, text):
            return [row.code for row in rows]
        # Created once per database session; ON COMMIT DELETE ROWS empties it after each batch.
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE} ON COMMIT DELETE ROWS AS "
            f"SELECT {columns} FROM {table} WITH NO DATA"
        )
        # Empty already unless a caller runs twice in one transaction. Not TRUNCATE: that gives
        # the table a new file and a catalog update on every batch.
        cursor.execute(f"DELETE FROM {STAGE}")
        with cursor.cursor.copy(f"COPY {STAGE} ({columns}) FROM STDIN") as copy:
            if storable:
                copy.write(text)
            else:
                # Let psycopg refuse the rows with the error it has always raised.
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
                            _digest(row, row.source[:40]),
                            row.update_title[:500],
                            row.kb[:20],
                            row.message,
                            json.dumps(row.extra) if row.extra else "{}",
                            received,
                            batch,
                            import_record_id,
                        )
                    )
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {STAGE} "
            f"ON CONFLICT ({quote('tenant_id')}, {quote('dedupe_digest')}) "
            f"DO NOTHING RETURNING {quote('code')}"
        )
        return [code for (code,) in cursor.fetchall()]


def _copy_all_new(cursor, table: str, columns: str, text: str) -> bool:
    """COPY the rows straight into the table, in a savepoint; False (and nothing stored) if
    that failed, most likely on a row already stored.

    New rows are the common case, and this skips the staging table and the conflict checks,
    which cost PostgreSQL about a third more than the bare COPY. A row another import is
    storing at this moment makes COPY wait for it, as ON CONFLICT would; a failure leaves the
    staged INSERT to skip what is stored, or to raise the error it always raised.
    """
    import psycopg

    try:
        with (
            transaction.atomic(),
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            copy.write(text)
    except psycopg.Error:
        return False
    return True


def _copy_text(
    tenant_id: int,
    rows: list[NewOccurrence],
    import_record_id: int | None,
    received: datetime,
    batch: int,
) -> str:
    """The rows in COPY's text format: formatting them here costs half what `write_row` does,
    and a batch repeats the same few `extra` dicts, so each is encoded once."""
    escape = _copy_escape
    head = f"{tenant_id}\t"
    record = r"\N" if import_record_id is None else import_record_id  # \N is COPY's NULL
    tail = f"\t{received}\t{batch}\t{record}\n"
    extras = _ExtraTexts(lambda extra: escape(json.dumps(extra)))
    # isoformat() carries the offset, so PostgreSQL reads the same instant.
    return "".join(
        [
            f"{head}{row.device_id}\t{row.code}\t{escape(row.code_extension[:32])}\t"
            f"{row.occurred_at.isoformat()}\t{escape(source := row.source[:40])}\t"
            f"{escape(row.dedupe_key)}\t"
            f"\\\\x{_digest(row, source).hex()}\t"
            f"{escape(row.update_title[:500])}\t{escape(row.kb[:20])}\t{escape(row.message)}\t"
            f"{extras.get(row.extra)}{tail}"
            for row in rows
        ]
    )


def _copy_escape(value: str) -> str:
    """Escape what COPY's text format gives a meaning to; most values hold none of it."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class _ExtraTexts:
    """The encoded text of each distinct `extra` dict of string keys and values, encoded once."""

    def __init__(self, encode: Callable[[dict], str]) -> None:
        self.encode = encode
        self.texts: dict[tuple, str] = {}

    def get(self, extra: dict) -> str:
        if not extra:
            return "{}"
        key = tuple(extra.items())
        try:
            text = self.texts.get(key)
        except TypeError:  # a list or dict inside
            return self.encode(extra)
        if text is None:
            text = self.encode(extra)
            # Only strings are remembered: 1 and True are equal keys with two encodings, and
            # nothing but a string equals a string.
            if all(type(k) is str and type(v) is str for k, v in key):
                self.texts[key] = text
        return text
