"""Aggregate queries behind the dashboard pages.

Pages read the aggregates of the grain their window reads (`Scope.grain`, which asks
`fleet.grains.grain_for`: the hourly tables for the 24 h window, the daily ones for whole-day
windows), and every function here issues a fixed number of queries whatever the data size:
grouping happens in SQL, and results come back already bounded (top N, or one row per bucket).
Outside the aggregates only bounded, indexed reads: a device's own row by primary key, and a
capped sample of a code's recent occurrences for its update titles and KBs (see `code_fleet`).
What each code is called, its family and severity come from `codes.facts` (one query),
as on every other page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import connection
from django.db.models import Count, Max, OuterRef, Subquery, Sum

from codes.facts import CodeFacts, facts_for
from dashboards.filters import Scope
from fleet.grains import DAILY, HOURLY, table
from fleet.models import Device, Occurrence
from fleet.triage.models import TriageFlag

TOP_CODES = 10
HEATMAP_CODES = 15
TOP_DEVICES = 10
CODE_PAGE_DEVICES = 50
CODE_PAGE_COOCCURRING = 15
# Codes on the same devices are counted over this many of the code's most affected devices:
# over all of them a 90-day window reads every row of nearly the whole fleet.
COOCCURRING_DEVICES = 500
# Update titles and KBs come from raw occurrences, so only this many recent ones are read.
UPDATE_SAMPLE = 5000


def _as_utc(value) -> datetime:
    # SQLite hands back naive datetimes for truncations, and the daily table holds dates.
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _code_buckets(scope: Scope) -> list[tuple[int, datetime, int]]:
    """(code, bucket, occurrences) over the window, from the per-code table of its grain (the
    daily one holds a 90-day window in ~24x fewer rows than the hourly one)."""
    grain = scope.grain
    stats = grain.stats(scope.start, scope.end, per_device=False)
    if grain is HOURLY or not scope.every_tenant:
        # Every tenant's daily rows of a 90-day window are ~1M, which the (day, code, …) index
        # groups in order; with a tenant list they must be sorted first (10x slower).
        stats = stats.filter(tenant_id__in=scope.tenant_ids)
    stats = stats.values_list("code", grain.column)
    return [
        (code, _as_utc(bucket), n)
        for code, bucket, n in stats.annotate(n=Sum("occurrences")).order_by()
    ]


def _device_stats(scope: Scope):
    """Per-device rows in the window, from the per-device table of its grain.

    No tenant filter: callers narrow to devices already taken from the scope, so the planner
    walks each device's own (device, code, bucket) key instead of every row of the tenants.
    """
    return scope.grain.stats(scope.start, scope.end, per_device=True)


# --- overview -------------------------------------------------------------------------------


@dataclass
class Overview:
    occurrences: int
    devices_affected: int
    open_flags: int
    new_codes: int
    # (code, bucket start, occurrences), one row per code and bucket with any occurrence
    code_buckets: list[tuple[int, datetime, int]]
    codes: dict[int, CodeFacts]
    top_devices: list[dict]

    def code_totals(self) -> list[tuple[int, int]]:
        """(code, occurrences) for the whole window, largest first."""
        totals: dict[int, int] = {}
        for code, _, count in self.code_buckets:
            totals[code] = totals.get(code, 0) + count
        return sorted(totals.items(), key=lambda item: (-item[1], item[0]))


def open_flag_count(scope: Scope) -> int:
    """Flags an operator still has to look at, whenever they were raised."""
    return TriageFlag.objects.filter(
        tenant_id__in=scope.tenant_ids, state__in=TriageFlag.OPEN_STATES
    ).count()


def new_code_count(scope: Scope, codes: set[int]) -> int:
    """How many of `codes` (those seen in the window) these tenants never reported before it.

    Existence probes per code on the (tenant, code, day) key of `DailyCodeStat` for the days
    before the window, and on the (tenant, code, hour) key of `HourlyCodeStat` for the hours of
    the window's first day before it (none for whole-day windows): the cost follows the number
    of codes in the window, not the rows before it.
    """
    if not codes or not scope.tenant_ids:
        return 0
    seen = " UNION ALL ".join(["SELECT CAST(%s AS BIGINT) AS code"] * len(codes))
    tenants = _placeholders(scope.tenant_ids)
    first_day = datetime.combine(DAILY.value(scope.start), datetime.min.time(), tzinfo=UTC)
    sql = f"""
        SELECT COUNT(*) FROM ({seen}) seen
        WHERE NOT EXISTS (
            SELECT 1 FROM {table(DAILY.code_model)} earlier
            WHERE earlier.tenant_id IN ({tenants})
              AND earlier.code = seen.code AND earlier.day < %s
        ) AND NOT EXISTS (
            SELECT 1 FROM {table(HOURLY.code_model)} earlier
            WHERE earlier.tenant_id IN ({tenants})
              AND earlier.code = seen.code AND earlier.hour >= %s AND earlier.hour < %s
        )
    """
    params = [
        *sorted(codes),
        *scope.tenant_ids,
        DAILY.sql_value(scope.start),
        *scope.tenant_ids,
        *HOURLY.sql_bounds(first_day, scope.start),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def top_devices(scope: Scope, limit: int = TOP_DEVICES) -> tuple[int, list[dict]]:
    """(devices affected, the `limit` devices with most occurrences) in one pass over the window.

    The window function counts the groups, so the distinct-device figure needs no second scan.
    Devices are named, and their distinct codes counted, after ranking: done before grouping,
    either would be carried through every row of the window (counting codes there doubled the
    time of a 90-day window). Two queries whatever the data size.
    """
    if not scope.tenant_ids:
        return 0, []
    grain = scope.grain
    stats, column = table(grain.device_model), grain.column
    bounds = grain.sql_bounds(scope.start, scope.end)
    sql = f"""
        SELECT device_id, SUM(occurrences) AS occurrences, COUNT(*) OVER () AS devices
        FROM {stats}
        WHERE tenant_id IN ({_placeholders(scope.tenant_ids)})
          AND {column} >= %s AND {column} < %s
        GROUP BY device_id
        ORDER BY occurrences DESC, device_id
        LIMIT %s
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*scope.tenant_ids, *bounds, limit])
        ranked = cursor.fetchall()
    if not ranked:
        return 0, []
    codes = (
        _device_stats(scope)
        .filter(device_id=OuterRef("pk"))
        .values("device_id")
        .annotate(codes=Count("code", distinct=True))
        .values("codes")
    )
    names = {
        row["pk"]: row
        for row in Device.objects.filter(pk__in=[r[0] for r in ranked])
        .annotate(codes=Subquery(codes))
        .values("pk", "hostname", "tenant__slug", "tenant__name", "codes")
    }
    rows = [
        {
            "device_id": device_id,
            "occurrences": occurrences,
            "codes": names[device_id]["codes"],
            "device__hostname": names[device_id]["hostname"],
            "tenant__slug": names[device_id]["tenant__slug"],
            "tenant__name": names[device_id]["tenant__name"],
        }
        for device_id, occurrences, _ in ranked
    ]
    return ranked[0][2], rows


def _placeholders(values: list) -> str:
    return ", ".join(["%s"] * len(values))


def overview(scope: Scope) -> Overview:
    """Everything the overview and tenant pages show. Six queries whatever the data size."""
    buckets = _code_buckets(scope)
    codes = {code for code, _, _ in buckets}
    devices_affected, ranked = top_devices(scope)
    return Overview(
        occurrences=sum(n for _, _, n in buckets),
        devices_affected=devices_affected,
        open_flags=open_flag_count(scope),
        new_codes=new_code_count(scope, codes),
        code_buckets=buckets,
        codes=facts_for(codes),
        top_devices=ranked,
    )


# --- code page ------------------------------------------------------------------------------


@dataclass
class CodeFleet:
    value: int
    # (bucket start, occurrences, distinct devices)
    trend: list[tuple[datetime, int, int]]
    tenants: list[dict]
    devices: list[dict]
    updates: list[dict]
    cooccurring: list[dict]
    codes: dict[int, CodeFacts]

    @property
    def occurrences(self) -> int:
        return sum(row[1] for row in self.trend)

    @property
    def devices_affected(self) -> int:
        # Devices belong to one tenant, so per-tenant distinct counts add up exactly.
        return sum(row["devices"] for row in self.tenants)


def _code_trend(scope: Scope, value: int) -> list[tuple[datetime, int, int]]:
    """(bucket, occurrences, distinct devices) of one code from the per-tenant code tables.

    A device belongs to one tenant, so per-tenant distinct counts of a bucket add up exactly.
    """
    grain = scope.grain
    stats, bucket = grain.stats(scope.start, scope.end, per_device=False), grain.column
    return [
        (_as_utc(moment), n, devices)
        for moment, n, devices in stats.filter(tenant_id__in=scope.tenant_ids, code=value)
        .values_list(bucket)
        .annotate(n=Sum("occurrences"), devices=Sum("devices"))
        .order_by(bucket)
    ]


def _code_devices(scope: Scope, value: int) -> tuple[list[dict], list[dict]]:
    """(per-tenant rows, the most affected devices) of one code, in one pass over its rows.

    Window functions rank the per-device totals overall and within each tenant, and count
    and sum them per tenant, so only the top COOCCURRING_DEVICES devices and one row per
    tenant come back, and the per-device rows are read once for both tables.
    """
    if not scope.tenant_ids:
        return [], []
    grain = scope.grain
    stats, column = table(grain.device_model), grain.column
    bounds = grain.sql_bounds(scope.start, scope.end)
    sql = f"""
        WITH per_device AS (
            SELECT tenant_id, device_id, SUM(occurrences) AS occurrences,
                   MIN({column}) AS first_bucket, MAX({column}) AS last_bucket
            FROM {stats}
            WHERE tenant_id IN ({_placeholders(scope.tenant_ids)}) AND code = %s
              AND {column} >= %s AND {column} < %s
            GROUP BY tenant_id, device_id
        ), ranked AS (
            SELECT per_device.*,
                   ROW_NUMBER() OVER (ORDER BY occurrences DESC, device_id) AS position,
                   ROW_NUMBER() OVER (PARTITION BY tenant_id ORDER BY device_id) AS in_tenant,
                   COUNT(*) OVER (PARTITION BY tenant_id) AS tenant_devices,
                   SUM(occurrences) OVER (PARTITION BY tenant_id) AS tenant_occurrences
            FROM per_device
        )
        SELECT tenant_id, device_id, occurrences, first_bucket, last_bucket, position, in_tenant,
               tenant_devices, tenant_occurrences
        FROM ranked WHERE position <= %s OR in_tenant = 1
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*scope.tenant_ids, value, *bounds, COOCCURRING_DEVICES])
        found = cursor.fetchall()
    by_id = {t.pk: t for t in scope.tenants}
    tenants = sorted(
        (
            {
                "tenant__slug": by_id[row[0]].slug,
                "tenant__name": by_id[row[0]].name,
                "occurrences": row[8],
                "devices": row[7],
            }
            for row in found
            if row[6] == 1
        ),
        key=lambda r: (-r["occurrences"], r["tenant__name"]),
    )
    devices = [
        {
            "device_id": row[1],
            "occurrences": row[2],
            "first": _bucket_value(row[3]),
            "last": _bucket_value(row[4]),
        }
        for row in sorted(found, key=lambda row: row[5])
        if row[5] <= COOCCURRING_DEVICES
    ]
    return tenants, devices


def _bucket_value(value) -> datetime:
    """A bucket from raw SQL as an aware UTC datetime (SQLite hands back ISO text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if len(value) > 10 else date.fromisoformat(value)
    return _as_utc(value)


def code_fleet(scope: Scope, value: int) -> CodeFleet:
    """The fleet section of a code's knowledge page. Six queries whatever the data size."""
    trend = _code_trend(scope, value)
    tenants, ranked_devices = _code_devices(scope, value)
    devices = ranked_devices[:CODE_PAGE_DEVICES]
    names = {
        row["pk"]: row
        for row in Device.objects.filter(pk__in=[r["device_id"] for r in devices]).values(
            "pk", "hostname", "tenant__slug", "tenant__name"
        )
    }
    for row in devices:
        name = names[row["device_id"]]
        row["device__hostname"] = name["hostname"]
        row["tenant__slug"], row["tenant__name"] = name["tenant__slug"], name["tenant__name"]
    # Raw occurrences, on purpose and bounded: titles and KBs are not in the aggregates. The
    # inner query walks the (tenant, code, occurred_at) index newest first and stops at
    # UPDATE_SAMPLE rows, so the cost does not grow with the fleet.
    recent = (
        Occurrence.objects.filter(
            tenant_id__in=scope.tenant_ids,
            code=value,
            occurred_at__gte=scope.start,
            occurred_at__lt=scope.end,
        )
        .order_by("-occurred_at")
        .values("id")[:UPDATE_SAMPLE]
    )
    updates = list(
        Occurrence.objects.filter(id__in=recent)
        .exclude(update_title="", kb="")
        .values("update_title", "kb")
        .annotate(occurrences=Count("id"), last=Max("occurred_at"))
        .order_by("-occurrences", "update_title", "kb")[:20]
    )
    cooccurring = list(
        _device_stats(scope)
        .filter(device_id__in=[r["device_id"] for r in ranked_devices])
        .exclude(code=value)
        .values("code")
        .annotate(devices=Count("device_id", distinct=True), occurrences=Sum("occurrences"))
        .order_by("-devices", "-occurrences", "code")[:CODE_PAGE_COOCCURRING]
    )
    return CodeFleet(
        value=value,
        trend=trend,
        tenants=tenants,
        devices=devices,
        updates=updates,
        cooccurring=cooccurring,
        codes=facts_for({row["code"] for row in cooccurring} | {value}),
    )


# --- device page ----------------------------------------------------------------------------


@dataclass
class DeviceTimeline:
    device: Device
    # (code, bucket start, occurrences)
    points: list[tuple[int, datetime, int]]
    codes: dict[int, CodeFacts]

    def per_code(self) -> list[dict]:
        """One summary row per code: occurrences, first and last bucket seen."""
        rows: dict[int, dict] = {}
        for code, bucket, count in self.points:
            row = rows.setdefault(code, {"code": code, "occurrences": 0, "first": bucket})
            row["occurrences"] += count
            row["first"] = min(row["first"], bucket)
            row["last"] = max(row.get("last", bucket), bucket)
        return sorted(rows.values(), key=lambda r: (-r["occurrences"], r["code"]))


def visible_device(scope: Scope, device_id: int) -> Device | None:
    """The device if one of the user's tenants owns it (one query by primary key)."""
    if not 0 < device_id < 2**63:  # beyond any primary key, and beyond what SQLite can bind
        return None
    return (
        Device.objects.select_related("tenant")
        .filter(pk=device_id, tenant_id__in=[t.pk for t in scope.visible])
        .first()
    )


def device_timeline(scope: Scope, device: Device) -> DeviceTimeline:
    """A device's codes over the window, per hour or day. Two queries whatever the data size."""
    grain = scope.grain
    stats = grain.stats(scope.start, scope.end, per_device=True, device=device)
    bucket = grain.column
    points = [
        (row["code"], _as_utc(row[bucket]), row["n"])
        for row in stats.values("code", bucket)
        .annotate(n=Sum("occurrences"))
        .order_by(bucket, "code")
    ]
    return DeviceTimeline(device, points, facts_for({code for code, _, _ in points}))
