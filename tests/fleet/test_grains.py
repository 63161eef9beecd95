"""Which aggregates a time window reads (`fleet.grains.grain_for`), and that both grains agree."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from django.db import connection
from django.db.models import Sum

from fleet.aggregate import aggregate_pending
from fleet.grains import DAILY, HOURLY, grain_for, table
from fleet.models import (
    DailyCodeStat,
    DailyDeviceCodeStat,
    HourlyCodeStat,
    HourlyDeviceCodeStat,
    Occurrence,
    RetentionHorizon,
)
from fleet.retention import prune_occurrences
from tests.factories import DeviceFactory, emit

NOW = datetime(2026, 11, 25, 10, 30, tzinfo=UTC)
CODE = 0x8024000B


def utc(day: int, hour: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def test_a_window_of_whole_utc_days_reads_the_daily_tables():
    grain = grain_for(utc(1), utc(8))
    assert grain is DAILY
    assert grain.model(per_device=True) is DailyDeviceCodeStat
    assert grain.model(per_device=False) is DailyCodeStat
    assert grain.column == "day"
    bounds = {"day__gte": date(2026, 11, 1), "day__lt": date(2026, 11, 8)}
    assert grain.between(utc(1), utc(8)) == bounds


def test_one_whole_day_reads_daily_unless_the_caller_wants_hour_buckets():
    assert grain_for(utc(1), utc(2)) is DAILY
    # The 24 h page is charted per hour even when its window happens to fall on midnight.
    assert grain_for(utc(1), utc(2), per_hour=True) is HOURLY


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param(utc(1, 13), utc(2, 13), id="starts-and-ends-mid-day"),
        pytest.param(utc(1, 13), utc(8), id="starts-mid-day"),
        pytest.param(utc(1), utc(7, 13), id="ends-mid-day"),
        # Midnight in UTC+2 is 22:00 UTC: the aggregates' days are UTC days.
        pytest.param(
            datetime(2026, 11, 2, tzinfo=timezone(timedelta(hours=2))),
            datetime(2026, 11, 9, tzinfo=timezone(timedelta(hours=2))),
            id="local-midnights",
        ),
    ],
)
def test_a_window_not_on_utc_midnights_reads_the_hourly_tables(start, end):
    grain = grain_for(start, end)
    assert grain is HOURLY
    assert grain.model(per_device=True) is HourlyDeviceCodeStat
    assert grain.model(per_device=False) is HourlyCodeStat
    assert grain.between(start, end) == {"hour__gte": start, "hour__lt": end}


def test_buckets_cover_the_window_one_per_hour_or_day():
    hours = HOURLY.buckets(utc(1, 13), utc(2, 13))
    assert (len(hours), hours[0], hours[-1]) == (24, utc(1, 13), utc(2, 12))
    days = DAILY.buckets(utc(1), utc(8))
    assert days == [utc(n) for n in range(1, 8)]
    # A day only partly inside the window is still one bucket of it.
    assert DAILY.buckets(utc(1), utc(2, 1)) == [utc(1), utc(2)]


@pytest.fixture
def fleet_history(tenant) -> list[datetime]:
    """Two devices reporting at odd hours over October and November, aggregated; the times."""
    a, b = DeviceFactory(tenant=tenant), DeviceFactory(tenant=tenant)
    times = [utc(d, h, m) for m in (10, 11) for d in (3, 4, 9) for h in (0, 13, 23)]
    emit(a, CODE, times)
    emit(b, CODE, times[::2])
    aggregate_pending()
    return times + times[::2]


def _total(start: datetime, end: datetime, *, per_device: bool, grain=None) -> int:
    grain = grain or grain_for(start, end)
    rows = grain.stats(start, end, per_device=per_device, code=CODE)
    return rows.aggregate(n=Sum("occurrences"))["n"] or 0


def _expected(times: list[datetime], start: datetime, end: datetime) -> int:
    return sum(start <= t < end for t in times)


@pytest.mark.parametrize("per_device", [True, False])
def test_both_grains_give_the_same_numbers_over_whole_days(fleet_history, per_device):
    start, end = utc(1), utc(10)
    expected = _expected(fleet_history, start, end)
    assert expected > 0
    assert _total(start, end, per_device=per_device) == expected
    assert _total(start, end, per_device=per_device, grain=HOURLY) == expected


def test_windows_older_than_the_raw_retention_still_read_their_aggregates(fleet_history):
    # Retention deletes raw occurrences only: hourly and daily aggregates both stay, so a
    # window's age never changes which grain it reads or what that grain holds.
    october = _expected(fleet_history, utc(1, month=10), utc(1))
    assert prune_occurrences(days=30, now=NOW).deleted == october
    assert RetentionHorizon.objects.get().pruned_before == utc(26, month=10)
    whole_days, mid_day = (utc(3, month=10), utc(5, month=10)), (utc(3, 13, 10), utc(4, 13, 10))
    assert not Occurrence.objects.filter(occurred_at__lt=whole_days[1]).exists()

    assert grain_for(*whole_days) is DAILY
    assert grain_for(*mid_day) is HOURLY
    for start, end in (whole_days, mid_day):
        expected = _expected(fleet_history, start, end)
        assert expected > 0
        assert _total(start, end, per_device=True) == expected
        assert _total(start, end, per_device=False) == expected


@pytest.mark.parametrize(
    ("start", "end"),
    [pytest.param(utc(3), utc(9), id="daily"), pytest.param(utc(3, 13), utc(9, 13), id="hourly")],
)
def test_raw_sql_bounds_select_the_same_rows_as_the_orm(fleet_history, start, end):
    grain = grain_for(start, end)
    stats, column = table(grain.device_model), grain.column
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT SUM(occurrences) FROM {stats} WHERE {column} >= %s AND {column} < %s",
            grain.sql_bounds(start, end),
        )
        (raw,) = cursor.fetchone()
    assert raw == _total(start, end, per_device=True) == _expected(fleet_history, start, end)
