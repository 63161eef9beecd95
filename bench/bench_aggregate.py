"""Benchmark: full rebuild and incremental aggregation, each beside a plain SQL GROUP BY.

    python bench/bench_aggregate.py [--rows 10000000] [--new-rows 100000] [--quick]
                                    [--chunk-size 100000] [--database-url URL]

Runs on a throwaway database (a temporary SQLite file by default; with a postgres:// URL, a
`test_<name>` database that is dropped afterwards). Rows are generated deterministically and
bulk loaded (executemany in large transactions on SQLite, COPY on PostgreSQL, secondary indexes
built once afterwards); loading is reported but not compared. In order:

1. load a tenth of the table, rebuild, add `--new-rows` pending rows, aggregate them;
2. load the rest up to `--rows`, rebuild (timed beside a GROUP BY of every row), add
   `--new-rows` pending rows again and aggregate them (timed beside a GROUP BY of those rows).

The incremental run on the 10× larger table, divided by the one on the small table, is the
"incremental ∝ new rows, not the table" figure. Rows are spread thin on purpose (5,000 devices,
40 codes, 60 days, new rows as late as old ones): nearly every occurrence opens its own
device-hour bucket, the aggregation's worst case. Asserts nothing about speed; exits 1 if the
aggregates do not add up.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import Figure, database_version, report  # noqa: E402

TENANTS = 20
DEVICES_PER_TENANT = 250
CODES = [0x80070000 + n for n in range(20)] + [0x80240000 + n for n in range(20)]
DAYS = 60
START = datetime(2026, 9, 1, tzinfo=UTC)
RECEIVED = "2026-11-01 00:00:00"
SEED = 1_000_003
LOAD_BATCH = 500_000
# The incremental run may grow this much from a 10× larger table and still count as "∝ new rows".
GROWTH_ALLOWED = 2.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="occurrences in the table")
    parser.add_argument(
        "--new-rows", type=int, default=100_000, help="pending occurrences per incremental run"
    )
    parser.add_argument("--chunk-size", type=int, default=None, help="aggregation chunk size")
    parser.add_argument(
        "--database-url", default="", help="postgres://… to run on PostgreSQL (default: SQLite)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="200,000 rows, 20,000 new (make bench-quick)"
    )
    args = parser.parse_args()
    if args.quick:
        args.rows, args.new_rows = 200_000, 20_000
    if args.new_rows < 1 or args.rows < 10 * args.new_rows:
        parser.error("--rows must be at least 10 × --new-rows, and --new-rows at least 1")
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


class Generator:
    """Occurrences as (tenant, device, code, UTC time text, dedupe key), the same every run."""

    def __init__(self, pairs: list[tuple[int, int]]) -> None:
        self.pairs = pairs
        self.rng = random.Random(SEED)
        self.serial = 0
        self.days = [(START + timedelta(days=d)).strftime("%Y-%m-%d ") for d in range(DAYS)]
        self.times = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)]

    def rows(self, count: int) -> Iterator[tuple[int, int, int, str, str, bytes]]:
        from fleet.models.core import dedupe_digest

        draw, pairs, days, times = self.rng.random, self.pairs, self.days, self.times
        for _ in range(count):
            tenant_id, device_id = pairs[int(draw() * len(pairs))]
            second = int(draw() * DAYS * 86_400)
            when = days[second // 86_400] + times[second % 86_400]
            self.serial += 1
            key = f"b{self.serial:09d}"
            code = CODES[int(draw() * len(CODES))]
            yield tenant_id, device_id, code, when, key, dedupe_digest("bench", key)


COLUMNS = (
    "tenant_id, device_id, code, occurred_at, dedupe_key, dedupe_digest, batch, received_at, "
    "source, code_extension, update_title, kb, message, extra"
)


def _secondary_indexes(cursor, table: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the table's indexes that back no constraint."""
    from django.db import connection

    if connection.vendor == "postgresql":
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
            [table],
        )
    else:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
            "AND sql IS NOT NULL",
            [table],
        )
    return cursor.fetchall()


def _copy_line(row: tuple, batch: int) -> str:
    tenant_id, device_id, code, when, key, digest = row
    fixed = f"{RECEIVED}+00\tbench\t\t\t\t\t{{}}"
    return (
        f"{tenant_id}\t{device_id}\t{code}\t{when}+00\t{key}\t\\\\x{digest.hex()}\t{batch}\t"
        f"{fixed}\n"
    )


def load(gen: Generator, count: int, aggregated: bool, drop_indexes: bool) -> float:
    """Bulk load `count` generated rows; return the seconds it took. With `drop_indexes`, the
    secondary indexes are dropped first and built once at the end (a sort each). Rows not
    `aggregated` are stored as ingest stores them: one pending-ledger batch per transaction."""
    from django.db import connection, transaction

    from fleet.models import Occurrence
    from fleet.pending import close_batch, open_batch

    table = Occurrence._meta.db_table
    quoted = connection.ops.quote_name(table)
    postgres = connection.vendor == "postgresql"
    started = time.perf_counter()
    with loading_pragmas():
        with connection.cursor() as cursor:
            indexes = _secondary_indexes(cursor, table) if drop_indexes else []
            for name, _ in indexes:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        rows = gen.rows(count)
        while batch := list(itertools.islice(rows, LOAD_BATCH)):
            with transaction.atomic(), connection.cursor() as cursor:
                pending = None if aggregated else open_batch(cursor)
                tag = pending.id if pending else 0  # batch 0 is never pending: counted
                if postgres:
                    with cursor.cursor.copy(f"COPY {quoted} ({COLUMNS}) FROM STDIN") as copy:
                        copy.write("".join(_copy_line(row, tag) for row in batch))
                else:
                    cursor.executemany(
                        f"INSERT INTO {quoted} ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, "
                        f"{tag}, '{RECEIVED}', 'bench', '', '', '', '', '{{}}')",
                        batch,
                    )
                if pending:
                    close_batch(cursor, pending, len(batch))
        with connection.cursor() as cursor:
            for _, create in indexes:
                cursor.execute(create)
    if postgres and drop_indexes:
        # A live table is vacuumed and analyzed; a freshly copied one is neither until
        # autovacuum, and the first scan would pay for setting its hint bits. New rows for an
        # incremental run stay as ingest leaves them.
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {quoted}")
    return time.perf_counter() - started


@contextlib.contextmanager
def loading_pragmas() -> Iterator[None]:
    """A throwaway SQLite file needs no journal or durability while it is loaded, and index
    builds want a big cache; the timed runs get the app's own settings back."""
    from django.db import connection

    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        cache = cursor.fetchone()[0]
        cursor.execute("PRAGMA journal_mode = OFF")
        cursor.execute("PRAGMA synchronous = OFF")
        cursor.execute("PRAGMA cache_size = -262144")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute(f"PRAGMA cache_size = {int(cache)}")


def plain_group_by(after_id: int = 0) -> tuple[float, list[tuple]]:
    """Per-(tenant, code, hour) counts and distinct devices straight from the raw rows with
    ids above `after_id`, no aggregates: what the aggregation is compared with."""
    from django.db import connection

    from fleet.grains import hour_sql
    from fleet.models import Occurrence

    table = connection.ops.quote_name(Occurrence._meta.db_table)
    hour = hour_sql("occurred_at")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT tenant_id, code, {hour}, COUNT(*), COUNT(DISTINCT device_id) "
            f"FROM {table} WHERE id > %s GROUP BY tenant_id, code, {hour}",
            [after_id],
        )
        groups = cursor.fetchall()
    return time.perf_counter() - started, groups


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


def max_id() -> int:
    from fleet.models import Occurrence

    return Occurrence.objects.order_by("-id").values_list("id", flat=True).first() or 0


def check_totals(expected: int) -> list[str]:
    """Cheap consistency checks of every aggregate against the number of raw rows."""
    from django.db.models import Count, Sum

    from fleet.models import DailyCodeStat, DailyDeviceCodeStat, HourlyCodeStat
    from fleet.models import HourlyDeviceCodeStat as HourlyDevice

    problems = []
    for code_model, device_model in (
        (HourlyCodeStat, HourlyDevice),
        (DailyCodeStat, DailyDeviceCodeStat),
    ):
        code = code_model.objects.aggregate(n=Sum("occurrences"), devices=Sum("devices"))
        device = device_model.objects.aggregate(n=Sum("occurrences"), rows=Count("id"))
        if not code["n"] == device["n"] == expected:
            problems.append(f"{code_model.__name__}: {code['n']} / {device['n']} of {expected}")
        if code["devices"] != device["rows"]:
            problems.append(f"{code_model.__name__}: devices {code['devices']} != {device['rows']}")
    return problems


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-aggregate-") as workdir:
        old_name = setup_django(args.database_url, workdir)
        from django.db import connection

        from fleet.aggregate import DEFAULT_CHUNK, aggregate_pending, rebuild_all
        from fleet.models import HourlyCodeStat

        chunk = args.chunk_size or DEFAULT_CHUNK
        small, new = args.rows // 10, args.new_rows
        try:
            print(
                f"backend: {connection.vendor}; rows: {args.rows:,} (first {small:,}); "
                f"new rows per run: {new:,}; chunk size: {chunk:,}",
                flush=True,
            )
            gen = Generator(create_fleet())
            loading = load(gen, small, aggregated=True, drop_indexes=True)
            rebuild_small, _ = timed(rebuild_all)
            first_new = max_id()
            loading += load(gen, new, aggregated=False, drop_indexes=False)
            incr_small, run = timed(aggregate_pending, chunk)
            group_small, _ = plain_group_by(first_new)
            print(
                f"table {small + new:,}: rebuild of {small:,} {rebuild_small:.2f} s; "
                f"incremental {run.occurrences:,} new in {incr_small:.2f} s "
                f"(GROUP BY of them {group_small:.2f} s)",
                flush=True,
            )

            loading += load(gen, args.rows - small - new, aggregated=True, drop_indexes=True)
            rebuild_full, result = timed(rebuild_all)
            group_full, groups = plain_group_by()
            print(
                f"table {args.rows:,}: rebuild {rebuild_full:.2f} s; GROUP BY {group_full:.2f} s",
                flush=True,
            )
            problems = check_totals(args.rows)
            if HourlyCodeStat.objects.count() != len(groups):
                problems.append(
                    f"{HourlyCodeStat.objects.count()} hourly rows, {len(groups)} groups"
                )

            second_new = max_id()
            loading += load(gen, new, aggregated=False, drop_indexes=False)
            incr_full, run = timed(aggregate_pending, chunk)
            group_new, _ = plain_group_by(second_new)
            problems += check_totals(args.rows + new)
            print(f"loading (not compared): {loading:.1f} s", flush=True)

            per_thousand = 1000 * incr_full / new * 1000
            figures = [
                Figure(
                    f"full rebuild, {args.rows:,} rows",
                    rebuild_full,
                    "s",
                    baseline=group_full,
                    baseline_label="plain GROUP BY of the same rows",
                    note=f"{result.occurrences:,} occurrences recounted in one transaction",
                ),
                Figure(
                    f"incremental, {new:,} new on {args.rows:,}",
                    incr_full,
                    "s",
                    baseline=group_new,
                    baseline_label="plain GROUP BY of the new rows",
                    note=f"{run.chunks} chunks of at most {chunk:,}",
                ),
                Figure(
                    f"incremental, {new:,} new on {small:,}",
                    incr_small,
                    "s",
                    baseline=group_small,
                    baseline_label="plain GROUP BY of the new rows",
                ),
                Figure(
                    "incremental growth, table 10x larger",
                    incr_full,
                    "s",
                    baseline=incr_small,
                    baseline_label=f"same run on a {small + new:,}-row table",
                    target=f"incremental ∝ new rows (≤ {GROWTH_ALLOWED:g}x)",
                    met=incr_full <= GROWTH_ALLOWED * incr_small,
                ),
                Figure(
                    "incremental per 1,000 new rows",
                    per_thousand,
                    "ms",
                    note=f"on a {args.rows:,}-row table",
                ),
                Figure(
                    f"rebuild, {small:,} rows",
                    rebuild_small,
                    "s",
                    note="the rebuild grows with the table; the incremental run must not",
                ),
            ]
            report(
                "aggregate",
                args.database_url,
                figures,
                {
                    "rows": args.rows,
                    "small_table_rows": small,
                    "new_rows": new,
                    "chunk_size": chunk,
                    "tenants": TENANTS,
                    "devices": TENANTS * DEVICES_PER_TENANT,
                    "codes": len(CODES),
                    "days": DAYS,
                    "seed": SEED,
                    "loading_seconds": round(loading, 1),
                },
                quick=args.quick,
                db_version=database_version(),
            )
            if problems:
                print("MISMATCH: " + "; ".join(problems))
                sys.exit(1)
        finally:
            connection.close()
            connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
