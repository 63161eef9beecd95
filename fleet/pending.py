"""The pending ledger: which stored occurrences the aggregation has not counted yet.

Ingest opens a batch (one `PendingBatch` row) in the transaction that stores occurrences, tags
each row with the batch's id and closes the batch with the id range it used; the aggregation
counts whole batches and deletes their ledger rows in the transaction that adds them to the
aggregates. The raw rows are written once and never updated, so counting costs no WAL for the
raw table, and "was this row counted?" has one answer everywhere (undo, retention, metrics):
counted unless its batch is still in the ledger.

Visibility is what makes it safe under concurrent ingest: a batch's ledger row commits with its
occurrences, so a reader's snapshot sees both or neither; a batch still open is invisible and
waits for a later run. Ids of concurrent batches may interleave on PostgreSQL (one sequence,
many sessions), which is why readers match `batch` as well as the id range.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone

from fleet.grains import table
from fleet.models import Occurrence, PendingBatch

LEDGER = "fleet_pendingbatch"  # PendingBatch._meta.db_table, written out for raw SQL below


@dataclass(slots=True)
class Batch:
    """An open batch: its ledger id, and the lowest occurrence id it can have been given."""

    id: int
    low_id: int


def open_batch(cursor) -> Batch:
    """Start a batch inside the caller's transaction, in one statement. On SQLite the
    transaction holds the only write lock (IMMEDIATE), so ids only grow from the table's
    maximum; on PostgreSQL the sequence's next value bounds this session's ids from below."""
    occ = table(Occurrence)
    if connection.vendor == "postgresql":
        low = f"nextval(pg_get_serial_sequence('{occ}', 'id'))"
    else:
        low = f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {occ})"
    cursor.execute(
        f"INSERT INTO {LEDGER} (low_id, high_id, rows, created_at) VALUES ({low}, 0, 0, %s) "
        "RETURNING id, low_id",
        [connection.ops.adapt_datetimefield_value(timezone.now())],
    )
    batch_id, low_id = cursor.fetchone()
    return Batch(id=batch_id, low_id=low_id)


def close_batch(cursor, batch: Batch, rows: int, high_id: int | None = None) -> None:
    """Record how many rows the batch stored and its highest id (on PostgreSQL, when not given,
    the session's last sequence value); a batch that stored nothing leaves no ledger row."""
    if not rows:
        cursor.execute(f"DELETE FROM {LEDGER} WHERE id = %s", [batch.id])
        return
    if high_id is None and connection.vendor == "postgresql":
        high, params = f"currval(pg_get_serial_sequence('{table(Occurrence)}', 'id'))", []
    elif high_id is None:
        high, params = f"(SELECT MAX(id) FROM {table(Occurrence)})", []
    else:
        high, params = "%s", [high_id]
    cursor.execute(
        f"UPDATE {LEDGER} SET high_id = {high}, rows = %s WHERE id = %s",
        [*params, rows, batch.id],
    )


def track(occurrences: Iterable[Occurrence]) -> list[Occurrence]:
    """Save ORM-built occurrences (the demo, tests) as one pending batch, as ingest would."""
    rows = list(occurrences)
    # One transaction: a ledger row committed before its occurrences would be counted empty.
    with transaction.atomic(), connection.cursor() as cursor:
        batch = open_batch(cursor)
        for row in rows:
            row.batch = batch.id
            row.fill_digest()  # bulk_create skips save()
        created = Occurrence.objects.bulk_create(rows, batch_size=5000)
        ids = [row.pk for row in created if row.pk is not None]
        # Dated by the earliest receipt, as ingest's batch is dated by its own.
        received = min((row.received_at for row in created), default=timezone.now())
        PendingBatch.objects.filter(pk=batch.id).update(
            low_id=min(ids, default=batch.low_id),
            high_id=max(ids, default=batch.low_id),
            rows=len(created),
            created_at=received,
        )
    return created


def pending_occurrences() -> QuerySet[Occurrence]:
    """The stored occurrences not counted in the aggregates yet."""
    return Occurrence.objects.filter(batch__in=PendingBatch.objects.values("id"))


def counted_occurrences() -> QuerySet[Occurrence]:
    """The stored occurrences the aggregates already count."""
    return Occurrence.objects.exclude(batch__in=PendingBatch.objects.values("id"))


def pending_rows() -> int:
    """How many occurrences wait for the aggregation, from the ledger alone (cheap)."""
    return PendingBatch.objects.aggregate(rows=Sum("rows"))["rows"] or 0


COUNTED_SQL = f"batch NOT IN (SELECT id FROM {LEDGER})"
"""SQL condition on a raw occurrence row (unqualified columns): the aggregates count it."""
