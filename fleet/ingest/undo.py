"""Undo an import: delete its occurrences and take exactly their part out of every aggregate.

One transaction, holding the aggregation lock (`fleet.aggregate.aggregation_lock`) so no
aggregation run counts or marks rows meanwhile, and the same-file lock so the file cannot be
imported again until the undo is committed. The import's rows are first moved out of
`fleet_occurrence` into a session-local table (on PostgreSQL by one `DELETE … RETURNING`), so
what is subtracted is exactly what was deleted, even if retention prunes at the same moment.

Only rows already counted are subtracted (rows of a batch still in the pending ledger were
never counted; their batch's pending count shrinks instead). Per device and
bucket the import's count is subtracted and rows that reach zero go; a per-code bucket loses
the import's count and one distinct device for each per-device row that reaches zero, which is
exact because a device is counted in a bucket exactly when it has a per-device row there.
The cost follows the import's rows, never the size of the tables.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from fleet.aggregate import aggregation_lock
from fleet.grains import GRAINS, hour_sql, table
from fleet.ingest.models import ImportRecord
from fleet.ingest.same_file import one_import_at_a_time
from fleet.models import Occurrence, SnapshotDeviceCodeStat
from fleet.pending import LEDGER
from fleet.sources import STATE_SOURCES

UNDOABLE = (ImportRecord.Status.DONE, ImportRecord.Status.FAILED)
ROWS = "fleet_undo_rows"
# A moved row `u` the aggregates count: its batch is no longer pending (fleet.pending).
COUNTED = f"u.batch NOT IN (SELECT id FROM {LEDGER})"


class UndoRefused(Exception):
    """The import cannot be undone now (already undone, or still running); says why."""


@dataclass
class UndoResult:
    record: ImportRecord
    deleted: int
    aggregated: int


def undo_import(record_id: int, user=None) -> UndoResult:
    """Undo import `record_id` as `user` (None: the command line); UndoRefused if it cannot be."""
    record = ImportRecord.objects.select_related("tenant").get(pk=record_id)
    _refuse_unless_undoable(record)
    same_file = (
        one_import_at_a_time(record.tenant_id, record.sha256)
        if record.sha256
        else contextlib.nullcontext()
    )
    with same_file, aggregation_lock(), transaction.atomic(), connection.cursor() as cursor:
        # The claim comes first: it is the only check that holds against a second undo (the
        # row lock), and on SQLite the transaction holds the write lock from BEGIN anyway.
        claimed = ImportRecord.objects.filter(pk=record.pk, status__in=UNDOABLE).update(
            status=ImportRecord.Status.UNDONE,
            undone_at=timezone.now(),
            undone_by=user if getattr(user, "is_authenticated", False) else None,
        )
        if not claimed:
            record.refresh_from_db()
            _refuse_unless_undoable(record)
        deleted = _move_rows_out(cursor, record.pk)
        cursor.execute(f"SELECT COUNT(*) FROM {ROWS} u WHERE {COUNTED}")
        aggregated = cursor.fetchone()[0]
        if aggregated:
            _subtract(cursor, record.tenant_id)
        _shrink_ledger(cursor)
        cursor.execute(f"DELETE FROM {ROWS}")
        ImportRecord.objects.filter(pk=record.pk).update(undone_occurrences=deleted)
    record.refresh_from_db()
    return UndoResult(record=record, deleted=deleted, aggregated=aggregated)


def _refuse_unless_undoable(record: ImportRecord) -> None:
    if record.status == ImportRecord.Status.UNDONE:
        who = record.undone_by.get_username() if record.undone_by else "the command line"
        raise UndoRefused(
            f"Import {record.pk} was already undone on {record.undone_at:%Y-%m-%d %H:%M} UTC "
            f"by {who}; nothing was changed."
        )
    if record.status not in UNDOABLE:
        raise UndoRefused(
            f"Import {record.pk} is {record.get_status_display().lower()}: it can be undone "
            "once it has finished."
        )


def _move_rows_out(cursor, record_id: int) -> int:
    """Delete the import's occurrences into the session table ROWS; return how many."""
    occ = table(Occurrence)
    columns = "device_id, code, occurred_at, source, batch"
    if connection.vendor == "postgresql":
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {ROWS} ON COMMIT DELETE ROWS AS "
            f"SELECT {columns} FROM {occ} WITH NO DATA"
        )
        cursor.execute(f"DELETE FROM {ROWS}")
        cursor.execute(
            f"WITH gone AS (DELETE FROM {occ} WHERE import_record_id = %s RETURNING {columns}) "
            f"INSERT INTO {ROWS} ({columns}) SELECT {columns} FROM gone",
            [record_id],
        )
        moved = cursor.rowcount
        cursor.execute(f"ANALYZE {ROWS}")  # temporary tables are never analyzed by autovacuum
        return moved
    # SQLite: the IMMEDIATE transaction holds the only write lock, so copy-then-delete is one.
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {ROWS} AS SELECT {columns} FROM {occ} WHERE 0"
    )
    cursor.execute(f"DELETE FROM {ROWS}")
    cursor.execute(
        f"INSERT INTO {ROWS} ({columns}) SELECT {columns} FROM {occ} WHERE import_record_id = %s",
        [record_id],
    )
    cursor.execute(f"DELETE FROM {occ} WHERE import_record_id = %s", [record_id])
    return cursor.rowcount


def _shrink_ledger(cursor) -> None:
    """Pending batches lose the rows just deleted, so the ledger's counts stay true; the next
    aggregation closes a batch left empty."""
    cursor.execute(
        f"UPDATE {LEDGER} SET rows = rows - "
        f"(SELECT COUNT(*) FROM {ROWS} u WHERE u.batch = {LEDGER}.id) "
        f"WHERE id IN (SELECT batch FROM {ROWS})"
    )


def _subtract(cursor, tenant_id: int) -> None:
    """Take the aggregated rows of ROWS out of every aggregate of `tenant_id`."""
    for grain in GRAINS:
        device_stat, code_stat = table(grain.device_model), table(grain.code_model)
        column, bucket = grain.column, grain.bucket_sql("u.occurred_at")
        per_device = (
            f"SELECT u.device_id, u.code, {bucket} AS bucket, COUNT(*) AS n "
            f"FROM {ROWS} u WHERE {COUNTED} GROUP BY u.device_id, u.code, {bucket}"
        )
        # Per code first, while the per-device rows still say which devices leave a bucket.
        cursor.execute(
            f"""
            UPDATE {code_stat} SET occurrences = {code_stat}.occurrences - g.n,
                devices = {code_stat}.devices - g.emptied
            FROM (
                SELECT x.code, x.bucket, SUM(x.n) AS n,
                       SUM(CASE WHEN d.occurrences <= x.n THEN 1 ELSE 0 END) AS emptied
                FROM ({per_device}) x
                JOIN {device_stat} d
                  ON d.device_id = x.device_id AND d.code = x.code AND d.{column} = x.bucket
                GROUP BY x.code, x.bucket
            ) g
            WHERE {code_stat}.tenant_id = %s AND {code_stat}.code = g.code
              AND {code_stat}.{column} = g.bucket
            """,
            [tenant_id],
        )
        _subtract_per_device(cursor, device_stat, column, per_device)
        cursor.execute(
            f"DELETE FROM {code_stat} WHERE tenant_id = %s AND occurrences <= 0 "
            f"AND code IN (SELECT DISTINCT code FROM {ROWS})",
            [tenant_id],
        )
    sources = sorted(STATE_SOURCES)
    hour = hour_sql("u.occurred_at")
    marks = ", ".join(["%s"] * len(sources))
    snapshots = (
        f"SELECT u.device_id, u.code, {hour} AS bucket, COUNT(*) AS n FROM {ROWS} u "
        f"WHERE {COUNTED} AND u.source IN ({marks}) GROUP BY u.device_id, u.code, {hour}"
    )
    _subtract_per_device(cursor, table(SnapshotDeviceCodeStat), "hour", snapshots, sources)


def _subtract_per_device(
    cursor, device_stat: str, column: str, per_device: str, params: list | None = None
) -> None:
    """Subtract `per_device` counts from a per-device table and drop the rows left at zero."""
    match = (
        f"{device_stat}.device_id = x.device_id AND {device_stat}.code = x.code "
        f"AND {device_stat}.{column} = x.bucket"
    )
    if connection.vendor == "postgresql":
        # Rows the import alone filled go first: a DELETE writes no new row version, where an
        # UPDATE to zero (then deleted) writes one and its index entries.
        cursor.execute(
            f"DELETE FROM {device_stat} USING ({per_device}) x "
            f"WHERE {match} AND {device_stat}.occurrences <= x.n",
            params or [],
        )
        cursor.execute(
            f"UPDATE {device_stat} SET occurrences = {device_stat}.occurrences - x.n "
            f"FROM ({per_device}) x WHERE {match}",
            params or [],
        )
        return
    cursor.execute(
        f"UPDATE {device_stat} SET occurrences = {device_stat}.occurrences - x.n "
        f"FROM ({per_device}) x WHERE {match}",
        params or [],
    )
    cursor.execute(
        f"DELETE FROM {device_stat} WHERE occurrences <= 0 "
        f"AND device_id IN (SELECT DISTINCT device_id FROM {ROWS})"
    )
