import random
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from functools import partial
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, transaction

from fleet.aggregate import STAT_MODELS, aggregate_pending, rebuild_all
from fleet.models import (
    DailyCodeStat,
    DailyDeviceCodeStat,
    HourlyCodeStat,
    HourlyDeviceCodeStat,
)
from fleet.pending import pending_occurrences
from tests.factories import DeviceFactory, TenantFactory, emit
from tests.threads import Writers


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 2, hour, minute, tzinfo=UTC)


def ingest(devices: list, batches: int, per_batch: int) -> None:
    """Commit `batches` transactions of `per_batch` rows each, as ingest does meanwhile."""
    for batch in range(batches):
        with transaction.atomic():
            for n in range(per_batch):
                emit(devices[n % 5], 0x8024000B, [at(batch % 24, n)])


def test_occurrences_roll_into_hourly_code_and_device_stats(tenant):
    a, b = DeviceFactory(tenant=tenant), DeviceFactory(tenant=tenant)
    for device, when in [(a, at(9, 5)), (a, at(9, 40)), (b, at(9, 59)), (a, at(10, 1))]:
        emit(device, 0x8024000B, [when])

    assert aggregate_pending().occurrences == 4

    nine = HourlyCodeStat.objects.get(tenant=tenant, code=0x8024000B, hour=at(9))
    assert (nine.occurrences, nine.devices) == (3, 2)
    ten = HourlyCodeStat.objects.get(tenant=tenant, code=0x8024000B, hour=at(10))
    assert (ten.occurrences, ten.devices) == (1, 1)
    assert HourlyDeviceCodeStat.objects.get(device=a, hour=at(9)).occurrences == 2
    assert not pending_occurrences().exists()


def test_second_run_adds_only_new_rows_and_recounts_devices(tenant):
    a, b = DeviceFactory(tenant=tenant), DeviceFactory(tenant=tenant)
    emit(a, 0x8024000B, [at(9, 5)])
    aggregate_pending()
    assert aggregate_pending().occurrences == 0  # nothing new: nothing counted again

    emit(a, 0x8024000B, [at(9, 10)])
    emit(b, 0x8024000B, [at(9, 20)])
    assert aggregate_pending(chunk_size=1).chunks == 2

    nine = HourlyCodeStat.objects.get(tenant=tenant, hour=at(9))
    assert (nine.occurrences, nine.devices) == (3, 2)


def test_daily_device_stats_count_each_device_per_utc_day(tenant):
    a, b = DeviceFactory(tenant=tenant), DeviceFactory(tenant=tenant)
    emit(a, 0x8024000B, [at(0, 1), at(23, 59), datetime(2026, 11, 3, 0, 0, tzinfo=UTC)])
    emit(b, 0x8024000B, [at(12)])

    aggregate_pending()

    rows = set(DailyDeviceCodeStat.objects.values_list("device_id", "code", "day", "occurrences"))
    assert rows == {
        (a.pk, 0x8024000B, date(2026, 11, 2), 2),
        (a.pk, 0x8024000B, date(2026, 11, 3), 1),
        (b.pk, 0x8024000B, date(2026, 11, 2), 1),
    }


def test_daily_code_stats_count_occurrences_and_distinct_devices_per_utc_day(tenant, other_tenant):
    a, b = DeviceFactory(tenant=tenant), DeviceFactory(tenant=tenant)
    elsewhere = DeviceFactory(tenant=other_tenant)
    emit(a, 0x8024000B, [at(0, 1), at(9), at(23, 59), datetime(2026, 11, 3, 0, 0, tzinfo=UTC)])
    emit(b, 0x8024000B, [at(12), at(13)])
    emit(b, 0x80070005, [at(12)])
    emit(elsewhere, 0x8024000B, [at(12)])

    aggregate_pending()

    rows = set(
        DailyCodeStat.objects.values_list("tenant_id", "code", "day", "occurrences", "devices")
    )
    assert rows == {
        (tenant.pk, 0x8024000B, date(2026, 11, 2), 5, 2),
        (tenant.pk, 0x8024000B, date(2026, 11, 3), 1, 1),
        (tenant.pk, 0x80070005, date(2026, 11, 2), 1, 1),
        (other_tenant.pk, 0x8024000B, date(2026, 11, 2), 1, 1),
    }


def test_daily_code_stats_recount_devices_when_a_later_run_touches_the_day(tenant):
    a, b = DeviceFactory(tenant=tenant), DeviceFactory(tenant=tenant)
    emit(a, 0x8024000B, [at(9)])
    aggregate_pending()

    # A second device and a repeat from the first, on the same day, in a later run.
    emit(b, 0x8024000B, [at(22)])
    emit(a, 0x8024000B, [at(23)])
    aggregate_pending(chunk_size=1)

    stat = DailyCodeStat.objects.get(tenant=tenant, day=date(2026, 11, 2))
    assert (stat.occurrences, stat.devices) == (3, 2)


def test_late_data_lands_in_its_own_old_buckets(tenant):
    device = DeviceFactory(tenant=tenant)
    emit(device, 0x80070005, [at(9)])
    aggregate_pending()

    # Last month's export imported today.
    emit(device, 0x80070005, [datetime(2026, 10, 5, 14, 20, tzinfo=UTC)] * 2)
    aggregate_pending()

    old = HourlyCodeStat.objects.get(hour=datetime(2026, 10, 5, 14, tzinfo=UTC))
    assert (old.occurrences, old.devices) == (2, 1)
    assert HourlyCodeStat.objects.get(hour=at(9)).occurrences == 1
    assert DailyDeviceCodeStat.objects.get(day=date(2026, 10, 5)).occurrences == 2
    old_day = DailyCodeStat.objects.get(day=date(2026, 10, 5))
    assert (old_day.occurrences, old_day.devices) == (2, 1)
    assert DailyCodeStat.objects.get(day=date(2026, 11, 2)).occurrences == 1


def _stat_rows() -> dict[str, set[tuple]]:
    """Every row of every aggregate table, without surrogate ids."""
    return {
        model._meta.db_table: set(
            model.objects.values_list(
                *[f.attname for f in model._meta.concrete_fields if f.attname != "id"]
            )
        )
        for model in STAT_MODELS
    }


def _truth(rows: list[tuple[int, int, int, datetime]]) -> dict[str, set[tuple]]:
    """The aggregates computed in Python from the generated (tenant, device, code, time) rows."""
    hourly_dev, daily, devices = Counter(), Counter(), defaultdict(set)
    hourly, daily_code, daily_devices = Counter(), Counter(), defaultdict(set)
    for tenant_id, device_id, code, when in rows:
        hour = when.replace(minute=0, second=0, microsecond=0)
        hourly[(tenant_id, code, hour)] += 1
        devices[(tenant_id, code, hour)].add(device_id)
        hourly_dev[(tenant_id, device_id, code, hour)] += 1
        daily[(tenant_id, device_id, code, when.date())] += 1
        daily_code[(tenant_id, code, when.date())] += 1
        daily_devices[(tenant_id, code, when.date())].add(device_id)
    return {
        HourlyCodeStat._meta.db_table: {
            (t, c, h, n, len(devices[(t, c, h)])) for (t, c, h), n in hourly.items()
        },
        HourlyDeviceCodeStat._meta.db_table: {
            (t, d, c, h, n) for (t, d, c, h), n in hourly_dev.items()
        },
        DailyDeviceCodeStat._meta.db_table: {
            (t, d, c, day, n) for (t, d, c, day), n in daily.items()
        },
        DailyCodeStat._meta.db_table: {
            (t, c, day, n, len(daily_devices[(t, c, day)])) for (t, c, day), n in daily_code.items()
        },
    }


def test_rebuild_gives_the_same_numbers_as_incremental_runs_on_a_generated_dataset(db):
    rng = random.Random(5)
    tenants = [TenantFactory() for _ in range(4)]
    devices = [DeviceFactory(tenant=t) for t in tenants for _ in range(6)]
    codes = [0x8024000B, 0x80070005, 0x800F0922, 0xC1900101, 0x8024402C]
    start = datetime(2026, 10, 1, tzinfo=UTC)
    generated: list[tuple[int, int, int, datetime]] = []

    # Batches arrive between incremental runs of random chunk sizes; some batches are late
    # data for days that were already aggregated.
    for batch in range(12):
        late = batch % 3 == 2
        rows = []
        for _ in range(rng.randint(1, 400)):
            device = rng.choice(devices)
            days = rng.uniform(0, 10) if late else rng.uniform(10 + batch, 12 + batch)
            when = start + timedelta(days=days, seconds=rng.randrange(3600))
            rows.append((device, rng.choice(codes), when.replace(microsecond=0)))
        for device, code, when in rows:
            emit(device, code, [when])
            generated.append((device.tenant_id, device.pk, code, when))
        if rng.random() < 0.8:
            aggregate_pending(chunk_size=rng.randint(1, 300))
    aggregate_pending(chunk_size=rng.randint(1, 300))
    incremental = _stat_rows()

    out = StringIO()
    call_command("rebuild_aggregates", stdout=out)
    rebuilt = _stat_rows()

    assert incremental == rebuilt
    assert rebuilt == _truth(generated)
    assert f"from {len(generated)} occurrences" in out.getvalue()
    assert not pending_occurrences().exists()


def test_rebuild_replaces_numbers_that_drifted(tenant):
    device = DeviceFactory(tenant=tenant)
    emit(device, 0x8024000B, [at(9), at(9, 30)])
    aggregate_pending()
    HourlyCodeStat.objects.update(occurrences=99, devices=7)  # e.g. a bad manual fix
    DailyCodeStat.objects.update(occurrences=99, devices=7)

    assert rebuild_all().occurrences == 2

    stat = HourlyCodeStat.objects.get()
    assert (stat.occurrences, stat.devices) == (2, 1)
    day = DailyCodeStat.objects.get()
    assert (day.occurrences, day.devices) == (2, 1)


@pytest.mark.django_db(transaction=True)
def test_rows_committed_while_aggregation_runs_are_counted_exactly_once():
    tenant = TenantFactory(slug="acme")
    devices = [DeviceFactory(tenant=tenant) for _ in range(5)]
    batches, per_batch = 40, 25

    with Writers(partial(ingest, devices, batches, per_batch), timeout=30) as writer:
        while writer.running():
            aggregate_pending(chunk_size=30)
    errors = writer.errors
    aggregate_pending()

    assert errors == []
    assert sum(HourlyCodeStat.objects.values_list("occurrences", flat=True)) == batches * per_batch
    assert sum(DailyDeviceCodeStat.objects.values_list("occurrences", flat=True)) == (
        batches * per_batch
    )
    assert set(HourlyCodeStat.objects.values_list("devices", flat=True)) == {5}
    assert sum(DailyCodeStat.objects.values_list("occurrences", flat=True)) == batches * per_batch
    assert set(DailyCodeStat.objects.values_list("devices", flat=True)) == {5}


@pytest.mark.django_db(transaction=True)
def test_rows_committed_while_a_rebuild_runs_are_counted_exactly_once():
    tenant = TenantFactory(slug="acme")
    devices = [DeviceFactory(tenant=tenant) for _ in range(5)]
    emit(devices[0], 0x80070005, [at(h) for h in range(24)])
    aggregate_pending()
    batches, per_batch = 30, 20

    rebuilds = 0
    with Writers(partial(ingest, devices, batches, per_batch), timeout=30) as writer:
        while writer.running() or not rebuilds:
            rebuild_all()
            rebuilds += 1
    errors = writer.errors
    aggregate_pending()
    incremental = _stat_rows()
    rebuild_all()

    assert errors == []
    total = 24 + batches * per_batch
    assert sum(HourlyCodeStat.objects.values_list("occurrences", flat=True)) == total
    assert sum(DailyCodeStat.objects.values_list("occurrences", flat=True)) == total
    assert HourlyCodeStat.objects.get(code=0x8024000B, hour=at(5)).devices == 5
    assert _stat_rows() == incremental
    assert not pending_occurrences().exists()


def test_deleting_a_device_or_tenant_deletes_its_aggregates(tenant, other_tenant):
    # The aggregates' foreign keys have no database constraint; Django's cascade must do it.
    kept, gone = DeviceFactory(tenant=tenant), DeviceFactory(tenant=tenant)
    elsewhere = DeviceFactory(tenant=other_tenant)
    for device in (kept, gone, elsewhere):
        emit(device, 0x8024000B, [at(9)])
    aggregate_pending()

    gone.delete()

    assert set(HourlyDeviceCodeStat.objects.values_list("device_id", flat=True)) == {
        kept.pk,
        elsewhere.pk,
    }
    assert not DailyDeviceCodeStat.objects.filter(device_id=gone.pk).exists()

    other_tenant.delete()

    for model in STAT_MODELS:
        assert set(model.objects.values_list("tenant_id", flat=True)) == {tenant.pk}


def test_aggregation_reads_raw_rows_but_never_updates_them(tenant):
    """Issue 18: counting a row writes the aggregates and the ledger, never the raw table."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fleet.ingest.store import NewOccurrence, insert_occurrences
    from fleet.models import Occurrence

    device = DeviceFactory(tenant=tenant)
    rows = [NewOccurrence(device.pk, 0x8024000B, at(9, n), "api", f"key-{n}") for n in range(30)]
    with transaction.atomic():
        insert_occurrences(tenant.pk, rows[:10])
    with transaction.atomic():
        insert_occurrences(tenant.pk, rows[10:])
    stored = list(Occurrence.objects.order_by("id").values())

    with CaptureQueriesContext(connection) as queries:
        assert aggregate_pending(chunk_size=10).occurrences == 30
        rebuild_all()
    statements = [query["sql"].lower() for query in queries.captured_queries]
    raw = Occurrence._meta.db_table
    writes = [
        sql
        for sql in statements
        if sql.lstrip().startswith(("update", "delete", "insert"))
        and sql.split()[1].strip('"`') == raw
    ]
    assert not writes, writes
    assert any(f'from "{raw}"' in sql or f"from {raw}" in sql for sql in statements)
    assert list(Occurrence.objects.order_by("id").values()) == stored
    assert HourlyCodeStat.objects.get(tenant=tenant, hour=at(9)).occurrences == 30
    assert not pending_occurrences().exists()


def _counted_from_raw_rows(grain) -> dict[tuple, tuple[int, int]]:
    """(tenant, code, bucket) -> (occurrences, distinct devices), straight from the raw rows."""
    from fleet.models import Occurrence

    buckets: dict[tuple, list] = defaultdict(list)
    for tenant_id, device_id, code, when in Occurrence.objects.values_list(
        "tenant_id", "device_id", "code", "occurred_at"
    ):
        hour = when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        buckets[(tenant_id, code, grain.value(hour))].append(device_id)
    return {key: (len(ids), len(set(ids))) for key, ids in buckets.items()}


def test_devices_per_bucket_match_the_raw_rows_across_runs_touching_the_same_buckets(tenant):
    """Each chunk reads its rows once into temporary per-device tables and derives every
    aggregate from them; a device already counted in a bucket must not raise it again."""
    from fleet.grains import DAILY, HOURLY
    from fleet.models import SnapshotDeviceCodeStat
    from fleet.sources import STATE_SOURCES

    state = sorted(STATE_SOURCES)[0]
    a, b, c = (DeviceFactory(tenant=tenant) for _ in range(3))
    emit(a, 0x8024000B, [at(9, 5), at(9, 10)])
    emit(b, 0x8024000B, [at(9, 20)], source=state)
    aggregate_pending()
    # Again the counted device-hour of a, a new device in it, b in a new hour of the same day
    # (a state source again), across several chunks.
    emit(a, 0x8024000B, [at(9, 30)])
    emit(c, 0x8024000B, [at(9, 40), at(9, 45)])
    emit(b, 0x8024000B, [at(11, 0), at(11, 1)], source=state)
    emit(a, 0x8024000B, [at(23, 59)])
    assert aggregate_pending(chunk_size=2).chunks >= 2

    for grain in (HOURLY, DAILY):
        stored = {
            (s.tenant_id, s.code, getattr(s, grain.column)): (s.occurrences, s.devices)
            for s in grain.code_model.objects.all()
        }
        assert stored == _counted_from_raw_rows(grain), grain.column
    assert DailyCodeStat.objects.get(day=date(2026, 11, 2)).devices == 3
    assert HourlyCodeStat.objects.get(hour=at(9)).devices == 3
    snapshots = set(SnapshotDeviceCodeStat.objects.values_list("device_id", "hour", "occurrences"))
    assert snapshots == {(b.pk, at(9), 1), (b.pk, at(11), 2)}


def test_a_chunk_that_fails_midway_leaves_nothing_behind(tenant, monkeypatch):
    """A failure after the first temporary table exists rolls it back with the chunk; the next
    run on the same connection counts every row once."""
    import fleet.aggregate

    device = DeviceFactory(tenant=tenant)
    emit(device, 0x8024000B, [at(9), at(9, 30)])
    real = fleet.aggregate._is_new
    monkeypatch.setattr(
        fleet.aggregate,
        "_is_new",
        lambda grain, alias: "no_such_column" if grain.column == "day" else real(grain, alias),
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        aggregate_pending()
    monkeypatch.setattr(fleet.aggregate, "_is_new", real)

    assert aggregate_pending().occurrences == 2
    assert aggregate_pending().occurrences == 0
    assert (HourlyCodeStat.objects.get().occurrences, DailyCodeStat.objects.get().devices) == (2, 1)
