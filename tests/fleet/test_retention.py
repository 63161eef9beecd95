from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from dashboards import queries
from dashboards.filters import scope_from_request
from fleet.aggregate import aggregate_pending, rebuild_all
from fleet.models import DailyCodeStat, HourlyCodeStat, Occurrence, RetentionHorizon
from fleet.pending import pending_occurrences
from fleet.retention import prune_occurrences, retention_cutoff
from fleet.tasks import prune_occurrences as prune_task
from tests.dashboards.fleet_data import CANCELLED, PROXY, catalog, fleet
from tests.factories import DeviceFactory, UserFactory, emit
from tests.fleet.test_aggregate import _stat_rows

NOW = datetime(2026, 11, 25, 10, 30, tzinfo=UTC)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def test_cutoff_is_the_utc_midnight_n_days_back():
    assert retention_cutoff(30, NOW) == datetime(2026, 10, 26, tzinfo=UTC)


def test_pruning_deletes_old_aggregated_rows_and_leaves_every_aggregate_alone(tenant):
    device = DeviceFactory(tenant=tenant)
    emit(device, 0x8024000B, [days_ago(40), days_ago(31), days_ago(29), days_ago(1)])
    aggregate_pending()
    before = _stat_rows()

    result = prune_occurrences(days=30, now=NOW)

    assert (result.deleted, result.cutoff) == (2, datetime(2026, 10, 26, tzinfo=UTC))
    assert sorted(Occurrence.objects.values_list("occurred_at", flat=True)) == [
        days_ago(29),
        days_ago(1),
    ]
    assert _stat_rows() == before
    assert RetentionHorizon.objects.get().pruned_before == result.cutoff


def test_old_rows_not_yet_aggregated_are_kept_until_they_are(tenant):
    device = DeviceFactory(tenant=tenant)
    emit(device, 0x80070005, [days_ago(60)])
    aggregate_pending()
    late = emit(device, 0x80070005, [days_ago(60), days_ago(45)])  # an old export, just imported

    assert prune_occurrences(days=30, now=NOW).deleted == 1
    assert set(Occurrence.objects.values_list("pk", flat=True)) == {row.pk for row in late}

    aggregate_pending()
    day = DailyCodeStat.objects.get(day=days_ago(60).date())
    assert (day.occurrences, day.devices) == (2, 1)
    assert prune_occurrences(days=30, now=NOW).deleted == 2
    assert not Occurrence.objects.exists()


def test_pruning_goes_in_bounded_batches(tenant):
    device = DeviceFactory(tenant=tenant)
    emit(device, 0x8024000B, [days_ago(50) + timedelta(minutes=n) for n in range(7)])
    aggregate_pending()

    result = prune_occurrences(days=30, now=NOW, batch_size=3)

    assert (result.deleted, result.batches) == (7, 3)


def test_zero_days_keeps_everything(tenant, settings):
    settings.RAW_RETENTION_DAYS = 0
    emit(DeviceFactory(tenant=tenant), 0x8024000B, [days_ago(900)])
    aggregate_pending()

    assert prune_occurrences().deleted == 0
    assert prune_task() == 0
    assert Occurrence.objects.count() == 1
    assert not RetentionHorizon.objects.exists()


def test_the_beat_task_prunes_by_the_setting(tenant, settings, now):
    settings.RAW_RETENTION_DAYS = 30
    device = DeviceFactory(tenant=tenant)
    emit(device, 0x8024000B, [now - timedelta(days=45), now])
    aggregate_pending()

    assert prune_task() == 1
    assert Occurrence.objects.count() == 1


def test_the_horizon_never_moves_back(tenant):
    device = DeviceFactory(tenant=tenant)
    emit(device, 0x8024000B, [days_ago(20)])
    aggregate_pending()
    prune_occurrences(days=10, now=NOW)

    prune_occurrences(days=30, now=NOW)

    assert RetentionHorizon.objects.get().pruned_before == retention_cutoff(10, NOW)


def test_a_rebuild_after_pruning_keeps_the_pruned_days_and_counts_late_rows(tenant):
    a, b = DeviceFactory(tenant=tenant), DeviceFactory(tenant=tenant)
    emit(a, 0x8024000B, [days_ago(40), days_ago(40), days_ago(2)])
    emit(b, 0x8024000B, [days_ago(2)])
    aggregate_pending()
    prune_occurrences(days=30, now=NOW)
    # Late rows: one for a pruned day (a new device there), one for a kept day.
    emit(b, 0x8024000B, [days_ago(40), days_ago(2)])
    aggregate_pending()
    incremental = _stat_rows()

    rebuilt = rebuild_all()

    assert _stat_rows() == incremental
    assert rebuilt.occurrences == 3  # recounted from the horizon on; the older day is kept
    old = HourlyCodeStat.objects.get(hour=days_ago(40).replace(minute=0, second=0))
    assert (old.occurrences, old.devices) == (3, 2)


def test_a_rebuild_counts_old_pending_rows_once(tenant):
    device = DeviceFactory(tenant=tenant)
    emit(device, 0x8024000B, [days_ago(40)])
    aggregate_pending()
    prune_occurrences(days=30, now=NOW)
    emit(device, 0x8024000B, [days_ago(40)])  # pending when the rebuild starts

    rebuild_all()
    aggregate_pending()

    assert DailyCodeStat.objects.get(day=days_ago(40).date()).occurrences == 2
    assert not pending_occurrences().exists()


def _pages(user, now: datetime) -> dict:
    """The figures the overview and code pages show for 30 days, as plain data."""
    request = RequestFactory().get("/?range=30d")
    request.user = user
    scope = scope_from_request(request, now=now)
    overview = queries.overview(scope)
    code = queries.code_fleet(scope, PROXY)
    return {
        "overview": (
            overview.occurrences,
            overview.devices_affected,
            overview.new_codes,
            overview.code_buckets,
            [(d["device__hostname"], d["occurrences"]) for d in overview.top_devices],
        ),
        "code": (code.trend, code.tenants, code.devices),
        "cancelled": queries.code_fleet(scope, CANCELLED).trend,
    }


def test_pages_show_the_same_numbers_after_pruning(tenant, other_tenant, now):
    catalog()
    fleet(tenant, other_tenant, now)
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    before = _pages(root, now)
    assert before["overview"][0] > 0

    # Everything but the last day: the 20-day-old and 3-day-old rows go.
    assert prune_occurrences(days=1, now=now).deleted > 0

    assert _pages(root, now) == before


def test_command_dry_run_counts_and_deletes_nothing(tenant):
    emit(DeviceFactory(tenant=tenant), 0x8024000B, [days_ago(400), days_ago(400)])
    aggregate_pending()
    out = StringIO()

    call_command("prune_occurrences", "--days", "30", "--dry-run", stdout=out)

    assert "would delete 2 aggregated occurrences before" in out.getvalue()
    assert Occurrence.objects.count() == 2

    call_command("prune_occurrences", "--days", "30", stdout=out)
    assert "deleted 2 aggregated occurrences" in out.getvalue()
    assert not Occurrence.objects.exists()


def test_command_uses_the_setting_and_says_when_retention_is_off(db, settings):
    settings.RAW_RETENTION_DAYS = 0
    out = StringIO()
    call_command("prune_occurrences", stdout=out)
    assert "retention is off" in out.getvalue()

    with pytest.raises(CommandError):
        call_command("prune_occurrences", "--days", "-1")
