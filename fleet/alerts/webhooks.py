"""Signed webhook deliveries: one JSON POST per (firing, channel), sent exactly once as far as
a database can promise.

The body is rendered once when the firing is claimed (`queue_webhooks`, in the claim's
transaction) and stored on the AlertDelivery; each send signs the stored bytes with the
channel's secret (`X-Fleet-Signature: sha256=<hex HMAC-SHA256>`). Claiming, back-off and the
stale-claim gap are the email digests' (`fleet.alerts.email`): a receiver that answers non-2xx
or cannot be reached leaves the delivery pending for a later round. The payload is documented
in docs/alerts.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from fleet.alerts.email import (
    SEND_BATCH,
    STALE_CLAIM,
    DeliveryResult,
    back_off,
    firing_context,
)
from fleet.alerts.models import AlertChannel, AlertDelivery, AlertFiring
from fleet.alerts.secrets import SecretUnreadable

log = logging.getLogger(__name__)

FIRED = "alert.fired"
USER_AGENT = "fleet-errors-webhook/1"


class ReceiverError(Exception):
    """The receiver answered, but not with a 2xx."""


def signature(secret: str, body: bytes) -> str:
    """The X-Fleet-Signature value for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def fired_payload(item: dict) -> dict:
    """The `alert.fired` JSON of one firing (`item` from `firing_context`)."""
    firing: AlertFiring = item["firing"]
    flag = item["flag"]
    rule = item["rule"]
    if flag is not None and flag.reason:
        reason = flag.reason
    else:
        metric = "devices" if rule.metric == rule.Metric.DEVICES else "occurrences"
        reason = (
            f"{firing.occurrences} occurrences on {firing.devices} devices in "
            f"{firing.window_hours} h: more than {rule.threshold} {metric}"
        )
    return {
        "event": FIRED,
        "alert_id": firing.pk,
        "rule": rule.name,
        "rule_id": rule.pk,
        "tenant": item["tenant"].slug,
        "code": item["hex"],
        "name": item["name"],
        "kind": flag.kind if flag is not None else "threshold",
        "occurrences": firing.occurrences,
        "devices": firing.devices,
        "window_hours": firing.window_hours,
        "reason": reason,
        "url": item["flag_url"],
        "knowledge_url": item["knowledge_url"],
        "fired_at": firing.fired_at.isoformat(),
    }


def queue_webhooks(firings: list[AlertFiring], now: datetime) -> list[AlertDelivery]:
    """One pending delivery per firing and enabled webhook channel of its rule."""
    if not firings:
        return []
    channels: dict[int, list[AlertChannel]] = {}
    for channel in AlertChannel.objects.filter(
        rule_id__in={f.rule_id for f in firings}, kind=AlertChannel.Kind.WEBHOOK, enabled=True
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
                event=FIRED,
                subject=f"{FIRED} {items[firing.pk]['tenant'].slug} {firing.hex}"[:300],
                body_text=json.dumps(fired_payload(items[firing.pk]), separators=(",", ":")),
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


def post(url: str, event: str, body: bytes, secret: str) -> int:
    """POST the signed body; the HTTP status, or ReceiverError/OSError when it is not a 2xx."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {url!r}")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Fleet-Event": event,
            "X-Fleet-Signature": signature(secret, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.WEBHOOK_TIMEOUT) as response:  # noqa: S310
            response.read(65536)
            return response.status
    except urllib.error.HTTPError as exc:  # urllib raises for every status >= 400
        raise ReceiverError(f"HTTP {exc.code} {exc.reason}") from None


def _claimable(now: datetime) -> Q:
    return Q(channel__isnull=False) & (
        Q(state=AlertDelivery.State.PENDING, next_attempt_at__lte=now)
        | Q(state=AlertDelivery.State.SENDING, claimed_at__lt=now - STALE_CLAIM)
    )


def deliver_webhooks(now: datetime | None = None) -> DeliveryResult:
    """POST every due webhook delivery once; a failure leaves it pending with a back-off.
    One receiver failing does not hold up the others."""
    now = now or timezone.now()
    result = DeliveryResult()
    due = list(
        AlertDelivery.objects.filter(_claimable(now))
        .order_by("id")
        .values_list("id", flat=True)[:SEND_BATCH]
    )
    for delivery_id in due:
        claimed = AlertDelivery.objects.filter(_claimable(now), pk=delivery_id).update(
            state=AlertDelivery.State.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
        if not claimed:
            continue  # another worker has it, or it was sent meanwhile
        delivery = AlertDelivery.objects.select_related("channel").get(pk=delivery_id)
        channel = delivery.channel
        try:
            post(channel.url, delivery.event, delivery.body_text.encode(), channel.secret)
        except (ReceiverError, OSError, SecretUnreadable, ValueError) as exc:
            # OSError covers refused connections, DNS failures and timeouts (URLError too).
            back_off(delivery, exc, now, target=channel.url)
            result.failed += 1
            result.errors.append(f"{channel.url}: {type(exc).__name__}: {exc}")
            continue
        AlertDelivery.objects.filter(pk=delivery_id, state=AlertDelivery.State.SENDING).update(
            state=AlertDelivery.State.SENT, sent_at=now, last_error=""
        )
        result.sent += 1
    if result.sent or result.failed:
        log.info("alert webhooks: %d sent, %d failed", result.sent, result.failed)
    return result
