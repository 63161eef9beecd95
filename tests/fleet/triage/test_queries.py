from datetime import timedelta

import pytest
from django.utils import timezone

from codes.models import ErrorCode
from fleet.aggregate import aggregate_pending
from fleet.triage.filters import queue_filter
from fleet.triage.models import TriageFlag, TriageRule
from fleet.triage.queries import (
    flag_detail,
    needs_look,
    queue_flags,
    queue_rows,
    reason_text,
)
from tests.factories import DeviceFactory, UserFactory, emit
from tests.fleet.triage.factories import FlagFactory, spike

pytestmark = pytest.mark.django_db
Kind, State = TriageFlag.Kind, TriageFlag.State


class Params(dict):
    """A query string as a dict of lists, the way QueryDict answers."""

    def get(self, key, default=None):
        values = super().get(key)
        return values[-1] if values else default

    def getlist(self, key):
        return super().get(key, [])


def test_needs_look_is_open_flags_with_a_signal_kind_or_a_signal_in_the_last_day(tenant):
    now = timezone.now()
    steady = FlagFactory(tenant=tenant)
    spiking = spike(tenant=tenant)
    new_code = FlagFactory(tenant=tenant, kind=Kind.NEW)
    threshold_signal = FlagFactory(tenant=tenant, signal_at=now - timedelta(hours=23))
    old_signal = FlagFactory(tenant=tenant, signal_at=now - timedelta(hours=25))
    raised_today = FlagFactory(tenant=tenant, raised_at=now - timedelta(hours=2))
    regressed_today = FlagFactory(
        tenant=tenant, state=State.REGRESSED, state_changed_at=now - timedelta(hours=2)
    )
    acknowledged_spike = spike(tenant=tenant, state=State.ACKNOWLEDGED)
    resolved_spike = spike(tenant=tenant, state=State.RESOLVED)
    muted_spike = spike(tenant=tenant, state=State.MUTED)

    found = set(needs_look(TriageFlag.objects.all(), now))

    assert found == {spiking, new_code, threshold_signal, acknowledged_spike}
    # A raise or a regression is news only when the signal engine says so (its kind).
    assert not {steady, old_signal, raised_today, regressed_today} & found
    assert not {resolved_spike, muted_spike} & found


def test_queue_ranks_needs_a_look_by_score_then_last_seen(tenant, operator):
    now = timezone.now()
    low = spike(tenant=tenant, score=5.0)
    high = spike(tenant=tenant, score=90.0)
    seen_late = spike(tenant=tenant, score=20.0, last_seen_at=now - timedelta(minutes=5))
    seen_early = spike(tenant=tenant, score=20.0, last_seen_at=now - timedelta(hours=5))
    steady = FlagFactory(tenant=tenant)

    needs_a_look = list(queue_flags(queue_filter(Params(view=["now"]), operator), now))
    grouped = list(queue_flags(queue_filter(Params(), operator), now))

    assert needs_a_look == [high, seen_late, seen_early, low]
    assert grouped == [*needs_a_look, steady]


def test_view_all_puts_the_steady_flags_below_the_needs_a_look_ones(tenant, operator):
    now = timezone.now()
    steady_busy = FlagFactory(tenant=tenant, score=99.0)  # a stale score does not lift it
    steady = FlagFactory(tenant=tenant)
    hot = spike(tenant=tenant, score=1.0)

    everything = list(queue_flags(queue_filter(Params(view=["all"]), operator), now))
    steady_only = list(queue_flags(queue_filter(Params(view=["steady"]), operator), now))

    assert everything == [hot, steady_busy, steady]
    assert steady_only == [steady_busy, steady]


def test_tenant_kind_state_and_assignee_filters(tenant, other_tenant):
    now = timezone.now()
    boss = UserFactory(username="boss", is_superuser=True)
    mine = spike(tenant=tenant, assignee=boss)
    theirs = spike(tenant=other_tenant)
    new = FlagFactory(tenant=other_tenant, kind=Kind.NEW)
    resolved = spike(tenant=tenant, state=State.RESOLVED)

    def shown(**params) -> set:
        filters = queue_filter(Params({k: v for k, v in params.items()}), boss)
        assert filters.errors == []
        return set(queue_flags(filters, now))

    assert shown() == {mine, theirs, new}
    assert shown(tenant=["globex"]) == {theirs, new}
    assert shown(tenant=["globex", "acme"]) == {mine, theirs, new}
    assert shown(kind=["new"]) == {new}
    assert shown(kind=["new", "spike"]) == {mine, theirs, new}
    assert shown(state=["resolved"]) == {resolved}
    assert shown(assigned=["me"]) == {mine}


def test_an_operator_never_gets_another_tenants_flags_even_by_slug(tenant, other_tenant, operator):
    now = timezone.now()
    mine = spike(tenant=tenant)
    spike(tenant=other_tenant)

    for params in ({}, {"tenant": ["globex"]}, {"tenant": ["globex", "acme"]}):
        filters = queue_filter(Params(params), operator)
        expected = [] if params.get("tenant") == ["globex"] else [mine]
        assert list(queue_flags(filters, now)) == expected


def test_bad_filter_values_are_reported_with_their_parameter(operator):
    filters = queue_filter(
        Params(state=["bogus"], kind=["storm"], view=["later"], assigned=["you"], code=["0xZZ"]),
        operator,
    )
    assert [name for name, _ in filters.errors] == ["state", "kind", "view", "assigned", "code"]
    assert (filters.state, filters.kinds, filters.view, filters.assignee_id) == (
        "open",
        [],
        "all",
        None,
    )


def test_reason_is_the_signals_sentence_else_built_from_the_rule(tenant):
    rule = TriageRule.objects.create(
        name="Error on many devices",
        severity="error",
        metric=TriageRule.Metric.DEVICES,
        threshold=5,
        window_hours=24,
    )
    spiking = spike(tenant=tenant, reason="first time in this tenant")
    by_rule = FlagFactory(tenant=tenant, rule=rule, occurrences=1200, devices=7)
    no_rule = FlagFactory(tenant=tenant, occurrences=3, devices=1)

    assert reason_text(spiking) == "first time in this tenant"
    assert reason_text(by_rule) == (
        "Over a threshold (error code, 5+ devices within 24 h): "
        "1,200 occurrences on 7 devices so far."
    )
    assert reason_text(no_rule) == "Recurring: 3 occurrences on 1 devices so far."


@pytest.mark.parametrize("count", [1, 12])
def test_queue_rows_take_two_queries_whatever_the_rows(tenant, count, django_assert_num_queries):
    ErrorCode.objects.create(value=0x80070000, name="FIRST")
    flags = [FlagFactory(tenant=tenant, code=0x80070000 + n) for n in range(count)]
    for flag in TriageFlag.objects.filter(pk__in=[f.pk for f in flags]):
        emit(DeviceFactory(tenant=tenant), flag.code, [timezone.now() - timedelta(hours=1)])
    aggregate_pending()
    flags = list(TriageFlag.objects.select_related("rule").order_by("pk"))

    with django_assert_num_queries(2):
        rows = queue_rows(flags, timezone.now())

    assert [row.spark_total for row in rows] == [1] * count
    assert rows[0].facts.label == "FIRST"


@pytest.mark.parametrize("devices", [1, 6])
def test_flag_detail_takes_a_fixed_number_of_queries(tenant, devices, django_assert_num_queries):
    flag = spike(tenant=tenant, code=0x8024000B, baseline_24h=48.0)
    hour_ago = timezone.now() - timedelta(hours=1)
    for _ in range(devices):
        emit(DeviceFactory(tenant=tenant), flag.code, [hour_ago, hour_ago])
    aggregate_pending()
    flag = TriageFlag.objects.select_related("tenant", "rule").get(pk=flag.pk)

    # devices, sparkline, chart hours, catalog entry, events, assignable users
    with django_assert_num_queries(6):
        detail = flag_detail(flag, timezone.now())

    assert len(detail.devices) == devices
    bars, baseline = detail.chart["data"]
    assert len(bars["x"]) == 7 * 24 and sum(bars["y"]) == 2 * devices
    assert set(baseline["y"]) == {2.0}  # 48 a day is 2 an hour
