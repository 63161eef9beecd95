"""Scheduled reports mailed to a real SMTP server (aiosmtpd, tests/fleet/smtp.py)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from pypdf import PdfReader

from fleet.reports import deliveries
from fleet.reports.deliveries import deliver_due, queue_due
from fleet.reports.models import ReportDelivery, ReportSchedule
from fleet.reports.periods import last_full
from fleet.reports.tasks import send_due_reports
from tests.tools import CHROMIUM

FAKE_PDF = b"%PDF-1.4 test"


@pytest.fixture
def schedule(fleet) -> ReportSchedule:
    return ReportSchedule.objects.create(
        tenant=fleet.tenant, recipients="ceo@acme.test, it@acme.test"
    )


@pytest.fixture
def fake_pdf(monkeypatch):
    """Chromium's part is tested once below; the rest of the delivery needs no real PDF."""
    monkeypatch.setattr(deliveries, "html_to_pdf", lambda html: FAKE_PDF)


@pytest.mark.integration
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no {CHROMIUM}")
def test_a_scheduled_report_is_mailed_once_with_its_pdf(schedule, fleet, smtp_server):
    assert send_due_reports() == {"queued": 1, "sent": 1, "failed": 0}
    [email] = smtp_server.wait_for(1)
    assert sorted(email.recipients) == ["ceo@acme.test", "it@acme.test"]
    assert email.subject == f"Acme Corp: Windows error report, {fleet.period.label}"
    assert "The full report is attached as a PDF." in email.body("plain")
    [attachment] = list(email.message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"report-acme-{fleet.period.key}.pdf"
    reader = PdfReader(io.BytesIO(attachment.get_content()))
    assert len(reader.pages) >= 2
    assert "Operation was cancelled" in "".join(p.extract_text() for p in reader.pages)

    # Beat asks again (and again): the period was sent, nothing more goes out.
    assert send_due_reports() == {"queued": 0, "sent": 0, "failed": 0}
    assert deliver_due().sent == 0
    assert len(smtp_server.messages()) == 1
    delivery = ReportDelivery.objects.get()
    assert (delivery.state, delivery.period, delivery.attempts) == ("sent", fleet.period.key, 1)
    schedule.refresh_from_db()
    assert schedule.last_sent_period == fleet.period.key


def test_smtp_down_backs_off_then_sends_once(schedule, fleet, smtp_server, fake_pdf, now):
    smtp_server.stop()
    result = deliver_due(now)
    assert (result.queued, result.sent, result.failed) == (1, 0, 1)
    delivery = ReportDelivery.objects.get()
    assert (delivery.state, delivery.attempts) == ("pending", 1)
    assert delivery.next_attempt_at == now + timedelta(minutes=1)
    assert "Connection refused" in delivery.last_error or "Error" in delivery.last_error
    # Before the back-off is over nothing is tried, even with the server back.
    smtp_server.start()
    assert deliver_due(now + timedelta(seconds=30)).sent == 0
    assert deliver_due(now + timedelta(minutes=1)).sent == 1
    assert deliver_due(now + timedelta(minutes=10)).sent == 0
    [email] = smtp_server.wait_for(1)
    [attachment] = list(email.message.iter_attachments())
    assert attachment.get_content() == FAKE_PDF
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("sent", 2, "")


def test_the_back_off_doubles_up_to_an_hour(schedule, fake_pdf, now, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1
    waits = []
    for _ in range(8):
        deliver_due(now)
        delivery = ReportDelivery.objects.get()
        waits.append(round((delivery.next_attempt_at - now).total_seconds() / 60))
        ReportDelivery.objects.update(next_attempt_at=now)  # as if the wait were over
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60]


def test_a_stale_claim_is_taken_again(schedule, fake_pdf, now, mailoutbox):
    queue_due(now)
    ReportDelivery.objects.update(state="sending", claimed_at=now - timedelta(minutes=5))
    assert deliver_due(now).sent == 0  # a live worker may still be sending it
    ReportDelivery.objects.update(claimed_at=now - timedelta(minutes=20))
    assert deliver_due(now).sent == 1
    assert len(mailoutbox) == 1


def test_one_delivery_per_schedule_and_period(schedule, now):
    assert queue_due(now) == 1
    assert queue_due(now) == 0
    period = last_full("monthly", now.date()).key
    with pytest.raises(IntegrityError), transaction.atomic():
        ReportDelivery.objects.create(schedule=schedule, period=period, recipients="x@y.test")
    # Deleted in admin: the next tick queues the period afresh (how it is mailed again).
    ReportDelivery.objects.all().delete()
    assert queue_due(now) == 1


def test_weekly_disabled_and_archived_schedules(fleet, now):
    weekly = ReportSchedule.objects.create(
        tenant=fleet.tenant, frequency="weekly", recipients="a@acme.test"
    )
    ReportSchedule.objects.create(tenant=fleet.tenant, recipients="b@acme.test", enabled=False)
    assert queue_due(now) == 1
    assert ReportDelivery.objects.get().schedule == weekly
    assert ReportDelivery.objects.get().period == last_full("weekly", now.date()).key
    fleet.tenant.archived_at = now
    fleet.tenant.save()
    assert queue_due(now + timedelta(days=7)) == 0


def test_the_next_period_goes_out_once_it_is_over(schedule, fake_pdf, now, mailoutbox):
    assert deliver_due(now).sent == 1
    this_month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    assert deliver_due(this_month + timedelta(days=27)).sent == 0  # still the same month
    next_month = (this_month + timedelta(days=32)).replace(day=1)
    assert deliver_due(next_month + timedelta(hours=1)).sent == 1
    schedule.refresh_from_db()
    assert schedule.last_sent_period == f"{now:%Y-%m}"
    assert [m.subject for m in mailoutbox][1].endswith(f"{now:%B %Y}")
