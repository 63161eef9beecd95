"""Alert emails: one digest per recipient, sent exactly once as far as a database can promise.

Each delivery is claimed pending -> sending -> sent with conditional UPDATEs, a failed send goes
back to pending with a back-off, and a sent one is never claimed again. The one gap no database
can close: a worker that dies after the SMTP server accepted a message but before it recorded
"sent"; its claim goes stale (`fleet.models.outbox.STALE_CLAIM`) and the message is sent again
(at least once beats never).
"""

from __future__ import annotations

import logging
import smtplib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from codes.facts import facts_for
from fleet.accounts.language import languages_of_addresses
from fleet.alerts.models import AlertDelivery, AlertFiring
from fleet.alerts.payloads import FIRED, RESOLVED
from fleet.models import Tenant
from fleet.triage.models import TriageFlag

log = logging.getLogger(__name__)

MAX_BACKOFF_MINUTES = 60
SEND_BATCH = 200


@dataclass
class DeliveryResult:
    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def firing_context(firings: list[AlertFiring]) -> dict[int, dict]:
    """Template context per firing (emails and webhook payloads), with facts (`codes.facts`),
    tenants and flags fetched in three queries."""
    codes = {f.code for f in firings}
    facts = facts_for(codes)
    tenants = Tenant.objects.in_bulk({f.tenant_id for f in firings})
    flags = {
        (flag.tenant_id, flag.code): flag
        for flag in TriageFlag.objects.filter(tenant_id__in=tenants, code__in=codes)
    }
    rules = {f.rule_id: f.rule for f in firings}
    items = {}
    for firing in firings:
        flag = flags.get((firing.tenant_id, firing.code))
        if flag is not None:
            flag_url = _absolute(reverse("triage:flag", args=[flag.pk]))
        else:
            flag_url = _absolute(reverse("triage:queue") + f"?state=all&code={firing.hex}")
        items[firing.pk] = {
            "firing": firing,
            "rule": rules[firing.rule_id],
            "tenant": tenants[firing.tenant_id],
            "hex": firing.hex,
            "name": facts[firing.code].label,
            "facts": facts[firing.code],
            "knowledge_url": _absolute(reverse("codes:detail", args=[firing.hex])),
            "flag_url": flag_url,
            "flag": flag,
        }
    return items


def render_email(items: list[dict], resolved: bool = False) -> tuple[str, str, str]:
    """Subject, text body and HTML body for one recipient's firings (or resolutions), in the
    active language (`queue_digests` activates the recipient's)."""
    context = {
        "LANGUAGE_CODE": translation.get_language(),
        "items": items,
        "count": len(items),
        "site_url": settings.SITE_URL,
        "resolved": resolved,
    }
    subject = render_to_string("fleet/emails/alert_subject.txt", context)
    subject = " ".join(subject.split())  # a header is one line
    if len(subject) > 300:
        subject = subject[:297] + "..."
    text = render_to_string("fleet/emails/alert_body.txt", context)
    html = render_to_string("fleet/emails/alert_body.html", context)
    return subject, text, html


def queue_digests(
    firings: list[AlertFiring], now: datetime, event: str = FIRED
) -> list[AlertDelivery]:
    """One delivery per recipient, listing every alert fired (or resolved) for them."""
    if not firings:
        return []
    items = firing_context(firings)
    by_recipient: dict[str, list[AlertFiring]] = defaultdict(list)
    for firing in firings:
        for address in firing.rule.recipient_list:
            by_recipient[address].append(firing)
    deliveries = []
    languages = languages_of_addresses(by_recipient)
    for address, mine in sorted(by_recipient.items()):
        mine.sort(key=lambda f: (-f.occurrences, items[f.pk]["tenant"].name, f.code))
        # Each person reads their digest in their own language (their setting; else English).
        with translation.override(languages[address]):
            subject, text, html = render_email([items[f.pk] for f in mine], event == RESOLVED)
        deliveries.append(
            AlertDelivery(
                recipient=address,
                event=event,
                subject=subject,
                body_text=text,
                body_html=html,
                created_at=now,
                next_attempt_at=now,
            )
        )
    deliveries = AlertDelivery.objects.bulk_create(deliveries)
    links = [
        AlertDelivery.firings.through(alertdelivery_id=delivery.pk, alertfiring_id=firing.pk)
        for delivery, (_, mine) in zip(deliveries, sorted(by_recipient.items()), strict=True)
        for firing in mine
    ]
    AlertDelivery.firings.through.objects.bulk_create(links)
    return deliveries


# Email deliveries have no channel (channel ones are `fleet.alerts.channels`').
EMAIL = Q(channel__isnull=True)


def deliver_pending(now: datetime | None = None, ids: list[int] | None = None) -> DeliveryResult:
    """Send every due delivery (or only `ids`) once; a failure leaves it pending for a later
    round."""
    now = now or timezone.now()
    result = DeliveryResult()
    due_rows = AlertDelivery.objects.filter(EMAIL & AlertDelivery.claimable(now))
    if ids is not None:
        due_rows = due_rows.filter(pk__in=ids)
    due = list(due_rows.order_by("id").values_list("id", flat=True)[:SEND_BATCH])
    if not due:
        return result
    # Not opened here: each send opens and closes its own session, so one broken session
    # cannot fail the messages after it.
    smtp = get_connection()
    for delivery_id in due:
        if not AlertDelivery.claim(delivery_id, now, among=EMAIL):
            continue  # another worker has it, or it was sent meanwhile
        delivery = AlertDelivery.objects.get(pk=delivery_id)
        message = EmailMultiAlternatives(
            subject=delivery.subject,
            body=delivery.body_text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[delivery.recipient],
            connection=smtp,
        )
        message.attach_alternative(delivery.body_html, "text/html")
        try:
            message.send()
        except (smtplib.SMTPException, OSError) as exc:
            back_off(delivery, exc, now, target=delivery.recipient)
            result.failed += 1
            result.errors.append(f"{delivery.recipient}: {exc}")
            if not isinstance(exc, smtplib.SMTPRecipientsRefused):
                break  # the server itself is unreachable: the rest wait for the next round
            continue
        AlertDelivery.objects.filter(pk=delivery_id, state=AlertDelivery.State.SENDING).update(
            state=AlertDelivery.State.SENT, sent_at=now, last_error=""
        )
        result.sent += 1
    if result.sent or result.failed:
        log.info("alert emails: %d sent, %d failed", result.sent, result.failed)
    return result


def back_off(delivery: AlertDelivery, exc: Exception, now: datetime, target: str) -> None:
    """Release a failed claim: pending again after 1, 2, 4 … minutes (at most an hour)."""
    minutes = min(2 ** max(delivery.attempts - 1, 0), MAX_BACKOFF_MINUTES)
    AlertDelivery.objects.filter(pk=delivery.pk, state=AlertDelivery.State.SENDING).update(
        state=AlertDelivery.State.PENDING,
        next_attempt_at=now + timedelta(minutes=minutes),
        last_error=f"{type(exc).__name__}: {exc}"[:2000],
    )
    log.warning("alert delivery to %s failed (attempt %d): %s", target, delivery.attempts, exc)
