"""Benchmark: aggregate N generated occurrences, beside a plain SQL GROUP BY over the same rows.

    python bench/bench_aggregate.py [--rows 1000000] [--chunk-size 100000] [--database-url URL]

Runs on a throwaway database (a temporary SQLite file by default; with a postgres:// URL, a
`test_<name>` database that is dropped afterwards). The rows are generated deterministically and
bulk inserted (executemany on SQLite, COPY on PostgreSQL); only the aggregation and the plain
GROUP BY are timed. Prints seconds and their ratio; asserts nothing about speed.

The rows are spread thin on purpose (5,000 devices, 40 codes, 60 days): almost every occurrence
opens its own device-hour bucket, the worst case for the aggregation, which writes about as many
aggregate rows as it reads occurrences while the GROUP BY only reads.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TENANTS = 20
DEVICES_PER_TENANT = 250
CODES = [0x80070000 + n for n in range(20)] + [0x80240000 + n for n in range(20)]
DAYS = 60
SEED = 1_000_003


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="occurrences to generate")
    parser.add_argument("--chunk-size", type=int, default=None, help="aggregation chunk size")
    parser.add_argument(
        "--database-url", default="", help="postgres://… to run on PostgreSQL (default: SQLite)"
    )
    parser.add_argument("--quick", action="store_true", help="100,000 rows (for make bench-quick)")
    args = parser.parse_args()
    if args.quick:
        args.rows = 100_000
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    return args


def setup_django(database_url: str, workdir: str) -> str:
    """Point Django at a fresh throwaway database with every table created from the models."""
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{workdir}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleet.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.conf import settings

    django.setup()
    from django.db import connection

    test = settings.DATABASES["default"].setdefault("TEST", {})
    test["MIGRATE"] = False  # tables straight from the models, as the test suite does
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    return old_name


def create_fleet() -> list[tuple[int, int]]:
    """The tenants and devices; returns (tenant id, device id) pairs."""
    from fleet.models import Device, Tenant

    tenants = Tenant.objects.bulk_create(
        [Tenant(slug=f"bench-{n}", name=f"Bench {n}") for n in range(TENANTS)]
    )
    devices = Device.objects.bulk_create(
        [
            Device(tenant=t, hostname=f"B{t.pk}-{n:04d}", name_key=f"b{t.pk}-{n:04d}")
            for t in tenants
            for n in range(DEVICES_PER_TENANT)
        ],
        batch_size=5000,
    )
    return [(d.tenant_id, d.pk) for d in devices]


def generate(rows: int, pairs: list[tuple[int, int]], as_text: bool):
    """`rows` occurrences as plain tuples, the same every run. SQLite stores times as text."""
    rng = random.Random(SEED)
    start = datetime(2026, 9, 1, tzinfo=UTC)
    received = datetime(2026, 11, 1, tzinfo=UTC)
    if as_text:
        received = received.strftime("%Y-%m-%d %H:%M:%S")
    for n in range(rows):
        tenant_id, device_id = rng.choice(pairs)
        when = start + timedelta(seconds=rng.randrange(DAYS * 86_400))
        if as_text:
            when = when.strftime("%Y-%m-%d %H:%M:%S")
        yield (tenant_id, device_id, rng.choice(CODES), when, f"bench-{n:09d}", received)


def bulk_insert(rows: int) -> float:
    """Load the rows with the occurrence indexes dropped, then build them once (a sort each);
    the unique dedupe constraint stays, and sequential keys keep it cheap."""
    from django.db import connection, transaction

    from fleet.models import Occurrence

    # Before COPY starts: the connection can run no other query while it is copying.
    pairs = create_fleet()
    postgres = connection.vendor == "postgresql"
    with connection.schema_editor() as editor:
        for index in Occurrence._meta.indexes:
            editor.remove_index(Occurrence, index)

    table = connection.ops.quote_name(Occurrence._meta.db_table)
    columns = (
        "tenant_id, device_id, code, occurred_at, dedupe_key, received_at, "
        "source, code_extension, update_title, kb, message, extra, aggregated"
    )
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if postgres:
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in generate(rows, pairs, as_text=False):
                    copy.write_row((*row, "bench", "", "", "", "", "{}", False))
        else:
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) "
                "VALUES (%s, %s, %s, %s, %s, %s, 'bench', '', '', '', '', '{}', 0)",
                generate(rows, pairs, as_text=True),
            )
    with connection.schema_editor() as editor:
        for index in Occurrence._meta.indexes:
            editor.add_index(Occurrence, index)
    if postgres:
        # A live table has planner statistics; a freshly loaded one has none until autovacuum.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return time.perf_counter() - started


def plain_group_by() -> tuple[float, int]:
    """The same per-(tenant, code, hour) counts straight from the raw rows, no aggregates."""
    from django.db import connection

    from fleet.aggregate import hour_sql
    from fleet.models import Occurrence

    table = connection.ops.quote_name(Occurrence._meta.db_table)
    hour = hour_sql("occurred_at")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT tenant_id, code, {hour}, COUNT(*), COUNT(DISTINCT device_id) "
            f"FROM {table} GROUP BY tenant_id, code, {hour}",
            (),  # with parameters, so the %% in the SQLite hour expression is unescaped
        )
        groups = len(cursor.fetchall())
    return time.perf_counter() - started, groups


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-aggregate-") as workdir:
        old_name = setup_django(args.database_url, workdir)
        from django.db import connection

        from fleet.aggregate import DEFAULT_CHUNK, aggregate_pending
        from fleet.models import DailyDeviceCodeStat, HourlyCodeStat, HourlyDeviceCodeStat

        chunk = args.chunk_size or DEFAULT_CHUNK
        try:
            print(f"backend: {connection.vendor}; rows: {args.rows:,}; chunk size: {chunk:,}")
            print(f"bulk insert:              {bulk_insert(args.rows):8.2f} s (not compared)")

            started = time.perf_counter()
            result = aggregate_pending(chunk)
            aggregation = time.perf_counter() - started
            group_by, groups = plain_group_by()

            counted = sum(HourlyCodeStat.objects.values_list("occurrences", flat=True))
            print(
                f"aggregation:              {aggregation:8.2f} s "
                f"({result.chunks} chunks; {args.rows / aggregation:,.0f} occurrences/s)"
            )
            print(f"plain SQL GROUP BY:       {group_by:8.2f} s ({groups:,} groups)")
            print(f"ratio aggregation/GROUP BY: {aggregation / group_by:6.2f}")
            print(
                "aggregate rows: "
                f"hourly code {HourlyCodeStat.objects.count():,}, "
                f"hourly device {HourlyDeviceCodeStat.objects.count():,}, "
                f"daily device {DailyDeviceCodeStat.objects.count():,}"
            )
            if counted != args.rows or HourlyCodeStat.objects.count() != groups:
                print(
                    f"MISMATCH: aggregates count {counted:,} occurrences in "
                    f"{HourlyCodeStat.objects.count():,} groups"
                )
                sys.exit(1)
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
