"""The demo tells the story: after `seed_demo` and `run_pipeline`, today's storms lead."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from fleet.demo import STORM_CODE
from fleet.triage.models import FleetSignal, TriageFlag
from fleet.triage.queries import needs_look, needs_look_q

pytestmark = pytest.mark.django_db

# The demo tenants whose 0x8024000B storm is today (fleet/demo.py: storm_days start with 0).
STORM_TODAY = {"contoso-health", "fabrikam-legal", "northwind-retail"}


def test_demo_queue_leads_with_todays_storms_and_holds_little_else():
    call_command("seed_demo", stdout=StringIO())
    call_command("run_pipeline", stdout=StringIO())

    flags = TriageFlag.objects.select_related("tenant")
    queue = sorted(needs_look(flags, timezone.now()), key=lambda flag: -flag.score)

    assert len(queue) <= 15
    leading = queue[: len(STORM_TODAY)]
    assert {flag.tenant.slug for flag in leading} == STORM_TODAY
    assert {(flag.code, flag.kind) for flag in leading} == {(STORM_CODE, TriageFlag.Kind.SPIKE)}
    assert all("in the last" in flag.reason and "usually" in flag.reason for flag in leading)
    # Tailspin's storm was a month ago: its 0x8024000B is background now.
    assert not flags.filter(tenant__slug="tailspin-logistics", kind="spike").exists()
    # One fleet-wide signal links the three.
    signal = FleetSignal.objects.get(active=True)
    assert (signal.code, signal.tenants) == (STORM_CODE, 3)
    assert {flag.fleet_signal_id for flag in leading} == {signal.pk}
    # The rest is visibly calmer: steady recurrence, scored in the threshold band or below.
    open_flags = flags.filter(state__in=TriageFlag.OPEN_STATES)
    calm = list(open_flags.exclude(needs_look_q(timezone.now())))
    assert calm and max(flag.score for flag in calm) < 200 < 400 < min(f.score for f in leading)


def test_demo_triage_api_and_page_lead_with_todays_storms(admin_client):
    """Issue 14's must-show, through the interfaces an operator and a script use."""
    call_command("seed_demo", stdout=StringIO())
    call_command("run_pipeline", stdout=StringIO())

    listed = admin_client.get("/api/v1/triage").json()["flags"]

    assert 0 < len(listed) <= 15
    leading = listed[: len(STORM_TODAY)]
    assert {flag["tenant"] for flag in leading} == STORM_TODAY
    assert {(flag["code"], flag["kind"]) for flag in leading} == {(f"0x{STORM_CODE:08X}", "spike")}
    assert [flag["score"] for flag in listed] == sorted((f["score"] for f in listed), reverse=True)

    page = admin_client.get("/triage/?tenant=contoso-health")
    shown = list(page.context["flags"])
    assert shown and {flag.tenant.slug for flag in shown} == {"contoso-health"}
