"""Benchmark: import a generated 1,000,000-row Configuration Manager export with the real
importer, beside a bare bulk insert of the same occurrences into the same table.

    python bench/bench_import.py [--rows 1000000] [--batch-size N] [--database-url URL]

Runs on a throwaway database (a temporary SQLite file by default; with a postgres:// URL, a
`test_<name>` database dropped afterwards). The export is written to a temporary file row by
row (deterministic: same bytes every run). The import runs in a child process so its peak RSS
(ru_maxrss) is the importer's own; the baseline (executemany on SQLite, COPY on PostgreSQL)
runs after it in this process on the same rows. Prints rows/s, peak RSS and the ratio; asserts
nothing about speed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import Figure, database_version, report  # noqa: E402

DEVICES = 10_000
CODES = [0x80070000 + n for n in range(20)] + [0x80240000 + n for n in range(20)]
START = datetime(2025, 1, 1, tzinfo=UTC)
SEED = 20_250_101
HEADER = "MachineName,UserName,LastEnforcementTime,ErrorStatusID,ErrorCode,ErrorCodeInt,MessageName"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="data rows to generate")
    parser.add_argument(
        "--batch-size", type=int, default=0, help="importer batch size (default: its BATCH_ROWS)"
    )
    parser.add_argument("--database-url", default="", help="postgres://… (default: SQLite)")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="50,000 rows (make bench-quick)")
    args = parser.parse_args()
    if args.quick:
        args.rows = 50_000
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    return args


def rows(count: int):
    """(machine, time, code) for every data row; about 5% are success rows (code 0)."""
    rng = random.Random(SEED)
    for n in range(count):
        code = 0 if rng.random() < 0.05 else rng.choice(CODES)
        when = START + timedelta(seconds=n * 2 + rng.randrange(2))
        yield f"CM-PC-{rng.randrange(DEVICES):05d}", when, code


def write_export(path: Path, count: int) -> None:
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(HEADER + "\r\n")
        for machine, when, code in rows(count):
            signed = code - (1 << 32) if code & 0x80000000 else code
            status = "Succeeded" if code == 0 else "Failed to install update(s)"
            out.write(
                f'"{machine}","CONTOSO\\user","{when:%Y-%m-%d %H:%M:%S}.000",'
                f'"{11756 if code else 0}","0x{code:08x}","{signed}","{status}"\r\n'
            )


def setup_django(database_url: str, create: bool) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleet.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.conf import settings

    django.setup()
    if create:
        from django.db import connection

        settings.DATABASES["default"].setdefault("TEST", {})["MIGRATE"] = False
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)


def child_import(path: str, batch_size: int) -> None:
    """Runs in the child: import the file, print timing and summary as JSON."""
    from fleet.ingest.importer import import_file
    from fleet.models import Tenant

    tenant = Tenant.objects.get(slug="bench")
    options = {"batch_size": batch_size} if batch_size else {}  # else what import_report uses
    started = time.perf_counter()
    _record, summary = import_file(Path(path), tenant, **options)
    seconds = time.perf_counter() - started
    data = summary.as_dict()
    data.pop("rejected")
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_kb / 1024, "summary": data}))


BARE = "bench_pk_only"


def baseline() -> float:
    """Insert the rows the import stored, read back as they are, into a table of the same
    columns with only a primary key (no foreign keys, unique or secondary indexes), by the
    database's fastest plain bulk path: `executemany` on SQLite, `COPY` on PostgreSQL."""
    from django.db import connection, transaction

    from fleet.models import Occurrence

    table = Occurrence._meta.db_table
    fields = [f for f in Occurrence._meta.concrete_fields if not f.primary_key]
    columns = [f.column for f in fields]
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"CREATE TABLE {BARE} (LIKE {table} INCLUDING DEFAULTS INCLUDING IDENTITY)"
            )
            cursor.execute(f"ALTER TABLE {BARE} ADD PRIMARY KEY (id)")
        else:
            types = ", ".join(f'"{f.column}" {f.db_type(connection)}' for f in fields)
            cursor.execute(
                f'CREATE TABLE {BARE} ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, {types})'
            )
        cursor.execute(f"SELECT {names} FROM {table} ORDER BY id")
        stored = cursor.fetchall()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {BARE} ({names}) FROM STDIN") as copy:
                for row in stored:
                    copy.write_row(row)
        else:
            marks = ", ".join(["?"] * len(columns))
            cursor.cursor.executemany(f"INSERT INTO {BARE} ({names}) VALUES ({marks})", stored)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {BARE}")
    return seconds


def main() -> None:
    args = parse_args()
    if args.child:
        setup_django(args.database_url, create=False)
        child_import(args.child, args.batch_size)
        return
    with tempfile.TemporaryDirectory(prefix="bench_import_") as workdir:
        url = args.database_url or f"sqlite:///{workdir}/bench.sqlite3"
        setup_django(url, create=True)
        from django.db import connection

        from fleet.models import Tenant

        Tenant.objects.create(slug="bench", name="Bench")
        test_name = connection.settings_dict["NAME"]
        if connection.vendor == "sqlite":
            child_url = f"sqlite:///{test_name}"
        else:
            child_url = url.rsplit("/", 1)[0] + "/" + test_name
        export = Path(workdir) / "configmgr_export.csv"
        started = time.perf_counter()
        write_export(export, args.rows)
        size_mb = export.stat().st_size / 1e6
        print(
            f"generated {args.rows:,} rows ({size_mb:,.0f} MB) "
            f"in {time.perf_counter() - started:.1f} s"
        )
        connection.close()

        result = subprocess.run(
            [sys.executable, __file__, "--rows", str(args.rows), "--batch-size",
             str(args.batch_size), "--database-url", child_url, "--child", str(export)],
            capture_output=True, text=True, check=False, cwd=REPO,
        )  # fmt: skip
        if result.returncode:
            sys.stderr.write(result.stderr)
            raise SystemExit("the import child failed")
        child = json.loads(result.stdout.strip().splitlines()[-1])
        summary = child["summary"]
        import_seconds = child["seconds"]
        print(
            f"import:   {import_seconds:8.1f} s  {args.rows / import_seconds:10,.0f} rows/s  "
            f"peak RSS {child['peak_rss_mb']:.0f} MB  ({connection.vendor})"
        )
        print(
            f"          created {summary['created']:,}, success rows {summary['success_rows']:,}, "
            f"duplicates {summary['duplicates']:,}, rejected {summary['rejected_count']:,}, "
            f"devices {summary['devices']:,}"
        )
        from fleet.ingest.importer import BATCH_ROWS

        batch_size = args.batch_size or BATCH_ROWS
        base_seconds = baseline()
        print(
            f"baseline: {base_seconds:8.1f} s  {args.rows / base_seconds:10,.0f} rows/s  "
            f"(bare {'COPY' if connection.vendor == 'postgresql' else 'executemany'} of the "
            f"{summary['created']:,} stored rows into a primary-key-only table)"
        )
        print(f"ratio import/baseline: {import_seconds / base_seconds:.1f}x")
        import_rate, base_rate = args.rows / import_seconds, args.rows / base_seconds
        bare = "COPY" if connection.vendor == "postgresql" else "executemany"
        report(
            "import",
            args.database_url,
            [
                Figure(
                    "CSV import rate",
                    import_rate,
                    "rows/s",
                    baseline=base_rate,
                    baseline_label=f"bare {bare} of the same rows, primary-key-only table",
                    target=">= 0.5x baseline",
                    met=import_rate >= 0.5 * base_rate,
                ),
                Figure(
                    "CSV import peak RSS",
                    child["peak_rss_mb"],
                    "MB",
                    target="< 300 MB",
                    met=child["peak_rss_mb"] < 300,
                ),
            ],
            {"rows": args.rows, "batch_size": batch_size, "stored": summary["created"]},
            quick=args.quick,
            db_version=database_version(),
        )
        connection.creation.destroy_test_db(test_name, verbosity=0)


if __name__ == "__main__":
    main()
