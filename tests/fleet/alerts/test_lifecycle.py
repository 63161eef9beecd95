"""Alerts that fire, re-send and resolve, on every channel, received by real servers on
loopback: the webhook receiver, Teams/Slack receivers, the fake PSA and aiosmtpd."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
from datetime import UTC, datetime, time, timedelta

import numpy as np
import pytest
from django.core.management import call_command
from django.test import Client

from codes.models import ErrorCode
from fleet.alerts.channels import deliver_channels
from fleet.alerts.models import AlertChannel, AlertDelivery, AlertFiring, AlertRule, AlertTicket
from fleet.alerts.rules import ChannelSpec, chat_spec, save_rule, send_test
from fleet.ingest.keys import create_ingest_key
from fleet.pipeline import run_round
from fleet.triage.flags import change_state
from fleet.triage.models import TriageFlag
from tests.factories import DeviceFactory, TenantFactory, UserFactory, alert_rule, emit
from tests.fleet.psa_server import CW, CW_CLIENT_ID

pytestmark = pytest.mark.django_db
CODE = 0x8024000B
SECRET = "a-signing-secret"
NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def catalog(db):
    ErrorCode.objects.create(value=CODE, name="WU_E_CALL_CANCELLED", severity="warning")


def signed(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook(rule: AlertRule, url: str) -> AlertChannel:
    channel = AlertChannel(rule=rule, kind=AlertChannel.Kind.WEBHOOK, url=url)
    channel.set_secret(SECRET)
    channel.save()
    return channel


def events(receiver) -> list[str]:
    return [json.loads(r.body)["event"] for r in receiver.requests if r.status < 300]


def pipeline() -> str:
    out = io.StringIO()
    call_command("run_pipeline", stdout=out)
    return out.getvalue()


# --- must show: a spike through the ingest API, one alert.fired, one alert.resolved ---------


def _post(key: str, items: list[dict]) -> None:
    response = Client().post(
        "/api/v1/occurrences",
        data=json.dumps(items),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 202, response.content


def _items(prefix: str, times: list[datetime], devices: int) -> list[dict]:
    return [
        {
            "device": {"hostname": f"{prefix}-{i % devices:03d}"},
            "code": f"0x{CODE:08X}",
            "occurred_at": when.isoformat(),
            "source": "agent",
            "event_id": f"{prefix}-{i}",
        }
        for i, when in enumerate(times)
    ]


@pytest.mark.usefixtures("dead_broker")
def test_a_spike_through_the_api_posts_one_signed_fired_and_one_resolved(webhook_receiver, now):
    tenant = TenantFactory(slug="jumping", name="Jumping Ltd")
    rule = alert_rule(name="Spikes anywhere", trigger=AlertRule.Trigger.SPIKE)
    webhook(rule, webhook_receiver.url)
    rng = np.random.default_rng(15)
    steady = [
        now - timedelta(hours=back, minutes=int(rng.integers(0, 60)))
        for back in range(3, 28 * 24)
        for _ in range(int(rng.poisson(1.0)))
    ]
    _, key = create_ingest_key(tenant, "agents")
    _post(key, _items("pc", steady, devices=20))
    last = [now - timedelta(minutes=15 + 60 * h) for h in range(3)]
    _post(key, _items("storm", [w - timedelta(minutes=m) for w in last for m in range(10)], 25))

    pipeline()

    [request] = webhook_receiver.requests
    assert request.headers["X-Fleet-Event"] == "alert.fired"
    assert hmac.compare_digest(request.headers["X-Fleet-Signature"], signed(request.body))
    payload = json.loads(request.body)
    flag = TriageFlag.objects.get(tenant=tenant, code=CODE)
    assert flag.kind == TriageFlag.Kind.SPIKE
    assert (payload["kind"], payload["tenant"], payload["code"]) == (
        "spike",
        "jumping",
        "0x8024000B",
    )
    assert payload["url"].endswith(f"/triage/{flag.pk}/")
    assert payload["devices"] >= 25 and payload["reason"] == flag.reason

    pipeline()
    assert len(webhook_receiver.requests) == 1  # nothing more while it holds

    change_state(flag, "resolve", user=None, note="fixed the proxy")
    pipeline()
    assert events(webhook_receiver) == ["alert.fired", "alert.resolved"]
    resolved = webhook_receiver.requests[1]
    assert hmac.compare_digest(resolved.headers["X-Fleet-Signature"], signed(resolved.body))
    body = json.loads(resolved.body)
    assert body["alert_id"] == payload["alert_id"]
    assert (body["state"], body["resolve_reason"]) == ("resolved", "its triage flag was resolved")
    pipeline()
    assert len(webhook_receiver.requests) == 2


# --- must show: a receiver failing three times, then recovering ------------------------------


def test_a_receiver_failing_three_times_gets_exactly_one_delivery(tenant, webhook_receiver):
    rule = alert_rule(tenant, name="Storm", code=CODE, min_occurrences=3, window_hours=1)
    webhook(rule, webhook_receiver.url)
    emit(DeviceFactory(tenant=tenant), CODE, [NOW - timedelta(minutes=m) for m in range(4)])
    webhook_receiver.fail_times = 3

    moments = [NOW + timedelta(minutes=m) for m in (0, 2, 5, 10, 30, 60)]
    for moment in moments:
        run_round(moment)

    statuses = [r.status for r in webhook_receiver.requests]
    assert statuses == [500, 500, 500, 200]
    delivery = AlertDelivery.objects.get(channel__isnull=False)
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("sent", 4, "")
    assert len({r.body for r in webhook_receiver.requests}) == 1  # the same body each time
    assert AlertFiring.objects.count() == 1


# --- fire, re-send, resolve ----------------------------------------------------------------


def test_a_threshold_alert_resends_after_cooldown_and_resolves_when_it_clears(
    tenant, webhook_receiver, smtp_server
):
    rule = alert_rule(
        tenant,
        name="Storm",
        code=CODE,
        min_occurrences=3,
        window_hours=1,
        cooldown_minutes=30,
        recipients="noc@example.test",
    )
    webhook(rule, webhook_receiver.url)
    device = DeviceFactory(tenant=tenant)
    emit(device, CODE, [NOW - timedelta(minutes=m) for m in range(4)])
    run_round(NOW)
    emit(device, CODE, [NOW + timedelta(minutes=30 + m) for m in range(4)])
    run_round(NOW + timedelta(minutes=40))  # still holding, cooldown over: re-sent
    run_round(NOW + timedelta(hours=3))  # the window is empty: resolved
    run_round(NOW + timedelta(hours=4))

    assert events(webhook_receiver) == ["alert.fired", "alert.fired", "alert.resolved"]
    bodies = [json.loads(r.body) for r in webhook_receiver.requests]
    assert len({b["alert_id"] for b in bodies}) == 1
    assert [b["notification"] for b in bodies] == [1, 2, 2]
    assert bodies[2]["resolve_reason"] == "back under the rule (3+ occurrences in 1 h)"
    alert = AlertFiring.objects.get()
    assert (alert.notifications, alert.resolved_at) == (2, NOW + timedelta(hours=3))
    subjects = [m.subject for m in smtp_server.wait_for(3)]
    assert subjects[2].startswith("[Fleet errors] Resolved: Acme Corp: 0x8024000B")


def test_the_storm_coming_back_after_resolving_is_a_new_alert(tenant, webhook_receiver):
    rule = alert_rule(tenant, name="Storm", code=CODE, min_occurrences=3, window_hours=1)
    webhook(rule, webhook_receiver.url)
    device = DeviceFactory(tenant=tenant)
    emit(device, CODE, [NOW - timedelta(minutes=m) for m in range(4)])
    run_round(NOW)
    run_round(NOW + timedelta(hours=3))
    later = NOW + timedelta(hours=10)
    emit(device, CODE, [later - timedelta(minutes=m) for m in range(4)])
    run_round(later)

    assert events(webhook_receiver) == ["alert.fired", "alert.resolved", "alert.fired"]
    assert AlertFiring.objects.filter(resolved_at__isnull=True).count() == 1
    assert AlertFiring.objects.count() == 2


def test_pausing_or_deleting_a_rule_resolves_its_open_alerts(tenant, webhook_receiver):
    paused = alert_rule(tenant, name="Paused", code=CODE, min_occurrences=3, window_hours=2)
    deleted = alert_rule(tenant, name="Deleted", code=CODE, min_occurrences=3, window_hours=2)
    for rule in (paused, deleted):
        webhook(rule, webhook_receiver.url)
    emit(DeviceFactory(tenant=tenant), CODE, [NOW - timedelta(minutes=m) for m in range(4)])
    run_round(NOW)
    AlertRule.objects.filter(pk=paused.pk).update(enabled=False)
    AlertRule.objects.filter(pk=deleted.pk).update(deleted_at=NOW)
    run_round(NOW + timedelta(minutes=1))

    reasons = sorted(
        json.loads(r.body)["resolve_reason"]
        for r in webhook_receiver.requests
        if json.loads(r.body)["event"] == "alert.resolved"
    )
    assert reasons == ["the rule was deleted", "the rule was paused"]


def test_quiet_hours_hold_an_alert_until_they_end_in_the_tenants_time_zone(
    tenant, webhook_receiver
):
    tenant.time_zone = "Europe/Paris"  # UTC+1 in winter
    tenant.save()
    rule = alert_rule(
        tenant,
        name="Night storm",
        code=CODE,
        min_occurrences=3,
        window_hours=12,
        quiet_from=time(22, 0),
        quiet_until=time(7, 0),
    )
    webhook(rule, webhook_receiver.url)
    night = datetime(2026, 11, 20, 22, 30, tzinfo=UTC)  # 23:30 in Paris
    emit(DeviceFactory(tenant=tenant), CODE, [night - timedelta(minutes=m) for m in range(4)])
    run_round(night)
    run_round(datetime(2026, 11, 21, 5, 50, tzinfo=UTC))  # 06:50 in Paris
    assert webhook_receiver.requests == []
    assert not AlertFiring.objects.exists()

    run_round(datetime(2026, 11, 21, 6, 5, tzinfo=UTC))  # 07:05 in Paris
    assert events(webhook_receiver) == ["alert.fired"]


def test_a_resolved_or_muted_flag_stops_a_threshold_rule_firing(tenant, webhook_receiver):
    rule = alert_rule(tenant, name="Storm", code=CODE, min_occurrences=3, window_hours=24)
    webhook(rule, webhook_receiver.url)
    emit(DeviceFactory(tenant=tenant), CODE, [NOW - timedelta(minutes=m) for m in range(6)])
    run_round(NOW)
    flag = TriageFlag.objects.get(tenant=tenant, code=CODE)
    change_state(flag, "resolve", user=None, note="")
    run_round(NOW + timedelta(minutes=1))
    AlertRule.objects.filter(pk=rule.pk).update(cooldown_minutes=1)
    run_round(NOW + timedelta(minutes=10))  # the counts still hold, the flag is handled

    assert events(webhook_receiver) == ["alert.fired", "alert.resolved"]
    assert json.loads(webhook_receiver.requests[1].body)["resolve_reason"] == (
        "its triage flag was resolved"
    )


# --- Teams, Slack, PSA tickets through the pipeline ---------------------------------------


def test_teams_and_slack_get_their_own_bodies_and_the_url_stays_secret(tenant, chat_receiver):
    user = UserFactory(is_superuser=True)
    rule = AlertRule(name="Chat", code=CODE, min_occurrences=3, window_hours=1)
    save_rule(
        user,
        rule,
        [tenant.slug],
        [
            chat_spec("teams", chat_receiver.url + "?sig=teams-token"),
            chat_spec("slack", chat_receiver.url + "/T000/B000/slack-token"),
        ],
    )
    stored = list(AlertChannel.objects.values_list("url", "secret_encrypted"))
    for url, secret in stored:
        assert "token" not in url and "token" not in secret
    emit(DeviceFactory(tenant=tenant), CODE, [NOW - timedelta(minutes=m) for m in range(4)])
    run_round(NOW)

    by_path = {r.path: json.loads(r.body) for r in chat_receiver.requests}
    teams = next(b for p, b in by_path.items() if "teams-token" in p)
    slack = next(b for p, b in by_path.items() if "slack-token" in p)
    card = teams["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert "0x8024000B" in json.dumps(card["content"])
    assert "0x8024000B" in slack["text"] and slack["blocks"]
    assert AlertDelivery.objects.filter(state="sent", channel__isnull=False).count() == 2


def test_a_connectwise_ticket_is_created_noted_and_closed(tenant, psa_server):
    user = UserFactory(is_superuser=True)
    rule = AlertRule(
        name="Tickets", code=CODE, min_occurrences=3, window_hours=1, cooldown_minutes=30
    )
    config = {
        "company_id": CW["company_id"],
        "public_key": CW["public_key"],
        "client_id": CW_CLIENT_ID,
        "companies": {tenant.slug: "AcmeCorp"},
        "board": "Alerts",
    }
    spec = ChannelSpec(
        type="connectwise", url=psa_server.connectwise_url, secret=CW["private_key"], config=config
    )
    save_rule(user, rule, [tenant.slug], [spec])
    device = DeviceFactory(tenant=tenant)
    emit(device, CODE, [NOW - timedelta(minutes=m) for m in range(4)])
    psa_server.fail(503)  # the first create fails: retried, one ticket in the end
    run_round(NOW)
    run_round(NOW + timedelta(minutes=2))
    emit(device, CODE, [NOW + timedelta(minutes=35 + m) for m in range(4)])
    run_round(NOW + timedelta(minutes=40))
    run_round(NOW + timedelta(hours=3))

    [ticket] = psa_server.cw_tickets.values()
    assert ticket["company"] == {"identifier": "AcmeCorp"}
    assert ticket["board"] == {"name": "Alerts"}
    record = AlertTicket.objects.get()
    assert record.closed_at == NOW + timedelta(hours=3)
    notes = psa_server.cw_notes
    assert len(notes) >= 2  # the re-fire note and the closing note
    assert ticket["status"]["name"] == "Closed"
    assert not AlertDelivery.objects.exclude(state="sent").exists()


def test_a_psa_close_waits_for_its_ticket_rather_than_opening_another(tenant, psa_server):
    user = UserFactory(is_superuser=True)
    rule = AlertRule(name="Tickets", code=CODE, min_occurrences=3, window_hours=1)
    config = {
        "company_id": CW["company_id"],
        "public_key": CW["public_key"],
        "client_id": CW_CLIENT_ID,
        "default_company": "AcmeCorp",
    }
    spec = ChannelSpec(
        type="connectwise", url=psa_server.connectwise_url, secret=CW["private_key"], config=config
    )
    save_rule(user, rule, [tenant.slug], [spec])
    emit(DeviceFactory(tenant=tenant), CODE, [NOW - timedelta(minutes=m) for m in range(4)])
    psa_server.fail(500, times=3)
    run_round(NOW)  # create fails
    run_round(NOW + timedelta(hours=3))  # resolved; the create is still backing off
    assert AlertDelivery.objects.filter(event="alert.resolved", state="pending").exists()
    deliver_channels(NOW + timedelta(hours=5))
    deliver_channels(NOW + timedelta(hours=7))

    assert len(psa_server.cw_tickets) == 1
    assert AlertTicket.objects.get().closed_at is not None


# --- test notifications --------------------------------------------------------------------


def test_send_a_test_notification_posts_a_signed_alert_test(tenant, webhook_receiver):
    user = UserFactory()
    tenant.operators.add(user)
    rule = alert_rule(tenant, name="Storm", code=CODE, min_occurrences=3)
    webhook(rule, webhook_receiver.url)

    [delivery] = send_test(user, rule, NOW)

    assert delivery.state == "sent"
    [request] = webhook_receiver.requests
    assert request.headers["X-Fleet-Event"] == "alert.test"
    assert hmac.compare_digest(request.headers["X-Fleet-Signature"], signed(request.body))
    body = json.loads(request.body)
    assert (body["event"], body["alert_id"], body["tenant"]) == ("alert.test", None, "acme")
    assert not AlertFiring.objects.exists()
