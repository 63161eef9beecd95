"""The triage signal: spikes against a pair's own history, codes new to a tenant, state
snapshots read by device, fleet-wide spikes, and what the default queue holds."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.test import Client

from codes.models import ErrorCode
from fleet.aggregate import aggregate_pending, rebuild_all
from fleet.ingest.importer import import_file
from fleet.ingest.keys import create_ingest_key
from fleet.models import Device, HourlyCodeStat, SnapshotDeviceCodeStat
from fleet.pipeline import run_round
from fleet.triage.flags import change_state
from fleet.triage.models import FleetSignal, TriageFlag
from fleet.triage.queries import needs_look, needs_look_q
from fleet.triage.signals import detect
from tests.factories import DeviceFactory, TenantFactory, emit
from tests.fleet.triage.test_reasons import said_again

pytestmark = pytest.mark.django_db
CODE = 0x8024000B  # WU_E_CALL_CANCELLED, the demo's storm code
OTHER = 0x80070005
NEW_CODE = 0x800F0922


@pytest.fixture(autouse=True)
def catalog(db):
    ErrorCode.objects.create(value=CODE, name="WU_E_CALL_CANCELLED", severity="warning")
    ErrorCode.objects.create(value=OTHER, name="E_ACCESSDENIED", severity="warning")
    ErrorCode.objects.create(value=NEW_CODE, name="CBS_E_INSTALLERS_FAILED", severity="error")


@pytest.fixture
def dead_broker(tmp_path):
    """The API queues an aggregation run after each batch; with Redis down that fails fast."""
    from tests.services import RedisServer, broker

    with broker(RedisServer(tmp_path).url):
        yield


def hourly(devices: list[Device], code: int, per_hour: float, end: datetime, hours: int, seed=1):
    """A seeded Poisson stream of `code` at `per_hour`, spread over `devices`, for `hours`
    whole hours ending at `end` (each hour's rows at its minute 20)."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(per_hour, size=hours) if per_hour < 50 else [int(per_hour)] * hours
    start = end.replace(minute=20, second=0, microsecond=0)
    serial = 0
    for back, count in enumerate(counts):
        when = start - timedelta(hours=back)
        if when >= end:
            continue
        for _ in range(count):
            emit(devices[serial % len(devices)], code, [when])
            serial += 1


def every_hour(devices: list[Device], code: int, end: datetime, hours: int, per_hour: int = 1):
    """Exactly `per_hour` rows of `code` each hour (a steady rate with no noise at all)."""
    start = end.replace(minute=20, second=0, microsecond=0)
    rows = [start - timedelta(hours=back) for back in range(hours) for _ in range(per_hour)]
    rows = [when for when in rows if when < end]
    for i, device in enumerate(devices):
        emit(device, code, rows[i :: len(devices)])


def burst(devices: list[Device], code: int, end: datetime, hours: float, total: int) -> None:
    """`total` rows of `code` over `devices`, evenly in the `hours` before `end`."""
    step = timedelta(hours=hours) / total
    for i in range(total):
        emit(devices[i % len(devices)], code, [end - step * (i + 1)])


def fleet_of(tenant, n: int) -> list[Device]:
    return [DeviceFactory(tenant=tenant) for _ in range(n)]


def triage(now: datetime):
    return run_round(now, deliver=False)


def signal_of(tenant, now: datetime, code: int = CODE):
    """The pair's signal after aggregating what was emitted."""
    aggregate_pending()
    return detect(now).pairs[(tenant.pk, code)]


def flag_of(tenant, code: int = CODE) -> TriageFlag | None:
    return TriageFlag.objects.filter(tenant=tenant, code=code).first()


# --- must show: a tenfold jump on 20+ devices after four steady weeks, through the API --------


def _items(prefix: str, times: list[datetime], devices: int, offset: int = 0) -> list[dict]:
    return [
        {
            "device": {"hostname": f"{prefix}-{(offset + i) % devices:03d}"},
            "code": f"0x{CODE:08X}",
            "occurred_at": when.isoformat(),
            "source": "agent",
            "event_id": f"{prefix}-{offset + i}",
        }
        for i, when in enumerate(times)
    ]


def _post(key: str, items: list[dict]) -> None:
    response = Client().post(
        "/api/v1/occurrences",
        data=json.dumps(items),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 202, response.content
    assert response.json()["accepted"] == len(items)


@pytest.mark.usefixtures("dead_broker")
def test_tenfold_jump_on_twenty_devices_after_four_steady_weeks_is_a_spike(now):
    jumping, calm = TenantFactory(slug="jumping"), TenantFactory(slug="calm")
    rng = np.random.default_rng(14)
    # Four weeks at about one an hour on 20 devices, the same history for both tenants.
    steady_times = [
        now - timedelta(hours=back, minutes=int(rng.integers(0, 60)))
        for back in range(3, 28 * 24)
        for _ in range(int(rng.poisson(1.0)))
    ]
    for tenant in (jumping, calm):
        _, key = create_ingest_key(tenant, "agents")
        _post(key, _items(tenant.slug, steady_times, devices=20))
        last_hours = [now - timedelta(minutes=15 + 60 * h) for h in range(3)]
        if tenant == jumping:
            # Ten an hour for the last three hours, on 25 devices (20 of them new to the code).
            jump = [when - timedelta(minutes=m) for when in last_hours for m in range(10)]
            _post(key, _items(tenant.slug + "-storm", jump, devices=25))
        else:
            _post(key, _items(tenant.slug, last_hours, devices=20, offset=len(steady_times)))

    call_command("run_pipeline", stdout=io.StringIO())

    spike = flag_of(jumping)
    assert spike is not None and spike.kind == TriageFlag.Kind.SPIKE
    assert spike.devices_24h >= 25
    assert "in the last 6 h, usually" in spike.reason
    assert "dans les dernières 6 h" in said_again(spike.reason)
    assert spike.score > 400
    assert list(needs_look(TriageFlag.objects.all(), now)) == [spike]
    # The calm tenant's steady rate is recurrence (a threshold flag at most), never a spike.
    quiet = flag_of(calm)
    assert quiet is None or quiet.kind == TriageFlag.Kind.THRESHOLD
    assert quiet is None or quiet.score < 200


# --- counts: the minimum volume, sparse codes, noisy codes, past outbreaks, cold start ---------


def test_one_to_three_is_not_a_spike(tenant, now):
    devices = fleet_of(tenant, 5)
    emit(devices[0], CODE, [now - timedelta(days=d, hours=5) for d in range(1, 30)])
    burst(devices[:3], CODE, now, 3, total=3)

    triage(now)

    signal = signal_of(tenant, now)
    assert signal.kind == ""
    assert not TriageFlag.objects.filter(kind=TriageFlag.Kind.SPIKE).exists()


def test_a_sparse_code_waking_up_on_several_devices_is_a_spike(tenant, now):
    devices = fleet_of(tenant, 6)
    every_hour(devices[:1], OTHER, now, 30 * 24)  # the tenant has a month of history
    emit(devices[0], CODE, [now - timedelta(days=d, hours=3) for d in (4, 11, 19, 26)])
    burst(devices, CODE, now, 5, total=12)

    signal = signal_of(tenant, now)

    assert signal.kind == TriageFlag.Kind.SPIKE
    assert signal.reason.startswith("12 in the last 6 h, usually under 1")
    assert said_again(signal.reason).startswith("12 dans les dernières 6 h")


def test_a_sparse_code_needs_the_minimum_volume(tenant, now):
    devices = fleet_of(tenant, 6)
    every_hour(devices[:1], OTHER, now, 30 * 24)
    emit(devices[0], CODE, [now - timedelta(days=d, hours=3) for d in (4, 11, 19, 26)])
    burst(devices, CODE, now, 5, total=9)  # nine: one short

    assert signal_of(tenant, now).kind == ""


def test_a_code_that_is_always_bursty_is_judged_by_its_own_spread(tenant, now):
    """Days of 0 and days of 40: 40 today is what this code does (negative binomial)."""
    devices = fleet_of(tenant, 10)
    for day in range(1, 30):
        if day % 2:
            burst(devices, CODE, now - timedelta(days=day), 6, total=40)
        else:
            emit(devices[0], CODE, [now - timedelta(days=day, hours=2)])
    burst(devices, CODE, now, 5, total=40)

    assert signal_of(tenant, now).kind == ""


def test_past_outbreaks_do_not_hide_todays(tenant, now):
    """Two storms in the baseline count at the clip, so the third still stands out."""
    devices = fleet_of(tenant, 30)
    hourly(devices, CODE, 0.25, now - timedelta(hours=6), 30 * 24)
    for days_ago in (9, 23):
        burst(devices, CODE, now - timedelta(days=days_ago), 5, total=100)
    burst(devices, CODE, now, 5, total=100)

    signal = signal_of(tenant, now)

    assert signal.kind == TriageFlag.Kind.SPIKE
    assert signal.baseline_24h < 15  # not pulled up to the storms' mean of ~12 a day more


def test_a_tenant_without_a_week_of_history_is_warming_up(tenant, now):
    devices = fleet_of(tenant, 10)
    hourly(devices, CODE, 0.5, now - timedelta(hours=6), 3 * 24)
    burst(devices, CODE, now, 5, total=60)

    assert signal_of(tenant, now).kind == ""


def test_a_code_first_seen_in_the_tenant_ranks_as_new(tenant, now):
    devices = fleet_of(tenant, 6)
    every_hour(devices[:1], OTHER, now, 30 * 24)
    for device in devices[:5]:  # the error rule's five devices
        emit(device, NEW_CODE, [now - timedelta(hours=2)])

    triage(now)

    flag = flag_of(tenant, NEW_CODE)
    assert flag.kind == TriageFlag.Kind.NEW
    assert flag.reason == "first time in this tenant (5 on 5 devices in 24 h)"
    assert said_again(flag.reason).startswith("première fois chez ce client")
    assert 300 <= flag.score < 400


def test_a_new_code_below_every_rule_raises_no_flag(tenant, now):
    devices = fleet_of(tenant, 6)
    emit(devices[0], NEW_CODE, [now - timedelta(hours=2)])
    triage(now)
    assert flag_of(tenant, NEW_CODE) is None


def test_steady_flags_rank_below_signals_and_out_of_the_default_view(tenant, other_tenant, now):
    # A steady warning on many devices: the threshold rule flags it every day.
    steady_devices = fleet_of(tenant, 12)
    every_hour(steady_devices, OTHER, now, 30 * 24)
    # A storm of the other code in the other tenant, against a month of its own history.
    storm_devices = fleet_of(other_tenant, 30)
    hourly(storm_devices, CODE, 0.5, now - timedelta(hours=6), 30 * 24)
    burst(storm_devices, CODE, now, 4, total=80)

    triage(now)

    spike, recurring = flag_of(other_tenant), flag_of(tenant, OTHER)
    assert spike.kind == TriageFlag.Kind.SPIKE
    assert recurring.kind == TriageFlag.Kind.THRESHOLD
    assert recurring.reason.startswith("warning code, ")
    said_again(recurring.reason)
    assert 100 <= recurring.score < 200 < 400 <= spike.score
    flags = TriageFlag.objects.all()
    assert list(needs_look(flags, now)) == [spike]
    steady = flags.filter(state__in=TriageFlag.OPEN_STATES).exclude(needs_look_q(now))
    assert list(steady) == [recurring]


def test_a_spike_leaves_the_default_view_a_day_after_it_ends(tenant, now):
    devices = fleet_of(tenant, 30)
    hourly(devices, CODE, 0.5, now - timedelta(hours=6), 30 * 24)
    burst(devices, CODE, now, 4, total=80)
    triage(now)
    assert needs_look(TriageFlag.objects.all(), now).count() == 1

    later = now + timedelta(hours=26)
    triage(later)

    flag = flag_of(tenant)
    assert flag.kind == TriageFlag.Kind.THRESHOLD
    assert flag.signal_at == now  # when it was last abnormal
    assert not needs_look(TriageFlag.objects.all(), later).exists()


def test_an_acknowledged_spike_stays_in_view_while_it_lasts(tenant, now):
    devices = fleet_of(tenant, 30)
    hourly(devices, CODE, 0.5, now - timedelta(hours=6), 30 * 24)
    burst(devices, CODE, now, 4, total=80)
    triage(now)
    flag = flag_of(tenant)
    change_state(flag, "acknowledge", None, now=now + timedelta(minutes=5))

    triage(now + timedelta(minutes=10))  # still spiking
    assert list(needs_look(TriageFlag.objects.all(), now + timedelta(minutes=10))) == [flag]

    later = now + timedelta(hours=26)
    triage(later)  # over: acknowledged steady recurrence
    assert not needs_look(TriageFlag.objects.all(), later).exists()


def test_a_resolved_flag_that_comes_back_is_a_regression(tenant, now):
    devices = fleet_of(tenant, 6)
    for device in devices[:5]:
        emit(device, OTHER, [now - timedelta(days=3, hours=2)])
    triage(now - timedelta(days=3))
    change_state(flag_of(tenant, OTHER), "resolve", None, now=now - timedelta(days=3))
    for device in devices[:5]:
        emit(device, OTHER, [now - timedelta(hours=1)])

    triage(now)

    flag = flag_of(tenant, OTHER)
    assert (flag.state, flag.kind) == ("regressed", TriageFlag.Kind.REGRESSION)
    assert flag.reason == "back 3 days after resolved"
    assert said_again(flag.reason) == "revenu 3 jours après sa résolution"
    assert 200 <= flag.score < 300
    assert list(needs_look(TriageFlag.objects.all(), now)) == [flag]


# --- fleet level: one code spiking in several tenants at once ---------------------------------


def test_one_code_spiking_in_three_tenants_is_one_fleet_signal(now):
    tenants = [TenantFactory(slug=f"t{n}") for n in range(4)]
    devices = {}
    for tenant in tenants:
        devices[tenant] = fleet_of(tenant, 20)
        every_hour(devices[tenant][:10], CODE, now, 30 * 24)
    for tenant in tenants[:3]:
        burst(devices[tenant], CODE, now, 3, total=30)
    burst(devices[tenants[3]][:5], CODE, now, 5, total=9)  # rising, not spiking on its own

    triage(now)

    signal = FleetSignal.objects.get()
    assert (signal.code, signal.tenants, signal.active) == (CODE, 3, True)
    assert signal.reason == "spiking in 3 tenants at once, rising in 1 more"
    said_again(signal.reason)
    flags = {flag.tenant: flag for flag in TriageFlag.objects.filter(code=CODE)}
    for tenant in tenants[:3]:
        assert flags[tenant].kind == TriageFlag.Kind.SPIKE
        assert flags[tenant].reason.endswith("; also spiking in 2 other tenants")
        assert said_again(flags[tenant].reason).endswith("; aussi en hausse chez 2 autres clients")
    assert flags[tenants[3]].kind == TriageFlag.Kind.FLEET_SPIKE
    assert {flag.fleet_signal_id for flag in flags.values()} == {signal.pk}

    triage(now + timedelta(hours=30))  # the storm is over
    signal.refresh_from_db()
    assert not signal.active


def test_two_tenants_spiking_together_are_no_fleet_signal(now):
    tenants = [TenantFactory(slug=f"t{n}") for n in range(2)]
    for tenant in tenants:
        devices = fleet_of(tenant, 20)
        every_hour(devices[:10], CODE, now, 30 * 24)
        burst(devices, CODE, now, 3, total=30)

    triage(now)

    assert not FleetSignal.objects.exists()
    assert set(TriageFlag.objects.values_list("kind", flat=True)) == {TriageFlag.Kind.SPIKE}


# --- state snapshots: an Intune export restates the failing devices every day -----------------

INTUNE_HEADER = (
    '"PolicyName","DeviceId","AlertId","EventDateTimeUTC","AlertMessage","Win32ErrorCode",'
    '"DeviceName"'
)


def intune_export(path: Path, devices: range, at: datetime, batch: str) -> Path:
    """An Intune feature-update failure export listing `devices` as failing with CODE."""
    lines = [INTUNE_HEADER]
    for n in devices:
        lines.append(
            f'"Win11 24H2","dev-{n}","{batch}-{n}","{at:%Y-%m-%d %H:%M:%S}.0000000",'
            f'"InstallCancelled","0x{CODE:08X}","SNAP-{n:04d}"'
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def snapshot_tenant(tenant, now):
    """A tenant with a month of agent history (of another code) and yesterday's export."""
    agents = fleet_of(tenant, 4)
    every_hour(agents, OTHER, now, 30 * 24)
    return tenant


def _import_day(tmp_path, tenant, devices: range, at: datetime, batch: str):
    path = intune_export(tmp_path / f"{batch}.csv", devices, at, batch)
    record, summary = import_file(path, tenant)
    assert record.format == "intune_feature_update_failures"
    return summary


def test_the_same_intune_snapshot_imported_on_consecutive_days_raises_no_spike(
    snapshot_tenant, tmp_path, now
):
    yesterday = now - timedelta(days=1, hours=1)  # yesterday's round, an hour earlier in the day
    _import_day(tmp_path, snapshot_tenant, range(30), yesterday - timedelta(hours=1), "day1")
    triage(yesterday)
    first = flag_of(snapshot_tenant)
    assert first.kind == TriageFlag.Kind.NEW  # first time in this tenant, 30 devices
    assert first.signal_at == yesterday

    # Today's export: the same 30 failing devices, restamped with today's alert and time, so
    # every row is stored again (counted as events this would be 30 out of nowhere).
    summary = _import_day(tmp_path, snapshot_tenant, range(30), now - timedelta(hours=1), "day2")
    assert summary.created == 30
    triage(now)

    flag = flag_of(snapshot_tenant)
    assert flag.kind == TriageFlag.Kind.THRESHOLD
    assert flag.signal_at == yesterday  # today's export was no signal
    assert not needs_look(TriageFlag.objects.all(), now).exists()
    in_window = HourlyCodeStat.objects.filter(code=CODE, hour__gte=now - timedelta(hours=6))
    assert sum(in_window.values_list("occurrences", flat=True)) == 30
    assert SnapshotDeviceCodeStat.objects.filter(code=CODE).count() == 60


def test_the_identical_intune_file_imported_again_stores_nothing(snapshot_tenant, tmp_path, now):
    yesterday = now - timedelta(days=1)
    at = yesterday - timedelta(hours=1)
    _import_day(tmp_path, snapshot_tenant, range(30), at, "day1")
    triage(yesterday)
    path = intune_export(tmp_path / "again.csv", range(30), at, "day1")

    _record, summary = import_file(path, snapshot_tenant)
    triage(now)

    assert (summary.created, summary.duplicates) == (0, 30)
    assert flag_of(snapshot_tenant).kind != TriageFlag.Kind.SPIKE


def test_devices_newly_failing_in_a_snapshot_are_a_spike(snapshot_tenant, tmp_path, now):
    yesterday = now - timedelta(days=1)
    _import_day(tmp_path, snapshot_tenant, range(30), yesterday - timedelta(hours=1), "day1")
    triage(yesterday)

    _import_day(tmp_path, snapshot_tenant, range(50), now - timedelta(hours=1), "day2")
    triage(now)

    flag = flag_of(snapshot_tenant)
    assert flag.kind == TriageFlag.Kind.SPIKE
    assert flag.reason == (
        "20 devices newly failing in the latest export, 30 failing the week before"
    )
    said_again(flag.reason)


def test_a_few_more_failing_devices_in_a_snapshot_are_no_spike(snapshot_tenant, tmp_path, now):
    yesterday = now - timedelta(days=1)
    _import_day(tmp_path, snapshot_tenant, range(30), yesterday - timedelta(hours=1), "day1")
    triage(yesterday)

    _import_day(tmp_path, snapshot_tenant, range(34), now - timedelta(hours=1), "day2")
    triage(now)

    assert flag_of(snapshot_tenant).kind == TriageFlag.Kind.THRESHOLD


def test_snapshot_aggregate_is_the_same_rebuilt_as_incremental(snapshot_tenant, tmp_path, now):
    _import_day(tmp_path, snapshot_tenant, range(12), now - timedelta(days=2), "a")
    _import_day(tmp_path, snapshot_tenant, range(5, 20), now - timedelta(hours=3), "b")
    aggregate_pending()

    def rows():
        return set(
            SnapshotDeviceCodeStat.objects.values_list(
                "tenant_id", "device_id", "code", "hour", "occurrences"
            )
        )

    incremental = rows()
    rebuild_all()

    assert rows() == incremental
    assert sum(row[-1] for row in incremental) == 12 + 15
    assert {row[2] for row in incremental} == {CODE}  # agent rows of OTHER are events


@pytest.mark.parametrize("tenants", [2, 5])
def test_detection_costs_the_same_queries_however_many_pairs(
    now, tenants, django_assert_num_queries
):
    for n in range(tenants):
        devices = fleet_of(TenantFactory(slug=f"q{n}"), 6)
        every_hour(devices, CODE, now, 10 * 24)
        every_hour(devices, OTHER, now, 10 * 24)
    aggregate_pending()

    with django_assert_num_queries(8):
        detection = detect(now)

    assert len(detection.pairs) == 2 * tenants
