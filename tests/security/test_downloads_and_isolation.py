"""Every CSV download is safe to open in a spreadsheet, and no download or API answer crosses
a tenant boundary."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from dashboards import pages
from fleet.aggregate import aggregate_pending
from fleet.ingest.keys import create_ingest_key
from fleet.ingest.models import ImportRecord
from fleet.models import Device, Occurrence, Tenant
from fleet.spreadsheet import spreadsheet_safe
from tests.dashboards.fleet_data import CANCELLED, catalog
from tests.factories import UserFactory, client_for, emit, minutes_up_to

pytestmark = pytest.mark.django_db

ALL_CHARTS = pages.OVERVIEW_CHARTS + pages.CODE_CHARTS + pages.DEVICE_CHARTS
FORMULAS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


def _cells(response) -> list[str]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    return [cell for row in csv.reader(io.StringIO(response.content.decode())) for cell in row]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _assert_no_formula(cells: list[str]) -> None:
    for cell in cells:
        if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
            # Numbers stay numbers (a negative count is not a formula); text never starts so.
            assert _is_number(cell), f"{cell!r} would run as a formula"


@pytest.fixture
def formula_fleet(db):
    """Devices, a tenant and updates named like spreadsheet formulas."""
    catalog()
    tenant = Tenant.objects.create(slug="calc", name="=cmd|' /C calc'!A0")
    user = UserFactory(username="carla")
    tenant.operators.add(user)
    now = timezone.now()
    devices = []
    for n, text in enumerate(FORMULAS):
        device = Device.objects.create(tenant=tenant, hostname=text)
        devices.append(device)
        times = minutes_up_to(now - timedelta(hours=n + 2), 2)
        emit(device, CANCELLED, times, update_title=text, kb=text[:20])
    aggregate_pending()
    client = client_for(user)
    return client, devices


@pytest.mark.parametrize("chart", ALL_CHARTS)
def test_every_chart_download_neutralises_formulas(formula_fleet, chart):
    client, devices = formula_fleet
    subject = {"code": "&code=0x8024000B", "device": f"&device={devices[0].pk}"}
    extra = (
        subject["code"]
        if chart in pages.CODE_CHARTS
        else subject["device"]
        if chart in pages.DEVICE_CHARTS
        else ""
    )
    cells = _cells(client.get(f"/charts/{chart}.csv?range=7d{extra}"))
    _assert_no_formula(cells)


def test_the_formula_text_is_kept_behind_a_quote(formula_fleet):
    client, _ = formula_fleet
    cells = _cells(client.get("/charts/top_devices.csv?range=7d"))
    for text in FORMULAS:
        assert "'" + text in cells
    assert "'=cmd|' /C calc'!A0" in cells  # the tenant column


@pytest.mark.parametrize(
    ("value", "written"),
    [(-5, -5), (-2.5, -2.5), (0, 0), ("-5", "'-5"), ("=1", "'=1"), (" =1", " =1"), ("a=1", "a=1")],
)
def test_numbers_stay_numbers_and_text_is_prefixed(value, written):
    assert spreadsheet_safe(value) == written


def test_rejected_rows_download_neutralises_formulas(formula_fleet):
    client, _ = formula_fleet
    record = ImportRecord.objects.create(
        tenant=Tenant.objects.get(slug="calc"),
        file_name="x.csv",
        status=ImportRecord.Status.DONE,
        rejected=[{"line": n + 2, "reason": text} for n, text in enumerate(FORMULAS)],
        rejected_count=len(FORMULAS),
    )
    cells = _cells(client.get(f"/imports/{record.pk}/rejected.csv"))
    _assert_no_formula(cells)
    assert '\'=HYPERLINK("http://x","y")' in cells


# Tenant isolation of downloads and answers not covered by tests/dashboards and tests/fleet.


@pytest.fixture
def two_tenants(tenant, other_tenant, logged_in):
    """`operator` sees acme; globex has its own devices, occurrences and an import."""
    catalog()
    now = timezone.now()
    mine = Device.objects.create(tenant=tenant, hostname="ACME-1", intune_device_id="intune-acme")
    theirs = Device.objects.create(
        tenant=other_tenant, hostname="GLOBEX-1", intune_device_id="intune-globex"
    )
    emit(mine, CANCELLED, minutes_up_to(now - timedelta(hours=2), 2), update_title="acme update")
    emit(theirs, CANCELLED, minutes_up_to(now - timedelta(hours=2), 9), update_title="GLOBEX-only")
    aggregate_pending()
    return logged_in, mine, theirs


@pytest.mark.parametrize("chart", ALL_CHARTS)
def test_naming_another_tenant_in_a_download_gives_nothing_of_it(two_tenants, chart):
    client, mine, theirs = two_tenants
    extra = (
        "&code=0x8024000B"
        if chart in pages.CODE_CHARTS
        else f"&device={mine.pk}"
        if chart in pages.DEVICE_CHARTS
        else ""
    )
    for query in ("tenant=globex", "tenant=globex&tenant=acme", ""):
        response = client.get(f"/charts/{chart}.csv?range=7d&{query}{extra}")
        text = response.content.decode()
        assert "GLOBEX" not in text and "Globex" not in text, (chart, query)


def test_another_tenants_device_timeline_download_is_404(two_tenants):
    client, _mine, theirs = two_tenants
    assert client.get(f"/charts/device_timeline.csv?device={theirs.pk}").status_code == 404
    assert (
        client.get(f"/charts/device_timeline.csv?device={theirs.pk}&tenant=globex").status_code
        == 404
    )


@pytest.mark.usefixtures("dead_broker")
def test_ingest_key_cannot_reach_another_tenants_device_by_its_ids(two_tenants, tenant):
    _client, _mine, theirs = two_tenants
    _record, secret = create_ingest_key(tenant, "agents")
    item = {
        "device": {"hostname": "GLOBEX-1", "intune_device_id": "intune-globex"},
        "code": "0x8024000B",
        "occurred_at": (timezone.now() - timedelta(minutes=5)).isoformat(),
        "event_id": "same-id-everywhere",
    }
    response = Client().post(
        "/api/v1/occurrences",
        json.dumps([item]),
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 202 and response.json()["accepted"] == 1
    assert Occurrence.objects.filter(device=theirs).count() == 9
    created = Device.objects.get(tenant=tenant, hostname="GLOBEX-1")
    assert created.pk != theirs.pk and created.intune_device_id == "intune-globex"
    theirs.refresh_from_db()
    assert theirs.last_seen_at is None or theirs.last_seen_at < timezone.now() - timedelta(
        minutes=1
    )
