from datetime import UTC, datetime, timedelta

import pytest

from codes.decode import decode
from codes.models import ErrorCode
from fleet.aggregate import aggregate_pending
from fleet.triage.flags import (
    DEFAULT_RULES,
    TransitionError,
    change_state,
    ensure_default_rules,
    operator_severities,
    run_triage,
)
from fleet.triage.models import TriageEvent, TriageFlag, TriageRule
from tests.factories import DeviceFactory, UserFactory, emit

NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
WARNING = 0x8024000B
ERROR = 0x800F0922


@pytest.fixture(autouse=True)
def catalog(db):
    ErrorCode.objects.create(value=WARNING, name="WU_E_CALL_CANCELLED", severity="warning")
    ErrorCode.objects.create(value=ERROR, name="CBS_E_INSTALLERS_FAILED", severity="error")


def hours_ago(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


def triage(now: datetime = NOW):
    aggregate_pending()
    return run_triage(now)


def flagged() -> set[tuple[int, int, str]]:
    return set(TriageFlag.objects.values_list("tenant_id", "code", "state"))


def test_default_rules_are_created_once_on_an_empty_table(db):
    assert ensure_default_rules() == len(DEFAULT_RULES)
    assert ensure_default_rules() == 0
    rules = set(TriageRule.objects.values_list("severity", "metric", "threshold", "window_hours"))
    assert rules == {
        ("warning", "same_device", 3, 168),
        ("warning", "devices", 5, 24),
        ("error", "devices", 5, 24),
    }


def test_warning_seen_three_times_on_one_device_within_seven_days_raises_a_flag(tenant):
    device = DeviceFactory(tenant=tenant)
    emit(device, WARNING, [hours_ago(24 * 8), hours_ago(100), hours_ago(2)])  # 1st is too old
    assert triage().raised == []

    emit(device, WARNING, [hours_ago(1)])
    result = triage()

    assert [(f.tenant_id, f.code) for f in result.raised] == [(tenant.pk, WARNING)]
    flag = TriageFlag.objects.get()
    assert (flag.state, flag.occurrences, flag.devices) == ("new", 4, 1)
    assert flag.first_seen_at == hours_ago(24 * 8)
    assert flag.last_seen_at == hours_ago(1)
    assert flag.rule.metric == TriageRule.Metric.SAME_DEVICE
    event = flag.events.get()
    assert (event.user, event.from_state, event.to_state) == (None, "", "new")
    assert flag.rule.name in event.note


def test_three_times_spread_over_devices_is_not_a_same_device_repeat(tenant):
    for _ in range(3):
        emit(DeviceFactory(tenant=tenant), WARNING, [hours_ago(30)])
    assert triage().raised == []


def test_warning_on_five_devices_of_a_tenant_within_a_day_raises_a_flag(tenant, other_tenant):
    for _ in range(4):
        emit(DeviceFactory(tenant=tenant), WARNING, [hours_ago(20)])
    # Devices of another tenant do not add up with this one's.
    emit(DeviceFactory(tenant=other_tenant), WARNING, [hours_ago(20)])
    emit(DeviceFactory(tenant=tenant), WARNING, [hours_ago(30)])  # outside 24 hours
    assert triage().raised == []

    emit(DeviceFactory(tenant=tenant), WARNING, [hours_ago(3)])
    triage()

    assert flagged() == {(tenant.pk, WARNING, "new")}
    assert TriageFlag.objects.get().rule.metric == TriageRule.Metric.DEVICES


def test_error_code_needs_five_devices_and_repeats_on_one_device_do_not_flag_it(tenant):
    device = DeviceFactory(tenant=tenant)
    emit(device, ERROR, [hours_ago(h) for h in range(1, 10)])
    for _ in range(3):
        emit(DeviceFactory(tenant=tenant), ERROR, [hours_ago(2)])
    assert triage().raised == []  # 4 devices

    emit(DeviceFactory(tenant=tenant), ERROR, [hours_ago(2)])
    triage()
    assert flagged() == {(tenant.pk, ERROR, "new")}


def test_catalog_severity_decides_and_unknown_codes_fall_back(db):
    unknown = 0x87654321
    severities = operator_severities([WARNING, ERROR, unknown])
    assert severities[WARNING] == "warning"
    assert severities[ERROR] == "error"
    # The decoder's answer (family default), the same one its chart and knowledge page show.
    assert severities[unknown] == decode(unknown).severity == "error"


def test_running_triage_again_raises_nothing_new(tenant):
    for _ in range(5):
        emit(DeviceFactory(tenant=tenant), ERROR, [hours_ago(1)])
    assert len(triage().raised) == 1
    result = triage()
    assert (result.raised, result.regressed, result.unmuted) == ([], [], [])
    assert TriageEvent.objects.count() == 1


def test_disabled_rule_raises_nothing(tenant):
    ensure_default_rules()
    TriageRule.objects.filter(severity="error").update(enabled=False)
    for _ in range(5):
        emit(DeviceFactory(tenant=tenant), ERROR, [hours_ago(1)])
    assert triage().raised == []


def test_edited_threshold_applies(tenant):
    ensure_default_rules()
    TriageRule.objects.filter(severity="error").update(threshold=2)
    for _ in range(2):
        emit(DeviceFactory(tenant=tenant), ERROR, [hours_ago(1)])
    assert len(triage().raised) == 1


@pytest.fixture
def storm(tenant):
    """A flagged warning storm on five devices, one hour ago."""
    devices = [DeviceFactory(tenant=tenant) for _ in range(5)]
    for device in devices:
        emit(device, WARNING, [hours_ago(1)])
    triage()
    return TriageFlag.objects.get(), devices


def test_resolved_flag_stays_resolved_without_new_occurrences(storm):
    flag, _ = storm
    change_state(flag, "resolve", None, now=NOW)
    # The old storm is still inside the 24-hour window, but nothing came after the fix.
    assert triage(NOW + timedelta(minutes=30)).regressed == []
    flag.refresh_from_db()
    assert flag.state == "resolved"


def test_resolved_flag_that_recurs_reopens_as_regressed(storm):
    flag, devices = storm
    operator = UserFactory()
    change_state(flag, "resolve", operator, "rolled back the proxy change", now=NOW)

    for device in devices:
        emit(device, WARNING, [NOW + timedelta(hours=2)])
    result = triage(NOW + timedelta(hours=3))

    assert [f.pk for f in result.regressed] == [flag.pk]
    flag.refresh_from_db()
    assert flag.state == "regressed"
    history = list(flag.events.order_by("at", "id").values_list("user", "from_state", "to_state"))
    assert history == [
        (None, "", "new"),
        (operator.pk, "new", "resolved"),
        (None, "resolved", "regressed"),
    ]


def test_mute_until_a_date_ends_when_the_date_passes(storm):
    flag, _ = storm
    change_state(flag, "mute", None, now=NOW, muted_until=NOW + timedelta(days=2))
    assert triage(NOW + timedelta(days=1)).unmuted == []

    result = triage(NOW + timedelta(days=2, minutes=1))

    assert [f.pk for f in result.unmuted] == [flag.pk]
    flag.refresh_from_db()
    assert (flag.state, flag.muted_until) == ("new", None)
    assert "Mute ended" in flag.events.first().note


def test_mute_until_n_more_occurrences_ends_after_that_many(storm):
    flag, devices = storm
    change_state(flag, "mute", None, now=NOW, mute_occurrences=3)
    emit(devices[0], WARNING, [NOW + timedelta(minutes=5)] * 2)
    assert triage(NOW + timedelta(minutes=10)).unmuted == []

    emit(devices[1], WARNING, [NOW + timedelta(minutes=15)])
    assert len(triage(NOW + timedelta(minutes=20)).unmuted) == 1
    flag.refresh_from_db()
    assert (flag.state, flag.occurrences, flag.mute_occurrences) == ("new", 8, None)


def test_operator_changes_are_recorded_with_who_when_and_note(storm):
    flag, _ = storm
    operator = UserFactory()
    event = change_state(flag, "acknowledge", operator, "looking at WSUS", now=NOW)

    flag.refresh_from_db()
    assert flag.state == "acknowledged"
    assert (event.user, event.at, event.note) == (operator, NOW, "looking at WSUS")
    assert (event.from_state, event.to_state) == ("new", "acknowledged")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "Mute until a date"),
        ({"muted_until": NOW - timedelta(days=1)}, "in the future"),
        ({"muted_until": NOW + timedelta(days=1), "mute_occurrences": 3}, "Mute until a date"),
        ({"mute_occurrences": 0}, "at least one more occurrence"),
        # Past 32 bits the update itself would fail (PostgreSQL integer, SQLite past 2**63).
        ({"mute_occurrences": 2**31}, "at most 1,000,000 more occurrences"),
    ],
)
def test_mute_needs_exactly_one_future_limit(storm, kwargs, message):
    flag, _ = storm
    with pytest.raises(TransitionError, match=message):
        change_state(flag, "mute", None, now=NOW, **kwargs)
    flag.refresh_from_db()
    assert flag.state == "new"


def test_impossible_and_stale_transitions_are_refused(storm):
    flag, _ = storm
    change_state(flag, "resolve", None, now=NOW)
    with pytest.raises(TransitionError, match="cannot be muted"):
        change_state(flag, "mute", None, now=NOW, mute_occurrences=1)

    stale = TriageFlag.objects.get(pk=flag.pk)
    stale.state = "new"  # what a second browser tab still shows
    with pytest.raises(TransitionError, match="changed meanwhile"):
        change_state(stale, "acknowledge", None, now=NOW)


def test_resolved_flag_stays_resolved_when_only_its_code_recurs_at_another_tenant(
    storm, tenant, other_tenant
):
    flag, devices = storm
    change_state(flag, "resolve", None, now=NOW)
    later = NOW + timedelta(days=2)
    emit(devices[0], WARNING, [later - timedelta(hours=1)])  # one more here: no rule fires
    for _ in range(5):  # the same code storms at the other tenant,
        emit(DeviceFactory(tenant=other_tenant), WARNING, [later - timedelta(hours=1)])
    for _ in range(5):  # and another code storms at this tenant
        emit(DeviceFactory(tenant=tenant), ERROR, [later - timedelta(hours=1)])

    result = triage(later)

    assert result.regressed == []
    assert flagged() == {
        (tenant.pk, WARNING, "resolved"),
        (other_tenant.pk, WARNING, "new"),
        (tenant.pk, ERROR, "new"),
    }
