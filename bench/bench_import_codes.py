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
            for label in ("empty database", "re-import"):
                seconds, rows, statements = timed_import()
                print(
                    f"  {label:15} {rows:6,} codes in {seconds:6.2f} s "
                    f"({rows / seconds:8,.0f} rows/s, {statements} SQL statements)"
                )
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
