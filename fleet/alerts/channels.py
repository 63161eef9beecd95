"""Channel notifications: one delivery per (alert, event, channel), sent exactly once as far as
a database can promise, whatever the channel kind.

The body is rendered once when the alert fires or resolves (`queue_channel_deliveries`, in the
claim's transaction) and stored on the AlertDelivery: the generic webhook's JSON (signed when
sent), a Teams card or a Slack message. PSA deliveries store the payload and decide at send
time whether to create, note or close the alert's ticket (`fleet.alerts.tickets`). Claiming,
back-off and the stale-claim gap are the email digests' (`fleet.alerts.email`): a receiver that
answers non-2xx or cannot be reached leaves the delivery pending for a later round.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation

from fleet.alerts.chat import post_json, slack_message, teams_message
from fleet.alerts.email import SEND_BATCH, DeliveryResult, back_off, firing_context
from fleet.alerts.models import AlertChannel, AlertDelivery, AlertFiring
from fleet.alerts.payloads import alert_payload
from fleet.alerts.psa import PsaError
from fleet.alerts.secrets import SecretUnreadable
from fleet.alerts.tickets import WaitForTicket, send_ticket
from fleet.alerts.webhooks import ReceiverError, post

log = logging.getLogger(__name__)


def render_body(channel: AlertChannel, payload: dict) -> str:
    """The stored body of one delivery to `channel`: the Teams card or Slack message, else
    the payload itself (a webhook's signed body; what a PSA ticket is written from)."""
    with translation.override(channel.language or settings.LANGUAGE_CODE):
        if channel.kind == AlertChannel.Kind.TEAMS:
            payload = teams_message(payload)
        elif channel.kind == AlertChannel.Kind.SLACK:
            payload = slack_message(payload)
    return json.dumps(payload, separators=(",", ":"))


def queue_channel_deliveries(
    firings: list[AlertFiring], event: str, now: datetime
) -> list[AlertDelivery]:
    """One pending delivery per alert and enabled channel of its rule."""
    if not firings:
        return []
    channels: dict[int, list[AlertChannel]] = {}
    for channel in AlertChannel.objects.filter(
        rule_id__in={f.rule_id for f in firings}, enabled=True
    ):
        channels.setdefault(channel.rule_id, []).append(channel)
    firings = [f for f in firings if f.rule_id in channels]
    if not firings:
        return []
    items = firing_context(firings)
    pairs = [(firing, channel) for firing in firings for channel in channels[firing.rule_id]]
    deliveries = AlertDelivery.objects.bulk_create(
        [
            AlertDelivery(
                channel=channel,
                event=event,
                subject=f"{event} {items[firing.pk]['tenant'].slug} {firing.hex}"[:300],
                body_text=render_body(channel, alert_payload(items[firing.pk], event)),
                body_html="",
                created_at=now,
                next_attempt_at=now,
            )
            for firing, channel in pairs
        ]
    )
    AlertDelivery.firings.through.objects.bulk_create(
        [
            AlertDelivery.firings.through(alertdelivery_id=delivery.pk, alertfiring_id=firing.pk)
            for delivery, (firing, _) in zip(deliveries, pairs, strict=True)
        ]
    )
    return deliveries


def _send_webhook(delivery: AlertDelivery, now: datetime) -> None:
    channel = delivery.channel
    post(channel.url, delivery.event, delivery.body_text.encode(), channel.secret)


def _send_chat(delivery: AlertDelivery, now: datetime) -> None:
    # The stored URL of a chat channel is only its host; the whole URL is the secret.
    post_json(delivery.channel.secret, json.loads(delivery.body_text))


SENDERS: dict[str, Callable[[AlertDelivery, datetime], None]] = {
    AlertChannel.Kind.WEBHOOK: _send_webhook,
    AlertChannel.Kind.TEAMS: _send_chat,
    AlertChannel.Kind.SLACK: _send_chat,
    AlertChannel.Kind.CONNECTWISE: send_ticket,
    AlertChannel.Kind.HALOPSA: send_ticket,
}

# What a failed send may raise; anything else is a bug and propagates.
SEND_ERRORS: tuple[type[Exception], ...] = (
    ReceiverError,
    OSError,  # refused connections, DNS failures and timeouts (URLError too)
    SecretUnreadable,
    ValueError,
    WaitForTicket,
    PsaError,
)


# Channel deliveries (email ones have none: `fleet.alerts.email`).
CHANNEL = Q(channel__isnull=False)


def send_claimed(delivery: AlertDelivery, now: datetime, result: DeliveryResult) -> None:
    """Send one delivery this caller has claimed; record sent, or back off on failure."""
    channel = delivery.channel
    try:
        sender = SENDERS.get(channel.kind)
        if sender is None:
            raise ValueError(f"no sender for channel kind {channel.kind!r}")
        with transaction.atomic():
            sender(delivery, now)
            AlertDelivery.objects.filter(pk=delivery.pk, state=AlertDelivery.State.SENDING).update(
                state=AlertDelivery.State.SENT, sent_at=now, last_error=""
            )
    except SEND_ERRORS as exc:
        back_off(delivery, exc, now, target=channel.url)
        result.failed += 1
        result.errors.append(f"{channel.url}: {type(exc).__name__}: {exc}")
        return
    result.sent += 1


def deliver_channels(now: datetime | None = None, ids: list[int] | None = None) -> DeliveryResult:
    """Send every due channel delivery once (or only `ids`); a failure leaves it pending with
    a back-off. One receiver failing does not hold up the others."""
    now = now or timezone.now()
    result = DeliveryResult()
    due = AlertDelivery.objects.filter(CHANNEL & AlertDelivery.claimable(now))
    if ids is not None:
        due = due.filter(pk__in=ids)
    for delivery_id in list(due.order_by("id").values_list("id", flat=True)[:SEND_BATCH]):
        if not AlertDelivery.claim(delivery_id, now, among=CHANNEL):
            continue  # another worker has it, or it was sent meanwhile
        delivery = AlertDelivery.objects.select_related("channel").get(pk=delivery_id)
        send_claimed(delivery, now, result)
    if result.sent or result.failed:
        log.info("alert channels: %d sent, %d failed", result.sent, result.failed)
    return result
