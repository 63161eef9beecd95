"""Alert rules and their emails, received by a real SMTP server (tests/fleet/smtp.py)."""

from datetime import UTC, datetime, timedelta

import pytest

from codes.models import CodeFamily, ErrorCode
from fleet.aggregate import aggregate_pending
from fleet.alerts.email import deliver_pending
from fleet.alerts.firing import evaluate_alerts, rule_matches
from fleet.alerts.models import AlertDelivery, AlertFiring, AlertRule
from fleet.pipeline import run_round
from fleet.triage.models import TriageFlag
from tests.factories import DeviceFactory, TenantFactory, alert_rule, emit
from tests.threads import run_at_once

NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
CANCELLED = 0x8024000B
DENIED = 0x80070005


@pytest.fixture
def catalog(db):
    wu = CodeFamily.objects.create(slug="wu", name="Windows Update", default_severity="warning")
    win32 = CodeFamily.objects.create(slug="win32", name="Win32", default_severity="error")
    ErrorCode.objects.create(
        value=CANCELLED, name="WU_E_CALL_CANCELLED", severity="warning", family=wu
    )
    ErrorCode.objects.create(value=DENIED, name="E_ACCESSDENIED", severity="error", family=win32)
    return {"wu": wu, "win32": win32}


def rule(**fields) -> AlertRule:
    defaults = {
        "name": "Cancelled storm",
        "code": CANCELLED,
        "min_occurrences": 5,
        "window_hours": 1,
        "recipients": "noc@example.test",
        "cooldown_minutes": 60,
    }
    if "min_devices" in fields:  # a rule by devices counts devices only
        del defaults["min_occurrences"]
    return alert_rule(**(defaults | fields))


def test_threshold_crossing_sends_exactly_one_email_and_none_within_the_cooldown(
    tenant, catalog, smtp_server
):
    rule(tenant=tenant)
    device = DeviceFactory(tenant=tenant)
    emit(device, CANCELLED, [NOW - timedelta(minutes=m) for m in (5, 10, 15, 20)])
    run_round(NOW)
    assert smtp_server.messages() == []  # 4 is not more than 4

    emit(device, CANCELLED, [NOW - timedelta(minutes=1)])
    run_round(NOW)
    emit(device, CANCELLED, [NOW + timedelta(minutes=10)])
    run_round(NOW + timedelta(minutes=15))
    run_round(NOW + timedelta(minutes=59))

    [email] = smtp_server.messages()
    assert email.recipients == ["noc@example.test"]
    assert email.subject == (
        "[Fleet errors] Acme Corp: 0x8024000B WU_E_CALL_CANCELLED, 5 occurrences on 1 device in 1 h"
    )
    # Four on one device in a week: triage flagged it before the alert was evaluated.
    flag_url = f"https://fleet.example.test/triage/{TriageFlag.objects.get().pk}/"
    knowledge_url = "https://fleet.example.test/codes/0x8024000B/"
    for subtype in ("plain", "html"):
        body = email.body(subtype)
        assert knowledge_url in body
        assert flag_url in body
        assert "Acme Corp" in body
    assert AlertFiring.objects.count() == 1
    assert AlertDelivery.objects.get().state == AlertDelivery.State.SENT


def test_the_rule_fires_again_once_the_cooldown_has_passed(tenant, catalog, smtp_server):
    rule(tenant=tenant, cooldown_minutes=60)
    device = DeviceFactory(tenant=tenant)
    emit(device, CANCELLED, [NOW - timedelta(minutes=m) for m in range(5)])
    run_round(NOW)
    emit(device, CANCELLED, [NOW + timedelta(minutes=61 - m) for m in range(5)])
    run_round(NOW + timedelta(minutes=61))

    assert len(smtp_server.wait_for(2)) == 2


def test_email_links_to_the_queue_when_triage_has_no_flag(tenant, catalog, smtp_server):
    ErrorCode.objects.filter(value=CANCELLED).update(severity="informational")  # no triage rule
    rule(tenant=tenant, min_devices=5, window_hours=24)
    for _ in range(5):
        emit(DeviceFactory(tenant=tenant), CANCELLED, [NOW - timedelta(hours=2)])
    run_round(NOW)

    assert not TriageFlag.objects.exists()
    [email] = smtp_server.messages()
    assert "5 occurrences on 5 devices in 24 h" in email.subject
    queue_url = "https://fleet.example.test/triage/?state=all&code=0x8024000B"
    assert queue_url in email.body("plain")
    assert 'href="https://fleet.example.test/triage/?state=all&amp;code=0x8024000B"' in email.body(
        "html"
    )


def test_rules_firing_together_for_the_same_recipients_go_out_as_one_digest(
    tenant, other_tenant, catalog, smtp_server
):
    rule(name="Cancelled at Acme", tenant=tenant, recipients="noc@example.test, lead@example.test")
    rule(
        name="Access denied anywhere",
        code=None,
        family=catalog["win32"],
        min_occurrences=3,
        recipients="noc@example.test\nlead@example.test",
    )
    emit(DeviceFactory(tenant=tenant), CANCELLED, [NOW - timedelta(minutes=m) for m in range(6)])
    emit(DeviceFactory(tenant=other_tenant), DENIED, [NOW - timedelta(minutes=m) for m in range(3)])

    run_round(NOW)

    emails = smtp_server.messages()
    assert sorted(e.recipients[0] for e in emails) == ["lead@example.test", "noc@example.test"]
    for email in emails:
        assert email.subject == (
            "[Fleet errors] 2 alerts: Acme Corp 0x8024000B WU_E_CALL_CANCELLED "
            "(6 occurrences, 1 device); Globex 0x80070005 E_ACCESSDENIED (3 occurrences, 1 device)"
        )
        text = email.body("plain")
        assert "Cancelled at Acme" in text and "Access denied anywhere" in text
        assert "https://fleet.example.test/codes/0x80070005/" in email.body("html")


def test_separate_recipients_get_separate_emails(tenant, catalog, smtp_server):
    rule(name="A", tenant=tenant, recipients="a@example.test")
    rule(name="B", tenant=tenant, recipients="b@example.test")
    emit(DeviceFactory(tenant=tenant), CANCELLED, [NOW - timedelta(minutes=m) for m in range(6)])
    run_round(NOW)
    emails = smtp_server.messages()
    assert sorted(e.recipients for e in emails) == [["a@example.test"], ["b@example.test"]]
    assert all(e.subject.startswith("[Fleet errors] Acme Corp: 0x8024000B") for e in emails)


def test_smtp_down_keeps_the_email_and_sends_it_once_when_back(tenant, catalog, smtp_server):
    rule(tenant=tenant)
    emit(DeviceFactory(tenant=tenant), CANCELLED, [NOW - timedelta(minutes=m) for m in range(6)])
    smtp_server.stop()

    result = run_round(NOW)

    assert (len(result.alerts.fired), result.delivery.sent, result.delivery.failed) == (1, 0, 1)
    delivery = AlertDelivery.objects.get()
    assert (delivery.state, delivery.attempts) == ("pending", 1)
    assert "Connection refused" in delivery.last_error or "Errno" in delivery.last_error
    assert delivery.next_attempt_at == NOW + timedelta(minutes=1)

    smtp_server.start()
    assert run_round(NOW + timedelta(seconds=30)).delivery.sent == 0  # backing off
    assert run_round(NOW + timedelta(minutes=2)).delivery.sent == 1
    assert run_round(NOW + timedelta(minutes=3)).delivery.sent == 0

    [email] = smtp_server.messages()
    assert "0x8024000B" in email.subject
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.sent_at) == (
        "sent",
        2,
        NOW + timedelta(minutes=2),
    )
    assert AlertFiring.objects.count() == 1  # the cooldown held while the email waited


def test_a_sent_delivery_is_never_claimed_again(tenant, catalog, smtp_server):
    rule(tenant=tenant)
    emit(DeviceFactory(tenant=tenant), CANCELLED, [NOW - timedelta(minutes=m) for m in range(6)])
    run_round(NOW)
    # Even a far-future round with a stale-claim sweep finds nothing to send.
    assert deliver_pending(NOW + timedelta(days=1)).sent == 0
    assert len(smtp_server.messages()) == 1


def test_rule_for_all_tenants_counts_each_tenant_separately(tenant, other_tenant, catalog):
    all_tenants = rule(tenant=None, min_occurrences=4)
    emit(DeviceFactory(tenant=tenant), CANCELLED, [NOW - timedelta(minutes=m) for m in range(4)])
    emit(DeviceFactory(tenant=other_tenant), CANCELLED, [NOW - timedelta(minutes=1)] * 3)
    aggregate_pending()

    matches = rule_matches(all_tenants, NOW)

    assert [(m.tenant_id, m.code, m.occurrences, m.devices) for m in matches] == [
        (tenant.pk, CANCELLED, 4, 1)
    ]


def test_rule_by_severity_and_by_devices(tenant, catalog):
    by_severity = rule(code=None, severity="error", min_devices=2)
    for _ in range(2):
        device = DeviceFactory(tenant=tenant)
        emit(device, CANCELLED, [NOW - timedelta(minutes=5)])
        emit(device, DENIED, [NOW - timedelta(minutes=5)])
    aggregate_pending()

    assert [(m.code, m.devices) for m in rule_matches(by_severity, NOW)] == [(DENIED, 2)]


def test_occurrences_outside_the_window_do_not_count(tenant, catalog):
    r = rule(tenant=tenant, min_occurrences=3, window_hours=1)
    device = DeviceFactory(tenant=tenant)
    emit(device, CANCELLED, [NOW - timedelta(hours=3)] * 5 + [NOW - timedelta(minutes=5)] * 2)
    aggregate_pending()
    assert rule_matches(r, NOW) == []


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_evaluations_send_one_email(catalog, smtp_server):
    tenant = TenantFactory(slug="acme", name="Acme Corp")
    rule(tenant=tenant)
    emit(DeviceFactory(tenant=tenant), CANCELLED, [NOW - timedelta(minutes=m) for m in range(6)])
    aggregate_pending()

    def worker() -> None:
        evaluate_alerts(NOW)
        deliver_pending(NOW)

    errors = run_at_once(*[worker] * 4, timeout=60).errors

    assert errors == []
    assert AlertFiring.objects.count() == 1
    assert AlertDelivery.objects.get().state == "sent"
    assert len(smtp_server.messages()) == 1
