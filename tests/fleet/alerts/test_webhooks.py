"""Signed webhook deliveries, received by a real HTTP server on loopback
(tests/fleet/receiver.py)."""

import hashlib
import hmac
import json
from datetime import timedelta
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from codes.models import ErrorCode
from fleet.alerts.channels import deliver_channels
from fleet.alerts.models import AlertChannel, AlertDelivery, AlertFiring, AlertRule
from fleet.alerts.tasks import send_alert_emails
from fleet.pipeline import run_round
from fleet.tasks import run_pipeline as pipeline_task
from fleet.triage.models import TriageFlag
from tests.factories import DeviceFactory, alert_rule, emit

CANCELLED = 0x8024000B
SECRET = "s3cret-that-signs-every-post"


@pytest.fixture
def storm(tenant):
    """Seven devices failing with 0x8024000B in the last quarter hour, and a rule over 5."""
    ErrorCode.objects.create(value=CANCELLED, name="WU_E_CALL_CANCELLED", severity="warning")
    now = timezone.now()
    for n in range(7):
        emit(DeviceFactory(tenant=tenant), CANCELLED, [now - timedelta(minutes=5 + n)] * 2)
    return alert_rule(
        name="Update storm",
        min_devices=6,
        window_hours=24,
        recipients="noc@example.test",
    )


def channel(rule: AlertRule, url: str, secret: str = SECRET) -> AlertChannel:
    made = AlertChannel(rule=rule, url=url)
    made.set_secret(secret)
    made.save()
    return made


def run_pipeline() -> str:
    out = StringIO()
    call_command("run_pipeline", stdout=out)
    return out.getvalue()


def expected_signature(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_a_storm_posts_one_signed_alert_fired_and_a_second_round_nothing(
    storm, tenant, webhook_receiver, smtp_server
):
    channel(storm, webhook_receiver.url)
    output = run_pipeline()

    assert "channels: 1 queued, 1 sent, 0 failed" in output
    [request] = webhook_receiver.requests
    assert (request.method, request.path) == ("POST", "/hooks/fleet")
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Fleet-Event"] == "alert.fired"
    signed = request.headers["X-Fleet-Signature"]
    assert hmac.compare_digest(signed, expected_signature(request.body))
    assert request.headers["X-Fleet-Signature"] != expected_signature(request.body, "other")

    payload = json.loads(request.body)
    firing = AlertFiring.objects.get()
    flag = TriageFlag.objects.get(tenant=tenant, code=CANCELLED)
    assert payload == {
        "event": "alert.fired",
        "alert_id": firing.pk,
        "rule": "Update storm",
        "rule_id": storm.pk,
        "state": "firing",
        "trigger": "threshold",
        "tenant": "acme",
        "tenant_name": "Acme Corp",
        "code": "0x8024000B",
        "name": "WU_E_CALL_CANCELLED",
        "kind": "threshold",
        "occurrences": 14,
        "devices": 7,
        "window_hours": 24,
        "reason": "14 occurrences on 7 devices in 24 h: 6+ devices in 24 h",
        "url": f"{settings.SITE_URL}/triage/{flag.pk}/",
        "knowledge_url": f"{settings.SITE_URL}/codes/0x8024000B/",
        "fired_at": firing.fired_at.isoformat(),
        "notification": 1,
        "resolved_at": None,
        "resolve_reason": "",
    }
    assert payload["reason"]
    delivery = AlertDelivery.objects.get(channel__isnull=False)
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("sent", 1, "")
    assert len(smtp_server.messages()) == 1  # the email digest is still sent beside it

    output = run_pipeline()
    assert "channels:" not in output
    assert len(webhook_receiver.requests) == 1
    assert deliver_channels(timezone.now() + timedelta(days=1)).sent == 0
    assert len(webhook_receiver.requests) == 1


def test_each_enabled_channel_gets_its_own_post_signed_with_its_own_secret(
    storm, webhook_receiver, smtp_server
):
    channel(storm, webhook_receiver.url + "?a", "first")
    channel(storm, webhook_receiver.url + "?b", "second")
    AlertChannel.objects.create(rule=storm, url=webhook_receiver.url + "?off", enabled=False)
    run_pipeline()

    by_path = {r.path: r for r in webhook_receiver.requests}
    assert sorted(by_path) == ["/hooks/fleet?a", "/hooks/fleet?b"]
    a, b = by_path["/hooks/fleet?a"], by_path["/hooks/fleet?b"]
    assert a.headers["X-Fleet-Signature"] == expected_signature(a.body, "first")
    assert b.headers["X-Fleet-Signature"] == expected_signature(b.body, "second")


def test_a_failing_receiver_is_retried_with_back_off_until_one_success(
    storm, webhook_receiver, smtp_server
):
    webhook_receiver.fail_times = 3
    channel(storm, webhook_receiver.url)
    now = timezone.now()
    assert "channels: 1 queued, 0 sent, 1 failed" in run_pipeline()

    delivery = AlertDelivery.objects.get(channel__isnull=False)
    assert (delivery.state, delivery.attempts) == ("pending", 1)
    assert delivery.last_error == "ReceiverError: HTTP 500 Internal Server Error"
    assert delivery.next_attempt_at > now
    # Not due yet: the back-off holds the retry.
    assert deliver_channels(now).failed == 0
    assert len(webhook_receiver.requests) == 1

    results = [deliver_channels(now + timedelta(hours=h)) for h in (1, 2, 3, 4, 5)]
    assert [(r.sent, r.failed) for r in results] == [(0, 1), (0, 1), (1, 0), (0, 0), (0, 0)]

    assert [r.status for r in webhook_receiver.requests] == [500, 500, 500, 200]
    assert len({r.body for r in webhook_receiver.requests}) == 1  # the same alert each time
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("sent", 4, "")
    assert delivery.sent_at == now + timedelta(hours=3)
    assert AlertDelivery.objects.filter(channel__isnull=False).count() == 1


def test_a_refused_connection_is_recorded_as_the_last_error(storm, refused_url, smtp_server):
    channel(storm, refused_url)
    assert "channels: 1 queued, 0 sent, 1 failed" in run_pipeline()

    delivery = AlertDelivery.objects.get(channel__isnull=False)
    assert delivery.state == "pending"
    assert delivery.attempts == 1
    assert "Connection refused" in delivery.last_error
    assert delivery.last_error.startswith("URLError")


def test_the_secret_is_not_stored_in_plaintext(storm):
    made = channel(storm, "https://hooks.example.test/fleet")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM fleet_alertchannel WHERE id = %s", [made.pk])
        row = cursor.fetchone()
        cursor.execute("SELECT secret_encrypted FROM fleet_alertchannel WHERE id = %s", [made.pk])
        [stored] = cursor.fetchone()
    assert all(SECRET not in str(value) for value in row)
    assert stored and stored != SECRET
    assert AlertChannel.objects.get(pk=made.pk).secret == SECRET


def test_admin_takes_the_secret_once_and_never_shows_it(admin_client, storm):
    url = f"/admin/fleet/alertrule/{storm.pk}/change/"
    page = admin_client.get(url)
    form = {
        key: value
        for key, value in page.context["adminform"].form.initial.items()
        if value is not None
    }
    data = {
        "name": storm.name,
        "enabled": "on",
        "all_tenants": "on",
        "trigger": storm.trigger,
        "min_devices": storm.min_devices,
        "window_hours": storm.window_hours,
        "recipients": storm.recipients,
        "cooldown_minutes": storm.cooldown_minutes,
        "channels-TOTAL_FORMS": "1",
        "channels-INITIAL_FORMS": "0",
        "channels-0-kind": "webhook",
        "channels-0-url": "https://hooks.example.test/fleet",
        "channels-0-secret": SECRET,
        "channels-0-enabled": "on",
    }
    assert form["name"] == storm.name
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    made = AlertChannel.objects.get()
    assert made.secret == SECRET

    page = admin_client.get(url)
    assert SECRET not in page.content.decode()
    assert made.secret_encrypted not in page.content.decode()

    data |= {"channels-INITIAL_FORMS": "1", "channels-0-id": str(made.pk), "channels-0-secret": ""}
    data["channels-0-rule"] = str(storm.pk)
    assert admin_client.post(url, data).status_code == 302
    assert AlertChannel.objects.get().secret == SECRET  # empty keeps the stored secret


def test_the_alerts_page_shows_the_webhook_delivery_and_its_error(
    storm, refused_url, smtp_server, logged_in
):
    channel(storm, refused_url)
    run_pipeline()

    page = logged_in.get("/alerts/").content.decode()
    assert f"webhook {refused_url}" in page
    assert "Connection refused" in page


def test_the_pipeline_task_posts_in_process_when_the_broker_is_down(
    storm, webhook_receiver, smtp_server, dead_broker
):
    channel(storm, webhook_receiver.url)
    assert pipeline_task()["alerts_fired"] == 1
    assert [r.status for r in webhook_receiver.requests] == [200]
    assert AlertDelivery.objects.get(channel__isnull=False).state == "sent"


def test_the_send_task_counts_webhook_posts_with_the_emails(storm, webhook_receiver, smtp_server):
    channel(storm, webhook_receiver.url)
    run_round(deliver=False)
    assert webhook_receiver.requests == []
    assert send_alert_emails() == {"sent": 2, "failed": 0}
    assert len(webhook_receiver.requests) == 1
    assert send_alert_emails() == {"sent": 0, "failed": 0}


def test_a_secret_unreadable_after_a_key_change_fails_the_delivery_and_posts_nothing(
    storm, webhook_receiver, smtp_server, settings
):
    channel(storm, webhook_receiver.url)
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    run_pipeline()

    delivery = AlertDelivery.objects.get(channel__isnull=False)
    assert delivery.state == "pending"
    assert delivery.last_error.startswith("SecretUnreadable")
    assert webhook_receiver.requests == []
