"""Benchmark: `import_codes` into an empty database, then again (the idempotent re-run).

    python bench/bench_import_codes.py [--database-url URL] [--quick]

Runs on a throwaway database (a temporary SQLite file by default; with a postgres:// URL, a
`test_<name>` database that is dropped afterwards) with the tables created from the models.
Prints rows, seconds, rows per second and statements issued; asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import Figure, database_version, report  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="", help="postgres://… to run on PostgreSQL (default: SQLite)"
    )
    parser.add_argument("--quick", action="store_true", help="accepted for make bench-quick")
    return parser.parse_args()


def setup_django(database_url: str, workdir: str) -> str:
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{workdir}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleet.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.conf import settings

    django.setup()
    from django.db import connection

    settings.DATABASES["default"].setdefault("TEST", {})["MIGRATE"] = False
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    return old_name


def timed_import() -> tuple[float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from codes.catalog_import import import_codes

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = import_codes()
        seconds = time.perf_counter() - started
    return seconds, result.codes, len(queries)


def bare_insert() -> tuple[float, int]:
    """The same catalog rows written back with one plain bulk_create: the floor to compare to."""
    from django.db import transaction

    from codes.models import ErrorCode

    rows = list(ErrorCode.objects.values())
    ErrorCode.objects.all().delete()
    started = time.perf_counter()
    with transaction.atomic():
        ErrorCode.objects.bulk_create([ErrorCode(**row) for row in rows], batch_size=2000)
    return time.perf_counter() - started, len(rows)


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        old_name = setup_django(args.database_url, workdir)
        from django.db import connection

        # Read the files once outside the timing, as a long-running process would have them.
        from codes.catalog import load_catalog
        from codes.knowledge import load_curated_codes, load_families

        load_catalog(), load_curated_codes(), load_families()
        try:
            print(f"import_codes on {connection.vendor}")
            timings = {}
            for label in ("empty database", "re-import"):
                seconds, rows, statements = timed_import()
                timings[label] = (seconds, rows, statements)
                print(
                    f"  {label:15} {rows:6,} codes in {seconds:6.2f} s "
                    f"({rows / seconds:8,.0f} rows/s, {statements} SQL statements)"
                )
            base_seconds, base_rows = bare_insert()
            print(f"  {'baseline':15} {base_rows:6,} codes in {base_seconds:6.2f} s (bulk_create)")
            base_rate = base_rows / base_seconds
            report(
                "codes",
                args.database_url,
                [
                    Figure(
                        f"import_codes, {label}",
                        rows / seconds,
                        "codes/s",
                        baseline=base_rate,
                        baseline_label="bulk_create of the same rows",
                        note=f"{statements} SQL statements",
                    )
                    for label, (seconds, rows, statements) in timings.items()
                ],
                {"codes": timings["empty database"][1]},
                quick=args.quick,
                db_version=database_version(),
            )
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
