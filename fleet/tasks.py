"""The core's Celery tasks: aggregation, the pipeline round, retention.

Thin wrappers over plain functions that tests call directly. Each slice keeps its own
`tasks.py` (Celery discovers them: `fleet/celery.py`). Task names are interfaces (beat, routes
and queued messages carry them), so they are written out and never follow a module move.
"""

from __future__ import annotations

import logging

from celery import shared_task

from fleet.aggregate import DEFAULT_CHUNK, aggregate_pending

log = logging.getLogger(__name__)


@shared_task(name="fleet.tasks.aggregate_occurrences", acks_late=True)
def aggregate_occurrences(chunk_size: int = DEFAULT_CHUNK) -> int:
    """Roll every pending occurrence into the aggregates. Idempotent: safe to run at any time.
    `chunk_size` bounds each committed step (the fault tests use small ones)."""
    return aggregate_pending(chunk_size).occurrences


@shared_task(name="fleet.tasks.run_pipeline", acks_late=True)
def run_pipeline() -> dict[str, int]:
    """One round: aggregate, triage, alert; the emails go to the `alerts` queue. Safe to
    overlap with another round. When the broker refuses the email task, they are sent here:
    an alert is never left waiting on a queue that is down."""
    # Imported here: the round pulls in every slice, the email templates and mail.
    from fleet.alerts.channels import deliver_channels
    from fleet.alerts.email import deliver_pending
    from fleet.alerts.tasks import queue_alert_emails
    from fleet.pipeline import run_round

    result = run_round(deliver=False)
    sent = 0
    if (result.alerts.deliveries or result.alerts.webhooks) and not queue_alert_emails():
        sent = deliver_pending().sent
        deliver_channels()
    return {
        "aggregated": result.aggregation.occurrences,
        "flags_raised": len(result.triage.raised),
        "alerts_fired": len(result.alerts.fired),
        "emails_queued": len(result.alerts.deliveries),
        "emails_sent": sent,
    }


@shared_task(name="fleet.tasks.prune_occurrences", acks_late=True)
def prune_occurrences() -> int:
    """Delete aggregated raw occurrences past RAW_RETENTION_DAYS (nothing at 0). Idempotent."""
    from fleet.retention import prune_occurrences as prune

    return prune().deleted


def request_aggregation() -> bool:
    """Ask a worker to aggregate soon. Never raises: the occurrences are already committed and
    the next beat tick catches up if the broker is down, so callers must not fail on it."""
    try:
        aggregate_occurrences.apply_async(expires=300, retry=False)
    except Exception as exc:  # noqa: BLE001 - any broker failure means "later", not "error"
        log.warning("could not queue aggregation (will catch up on next beat tick): %s", exc)
        return False
    return True
