"""A fleet whose every name is markup, for the escaping tests (fixture in conftest.py)."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from codes.models import RunbookNote
from fleet.aggregate import aggregate_pending
from fleet.alerts.models import AlertDelivery, AlertFiring
from fleet.ingest.models import ImportRecord
from fleet.models import Device, Tenant
from fleet.triage.models import TriageFlag
from tests.dashboards.fleet_data import CANCELLED, catalog
from tests.factories import UserFactory, alert_rule, emit, minutes_up_to

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
HOSTILE = f"{SCRIPT}{ATTRIBUTE}"
# What must never reach a page unescaped.
RAW = ("<script>alert(1)", "<img src=x onerror")
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def hostile_fleet() -> dict:
    """A tenant, device, update, import, flag, note, alert rule and user all named with markup."""
    catalog()
    tenant = Tenant.objects.create(slug="evil", name=f"Tenant {HOSTILE}")
    user = UserFactory(username="olga")
    tenant.operators.add(user)
    device = Device.objects.create(tenant=tenant, hostname=f"PC-{HOSTILE}")
    now = timezone.now()
    emit(
        device,
        CANCELLED,
        minutes_up_to(now - timedelta(hours=3), 6),
        update_title=HOSTILE,
        kb=SCRIPT[:20],
    )
    aggregate_pending()
    flag = TriageFlag.objects.create(
        tenant=tenant, code=CANCELLED, occurrences=6, devices=1, last_seen_at=now
    )
    record = ImportRecord.objects.create(
        tenant=tenant,
        user=user,
        file_name=f"{HOSTILE}.csv",
        status=ImportRecord.Status.DONE,
        format="configmgr",
        rejected=[{"line": 2, "reason": f"ErrorCode {HOSTILE!r} is not a code"}],
        rejected_count=1,
        error=HOSTILE,
    )
    RunbookNote.objects.create(code=CANCELLED, tenant=tenant, author=user, body=HOSTILE)
    rule = alert_rule(
        name=f"Rule {HOSTILE}",
        tenant=tenant,
        code=CANCELLED,
        min_occurrences=2,
        recipients="a@b.test",
    )
    firing = AlertFiring.objects.create(
        rule=rule, tenant=tenant, code=CANCELLED, occurrences=6, devices=1, window_hours=24
    )
    delivery = AlertDelivery.objects.create(
        recipient="a@b.test", subject=HOSTILE, body_text="-", body_html="-", last_error=HOSTILE
    )
    delivery.firings.add(firing)
    client = Client()
    client.force_login(user)
    return {"client": client, "device": device, "flag": flag, "record": record}


def pages(fleet: dict) -> list[str]:
    return [
        "/?range=7d",
        "/tenants/evil/?range=7d",
        f"/devices/{fleet['device'].pk}/?range=7d",
        "/codes/0x8024000B/?range=7d",
        "/triage/",
        f"/triage/{fleet['flag'].pk}/",
        "/imports/",
        f"/imports/{fleet['record'].pk}/",
        "/alerts/",
    ]
