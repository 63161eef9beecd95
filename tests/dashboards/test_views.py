"""Every dashboard view: login required, tenant isolation, 404s, CSV downloads, pinned queries."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import URLPattern, reverse

from dashboards import pages, urls
from dashboards.code_fleet import code_fleet_context
from fleet.aggregate import aggregate_pending
from tests.dashboards.fleet_data import CANCELLED, catalog, fleet
from tests.factories import DeviceFactory, UserFactory, emit, minutes_up_to

pytestmark = pytest.mark.django_db

ALL_CHARTS = pages.OVERVIEW_CHARTS + pages.CODE_CHARTS + pages.DEVICE_CHARTS
# Text only the other tenant's data contains: its devices, its name, its update title.
OTHER_TENANT_MARKERS = ("GLOBEX-", "Globex")


def view_urls(demo_fleet) -> dict[str, str]:
    """One URL per dashboard view, keyed by URL name (the permission test covers them all)."""
    device = demo_fleet["here"][0]
    return {
        "overview": reverse("dashboards:overview"),
        "tenant": reverse("dashboards:tenant", args=["acme"]),
        "device": reverse("dashboards:device", args=[device.pk]),
        "chart_csv": reverse("dashboards:chart_csv", args=["top_codes"]),
    }


def csv_url(name: str, demo_fleet, extra: str = "") -> str:
    query = {"code": "code=0x8024000B", "device": f"device={demo_fleet['here'][0].pk}"}
    subject = (
        query["code"]
        if name in pages.CODE_CHARTS
        else query["device"]
        if name in pages.DEVICE_CHARTS
        else ""
    )
    return f"{reverse('dashboards:chart_csv', args=[name])}?range=30d&{subject}{extra}"


def rows_of(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_permission_test_covers_every_dashboard_view(demo_fleet):
    names = {p.name for p in urls.urlpatterns if isinstance(p, URLPattern)}
    assert names == set(view_urls(demo_fleet))


@pytest.mark.parametrize("name", ["overview", "tenant", "device", "chart_csv"])
def test_anonymous_is_sent_to_login(client, demo_fleet, name):
    url = view_urls(demo_fleet)[name]
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", ["overview", "tenant", "device", "chart_csv"])
def test_operator_sees_granted_tenant_and_nothing_of_another(client, demo_fleet, operator, name):
    client.force_login(operator)
    response = client.get(view_urls(demo_fleet)[name])
    assert response.status_code == 200
    body = response.content.decode()
    assert "0x8024000B" in body
    for marker in OTHER_TENANT_MARKERS:
        assert marker not in body


def test_other_tenants_pages_answer_404(client, demo_fleet, operator):
    client.force_login(operator)
    theirs = demo_fleet["there"][0]
    assert client.get(reverse("dashboards:device", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("dashboards:tenant", args=["globex"])).status_code == 404
    timeline = reverse("dashboards:chart_csv", args=["device_timeline"])
    assert client.get(f"{timeline}?device={theirs.pk}").status_code == 404


def test_picking_a_tenant_not_granted_shows_nothing(client, demo_fleet, operator):
    client.force_login(operator)
    response = client.get(reverse("dashboards:overview") + "?tenant=globex")
    body = response.content.decode()
    assert response.status_code == 200
    assert "GLOBEX-" not in body
    assert response.context["figures"].occurrences == 0


@pytest.mark.parametrize("chart", ALL_CHARTS)
def test_csv_downloads_are_filtered_to_granted_tenants(client, demo_fleet, operator, chart):
    client.force_login(operator)
    response = client.get(csv_url(chart, demo_fleet))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode()
    for marker in (*OTHER_TENANT_MARKERS, "secret"):
        assert marker not in text
    assert len(rows_of(response)) >= 2  # header and at least one row of acme data


def test_superuser_sees_every_tenant(client, demo_fleet, superuser):
    client.force_login(superuser)
    overview = client.get(reverse("dashboards:overview")).content.decode()
    assert "ACME-000" in overview and "GLOBEX-000" in overview
    assert client.get(reverse("dashboards:tenant", args=["globex"])).status_code == 200
    theirs = demo_fleet["there"][0]
    assert client.get(reverse("dashboards:device", args=[theirs.pk])).status_code == 200
    devices = client.get(csv_url("top_devices", demo_fleet)).content.decode()
    assert "GLOBEX-000" in devices and "ACME-000" in devices


def test_csv_cells_that_a_spreadsheet_would_run_are_escaped(client, demo_fleet, superuser, now):
    evil = DeviceFactory(tenant=demo_fleet["here"][0].tenant, hostname="=HYPERLINK(1)")
    emit(evil, CANCELLED, minutes_up_to(now, 30))
    aggregate_pending()
    client.force_login(superuser)
    rows = rows_of(client.get(csv_url("top_devices", demo_fleet)))
    assert ["'=HYPERLINK(1)", "Acme Corp", "30", "1"] in rows


def test_unknown_chart_and_bad_code_are_clear_errors(client, demo_fleet, operator):
    client.force_login(operator)
    assert client.get(reverse("dashboards:chart_csv", args=["nope"])).status_code == 404
    bad = client.get(reverse("dashboards:chart_csv", args=["code_trend"]) + "?code=banana")
    assert bad.status_code == 400
    assert bad.content.decode().startswith("code:")


def test_bad_filter_input_is_named_on_the_page_not_a_500(client, demo_fleet, operator):
    client.force_login(operator)
    response = client.get(reverse("dashboards:overview") + "?range=custom&from=yesterday&to=")
    assert response.status_code == 200
    assert "from: &#x27;yesterday&#x27; is not a date" in response.content.decode()


@pytest.mark.parametrize("device", ["%C2%B2", "99999999999999999999999", "-1", "abc"])
def test_device_chart_with_an_id_that_names_no_device_is_a_404(
    client, demo_fleet, operator, device
):
    client.force_login(operator)
    url = reverse("dashboards:chart_csv", args=["device_timeline"]) + f"?device={device}"
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "query", ["from=2026-01-01&to=9999-12-31", "from=9999-12-31&to=9999-12-31"]
)
def test_a_custom_range_ending_at_the_end_of_the_calendar_is_named_not_a_500(
    client, demo_fleet, operator, query
):
    client.force_login(operator)
    page = client.get(reverse("dashboards:overview") + f"?range=custom&{query}")
    assert page.status_code == 200
    assert "to: the last day can be 9999-12-30 at the latest" in page.content.decode()
    csv = client.get(reverse("dashboards:chart_csv", args=["top_codes"]) + f"?range=custom&{query}")
    assert csv.status_code == 200


def test_pages_keep_the_filter_on_their_links(client, demo_fleet, operator):
    client.force_login(operator)
    body = client.get(reverse("dashboards:overview") + "?tenant=acme&range=30d").content.decode()
    assert "/codes/0x8024000B/?tenant=acme&amp;range=30d" in body
    assert "/charts/top_codes.csv?tenant=acme&amp;range=30d&amp;stack=family" in body


def test_stack_toggle_groups_occurrences_by_severity(client, demo_fleet, operator):
    client.force_login(operator)
    response = client.get(reverse("dashboards:overview") + "?stack=severity")
    chart = response.context["charts"]["occurrences_over_time"]
    assert chart.columns == ["Bucket", "warning", "error"]
    family = client.get(reverse("dashboards:overview")).context["charts"]["occurrences_over_time"]
    assert family.columns == ["Bucket", "Windows Update agent", "Win32"]


def test_pages_load_plotly_from_our_static_files(client, demo_fleet, operator):
    client.force_login(operator)
    body = client.get(reverse("dashboards:overview")).content.decode()
    assert '<script defer src="/static/vendor/plotly-cartesian.min.js">' in body
    assert "cdn" not in body.lower()


def render_code_fleet(user, query: str = "range=30d") -> tuple[dict, str]:
    request = RequestFactory().get(f"/codes/0x8024000B/?{query}")
    request.user = user
    context = code_fleet_context(request, CANCELLED)
    return context, render_to_string("dashboards/_code_fleet.html", context, request=request)


def test_code_fleet_section_shows_only_granted_tenants(demo_fleet, operator):
    context, html = render_code_fleet(operator)
    fleet_section = context["code_fleet"]
    assert fleet_section["occurrences"] == 12
    assert fleet_section["devices_affected"] == 3
    assert "KB5070001" in html
    assert 'id="chart-code_trend"' in html
    for marker in (*OTHER_TENANT_MARKERS, "secret"):
        assert marker not in html


def test_code_fleet_section_for_superuser_includes_every_tenant(demo_fleet, superuser):
    context, html = render_code_fleet(superuser)
    tenants = context["code_fleet"]["tenants"]
    # Only acme reports 0x8024000B; globex's data must not appear as a tenant of it.
    assert [row[0] for row in tenants.rows] == ["Acme Corp"]


# --- query counts ---------------------------------------------------------------------------

# Session, user and visible tenants, then each page's own fixed set (dashboards/queries.py):
# overview = code buckets, top devices with the devices-affected count, their names, open
# flags, new codes, catalog; device = the device row, its timeline, catalog, the updates its
# failures named and its recent raw rows (fleet/devices/queries.py); tenant = the overview's
# set plus whether the user administers it (the connector link).
PAGE_QUERIES = {"overview": 9, "tenant": 10, "device": 8, "chart_csv": 9}
CODE_FLEET_QUERIES = 7


@pytest.mark.parametrize("size", [1, 4])
@pytest.mark.parametrize("name", ["overview", "tenant", "device", "chart_csv"])
def test_page_query_count_does_not_grow_with_data(
    client, tenant, other_tenant, now, superuser, django_assert_num_queries, name, size
):
    catalog()
    data = fleet(tenant, other_tenant, now, size=size)
    client.force_login(superuser)
    url = view_urls(data)[name]
    with django_assert_num_queries(PAGE_QUERIES[name]):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("size", [1, 4])
def test_code_fleet_query_count_does_not_grow_with_data(
    tenant, other_tenant, now, superuser, django_assert_num_queries, size
):
    catalog()
    fleet(tenant, other_tenant, now, size=size)
    with django_assert_num_queries(CODE_FLEET_QUERIES):
        render_code_fleet(superuser)


def test_device_and_tenant_names_are_escaped_in_pages_and_figures(
    client, demo_fleet, superuser, now
):
    hostile = DeviceFactory(
        tenant=demo_fleet["here"][0].tenant, hostname="<script>alert(1)</script>"
    )
    emit(hostile, CANCELLED, minutes_up_to(now, 30))
    aggregate_pending()
    client.force_login(superuser)
    body = client.get(reverse("dashboards:overview")).content.decode()
    assert "<script>alert(1)" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body  # the table alternative
    assert "\\u003Cscript\\u003Ealert(1)" in body  # the figure JSON


def test_operator_without_tenants_gets_empty_pages(client, demo_fleet):
    client.force_login(UserFactory(username="newcomer"))
    response = client.get(reverse("dashboards:overview"))
    assert response.status_code == 200
    assert response.context["figures"].occurrences == 0
    assert "ACME-" not in response.content.decode()


def test_device_page_shows_identifiers_and_last_seen(client, demo_fleet, operator):
    device = demo_fleet["here"][0]
    device.intune_device_id = "5b1c2d3e-0000-4000-8000-000000000001"
    device.last_seen_at = datetime(2026, 11, 24, 8, 15, tzinfo=UTC)
    device.save()
    client.force_login(operator)
    body = client.get(reverse("dashboards:device", args=[device.pk])).content.decode()
    assert "5b1c2d3e-0000-4000-8000-000000000001" in body
    assert "2026-11-24 08:15 UTC" in body
    assert 'id="chart-device_timeline"' in body


def test_a_csv_file_name_says_chart_tenants_and_days(client, demo_fleet, operator, now):
    client.force_login(operator)
    url = reverse("dashboards:chart_csv", args=["top_codes"])
    picked = client.get(f"{url}?tenant=acme&range=custom&from=2026-11-01&to=2026-11-30")
    expected = 'attachment; filename="top_codes-acme-2026-11-01_2026-11-30.csv"'
    assert picked["Content-Disposition"] == expected
    # No tenant picked: every visible one, whose slugs the name does not list.
    one_day = client.get(f"{url}?range=custom&from=2026-11-05&to=2026-11-05")
    assert one_day["Content-Disposition"] == 'attachment; filename="top_codes-all-2026-11-05.csv"'
    # A tenant not granted is not in the scope, so its slug is never in the name either.
    theirs = client.get(f"{url}?tenant=globex&range=custom&from=2026-11-01&to=2026-11-02")
    assert "globex" not in theirs["Content-Disposition"]
    hourly = client.get(f"{url}?tenant=acme&range=24h")["Content-Disposition"]
    assert hourly.startswith('attachment; filename="top_codes-acme-') and "T" in hourly


def test_figure_tiles_link_to_what_they_count_and_colours_have_a_legend(
    client, demo_fleet, operator
):
    client.force_login(operator)
    body = client.get(reverse("dashboards:tenant", args=["acme"])).content.decode()
    assert 'href="/devices/?tenant=acme"' in body
    assert 'href="/triage/?tenant=acme"' in body
    assert 'href="/triage/?kind=new&amp;state=all&amp;tenant=acme"' in body
    assert '<ul class="legend" aria-label="Colours">' in body
