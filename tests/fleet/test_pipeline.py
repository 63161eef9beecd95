import json
from datetime import timedelta
from io import StringIO

import pytest
import redis
from django.core.management import call_command
from django.utils import timezone

from codes.models import ErrorCode
from fleet.alerts.models import AlertDelivery
from fleet.alerts.tasks import send_alert_emails
from fleet.models import HourlyCodeStat
from fleet.pending import pending_occurrences
from fleet.tasks import run_pipeline
from fleet.triage.models import TriageFlag
from tests.factories import DeviceFactory, UserFactory, alert_rule, emit
from tests.services import broker

CANCELLED = 0x8024000B
DENIED = 0x80070005


@pytest.fixture
def stream(tenant, other_tenant):
    """Generated recent occurrences: a warning storm at Acme, a quiet error at Globex."""
    ErrorCode.objects.create(value=CANCELLED, name="WU_E_CALL_CANCELLED", severity="warning")
    ErrorCode.objects.create(value=DENIED, name="E_ACCESSDENIED", severity="error")
    now = timezone.now()
    for n in range(7):
        emit(DeviceFactory(tenant=tenant), CANCELLED, [now - timedelta(minutes=10 + n)] * 2)
    for n in range(4):  # 4 devices: under the 5-device error rule
        emit(DeviceFactory(tenant=other_tenant), DENIED, [now - timedelta(hours=n + 1)])
    alert_rule(
        name="Any storm",
        min_devices=6,
        window_hours=24,
        recipients="noc@example.test",
    )
    return now


def test_run_pipeline_command_runs_one_round_and_says_what_it_did(stream, tenant, smtp_server):
    out = StringIO()
    call_command("run_pipeline", stdout=out)

    assert out.getvalue().splitlines() == [
        "aggregated 18 occurrences in 1 chunks",
        "triage: 1 flags raised, 0 regressed, 0 unmuted",
        "alerts: 1 over threshold, 1 fired, 1 emails queued",
        "emails: 1 sent, 0 failed",
    ]
    assert set(TriageFlag.objects.values_list("tenant_id", "code", "state")) == {
        (tenant.pk, CANCELLED, "new")
    }
    [email] = smtp_server.messages()
    assert email.subject == (
        "[Fleet errors] Acme Corp: 0x8024000B WU_E_CALL_CANCELLED, "
        "14 occurrences on 7 devices in 24 h"
    )

    out = StringIO()
    call_command("run_pipeline", stdout=out)  # nothing new, cooldown running
    assert "aggregated 0 occurrences" in out.getvalue()
    assert "0 fired" in out.getvalue()
    assert len(smtp_server.messages()) == 1


def test_pipeline_task_queues_the_emails_on_the_alerts_queue(stream, smtp_server, redis_server):
    with broker(redis_server.url):
        assert run_pipeline() == {
            "aggregated": 18,
            "flags_raised": 1,
            "alerts_fired": 1,
            "emails_queued": 1,
            "emails_sent": 0,
        }
    # The round did not wait on SMTP: the email is pending and its task sits on `alerts`.
    assert AlertDelivery.objects.get().state == "pending"
    assert smtp_server.messages() == []
    queued = redis.Redis.from_url(redis_server.url).lrange("alerts", 0, -1)
    assert [json.loads(m)["headers"]["task"] for m in queued] == ["fleet.tasks.send_alert_emails"]
    assert HourlyCodeStat.objects.filter(code=DENIED).count() == 4

    assert send_alert_emails() == {"sent": 1, "failed": 0}
    assert AlertDelivery.objects.get().state == "sent"
    assert len(smtp_server.messages()) == 1


def test_pipeline_task_sends_in_process_when_the_broker_is_down(stream, smtp_server, dead_broker):
    result = run_pipeline()
    assert (result["emails_queued"], result["emails_sent"]) == (1, 1)
    assert AlertDelivery.objects.get().state == "sent"
    assert len(smtp_server.messages()) == 1


def test_demo_fleet_storms_show_up_in_the_triage_queue(db, client):
    """`seed_demo` then `run_pipeline`: the recurring 0x8024000B storms are flagged."""
    call_command("seed_demo", stdout=StringIO())
    call_command("run_pipeline", stdout=StringIO())

    assert not pending_occurrences().exists()
    storm_tenants = set(
        TriageFlag.objects.filter(code=CANCELLED).values_list("tenant__slug", flat=True)
    )
    assert {"contoso-health", "fabrikam-legal", "northwind-retail"} <= storm_tenants

    client.force_login(UserFactory(username="admin", is_superuser=True, is_staff=True))
    html = client.get("/triage/?code=0x8024000B").content.decode()
    assert html.count('href="/codes/0x8024000B/"') == len(storm_tenants)
    # Today's storms are the busiest flags, so they head the unfiltered queue.
    queue = client.get("/triage/").context["flags"]
    assert [flag.code for flag in queue[:3]] == [CANCELLED] * 3
