"""Roll raw occurrences into the hourly and daily aggregates, incrementally and set-based.

Each run claims a chunk of not-yet-aggregated occurrences and, in one transaction, upserts their
counts with `INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE` and marks them aggregated.
The chunk is read and marked from one snapshot (SQLite's write transaction; REPEATABLE READ on
PostgreSQL), so a row that commits concurrently is either counted and marked, or left for the
next run: never lost, never counted twice. A worker killed mid-run rolls the whole chunk back.
`rebuild_all()` empties the aggregates and recounts every occurrence through the same path, so a
rebuild and any sequence of incremental runs give the same numbers.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection, transaction

from fleet.models import (
    DailyCodeStat,
    DailyDeviceCodeStat,
    HourlyCodeStat,
    HourlyDeviceCodeStat,
    Occurrence,
)

# Every table this module fills, emptied by a rebuild.
STAT_MODELS = (HourlyCodeStat, HourlyDeviceCodeStat, DailyDeviceCodeStat, DailyCodeStat)

log = logging.getLogger(__name__)

# Any number works for correctness; this one keeps a chunk's transaction well under a second.
DEFAULT_CHUNK = 100_000
_LOCK_KEY = 0x0F1EE7A6  # PostgreSQL advisory lock id shared by every aggregation run


@dataclass
class AggregationResult:
    occurrences: int = 0
    chunks: int = 0


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def hour_sql(column: str) -> str:
    """SQL truncating a UTC timestamp column to its hour, for the running backend."""
    if connection.vendor == "postgresql":
        return f"date_trunc('hour', {column} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
    return f"strftime('%%Y-%%m-%%d %%H:00:00', {column})"


def day_sql(column: str) -> str:
    """SQL giving the UTC calendar day of a timestamp column, for the running backend."""
    if connection.vendor == "postgresql":
        return f"({column} AT TIME ZONE 'UTC')::date"
    return f"date({column})"


@contextlib.contextmanager
def _exclusive() -> Iterator[None]:
    """Serialise aggregation runs. SQLite serialises writers itself."""
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


def _rollup_chunk(cursor, low: int, high: int) -> None:
    """Add the pending occurrences with ids in [low, high] to every aggregate table."""
    occ = _table(Occurrence)
    dev_stat = _table(HourlyDeviceCodeStat)
    code_stat = _table(HourlyCodeStat)
    daily_stat = _table(DailyDeviceCodeStat)
    daily_code_stat = _table(DailyCodeStat)
    pending = f"{occ}.aggregated = %s AND {occ}.id BETWEEN %s AND %s"
    params = [False, low, high]
    hour = hour_sql(f"{occ}.occurred_at")
    day = day_sql(f"{occ}.occurred_at")

    cursor.execute(
        f"""
        INSERT INTO {dev_stat} (tenant_id, device_id, code, hour, occurrences)
        SELECT tenant_id, device_id, code, {hour}, COUNT(*)
        FROM {occ} WHERE {pending}
        GROUP BY tenant_id, device_id, code, {hour}
        ON CONFLICT (device_id, code, hour)
        DO UPDATE SET occurrences = {dev_stat}.occurrences + excluded.occurrences
        """,
        params,
    )
    cursor.execute(
        f"""
        INSERT INTO {daily_stat} (tenant_id, device_id, code, day, occurrences)
        SELECT tenant_id, device_id, code, {day}, COUNT(*)
        FROM {occ} WHERE {pending}
        GROUP BY tenant_id, device_id, code, {day}
        ON CONFLICT (device_id, code, day)
        DO UPDATE SET occurrences = {daily_stat}.occurrences + excluded.occurrences
        """,
        params,
    )
    # Distinct devices are not additive, so the (tenant, code, hour) and (tenant, code, day)
    # buckets this chunk touched are recomputed whole from the per-device rows just upserted:
    # one statement each, exact counts.
    cursor.execute(
        f"""
        INSERT INTO {code_stat} (tenant_id, code, hour, occurrences, devices)
        SELECT d.tenant_id, d.code, d.hour, SUM(d.occurrences), COUNT(*)
        FROM {dev_stat} d
        JOIN (
            SELECT DISTINCT tenant_id, code, {hour} AS hour FROM {occ} WHERE {pending}
        ) touched
          ON d.tenant_id = touched.tenant_id AND d.code = touched.code AND d.hour = touched.hour
        WHERE 1 = 1
        GROUP BY d.tenant_id, d.code, d.hour
        ON CONFLICT (tenant_id, code, hour)
        DO UPDATE SET occurrences = excluded.occurrences, devices = excluded.devices
        """,
        params,
    )
    cursor.execute(
        f"""
        INSERT INTO {daily_code_stat} (tenant_id, code, day, occurrences, devices)
        SELECT d.tenant_id, d.code, d.day, SUM(d.occurrences), COUNT(*)
        FROM {daily_stat} d
        JOIN (
            SELECT DISTINCT tenant_id, code, {day} AS day FROM {occ} WHERE {pending}
        ) touched
          ON d.tenant_id = touched.tenant_id AND d.code = touched.code AND d.day = touched.day
        WHERE 1 = 1
        GROUP BY d.tenant_id, d.code, d.day
        ON CONFLICT (tenant_id, code, day)
        DO UPDATE SET occurrences = excluded.occurrences, devices = excluded.devices
        """,
        params,
    )


def aggregate_chunk(chunk_size: int = DEFAULT_CHUNK) -> int:
    """Aggregate at most `chunk_size` pending occurrences; return how many were counted."""
    occ = _table(Occurrence)
    # Inside a caller's transaction (tests) the snapshot is already the caller's to choose.
    outermost = not connection.in_atomic_block
    with _exclusive(), transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql" and outermost:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute(
            f"SELECT MIN(id), MAX(id), COUNT(*) FROM (SELECT id FROM {occ} "
            f"WHERE aggregated = %s ORDER BY id LIMIT %s) AS chunk",
            [False, chunk_size],
        )
        low, high, count = cursor.fetchone()
        if not count:
            return 0
        _rollup_chunk(cursor, low, high)
        cursor.execute(
            f"UPDATE {occ} SET aggregated = %s WHERE aggregated = %s AND id BETWEEN %s AND %s",
            [True, False, low, high],
        )
        if cursor.rowcount != count:
            # Same snapshot for read and mark: a mismatch means the isolation promise broke.
            raise RuntimeError(f"aggregation claimed {count} rows but marked {cursor.rowcount}")
        return count


def aggregate_pending(chunk_size: int = DEFAULT_CHUNK) -> AggregationResult:
    """Aggregate every pending occurrence, chunk by chunk."""
    result = AggregationResult()
    while True:
        counted = aggregate_chunk(chunk_size)
        if counted:
            result.occurrences += counted
            result.chunks += 1
        if counted < chunk_size:
            break
    if result.occurrences:
        log.info("aggregated %d occurrences in %d chunks", result.occurrences, result.chunks)
    return result


def rebuild_all(chunk_size: int = DEFAULT_CHUNK) -> AggregationResult:
    """Empty every aggregate, mark every occurrence pending, and aggregate them all again."""
    with _exclusive(), transaction.atomic(), connection.cursor() as cursor:
        # One transaction: readers see the old numbers until the reset commits, never a mix.
        for model in STAT_MODELS:
            cursor.execute(f"DELETE FROM {_table(model)}")
        cursor.execute(
            f"UPDATE {_table(Occurrence)} SET aggregated = %s WHERE aggregated = %s", [False, True]
        )
    return aggregate_pending(chunk_size)
