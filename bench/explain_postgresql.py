"""Print EXPLAIN (ANALYZE, BUFFERS) of every query an Occurrence index exists for.

    python bench/explain_postgresql.py --database-url postgres://…/empty_db [--rows 1000000]

Migrates the given (empty, throwaway) PostgreSQL database, loads `--rows` occurrences that
arrive roughly in time order over 90 days (2% imported up to 30 days late; all counted but the
last 5,000), VACUUM ANALYZEs, and prints each query with its plan. Writes are run inside a
transaction that is rolled back, so every plan sees the same table. docs/postgresql.md quotes
its output.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TENANTS, DEVICES_PER_TENANT, DAYS, PENDING = 20, 250, 90, 5_000
CODES = [0x80070000 + n for n in range(20)] + [0x80240000 + n for n in range(20)]
START = datetime(2026, 8, 1, tzinfo=UTC)


def load(rows: int) -> None:
    from django.db import connection, transaction

    from fleet.ingest.models import ImportRecord
    from fleet.models import Device, Tenant
    from fleet.models.core import dedupe_digest
    from fleet.pending import LEDGER

    tenants = Tenant.objects.bulk_create(
        [Tenant(slug=f"t{n}", name=f"T{n}") for n in range(TENANTS)]
    )
    devices = Device.objects.bulk_create(
        [
            Device(tenant=t, hostname=f"D{t.pk}-{n}", name_key=f"d{t.pk}-{n}")
            for t in tenants
            for n in range(DEVICES_PER_TENANT)
        ]
    )
    record = ImportRecord.objects.create(tenant=tenants[0], file_name="export.csv")
    rng = random.Random(7)
    span = DAYS * 86_400
    lines = []
    for n in range(rows):
        device = devices[rng.randrange(len(devices))]
        second = n * span // rows - rng.randrange(7200)
        if rng.random() < 0.02:
            second -= rng.randrange(30 * 86_400)
        when = START + timedelta(seconds=max(second, 0))
        imported = record.pk if n % 50 == 0 else r"\N"
        batch = 1 if n >= rows - PENDING else 0
        lines.append(
            f"{device.tenant_id}\t{device.pk}\t{CODES[rng.randrange(len(CODES))]}\t"
            f"{when.isoformat()}\tk{n}\t\\\\x{dedupe_digest('api', f'k{n}').hex()}\t{batch}\t"
            f"{when.isoformat()}\t{imported}\tapi\t\t\t\t\t{{}}\n"
        )
    columns = (
        "tenant_id, device_id, code, occurred_at, dedupe_key, dedupe_digest, batch, received_at, "
        "import_record_id, source, code_extension, update_title, kb, message, extra"
    )
    copying = f"COPY fleet_occurrence ({columns}) FROM STDIN"
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        cursor.cursor.copy(copying) as copy,
    ):
        for start in range(0, rows, 100_000):
            copy.write("".join(lines[start : start + 100_000]))
    with connection.cursor() as cursor:
        # The last PENDING rows are one uncounted ingest batch, as fleet/pending.py records it.
        cursor.execute(
            f"INSERT INTO {LEDGER} (id, low_id, high_id, rows, created_at) "
            "SELECT 1, MIN(id), MAX(id), COUNT(*), NOW() FROM fleet_occurrence WHERE batch = 1"
        )


QUERIES = [
    (
        "pkey",
        "SELECT * FROM fleet_occurrence WHERE id = {low}",
    ),
    (
        "occurrence_unique_digest: ingest's duplicate check",
        "INSERT INTO fleet_occurrence (tenant_id, device_id, code, occurred_at, dedupe_key, "
        "dedupe_digest, batch, received_at, source, code_extension, update_title, kb, message, "
        "extra) SELECT tenant_id, device_id, code, occurred_at, dedupe_key, dedupe_digest, 0, "
        "received_at, source, '', '', '', '', '{{}}' FROM fleet_occurrence "
        "WHERE id BETWEEN 1000 AND 5999 ON CONFLICT (tenant_id, dedupe_digest) DO NOTHING",
    ),
    (
        "pending ledger: claiming the next batches (no index on the raw table needed)",
        "SELECT id, low_id, high_id, rows FROM fleet_pendingbatch ORDER BY id LIMIT 2000",
    ),
    (
        "pkey: reading the claimed batches' rows, as fleet/aggregate.py does (no UPDATE after)",
        "SELECT tenant_id, code, date_trunc('hour', occurred_at), COUNT(*) FROM fleet_occurrence o "
        "WHERE o.id BETWEEN {low} AND {high} AND o.batch IN (1) GROUP BY 1, 2, 3",
    ),
    (
        "occ_tenant_code_time_idx: the code page's bounded sample of recent rows",
        "SELECT id FROM fleet_occurrence WHERE tenant_id IN ({t1}, {t2}) AND code = {code} "
        "AND occurred_at >= '{week}' AND occurred_at < '{end}' ORDER BY occurred_at DESC LIMIT 200",
    ),
    (
        "occ_tenant_code_time_idx: triage's first and last seen per (tenant, code)",
        "SELECT MIN(occurred_at), MAX(occurred_at) FROM fleet_occurrence "
        "WHERE tenant_id = {t1} AND code = {code}",
    ),
    (
        "occ_device_time_idx: deleting a device (Django's cascade)",
        "DELETE FROM fleet_occurrence WHERE device_id IN ({device})",
    ),
    (
        "fleet_occurrence_import_record_id: deleting an import (SET NULL)",
        "UPDATE fleet_occurrence SET import_record_id = NULL WHERE import_record_id IN ({record})",
    ),
    (
        "occ_occurred_at_brin: one retention batch, as fleet/retention.py writes it",
        "DELETE FROM fleet_occurrence WHERE id = ANY(ARRAY(SELECT id FROM fleet_occurrence "
        "WHERE {counted} AND occurred_at < '{cutoff}' LIMIT 10000))",
    ),
    (
        "the same batch written with IN (subquery): a scan of the whole table per batch",
        "DELETE FROM fleet_occurrence WHERE id IN (SELECT id FROM fleet_occurrence "
        "WHERE {counted} AND occurred_at < '{cutoff}' LIMIT 10000)",
    ),
    (
        "occ_occurred_at_brin: counting what retention would delete (--dry-run)",
        "SELECT COUNT(*) FROM fleet_occurrence WHERE {counted} AND occurred_at < '{cutoff}'",
    ),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleet.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from fleet.pending import COUNTED_SQL

    assert connection.vendor == "postgresql", "PostgreSQL only"
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    load(args.rows)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE fleet_occurrence")
    with connection.cursor() as cursor:
        cursor.execute("SELECT low_id, high_id FROM fleet_pendingbatch WHERE id = 1")
        low, high = cursor.fetchone()
        cursor.execute(
            "SELECT tenant_id, device_id, code FROM fleet_occurrence WHERE id = %s", [high]
        )
        t1, device, code = cursor.fetchone()
        cursor.execute("SELECT MIN(id) FROM fleet_importrecord")
        record = cursor.fetchone()[0]
        cursor.execute("SELECT MAX(occurred_at) FROM fleet_occurrence")
        end = cursor.fetchone()[0]
        cursor.execute(
            "SELECT pg_size_pretty(pg_relation_size(indexrelid)), indexrelid::regclass "
            "FROM pg_index WHERE indrelid = 'fleet_occurrence'::regclass ORDER BY 2"
        )
        sizes = cursor.fetchall()
        cursor.execute(
            "SELECT correlation FROM pg_stats WHERE tablename = 'fleet_occurrence' "
            "AND attname = 'occurred_at'"
        )
        correlation = cursor.fetchone()[0]
    print(
        f"-- {args.rows:,} occurrences loaded and analyzed in {time.perf_counter() - started:.0f} s"
    )
    print(f"-- pg_stats correlation of occurred_at with the physical order: {correlation:.3f}")
    for size, name in sizes:
        print(f"-- index {name}: {size}")
    values = {
        "low": low,
        "high": high,
        "t1": t1,
        "t2": t1 + 1,
        "code": code,
        "device": device,
        "record": record,
        "end": end.isoformat(),
        "week": (end - timedelta(days=7)).isoformat(),
        "cutoff": (START + timedelta(days=30)).isoformat(),
        "counted": COUNTED_SQL,
    }
    for title, sql in QUERIES:
        query = sql.format(**values)
        print(f"\n-- {title}\n{query};")
        with connection.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {query}")
            print("\n".join(row[0] for row in cursor.fetchall()))
            cursor.execute("ROLLBACK")


if __name__ == "__main__":
    main()
