"""`/devices/` and the inventory sections of the device page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from fleet.aggregate import aggregate_pending
from fleet.devices.queries import PAGE_SIZE
from fleet.models import Device
from fleet.triage.models import TriageFlag
from tests.factories import DeviceFactory, UserFactory, client_for, emit
from tests.fleet.triage.factories import FlagFactory

pytestmark = pytest.mark.django_db


def listed(response) -> list[str]:
    return [device.hostname for device in response.context["page"]]


def test_a_demo_device_is_found_by_the_first_characters_of_its_name(demo, contoso):
    granted = UserFactory()
    contoso.operators.add(granted)
    prefix = demo.hostname[:6].lower()
    found = listed(client_for(granted).get("/devices/", {"q": prefix}))
    assert demo.hostname in found
    assert all(name.lower().startswith(prefix) for name in found)
    assert listed(client_for(UserFactory()).get("/devices/", {"q": prefix})) == []


def test_search_matches_exact_intune_and_entra_ids(logged_in, tenant):
    device = DeviceFactory(tenant=tenant, intune_device_id="in-1", entra_device_id="en-1")
    DeviceFactory(tenant=tenant)
    assert listed(logged_in.get("/devices/", {"q": "in-1"})) == [device.hostname]
    assert listed(logged_in.get("/devices/", {"q": "en-1"})) == [device.hostname]
    assert listed(logged_in.get("/devices/", {"q": "in-"})) == []


def test_only_granted_tenants_are_listed_and_filtered(logged_in, operator, tenant, other_tenant):
    mine = DeviceFactory(tenant=tenant, hostname="MINE-1")
    DeviceFactory(tenant=other_tenant, hostname="THEIRS-1")
    assert listed(logged_in.get("/devices/")) == [mine.hostname]
    assert listed(logged_in.get("/devices/", {"tenant": "globex"})) == []
    other_tenant.operators.add(operator)
    assert listed(logged_in.get("/devices/", {"tenant": "globex"})) == ["THEIRS-1"]


def test_columns_count_open_flags_and_distinct_codes_and_sort_by_them(logged_in, tenant):
    now = timezone.now()
    busy, quiet = (DeviceFactory(tenant=tenant, hostname=n) for n in ("A-BUSY", "B-QUIET"))
    emit(busy, 0x8024000B, [now - timedelta(hours=1)] * 2)
    emit(busy, 0x80070005, [now - timedelta(hours=2)])
    emit(quiet, 0x80070005, [now - timedelta(hours=3)])
    aggregate_pending()
    FlagFactory(tenant=tenant, code=0x8024000B, state=TriageFlag.State.NEW)
    FlagFactory(tenant=tenant, code=0x80070005, state=TriageFlag.State.RESOLVED)
    page = logged_in.get("/devices/", {"sort": "-codes"}).context["page"]
    rows = {d.hostname: (d.open_flags, d.codes) for d in page}
    assert rows == {"A-BUSY": (1, 2), "B-QUIET": (0, 1)}
    assert [d.hostname for d in page] == ["A-BUSY", "B-QUIET"]
    assert listed(logged_in.get("/devices/", {"sort": "codes"})) == ["B-QUIET", "A-BUSY"]
    assert listed(logged_in.get("/devices/", {"sort": "-name"})) == ["B-QUIET", "A-BUSY"]
    assert listed(logged_in.get("/devices/", {"sort": "-flags"}))[0] == "A-BUSY"


def test_pages_of_fifty_in_a_bounded_number_of_queries(
    logged_in, tenant, django_assert_max_num_queries
):
    devices = DeviceFactory.create_batch(PAGE_SIZE + 5, tenant=tenant)
    for device in devices[:20]:
        emit(device, 0x8024000B, [timezone.now() - timedelta(hours=1)])
    aggregate_pending()
    FlagFactory(tenant=tenant, code=0x8024000B, state=TriageFlag.State.NEW)
    # session, user, tenants for the filter, picked tenants, count, rows
    with django_assert_max_num_queries(7):
        first = logged_in.get("/devices/", {"sort": "-flags"})
    assert len(first.context["page"]) == PAGE_SIZE
    assert first.context["page"][0].open_flags == 1
    assert len(logged_in.get("/devices/", {"page": "2"}).context["page"]) == 5


def test_the_device_page_shows_inventory_failed_updates_and_recent_rows(logged_in, device):
    Device.objects.filter(pk=device.pk).update(
        os_build="10.0.19045.4291", update_policy="Windows 11 24H2 - pilot ring"
    )
    now = timezone.now()
    emit(device, 0x8024000B, [now], update_title="2026-11 Cumulative",
         kb="KB5060001")  # fmt: skip
    emit(device, 0x80070005, [now - timedelta(minutes=n) for n in range(1, 61)])
    body = logged_in.get(f"/devices/{device.pk}/").content.decode()
    assert "10.0.19045.4291" in body and "pilot ring" in body
    assert "2026-11 Cumulative" in body and "KB5060001" in body
    assert body.count('href="/codes/0x80070005/"') == 49  # 50 newest rows, one of them 0x8024000B
    assert 'href="/codes/0x8024000B/"' in body


def test_another_tenants_device_page_is_404(logged_in, other_tenant):
    theirs = DeviceFactory(tenant=other_tenant)
    assert logged_in.get(f"/devices/{theirs.pk}/").status_code == 404


def test_the_nav_links_the_device_list(logged_in):
    assert 'href="/devices/"' in logged_in.get("/devices/").content.decode()


def test_logged_out_is_sent_to_login(client):
    assert client.get("/devices/").status_code == 302
