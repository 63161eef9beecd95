"""Roll raw occurrences into the hourly and daily aggregates, incrementally and set-based.

Each run claims the oldest batches of the pending ledger (`fleet.pending`) and, in one
transaction, reads their occurrences once into a temporary per-device-hour table, adds it to
every aggregate with set-based `INSERT … SELECT` / `UPDATE … FROM` and deletes their ledger
rows; the raw rows are never updated. The ledger and the rows are read from one snapshot
(SQLite's write transaction; REPEATABLE READ on PostgreSQL), so a batch that commits
concurrently is either counted and closed, or left for the next run: never lost, never counted
twice. A worker killed mid-run rolls the whole run back.

Distinct devices are kept additive: a chunk adds to a (tenant, code, bucket) only the devices
that had no per-device row in that bucket before it, which one index probe per device-bucket
answers. A run therefore costs in proportion to its own rows, never to the size of the table
or of a bucket.

`rebuild_all()` recounts everything in one set-based pass over the raw rows (the same snapshot
rules), except the days before the retention horizon, whose raw rows may be gone: their
aggregates are kept. A rebuild and any sequence of incremental runs give the same numbers.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction

from fleet.grains import DAILY, GRAINS, HOURLY, Grain, day_sql, hour_sql, table
from fleet.models import (
    DailyCodeStat,
    DailyDeviceCodeStat,
    HourlyCodeStat,
    HourlyDeviceCodeStat,
    Occurrence,
    RetentionHorizon,
    SnapshotDeviceCodeStat,
)
from fleet.pending import LEDGER
from fleet.sources import STATE_SOURCES

# Every table this module fills, emptied by a rebuild.
STAT_MODELS = (HourlyCodeStat, HourlyDeviceCodeStat, DailyDeviceCodeStat, DailyCodeStat)
# ... and the subset of the hourly per-device rows that came from state-snapshot sources.
SNAPSHOT_MODEL = SnapshotDeviceCodeStat

log = logging.getLogger(__name__)

# Any number works for correctness; this one keeps a chunk's transaction well under a second.
DEFAULT_CHUNK = 100_000
_LOCK_KEY = 0x0F1EE7A6  # PostgreSQL advisory lock id shared by every aggregation run


@dataclass
class AggregationResult:
    occurrences: int = 0
    chunks: int = 0


@contextlib.contextmanager
def aggregation_lock() -> Iterator[None]:
    """Serialise aggregation runs, and whatever else rewrites aggregates (an import's undo).
    SQLite serialises writers itself."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_LOCK_KEY])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])


def _one_snapshot(cursor, outermost: bool) -> None:
    """Read and mark from one snapshot. Inside a caller's transaction (tests) the snapshot is
    already the caller's to choose; SQLite's write transaction is one snapshot already."""
    if connection.vendor == "postgresql" and outermost:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


def _state_sources() -> tuple[str, list[str]]:
    """SQL condition on `o.source` selecting the state-snapshot sources, and its parameters."""
    sources = sorted(STATE_SOURCES)
    return f"o.source IN ({', '.join(['%s'] * len(sources))})", sources


def _add_snapshots(cursor, where: str, params: Sequence) -> None:
    """Add the state-source rows among the occurrences `o` matching `where`, per device-hour."""
    snapshot, hour = table(SnapshotDeviceCodeStat), hour_sql("o.occurred_at")
    state, sources = _state_sources()
    cursor.execute(
        f"""
        INSERT INTO {snapshot} (tenant_id, device_id, code, hour, occurrences)
        SELECT o.tenant_id, o.device_id, o.code, {hour}, COUNT(*)
        FROM {table(Occurrence)} o WHERE ({where}) AND {state}
        GROUP BY o.tenant_id, o.device_id, o.code, {hour}
        ON CONFLICT (device_id, code, hour) DO UPDATE
        SET occurrences = {snapshot}.occurrences + excluded.occurrences
        """,
        [*params, *sources],
    )


# Temporary tables of one chunk's new rows, per device-hour and per device-day (dropped at
# the end of the chunk; PostgreSQL also drops them at commit, SQLite keeps them per connection).
CHUNK_HOURS, CHUNK_DAYS = "fleet_chunk_hours", "fleet_chunk_days"


def _add_occurrences(cursor, where: str, params: Sequence) -> None:
    """Add the occurrences `o` matching `where` to every aggregate table.

    The raw rows are read once, grouped per device-hour into a temporary table; every aggregate
    is derived from it (and the device-days from the device-hours), so no aggregate re-scans
    them. Each per-device group notes whether its per-device row is new to the table, the
    answer to "does this device raise its bucket's distinct-device count?": one index probe per
    group, in the index's order, so a chunk costs in proportion to its own rows, never to a
    bucket's or the table's."""
    state, sources = _state_sources()
    hour, day = hour_sql("o.occurred_at"), day_sql("g.hour")
    on_commit = " ON COMMIT DROP" if connection.vendor == "postgresql" else ""
    for name in (CHUNK_HOURS, CHUNK_DAYS):
        cursor.execute(f"DROP TABLE IF EXISTS {name}")
    cursor.execute(
        f"""
        CREATE TEMPORARY TABLE {CHUNK_HOURS}{on_commit} AS
        SELECT g.*, {_is_new(HOURLY, "g")} AS fresh
        FROM (
            SELECT o.tenant_id, o.device_id, o.code, {hour} AS hour, COUNT(*) AS occurrences,
                   SUM(CASE WHEN {state} THEN 1 ELSE 0 END) AS snapshots
            FROM {table(Occurrence)} o WHERE {where}
            GROUP BY o.device_id, o.code, {hour}, o.tenant_id
            ORDER BY o.device_id, o.code, {hour}
        ) g
        """,
        [*sources, *params],
    )
    cursor.execute(
        f"""
        CREATE TEMPORARY TABLE {CHUNK_DAYS}{on_commit} AS
        SELECT g.*, {_is_new(DAILY, "g")} AS fresh
        FROM (
            SELECT g.tenant_id, g.device_id, g.code, {day} AS day,
                   SUM(g.occurrences) AS occurrences
            FROM {CHUNK_HOURS} g
            GROUP BY g.device_id, g.code, {day}, g.tenant_id
            ORDER BY g.device_id, g.code, {day}
        ) g
        """
    )
    if connection.vendor == "postgresql":
        # A temporary table has no statistics until analysed, and the upserts' plans need them.
        cursor.execute(f"ANALYZE {CHUNK_HOURS}, {CHUNK_DAYS}")
    snapshot = table(SnapshotDeviceCodeStat)
    cursor.execute(
        f"""
        INSERT INTO {snapshot} (tenant_id, device_id, code, hour, occurrences)
        SELECT tenant_id, device_id, code, hour, snapshots FROM {CHUNK_HOURS} WHERE snapshots > 0
        ORDER BY device_id, code, hour
        ON CONFLICT (device_id, code, hour) DO UPDATE
        SET occurrences = {snapshot}.occurrences + excluded.occurrences
        """
    )
    # Each write in the order of its unique key: most of a run is index maintenance, and rows
    # in key order touch each leaf page once instead of at random.
    for grain, chunk in ((HOURLY, CHUNK_HOURS), (DAILY, CHUNK_DAYS)):
        device_stat, code_stat, column = (
            table(grain.device_model),
            table(grain.code_model),
            grain.column,
        )
        cursor.execute(
            f"""
            INSERT INTO {code_stat} (tenant_id, code, {column}, occurrences, devices)
            SELECT tenant_id, code, {column}, SUM(occurrences),
                   SUM(CASE WHEN fresh THEN 1 ELSE 0 END)
            FROM {chunk} WHERE 1 = 1
            GROUP BY tenant_id, code, {column}
            ORDER BY tenant_id, code, {column}
            ON CONFLICT (tenant_id, code, {column}) DO UPDATE
            SET occurrences = {code_stat}.occurrences + excluded.occurrences,
                devices = {code_stat}.devices + excluded.devices
            """
        )
        # The groups' flag says which per-device rows exist (runs are serialised, so no other
        # writer adds one meanwhile): those are updated, the rest plainly inserted, sparing the
        # upsert's extra probe of the unique index per row.
        cursor.execute(
            f"""
            UPDATE {device_stat} SET occurrences = {device_stat}.occurrences + c.occurrences
            FROM {chunk} c
            WHERE NOT c.fresh AND {device_stat}.device_id = c.device_id
              AND {device_stat}.code = c.code AND {device_stat}.{column} = c.{column}
            """
        )
        cursor.execute(
            f"""
            INSERT INTO {device_stat} (tenant_id, device_id, code, {column}, occurrences)
            SELECT tenant_id, device_id, code, {column}, occurrences FROM {chunk} WHERE fresh
            ORDER BY device_id, code, {column}
            """
        )
    for name in (CHUNK_HOURS, CHUNK_DAYS):
        cursor.execute(f"DROP TABLE {name}")


def _is_new(grain: Grain, alias: str) -> str:
    """SQL: the per-device group `alias` has no row in the grain's per-device table yet."""
    column = grain.column
    return (
        f"NOT EXISTS (SELECT 1 FROM {table(grain.device_model)} d WHERE d.device_id = "
        f"{alias}.device_id AND d.code = {alias}.code AND d.{column} = {alias}.{column})"
    )


# A run claims at most this many ledger batches, so its id list stays a short parameter list.
MAX_BATCHES = 2_000


def aggregate_chunk(chunk_size: int = DEFAULT_CHUNK) -> int:
    """Aggregate the oldest pending batches, about `chunk_size` occurrences (at least one whole
    batch); return how many occurrences were counted. Raw rows are read, never updated."""
    return _aggregate_chunk(chunk_size)[0]


def _aggregate_chunk(chunk_size: int) -> tuple[int, bool]:
    """(occurrences counted, whether the run took every batch its snapshot saw)."""
    outermost = not connection.in_atomic_block
    with aggregation_lock(), transaction.atomic(), connection.cursor() as cursor:
        _one_snapshot(cursor, outermost)
        cursor.execute(
            f"SELECT id, low_id, high_id, rows FROM {LEDGER} ORDER BY id LIMIT %s", [MAX_BATCHES]
        )
        claimed, low, high, rows = [], None, None, 0
        seen = cursor.fetchall()
        for batch_id, batch_low, batch_high, batch_rows in seen:
            claimed.append(batch_id)
            low = batch_low if low is None else min(low, batch_low)
            high = batch_high if high is None else max(high, batch_high)
            rows += batch_rows
            if rows >= chunk_size:
                break
        if not claimed:
            return 0, True
        marks = ", ".join(["%s"] * len(claimed))
        where, params = f"o.id BETWEEN %s AND %s AND o.batch IN ({marks})", [low, high, *claimed]
        cursor.execute(f"SELECT COUNT(*) FROM {table(Occurrence)} o WHERE {where}", params)
        count = cursor.fetchone()[0]
        if count:
            _add_occurrences(cursor, where, params)
        # The same snapshot deletes what it read: a batch that commits meanwhile is in neither.
        cursor.execute(f"DELETE FROM {LEDGER} WHERE id IN ({marks})", claimed)
        if cursor.rowcount != len(claimed):
            raise RuntimeError(
                f"aggregation claimed {len(claimed)} batches but closed {cursor.rowcount}"
            )
        return count, len(claimed) == len(seen) < MAX_BATCHES


def aggregate_pending(chunk_size: int = DEFAULT_CHUNK) -> AggregationResult:
    """Aggregate every pending occurrence, chunk by chunk."""
    result = AggregationResult()
    while True:
        counted, drained = _aggregate_chunk(chunk_size)
        if counted:
            result.occurrences += counted
            result.chunks += 1
        if drained:
            break
    if result.occurrences:
        log.info("aggregated %d occurrences in %d chunks", result.occurrences, result.chunks)
    return result


def retention_horizon() -> datetime | None:
    """The instant before which raw occurrences may have been pruned, if any ever were."""
    return RetentionHorizon.objects.values_list("pruned_before", flat=True).first()


def rebuild_all() -> AggregationResult:
    """Recount every aggregate from the raw occurrences in one set-based pass; days before the
    retention horizon keep their aggregates (their raw rows may be gone) plus any pending row."""
    occ = table(Occurrence)
    outermost = not connection.in_atomic_block
    # One transaction: readers see the old numbers until it commits, never a mix.
    with aggregation_lock(), transaction.atomic(), connection.cursor() as cursor:
        _one_snapshot(cursor, outermost)
        horizon = retention_horizon()
        at = [connection.ops.adapt_datetimefield_value(horizon)] if horizon else []
        since = "o.occurred_at >= %s" if horizon else "1 = 1"
        for grain in GRAINS:
            kept, bound = _from_horizon(grain, horizon)
            cursor.execute(f"DELETE FROM {table(grain.code_model)}{kept}", bound)
            cursor.execute(f"DELETE FROM {table(grain.device_model)}{kept}", bound)
        kept, bound = _from_horizon(HOURLY, horizon)
        cursor.execute(f"DELETE FROM {table(SnapshotDeviceCodeStat)}{kept}", bound)
        _add_snapshots(cursor, since, at)
        # Per device: hours from the raw rows, then days from the hours (a day is whole hours,
        # and there are never more hourly rows than raw ones). Grouped in the order of the
        # unique key, so its index is appended to rather than written at random.
        hour, hourly_device = hour_sql("o.occurred_at"), table(HourlyDeviceCodeStat)
        cursor.execute(
            f"""
            INSERT INTO {hourly_device} (tenant_id, device_id, code, hour, occurrences)
            SELECT o.tenant_id, o.device_id, o.code, {hour}, COUNT(*)
            FROM {occ} o WHERE {since}
            GROUP BY o.device_id, o.code, {hour}, o.tenant_id
            """,
            at,
        )
        kept, bound = _from_horizon(HOURLY, horizon)
        day = day_sql("hour")
        cursor.execute(
            f"""
            INSERT INTO {table(DailyDeviceCodeStat)} (tenant_id, device_id, code, day, occurrences)
            SELECT tenant_id, device_id, code, {day}, SUM(occurrences)
            FROM {hourly_device}{kept}
            GROUP BY device_id, code, {day}, tenant_id
            """,
            bound,
        )
        for grain in GRAINS:
            # The per-device rows were just written whole, so each bucket's distinct devices
            # is simply how many rows it has.
            column, code_stat = grain.column, table(grain.code_model)
            kept, bound = _from_horizon(grain, horizon)
            cursor.execute(
                f"""
                INSERT INTO {code_stat} (tenant_id, code, {column}, occurrences, devices)
                SELECT tenant_id, code, {column}, SUM(occurrences), COUNT(*)
                FROM {table(grain.device_model)}{kept}
                GROUP BY tenant_id, code, {column}
                """,
                bound,
            )
        recounted = _occurrences_since(cursor, horizon)
        late = 0
        if horizon:
            # Pending rows older than the horizon join the kept aggregates like any chunk.
            pending = f"o.occurred_at < %s AND o.batch IN (SELECT id FROM {LEDGER})"
            cursor.execute(f"SELECT COUNT(*) FROM {occ} o WHERE {pending}", at)
            late = cursor.fetchone()[0]
            if late:
                _add_occurrences(cursor, pending, at)
        # Everything this snapshot sees is counted now; a batch committing meanwhile is not.
        cursor.execute(f"DELETE FROM {LEDGER}")
        marked = cursor.rowcount
    log.info(
        "rebuilt aggregates from %d occurrences (%d batches were pending)", recounted + late, marked
    )
    return AggregationResult(occurrences=recounted + late, chunks=1)


def _from_horizon(grain: Grain, horizon: datetime | None) -> tuple[str, list]:
    """A WHERE clause and its parameter selecting the grain's buckets from the horizon on (all
    of them without one). The horizon is a UTC midnight, so no bucket straddles it."""
    if not horizon:
        return "", []
    return f" WHERE {grain.column} >= %s", [grain.sql_value(horizon)]


def _occurrences_since(cursor, horizon: datetime | None) -> int:
    """Occurrences counted in the daily aggregates from the horizon on (all, without one)."""
    day = connection.ops.adapt_datefield_value(horizon.date()) if horizon else None
    where, params = (" WHERE day >= %s", [day]) if horizon else ("", [])
    cursor.execute(
        f"SELECT COALESCE(SUM(occurrences), 0) FROM {table(DailyCodeStat)}{where}", params
    )
    return cursor.fetchone()[0]
