"""What a tenant report reads: the daily aggregates of the period (and the weeks before it, for
the spike baseline), the tenant's triage flags and their history. Every function is set-based,
a fixed number of queries whatever the data size; Python only walks rows that are already
grouped (one per day, per code and day, or per device), never raw occurrences.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, F, Max, Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from fleet.models import DailyCodeStat, DailyDeviceCodeStat, Device, Tenant
from fleet.reports.periods import Period
from fleet.triage.models import TriageEvent, TriageFlag

TOP_CODES = 10
TOP_DEVICES = 10
RESOLVED_SHOWN = 25
# The spike baseline: the daily counts of this many days before the period.
BASELINE_DAYS = 28


def _as_date(value) -> date:
    # SQLite hands back text for a DateField grouped through values(); PostgreSQL a date.
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _days(period: Period, start: date | None = None) -> dict:
    return {"day__gte": start or period.first, "day__lt": period.end}


@dataclass
class DayRow:
    day: date
    occurrences: int
    devices: int


def daily_series(tenant: Tenant, period: Period) -> list[DayRow]:
    """Occurrences and distinct devices affected per day of the period, empty days as 0.
    Two queries."""
    occurrences = {
        _as_date(day): n
        for day, n in DailyCodeStat.objects.filter(tenant=tenant, **_days(period))
        .values_list("day")
        .annotate(n=Sum("occurrences"))
        .order_by()
    }
    devices = {
        _as_date(day): n
        for day, n in DailyDeviceCodeStat.objects.filter(tenant=tenant, **_days(period))
        .values_list("day")
        .annotate(n=Count("device_id", distinct=True))
        .order_by()
    }
    return [
        DayRow(day, occurrences.get(day, 0), devices.get(day, 0))
        for day in (period.first + timedelta(days=n) for n in range(period.days))
    ]


@dataclass
class Totals:
    occurrences: int
    devices_affected: int
    devices_known: int
    codes: int


def totals(tenant: Tenant, first: date, end: date) -> Totals:
    """The period's headline figures (also asked for the period before, to compare). Two
    queries."""
    found = DailyDeviceCodeStat.objects.filter(
        tenant=tenant, day__gte=first, day__lt=end
    ).aggregate(
        occurrences=Coalesce(Sum("occurrences"), 0),
        devices=Count("device_id", distinct=True),
        codes=Count("code", distinct=True),
    )
    known = Device.objects.filter(tenant=tenant).filter(
        Q(first_seen_at__isnull=True) | Q(first_seen_at__lt=_midnight(end))
    )
    return Totals(found["occurrences"], found["devices"], known.count(), found["codes"])


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


@dataclass
class CodeRow:
    code: int
    occurrences: int
    devices: int
    days: int


def top_codes(tenant: Tenant, period: Period, limit: int = TOP_CODES) -> list[CodeRow]:
    """The codes with most occurrences, with their distinct devices and days. One query."""
    rows = (
        DailyDeviceCodeStat.objects.filter(tenant=tenant, **_days(period))
        .values("code")
        .annotate(
            n=Sum("occurrences"),
            devices=Count("device_id", distinct=True),
            days=Count("day", distinct=True),
        )
        .order_by("-n", "code")[:limit]
    )
    return [CodeRow(r["code"], r["n"], r["devices"], r["days"]) for r in rows]


def flags_for(tenant: Tenant, codes: set[int]) -> dict[int, TriageFlag]:
    """The tenant's flag of each code, if one was ever raised. One query."""
    if not codes:
        return {}
    return {f.code: f for f in TriageFlag.objects.filter(tenant=tenant, code__in=codes)}


@dataclass
class ResolvedRow:
    code: int
    at: datetime
    opened_at: datetime
    by: str
    note: str

    @property
    def time_to_resolve(self) -> timedelta:
        return max(self.at - self.opened_at, timedelta(0))


@dataclass
class Resolved:
    count: int
    rows: list[ResolvedRow]  # the last RESOLVED_SHOWN of them
    per_code: dict[int, int]


def resolved_in(tenant: Tenant, period: Period) -> Resolved:
    """Flags resolved during the period, each with the moment it was last (re)opened: its
    latest event into new or regressed before the resolution, else when it was raised.
    Two queries."""
    events = TriageEvent.objects.filter(
        flag__tenant=tenant,
        to_state=TriageFlag.State.RESOLVED,
        at__gte=period.start_at,
        at__lt=period.end_at,
    )
    per_code = {
        code: n for code, n in events.values_list("flag__code").annotate(n=Count("id")).order_by()
    }
    opened = (
        TriageEvent.objects.filter(
            flag=OuterRef("flag"),
            to_state__in=[TriageFlag.State.NEW, TriageFlag.State.REGRESSED],
            at__lte=OuterRef("at"),
        )
        .order_by("-at")
        .values("at")[:1]
    )
    rows = (
        events.annotate(opened_at=Coalesce(Subquery(opened), F("flag__raised_at")))
        .values("flag__code", "at", "opened_at", "user__username", "note")
        .order_by("-at", "-id")[:RESOLVED_SHOWN]
    )
    return Resolved(
        count=sum(per_code.values()),
        rows=[
            ResolvedRow(
                r["flag__code"], r["at"], r["opened_at"], r["user__username"] or "", r["note"]
            )
            for r in rows
        ],
        per_code=per_code,
    )


@dataclass
class CodeDay:
    code: int
    day: date
    occurrences: int
    devices: int


def code_days(tenant: Tenant, period: Period, baseline_days: int = BASELINE_DAYS) -> list[CodeDay]:
    """Occurrences and devices per (code, day) from `baseline_days` before the period to its
    end: the spike detection's input, one row per code and day with any. One query."""
    start = period.first - timedelta(days=baseline_days)
    rows = (
        DailyCodeStat.objects.filter(tenant=tenant, **_days(period, start))
        .values_list("code", "day", "occurrences", "devices")
        .order_by("code", "day")
    )
    return [CodeDay(code, _as_date(day), n, devices) for code, day, n, devices in rows]


@dataclass
class DeviceRow:
    device_id: int
    hostname: str
    occurrences: int
    codes: int
    days: int


def top_devices(tenant: Tenant, period: Period, limit: int = TOP_DEVICES) -> list[DeviceRow]:
    """The devices with most occurrences: distinct codes and days with errors. Two queries."""
    ranked = list(
        DailyDeviceCodeStat.objects.filter(tenant=tenant, **_days(period))
        .values("device_id")
        .annotate(
            n=Sum("occurrences"),
            codes=Count("code", distinct=True),
            days=Count("day", distinct=True),
        )
        .order_by("-n", "device_id")[:limit]
    )
    names = dict(
        Device.objects.filter(pk__in=[r["device_id"] for r in ranked]).values_list("pk", "hostname")
    )
    return [
        DeviceRow(r["device_id"], names.get(r["device_id"], "?"), r["n"], r["codes"], r["days"])
        for r in ranked
    ]


@dataclass
class NewCode:
    code: int
    first_day: date
    occurrences: int
    peak_devices: int  # most devices on one day of the period


def new_codes(tenant: Tenant, period: Period) -> list[NewCode]:
    """Codes this tenant reported for the first time during the period (no daily row before
    it), with their occurrences there. One grouped query over the tenant's daily rows."""
    in_period = Q(day__gte=period.first, day__lt=period.end)
    rows = (
        DailyCodeStat.objects.filter(tenant=tenant, day__lt=period.end)
        .values("code")
        .annotate(
            first=Min("day"),
            n=Coalesce(Sum("occurrences", filter=in_period), 0),
            devices=Coalesce(Max("devices", filter=in_period), 0),
        )
        .filter(first__gte=period.first)
        .order_by("-n", "code")
    )
    return [NewCode(r["code"], _as_date(r["first"]), r["n"], r["devices"]) for r in rows]
