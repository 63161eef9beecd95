"""The alerts slice's Celery tasks: sending the due alert emails and webhook posts (beat:
every minute)."""

from __future__ import annotations

import logging

from celery import shared_task

from fleet.alerts.channels import deliver_channels
from fleet.alerts.email import deliver_pending

log = logging.getLogger(__name__)


@shared_task(name="fleet.tasks.send_alert_emails", acks_late=True)
def send_alert_emails() -> dict[str, int]:
    """Send every due alert email and webhook post; failed sends stay pending for the next
    call. The name predates the alerts slice and webhooks, and stays: beat, routes and queued
    messages carry it."""
    emails = deliver_pending()
    webhooks = deliver_channels()
    return {"sent": emails.sent + webhooks.sent, "failed": emails.failed + webhooks.failed}


def queue_alert_emails() -> bool:
    """Ask the `alerts` queue to send now; False when the broker refuses (send in process)."""
    try:
        send_alert_emails.apply_async(expires=300, retry=False)
    except Exception as exc:  # noqa: BLE001 - a broker failure means "send in process"
        log.warning("could not queue alert emails, sending in process: %s", exc)
        return False
    return True
