"""Exact figures from the aggregate queries, and the links the charts carry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import RequestFactory

from codes.decode import decode
from dashboards import charts, queries
from dashboards.filters import scope_from_request
from fleet.aggregate import aggregate_pending
from fleet.models import DailyDeviceCodeStat, HourlyCodeStat, HourlyDeviceCodeStat
from fleet.triage.models import TriageFlag
from tests.dashboards.fleet_data import CANCELLED, NOT_FOUND, PROXY, catalog
from tests.factories import emit, minutes_up_to

pytestmark = pytest.mark.django_db


def scope_for(user, query: str = "", now=None):
    request = RequestFactory().get(f"/?{query}")
    request.user = user
    return scope_from_request(request, now=now)


def test_overview_figures_count_only_the_granted_tenant(demo_fleet, operator):
    data = queries.overview(scope_for(operator))
    assert data.occurrences == 15  # 3 devices x (4 x 0x8024000B + 1 x 0x80070002)
    assert data.devices_affected == 3
    assert data.new_codes == 2
    assert data.code_totals() == [(CANCELLED, 12), (NOT_FOUND, 3)]
    assert [(d["device__hostname"], d["occurrences"], d["codes"]) for d in data.top_devices] == [
        ("ACME-000", 5, 2),
        ("ACME-001", 5, 2),
        ("ACME-002", 5, 2),
    ]


def test_longer_range_includes_older_occurrences(demo_fleet, operator):
    data = queries.overview(scope_for(operator, "range=30d"))
    assert data.occurrences == 17
    assert data.new_codes == 3
    assert data.code_totals()[-1] == (PROXY, 2)


def test_a_code_seen_before_the_range_is_not_new(demo_fleet, operator, now):
    device = demo_fleet["here"][1]
    emit(device, NOT_FOUND, [now - timedelta(days=60)])
    aggregate_pending()
    assert queries.overview(scope_for(operator)).new_codes == 1


def test_open_flags_count_open_states_of_granted_tenants_only(
    demo_fleet, operator, tenant, other_tenant
):
    TriageFlag.objects.create(tenant=tenant, code=CANCELLED, state="new")
    TriageFlag.objects.create(tenant=tenant, code=PROXY, state="regressed")
    TriageFlag.objects.create(tenant=tenant, code=NOT_FOUND, state="resolved")
    TriageFlag.objects.create(tenant=other_tenant, code=PROXY, state="new")
    assert queries.overview(scope_for(operator)).open_flags == 2


def test_daily_and_hourly_device_tables_agree_on_distinct_devices(demo_fleet, superuser):
    scope = scope_for(superuser)
    hourly = (
        HourlyDeviceCodeStat.objects.filter(hour__gte=scope.start, hour__lt=scope.end)
        .values("device_id")
        .distinct()
        .count()
    )
    assert queries.overview(scope).devices_affected == hourly == 5


def test_code_fleet_trend_tenants_devices_updates_and_cooccurring_codes(demo_fleet, superuser):
    data = queries.code_fleet(scope_for(superuser, "range=30d"), CANCELLED)
    assert data.occurrences == 12
    assert [(n, devices) for _, n, devices in data.trend] == [(12, 3)]
    assert [(t["tenant__slug"], t["occurrences"], t["devices"]) for t in data.tenants] == [
        ("acme", 12, 3)
    ]
    assert [d["device__hostname"] for d in data.devices] == ["ACME-000", "ACME-001", "ACME-002"]
    assert [(u["update_title"], u["kb"], u["occurrences"]) for u in data.updates] == [
        ("2026-11 Cumulative Update", "KB5070001", 12)
    ]
    # Globex's 0x8024402C devices never reported 0x8024000B, so they do not count here.
    assert [(c["code"], c["devices"], c["occurrences"]) for c in data.cooccurring] == [
        (NOT_FOUND, 3, 3),
        (PROXY, 1, 2),
    ]
    assert data.codes[NOT_FOUND].name == "ERROR_FILE_NOT_FOUND"


def test_device_timeline_lists_each_code_of_the_device(demo_fleet, operator):
    device = demo_fleet["here"][0]
    scope = scope_for(operator, "range=30d")
    timeline = queries.device_timeline(scope, device)
    summary = [(r["code"], r["occurrences"]) for r in timeline.per_code()]
    assert summary == [(CANCELLED, 4), (PROXY, 2), (NOT_FOUND, 1)]


def test_another_tenants_device_is_not_visible(demo_fleet, operator):
    scope = scope_for(operator)
    assert queries.visible_device(scope, demo_fleet["there"][0].pk) is None
    assert queries.visible_device(scope, demo_fleet["here"][0].pk) is not None
    assert queries.visible_device(scope, 10**30) is None


def test_uncatalogued_code_gets_its_decoded_family_and_a_label(demo_fleet, operator, now):
    # Issue 13: a code the catalog lacks reads as the decoder reads it, not "Not in catalog".
    device = demo_fleet["here"][0]
    emit(device, 0x80AB0001, minutes_up_to(now, 2))
    aggregate_pending()
    timeline = queries.device_timeline(scope_for(operator, "range=30d"), device)
    info = timeline.codes[0x80AB0001]
    decoded = decode(0x80AB0001)
    assert (info.hex, info.name, info.family_name, info.severity) == (
        "0x80AB0001",
        "",
        decoded.family_name,
        decoded.severity,
    )
    assert info.label and "Not in catalog" not in info.label


def test_top_code_bars_and_heatmap_cells_link_to_knowledge_pages(demo_fleet, operator):
    scope = scope_for(operator, "tenant=acme&range=30d")
    data = queries.overview(scope)
    bars = charts.top_codes(data, scope).figure["data"][0]
    assert bars["y"][0] == "0x8024000B"
    assert bars["customdata"][0] == "/codes/0x8024000B/?tenant=acme&range=30d"
    heatmap = charts.code_heatmap(data, scope).figure["data"][0]
    assert heatmap["customdata"][0][0] == "/codes/0x8024000B/?tenant=acme&range=30d"
    assert len(heatmap["z"][0]) == 30  # one cell per day of the range


def test_device_timeline_points_link_to_code_pages(demo_fleet, operator):
    scope = scope_for(operator, "range=30d")
    timeline = queries.device_timeline(scope, demo_fleet["here"][0])
    points = charts.device_timeline(timeline, scope).figure["data"][0]
    assert set(points["customdata"]) == {
        f"/codes/0x{code:08X}/?range=30d" for code in (CANCELLED, NOT_FOUND, PROXY)
    }


def test_a_code_seen_before_only_by_another_tenant_is_still_new_here(demo_fleet, operator, now):
    theirs = demo_fleet["there"][0]
    emit(theirs, NOT_FOUND, [now - timedelta(days=60)])
    aggregate_pending()
    assert queries.overview(scope_for(operator)).new_codes == 2


def test_day_windows_read_the_daily_code_table(demo_fleet, operator):
    # Without the hourly code rows a whole-day window still has every figure: the page reads
    # DailyCodeStat (a 90-day window there is ~24x fewer rows than hourly).
    HourlyCodeStat.objects.all().delete()
    data = queries.overview(scope_for(operator, "range=30d"))
    assert data.occurrences == 17
    assert data.code_totals() == [(CANCELLED, 12), (NOT_FOUND, 3), (PROXY, 2)]


def test_code_trend_adds_devices_per_tenant_from_the_daily_code_table(demo_fleet, superuser):
    DailyDeviceCodeStat.objects.filter(code=CANCELLED).update(occurrences=0)
    trend = queries.code_fleet(scope_for(superuser, "range=30d"), CANCELLED).trend
    # The trend reads the per-tenant code table, not the per-device rows just zeroed.
    assert [(n, devices) for _, n, devices in trend] == [(12, 3)]


def test_cooccurring_codes_are_counted_over_the_most_affected_devices(
    demo_fleet, superuser, monkeypatch
):
    monkeypatch.setattr(queries, "COOCCURRING_DEVICES", 1)
    data = queries.code_fleet(scope_for(superuser, "range=30d"), CANCELLED)
    # Three devices tie on 0x8024000B; the first by id is kept, with its own other codes only.
    assert [(c["code"], c["devices"], c["occurrences"]) for c in data.cooccurring] == [
        (PROXY, 1, 2),
        (NOT_FOUND, 1, 1),
    ]


def test_a_code_seen_earlier_the_same_day_is_not_new_in_24h(operator, device):
    catalog()
    now = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)  # the 24 h window starts 11-19 13:00
    emit(device, NOT_FOUND, [datetime(2026, 11, 19, 5, 0, tzinfo=UTC)])
    emit(device, NOT_FOUND, [datetime(2026, 11, 20, 9, 0, tzinfo=UTC)])
    emit(device, CANCELLED, [datetime(2026, 11, 20, 9, 0, tzinfo=UTC)])
    aggregate_pending()
    assert queries.overview(scope_for(operator, "range=24h", now=now)).new_codes == 1
    assert queries.overview(scope_for(operator, "range=7d", now=now)).new_codes == 2


@pytest.mark.parametrize("window", ["range=7d", "range=30d", "range=90d"])
def test_every_tenant_scope_reads_the_same_figures_as_the_tenant_list(
    demo_fleet, superuser, tenant, other_tenant, window
):
    everything = scope_for(superuser, window)
    listed = scope_for(superuser, f"{window}&tenant={tenant.slug}&tenant={other_tenant.slug}")
    assert everything.every_tenant and not listed.every_tenant
    assert everything.tenant_ids == listed.tenant_ids
    a, b = queries.overview(everything), queries.overview(listed)
    assert a.code_buckets and sorted(a.code_buckets) == sorted(b.code_buckets)
    assert (a.occurrences, a.devices_affected, a.new_codes) == (
        b.occurrences,
        b.devices_affected,
        b.new_codes,
    )


def test_only_a_superuser_without_a_pick_gets_the_every_tenant_scope(
    demo_fleet, superuser, operator, tenant
):
    assert scope_for(superuser).every_tenant
    assert not scope_for(superuser, f"tenant={tenant.slug}").every_tenant
    assert not scope_for(superuser).pinned_to(tenant.slug).every_tenant
    # An operator's scope is its grants, even when they are all the tenants there are.
    assert not scope_for(operator).every_tenant
    superuser.is_active = False
    inactive = scope_for(superuser)
    assert not inactive.every_tenant and inactive.tenant_ids == []
    assert queries.overview(scope_for(operator)).occurrences == 15


def test_time_series_bars_open_their_day_and_hover_shows_each_part_and_the_total(
    demo_fleet, operator
):
    scope = scope_for(operator, "tenant=acme&range=30d")
    figure = charts.occurrences_over_time(queries.overview(scope), scope, "severity").figure
    *parts, total = figure["data"]
    assert figure["layout"]["hovermode"] == "x unified"
    assert [p["type"] for p in parts] == ["bar"] * len(parts) and total["name"] == "Total"
    assert total["showlegend"] is False and total["marker"]["opacity"] == 0
    for n in range(len(total["x"])):
        assert total["y"][n] == sum(p["y"][n] for p in parts)
    day = total["x"][-1][:10]
    expected = f"/?tenant=acme&range=custom&from={day}&to={day}"
    assert parts[0]["customdata"][-1] == total["customdata"][-1] == expected
    assert figure["layout"]["legend"]["title"]["text"] == "Severity:"


def test_severity_colours_have_a_legend(demo_fleet, operator):
    scope = scope_for(operator, "tenant=acme&range=30d")
    chart = charts.top_codes(queries.overview(scope), scope)
    assert chart.legend == list(charts.SEVERITY_COLOURS.items())
