"""Scheduled reports: which are due, and mailing each once with its PDF attached.

Every beat tick (`queue_due`) gives each enabled schedule a delivery for its last full period,
created with the (schedule, period) unique constraint as the guard: a second tick, a second
beat or a racing worker finds the row there and creates nothing. `deliver_due` then claims
deliveries pending -> sending -> sent with conditional UPDATEs, renders the report and its PDF
at send time, and mails one message to all of the schedule's recipients. A failure releases the
claim with back-off (1, 2, 4 … minutes, at most an hour), as alert emails do
(`fleet.alerts.email`); a claim gone stale belongs to a dead worker and is taken again (at least
once beats never; `fleet.models.outbox`).
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from fleet.alerts.models import split_recipients
from fleet.reports.models import ReportDelivery, ReportSchedule
from fleet.reports.pdf import PdfError, html_to_pdf
from fleet.reports.periods import PeriodError, last_full, parse_period
from fleet.reports.report import build_report, in_language, render_html

log = logging.getLogger(__name__)

MAX_BACKOFF_MINUTES = 60
SEND_BATCH = 20  # a PDF takes seconds: the rest wait for the next tick


@dataclass
class SendResult:
    queued: int = 0
    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def queue_due(now: datetime) -> int:
    """A delivery for every enabled schedule whose last full period has none yet."""
    queued = 0
    today = now.date()
    for schedule in ReportSchedule.objects.filter(
        enabled=True, tenant__archived_at__isnull=True
    ).exclude(recipients=""):
        period = last_full(schedule.frequency, today).key
        try:
            with transaction.atomic():
                _, created = ReportDelivery.objects.get_or_create(
                    schedule=schedule,
                    period=period,
                    defaults={
                        "recipients": schedule.recipients,
                        "created_at": now,
                        "next_attempt_at": now,
                    },
                )
        except IntegrityError:  # a racing tick created it first
            created = False
        queued += created
    return queued


def render_message(delivery: ReportDelivery, now: datetime) -> EmailMultiAlternatives:
    """The email of one delivery: a short text and HTML body, the report's PDF attached, all
    in the schedule's language (its customer reads it, not the worker's locale)."""
    schedule = delivery.schedule
    with in_language(schedule.language):
        report = build_report(schedule.tenant, parse_period(delivery.period), now)
        html = render_html(report)
        context = {"report": report, "msp_name": settings.MSP_NAME, "site_url": settings.SITE_URL}
        subject = " ".join(render_to_string("reports/email_subject.txt", context).split())
        body = render_to_string("reports/email_body.txt", context)
    message = EmailMultiAlternatives(
        subject=subject[:300],
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=split_recipients(delivery.recipients),
    )
    message.attach_alternative(html, "text/html")
    message.attach(f"{report.file_name}.pdf", html_to_pdf(html), "application/pdf")
    return message


def deliver_due(now: datetime | None = None) -> SendResult:
    """Queue what is due, then send every claimable delivery once."""
    now = now or timezone.now()
    result = SendResult(queued=queue_due(now))
    due = list(
        ReportDelivery.objects.filter(ReportDelivery.claimable(now))
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:SEND_BATCH]
    )
    for delivery_id in due:
        if not ReportDelivery.claim(delivery_id, now):
            continue  # another worker has it, or it was sent meanwhile
        delivery = ReportDelivery.objects.select_related("schedule__tenant").get(pk=delivery_id)
        try:
            render_message(delivery, now).send()
        except (smtplib.SMTPException, OSError, PdfError, PeriodError) as exc:
            back_off(delivery, exc, now)
            result.failed += 1
            result.errors.append(f"{delivery}: {exc}")
            continue
        sent = ReportDelivery.objects.filter(
            pk=delivery_id, state=ReportDelivery.State.SENDING
        ).update(state=ReportDelivery.State.SENT, sent_at=now, last_error="")
        if sent:
            ReportSchedule.objects.filter(pk=delivery.schedule_id).update(
                last_sent_period=delivery.period
            )
        result.sent += 1
    if result.sent or result.failed:
        log.info("tenant reports: %d sent, %d failed", result.sent, result.failed)
    return result


def back_off(delivery: ReportDelivery, exc: Exception, now: datetime) -> None:
    """Release a failed claim: pending again after 1, 2, 4 … minutes (at most an hour)."""
    minutes = min(2 ** max(delivery.attempts - 1, 0), MAX_BACKOFF_MINUTES)
    ReportDelivery.objects.filter(pk=delivery.pk, state=ReportDelivery.State.SENDING).update(
        state=ReportDelivery.State.PENDING,
        next_attempt_at=now + timedelta(minutes=minutes),
        last_error=f"{type(exc).__name__}: {exc}"[:2000],
    )
    log.warning("report delivery %s failed (attempt %d): %s", delivery, delivery.attempts, exc)
