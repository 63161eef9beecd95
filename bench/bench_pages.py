"""Benchmark: server time and query count of the overview, tenant, code and device pages.

    python bench/bench_pages.py [--scale 1.0] [--requests 20] [--database-url URL] [--quick]

At scale 1 the dataset is equivalent to 10,000,000 occurrences from 50,000 devices of 200
tenants over one year. It is built deterministically and directly in the aggregate tables with
set-based SQL (the pages never read raw occurrences), plus the matching devices and, for the
code page's bounded update-title query, raw rows of the measured code in the last 7 days.

Each page is requested N times through Django's test Client, for the default range (7 d) and
90 d, as a superuser (every tenant: the largest scope) and as an operator granted a few
tenants. Reported through bench/common.py beside baselines measured in the same run: a trivial
page (`/healthz`) and a plain SQL SUM over the same aggregate rows (`DailyCodeStat`, every
tenant, the same window). Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

FULL_OCCURRENCES = 10_000_000
FULL_DEVICES = 50_000
TENANTS = 200
HOURS = 365 * 24
MEASURED_CODE = 0x8024000B
RANGES = ("7d", "90d")
# The operator is granted this many tenants (the first ones); the superuser sees all.
OPERATOR_TENANTS = 3
TARGET_MS = 300
# Relative weights of the codes (a long tail, as real fleets have); 0x8024000B leads.
CODE_WEIGHTS = [
    (0x8024000B, 90),
    (0x8024402C, 80),
    (0x80240022, 70),
    (0x80244022, 60),
    (0x800F0922, 55),
    (0x80070002, 50),
    (0x8024A105, 45),
    (0x80073712, 40),
    (0xC1900101, 35),
    (0x800705B4, 30),
    (0x800F081F, 30),
    (0x80072EE2, 25),
    (0x80070005, 25),
    (0x80240017, 20),
    (0x8024200D, 20),
    (0xC1900208, 15),
    *[(0x80070000 + n, 10) for n in range(20, 50)],
    *[(0xC0000000 + n, 5) for n in range(1, 30)],
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="fraction of the full dataset (devices, rows)"
    )
    parser.add_argument("--requests", type=int, default=20, help="requests per page")
    parser.add_argument(
        "--database-url", default="", help="postgres://… to run on PostgreSQL (default: SQLite)"
    )
    parser.add_argument("--quick", action="store_true", help="scale 0.02, 5 requests")
    parser.add_argument(
        "--keep",
        metavar="SQLITE_FILE",
        default="",
        help="build into (or, if it already holds a dataset, reuse) this SQLite file and keep "
        "it, to measure again without rebuilding",
    )
    args = parser.parse_args()
    if args.quick:
        args.scale, args.requests = 0.02, 5
    if not 0 < args.scale <= 10:
        parser.error("--scale must be in (0, 10]")
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    return args


def setup_django(database_url: str, workdir: str, keep: str = "") -> str | None:
    """Point Django at a fresh throwaway database with every table created from the models.

    With `keep`, use that SQLite file as it is if it exists (returns None: nothing to drop).
    """
    if keep:
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(keep).resolve()}"
    else:
        os.environ["DATABASE_URL"] = database_url or f"sqlite:///{workdir}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleet.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.conf import settings

    django.setup()
    from django.apps import apps
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()  # lets the test Client's "testserver" host through
    test = settings.DATABASES["default"].setdefault("TEST", {})
    test["MIGRATE"] = False  # tables straight from the models, as the test suite does
    if keep:
        if not Path(keep).exists():
            with connection.schema_editor() as editor:
                for model in apps.get_models():
                    editor.create_model(model)
        return None
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    return old_name


def _secondary_indexes(cursor, table: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of a table's plain indexes: not the primary key, and not those
    backing a unique constraint (the fill's ON CONFLICT needs it)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        cursor.execute(
            """
            SELECT i.relname, pg_get_indexdef(i.oid)
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
            WHERE x.indrelid = %s::regclass AND NOT x.indisprimary AND NOT x.indisunique
            """,
            [table],
        )
    else:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
            "AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%%'",
            [table.strip('"')],
        )
    return cursor.fetchall()


def build(scale: float, end: datetime) -> dict[str, int]:
    """Tenants, devices and aggregates equivalent to `scale` x 10,000,000 occurrences."""
    from django.db import connection, transaction

    from fleet.grains import day_sql, table
    from fleet.models import (
        DailyCodeStat,
        DailyDeviceCodeStat,
        Device,
        HourlyCodeStat,
        HourlyDeviceCodeStat,
        Tenant,
    )

    devices = max(TENANTS, round(FULL_DEVICES * scale))
    per_tenant = devices // TENANTS
    devices = per_tenant * TENANTS
    # One row in four counts two occurrences: 1.25 occurrences per per-device hourly row.
    rows = round(FULL_OCCURRENCES * scale / 1.25)
    start = end - timedelta(hours=HOURS)
    postgres = connection.vendor == "postgresql"

    Tenant.objects.bulk_create(
        [Tenant(slug=f"tenant-{n:03d}", name=f"Tenant {n:03d}") for n in range(TENANTS)]
    )
    Device.objects.bulk_create(
        [
            Device(
                tenant_id=1 + n // per_tenant,
                hostname=f"T{n // per_tenant:03d}-PC-{n % per_tenant:05d}",
                name_key=f"t{n // per_tenant:03d}-pc-{n % per_tenant:05d}",
                first_seen_at=start,
                last_seen_at=end - timedelta(hours=1 + n % 200),
            )
            for n in range(devices)
        ],
        batch_size=5000,
    )
    ids = Device.objects.values_list("id", flat=True)
    if (min(ids), max(ids), Tenant.objects.order_by("-id").first().id) != (1, devices, TENANTS):
        raise SystemExit("expected a fresh database with ids from 1; run on an empty one")

    hourly_dev, daily_dev, hourly_code, daily_code = (
        table(HourlyDeviceCodeStat),
        table(DailyDeviceCodeStat),
        table(HourlyCodeStat),
        table(DailyCodeStat),
    )
    with transaction.atomic(), connection.cursor() as cursor:
        if not postgres:
            # A 1 GB page cache keeps the aggregate indexes in memory while they are filled.
            cursor.execute("PRAGMA cache_size = -1000000")
        # Filling with the plain indexes in place costs several times more than sorting each
        # once afterwards: drop them now, create them again at the end.
        dropped = [
            found
            for stats_table in (hourly_dev, daily_dev, hourly_code, daily_code)
            for found in _secondary_indexes(cursor, stats_table)
        ]
        for name, _ in dropped:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        # A 1,000-slot lookup: slot k holds a code, each code as many slots as its weight.
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_code_pick (k INTEGER PRIMARY KEY, code BIGINT)"
        )
        total = sum(w for _, w in CODE_WEIGHTS)
        slots: list[tuple[int, int]] = []
        for code, weight in CODE_WEIGHTS:
            slots += [(len(slots) + i, code) for i in range(round(1000 * weight / total))]
        slots = [(k, code) for k, code in slots if k < 1000]
        slots += [(k, CODE_WEIGHTS[-1][0]) for k in range(len(slots), 1000)]
        cursor.executemany("INSERT INTO bench_code_pick (k, code) VALUES (%s, %s)", slots)

        if postgres:
            hour = "%s::timestamptz + (({h}) * interval '1 hour')"
        else:
            hour = "datetime(%s, '+' || ({h}) || ' hours')"
        # Row n: a device (a stride coprime with the device count visits all), a weighted code,
        # and an hour rising with n: rows arrive in time order, as aggregation writes them.
        device = f"(n * 7919) %% {devices}"
        hour_offset = f"(n * {HOURS}) / {rows}"
        chunk = 500_000
        for low in range(0, rows, chunk):
            high = min(rows, low + chunk) - 1
            if postgres:
                seq = "SELECT generate_series(%s::bigint, %s::bigint) AS n"
            else:
                seq = (
                    "WITH RECURSIVE s(n) AS (SELECT %s UNION ALL SELECT n + 1 FROM s WHERE n < %s)"
                    " SELECT n FROM s"
                )
            cursor.execute(
                f"""
                INSERT INTO {hourly_dev} (tenant_id, device_id, code, hour, occurrences)
                SELECT 1 + ({device}) / {per_tenant}, 1 + {device}, p.code,
                       {hour.format(h=hour_offset)}, CASE WHEN n %% 4 = 0 THEN 2 ELSE 1 END
                FROM ({seq}) AS seq
                JOIN bench_code_pick p ON p.k = (n * 2654435761) %% 1000
                WHERE 1 = 1
                ON CONFLICT (device_id, code, hour)
                DO UPDATE SET occurrences = {hourly_dev}.occurrences + excluded.occurrences
                """,
                [start, low, high],
            )
            print(f"  aggregate rows generated: {high + 1:,} of {rows:,}", flush=True)
        day = day_sql("hour")
        cursor.execute(
            f"""
            INSERT INTO {daily_dev} (tenant_id, device_id, code, day, occurrences)
            SELECT tenant_id, device_id, code, {day}, SUM(occurrences)
            FROM {hourly_dev} GROUP BY tenant_id, device_id, code, {day}
            """,
            [],
        )
        cursor.execute(
            f"""
            INSERT INTO {hourly_code} (tenant_id, code, hour, occurrences, devices)
            SELECT tenant_id, code, hour, SUM(occurrences), COUNT(*)
            FROM {hourly_dev} GROUP BY tenant_id, code, hour
            """
        )
        cursor.execute(
            f"""
            INSERT INTO {daily_code} (tenant_id, code, day, occurrences, devices)
            SELECT tenant_id, code, day, SUM(occurrences), COUNT(*)
            FROM {daily_dev} GROUP BY tenant_id, code, day
            """
        )
        cursor.execute("DROP TABLE bench_code_pick")
        for _, create in dropped:
            cursor.execute(create)
    return {"devices": devices, "rows": rows}


def add_raw_sample(since: datetime) -> int:
    """Raw occurrences of the measured code since `since`, one per aggregate row, so the code
    page's bounded update-title query reads real rows."""
    from django.db import connection, transaction

    from fleet.grains import table
    from fleet.models import HourlyDeviceCodeStat, Occurrence

    occ, hourly_dev = table(Occurrence), table(HourlyDeviceCodeStat)
    # Unique per row is all the digest must be here: 16 bytes from the row's id.
    if connection.vendor == "postgresql":
        digest = "decode(lpad(to_hex(id), 32, '0'), 'hex')"
    else:
        digest = "CAST(printf('%%016d', id) AS BLOB)"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {occ} (tenant_id, device_id, code, code_extension, occurred_at, source,
                dedupe_key, dedupe_digest, update_title, kb, message, extra, received_at, batch)
            SELECT tenant_id, device_id, code, '', hour, 'bench', 'bench-' || id, {digest},
                CASE WHEN id %% 3 = 0 THEN 'Feature update to Windows 11, version 25H2'
                     ELSE 'Cumulative Update for Windows 11 (KB50' || (id %% 5) || '1234)' END,
                CASE WHEN id %% 3 = 0 THEN '' ELSE 'KB50' || (id %% 5) || '1234' END,
                '', '{{}}', hour, %s
            FROM {hourly_dev} WHERE code = %s AND hour >= %s
            """,
            [0, MEASURED_CODE, since],  # batch 0: already counted
        )
        return cursor.rowcount


def measure(client, url: str, requests: int) -> tuple[list[float], list[int], bytes]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm caches (templates, plotly validators) before timing
    times, queries = [], []
    body = b""
    for _ in range(requests):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        queries.append(len(captured))
        body = response.content
    return times, queries, body


def time_sql(sql: str, params: list, requests: int) -> list[float]:
    from django.db import connection

    times = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        cursor.fetchall()
        for _ in range(requests):
            started = time.perf_counter()
            cursor.execute(sql, params)
            cursor.fetchall()
            times.append(time.perf_counter() - started)
    return times


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def page_figures(
    label: str, times: list[float], queries: list[int], healthz: list[float], sql: list[float]
):
    """p50 beside the trivial page, p95 beside plain SQL (judged), and the query count."""
    from bench.common import Figure

    p50, p95 = statistics.median(times) * 1000, percentile(times, 0.95) * 1000
    spread = sorted(set(queries))
    return [
        Figure(
            f"{label} p50",
            p50,
            "ms",
            statistics.median(healthz) * 1000,
            "/healthz p50",
        ),
        Figure(
            f"{label} p95",
            p95,
            "ms",
            percentile(sql, 0.95) * 1000,
            "SQL SUM p95",
            target=f"p95 < {TARGET_MS} ms",
            met=p95 < TARGET_MS,
        ),
        Figure(
            f"{label} queries",
            spread[-1],
            "queries",
            note="fixed" if len(spread) == 1 else f"varied: {spread}",
        ),
    ]


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as workdir:
        old_name = setup_django(args.database_url, workdir, args.keep)
        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.db.models import Count
        from django.test import Client
        from django.utils import timezone

        from bench.common import Figure, database_version, report
        from dashboards.filters import scope_from_request
        from fleet.grains import table
        from fleet.models import (
            DailyCodeStat,
            DailyDeviceCodeStat,
            Device,
            HourlyCodeStat,
            HourlyDeviceCodeStat,
            Occurrence,
            Tenant,
        )

        try:
            now = timezone.now()
            # The year of data ends with today, so the default 7-day window is full.
            end = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
            print(f"backend: {connection.vendor}; scale {args.scale}; {args.requests} requests")
            started = time.perf_counter()
            if Tenant.objects.exists():
                # Built on an earlier day, its last days may fall outside today's windows.
                print(f"reusing the dataset in {args.keep} (not rebuilt)")
                sampled = Occurrence.objects.count()
            else:
                build(args.scale, end)
                sampled = add_raw_sample(end - timedelta(days=7))
            built = time.perf_counter() - started
            occurrences = sum(HourlyCodeStat.objects.values_list("occurrences", flat=True))
            devices = Device.objects.count()
            print(
                f"dataset: {occurrences:,} occurrences, {devices:,} devices, "
                f"{TENANTS} tenants, 365 days; aggregate rows: hourly code "
                f"{HourlyCodeStat.objects.count():,}, daily code "
                f"{DailyCodeStat.objects.count():,}, hourly device "
                f"{HourlyDeviceCodeStat.objects.count():,}, daily device "
                f"{DailyDeviceCodeStat.objects.count():,}; raw sample {sampled:,}; "
                f"ready in {built:.1f} s",
                flush=True,
            )
            if connection.vendor == "postgresql":
                # What autovacuum does on a live database (migration 0006 makes it vacuum the
                # aggregates after 1% new rows): statistics, and the visibility map without
                # which the covering indexes cannot answer alone. A bulk load has neither.
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM ANALYZE")

            users = get_user_model().objects
            root, _ = users.get_or_create(
                username="bench-root", defaults={"is_superuser": True, "is_staff": True}
            )
            operator, _ = users.get_or_create(username="bench-operator")
            granted = list(Tenant.objects.order_by("id")[:OPERATOR_TENANTS])
            for tenant in granted:
                tenant.operators.add(operator)
            # The device with most rows in the operator's first tenant: the fullest timeline.
            device_id = (
                DailyDeviceCodeStat.objects.filter(tenant=granted[0])
                .values("device_id")
                .annotate(n=Count("id"))
                .order_by("-n", "device_id")[0]["device_id"]
            )
            pages = {
                "overview": "/",
                "tenant": f"/tenants/{granted[0].slug}/",
                "code": f"/codes/0x{MEASURED_CODE:08X}/",
                "device": f"/devices/{device_id}/",
            }

            anonymous = Client()
            healthz = measure(anonymous, "/healthz", args.requests)[0]
            sql = {}
            for range_key in RANGES:
                # The rows the pages' code-per-day read scans, summed with nothing else around.
                window = scope_from_request(_request(root, f"range={range_key}"))
                tenants = window.tenant_ids
                sum_sql = (
                    f"SELECT SUM(occurrences) FROM {table(DailyCodeStat)} "
                    f"WHERE tenant_id IN ({', '.join(['%s'] * len(tenants))}) "
                    "AND day >= %s AND day < %s"
                )
                days = [
                    connection.ops.adapt_datefield_value(window.start.date()),
                    connection.ops.adapt_datefield_value(window.end.date()),
                ]
                sql[range_key] = time_sql(sum_sql, [*tenants, *days], args.requests)
            figures = [
                Figure(
                    "baseline /healthz p50",
                    statistics.median(healthz) * 1000,
                    "ms",
                    note=f"p95 {percentile(healthz, 0.95) * 1000:.1f} ms",
                ),
                *(
                    Figure(
                        f"baseline SQL SUM daily code {key} p95",
                        percentile(times, 0.95) * 1000,
                        "ms",
                        note="SUM(occurrences) of DailyCodeStat over the window, all tenants",
                    )
                    for key, times in sql.items()
                ),
            ]
            code_body = b""
            for who, user in (("superuser", root), ("operator", operator)):
                client = Client()
                client.force_login(user)
                for name, url in pages.items():
                    for range_key in RANGES:
                        times, queries, body = measure(
                            client, f"{url}?range={range_key}", args.requests
                        )
                        if name == "code":
                            code_body = body
                        figures += page_figures(
                            f"{name} {range_key} {who}", times, queries, healthz, sql[range_key]
                        )
                        print(f"  measured {who} {url}?range={range_key}", flush=True)
            if b'id="chart-code_trend"' not in code_body:
                print("note: the code page does not include the fleet section")
            report(
                "pages",
                os.environ["DATABASE_URL"],
                figures,
                {
                    "scale": args.scale,
                    "requests": args.requests,
                    "occurrences": occurrences,
                    "devices": devices,
                    "tenants": TENANTS,
                    "days": 365,
                    "operator_tenants": OPERATOR_TENANTS,
                    "ranges": list(RANGES),
                    "pages": pages,
                    "build_seconds": round(built, 1),
                },
                quick=args.quick,
                db_version=database_version(),
            )
        finally:
            if old_name is not None:
                connection.creation.destroy_test_db(old_name, verbosity=0)


def _request(user, query: str):
    from django.test import RequestFactory

    request = RequestFactory().get(f"/?{query}")
    request.user = user
    return request


if __name__ == "__main__":
    main()
