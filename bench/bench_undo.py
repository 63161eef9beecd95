"""Benchmark: undo of a large import, beside a bare DELETE of the same rows.

    python bench/bench_undo.py [--import-rows 200000] [--other-rows 800000] [--quick]
                               [--database-url URL]

Runs on a throwaway database (as bench_aggregate.py does: a temporary SQLite file, or a
`test_<name>` PostgreSQL database dropped afterwards). Loads `--other-rows` occurrences of 20
tenants and an import of `--import-rows` of one of them (250 devices, 40 codes, 60 days, so its
buckets are shared with other rows of that tenant), aggregates everything, then times

1. the baseline: `DELETE FROM fleet_occurrence WHERE import_record_id = …`, rolled back;
2. `fleet.ingest.undo.undo_import` of the import: the same delete plus every aggregate
   corrected, in one transaction;
3. a recount of the aggregates from the raw rows (`rebuild_all`), the other exact way to
   correct them after a bare DELETE (a second baseline), and exits 1 if the undo left any table
   different from the recount. Asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.bench_aggregate import (  # noqa: E402
    CODES,
    COLUMNS,
    DAYS,
    RECEIVED,
    START,
    Generator,
    create_fleet,
    load,
    loading_pragmas,
    setup_django,
)
from bench.common import Figure, database_version, report  # noqa: E402

SEED = 2_000_003
BATCH = 100_000


class _Rollback(Exception):
    pass


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--import-rows", type=int, default=200_000)
    parser.add_argument("--other-rows", type=int, default=800_000)
    parser.add_argument("--database-url", default="", help="postgres://… (default: SQLite)")
    parser.add_argument("--quick", action="store_true", help="20,000 rows undone, 80,000 others")
    args = parser.parse_args()
    if args.quick:
        args.import_rows, args.other_rows = 20_000, 80_000
    return args


def load_import(pairs: list[tuple[int, int]], count: int) -> int:
    """Store `count` rows of one tenant as one finished import (batch 0: the rebuild that
    follows counts them); its id."""
    from django.db import connection, transaction

    from fleet.ingest.models import ImportRecord
    from fleet.models import Occurrence, Tenant
    from fleet.models.core import dedupe_digest

    tenant_id = pairs[0][0]
    devices = [device for tenant, device in pairs if tenant == tenant_id]
    record = ImportRecord.objects.create(
        tenant=Tenant.objects.get(pk=tenant_id),
        file_name="bench.csv",
        sha256="0" * 64,
        status=ImportRecord.Status.DONE,
        created=count,
    )
    rng = random.Random(SEED)
    quoted = connection.ops.quote_name(Occurrence._meta.db_table)
    columns = f"{COLUMNS}, import_record_id"

    def rows():
        for serial in range(count):
            when = START + timedelta(seconds=int(rng.random() * DAYS * 86_400))
            code = CODES[int(rng.random() * len(CODES))]
            device = devices[int(rng.random() * len(devices))]
            key = f"u{serial:09d}"
            yield (
                tenant_id, device, code, when.strftime("%Y-%m-%d %H:%M:%S"), key,
                dedupe_digest("bench-import", key),
            )  # fmt: skip

    source = iter(rows())
    with loading_pragmas():
        while batch := list(itertools.islice(source, BATCH)):
            with transaction.atomic(), connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    text = "".join(
                        f"{t}\t{d}\t{c}\t{w}+00\t{k}\t\\\\x{g.hex()}\t0\t{RECEIVED}+00\t"
                        f"bench-import\t\t\t\t\t{{}}\t{record.pk}\n"
                        for t, d, c, w, k, g in batch
                    )
                    with cursor.cursor.copy(f"COPY {quoted} ({columns}) FROM STDIN") as copy:
                        copy.write(text)
                else:
                    cursor.executemany(
                        f"INSERT INTO {quoted} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, "
                        f"0, '{RECEIVED}', 'bench-import', '', '', '', '', '{{}}', {record.pk})",
                        batch,
                    )
    return record.pk


def table_totals() -> dict[str, tuple]:
    """(rows, sum of occurrences, sum of devices where kept) of every aggregate table."""
    from django.db.models import Count, Sum

    from fleet.aggregate import SNAPSHOT_MODEL, STAT_MODELS

    totals = {}
    for model in (*STAT_MODELS, SNAPSHOT_MODEL):
        fields = {"rows": Count("pk"), "occurrences": Sum("occurrences")}
        if any(f.name == "devices" for f in model._meta.fields):
            fields["devices"] = Sum("devices")
        totals[model._meta.db_table] = tuple(model.objects.aggregate(**fields).values())
    return totals


def bare_delete(record_id: int) -> tuple[float, int]:
    """The baseline: delete the import's rows and nothing else, then roll back."""
    from django.db import connection, transaction

    from fleet.models import Occurrence

    quoted = connection.ops.quote_name(Occurrence._meta.db_table)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(f"DELETE FROM {quoted} WHERE import_record_id = %s", [record_id])
            seconds, deleted = time.perf_counter() - started, cursor.rowcount
            raise _Rollback
    except _Rollback:
        pass
    return seconds, deleted


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-undo-") as workdir:
        old_name = setup_django(args.database_url, workdir)
        from django.db import connection

        from fleet.aggregate import rebuild_all
        from fleet.ingest.undo import undo_import

        try:
            print(
                f"backend: {connection.vendor}; import of {args.import_rows:,} rows among "
                f"{args.other_rows:,} others",
                flush=True,
            )
            pairs = create_fleet()
            loading = load(Generator(pairs), args.other_rows, aggregated=False, drop_indexes=True)
            started = time.perf_counter()
            record_id = load_import(pairs, args.import_rows)
            loading += time.perf_counter() - started
            rebuild_all()
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM ANALYZE")
            delete_seconds, deleted = bare_delete(record_id)
            started = time.perf_counter()
            result = undo_import(record_id)
            undo_seconds = time.perf_counter() - started
            after = table_totals()
            started = time.perf_counter()
            rebuild_all()
            rebuild_seconds = time.perf_counter() - started
            problems = []
            if result.deleted != args.import_rows or deleted != args.import_rows:
                problems.append(f"deleted {result.deleted} (bare {deleted}), not all")
            if (recount := table_totals()) != after:
                problems.append(f"after the undo {after}, a recount gives {recount}")
            print(f"loading (not compared): {loading:.1f} s", flush=True)
            figures = [
                Figure(
                    f"undo of a {args.import_rows:,}-row import",
                    undo_seconds,
                    "s",
                    baseline=delete_seconds,
                    baseline_label="bare DELETE of the same rows",
                    note=f"{args.other_rows:,} other rows; every aggregate corrected",
                ),
                Figure(
                    f"undo of a {args.import_rows:,}-row import",
                    undo_seconds,
                    "s",
                    baseline=delete_seconds + rebuild_seconds,
                    baseline_label="bare DELETE, then rebuild_aggregates",
                    note="the other exact way to correct the aggregates",
                ),
                Figure(
                    "undo per 1,000 rows",
                    1000 * undo_seconds / args.import_rows * 1000,
                    "ms",
                ),
            ]
            report(
                "undo",
                args.database_url,
                figures,
                {
                    "import_rows": args.import_rows,
                    "other_rows": args.other_rows,
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
