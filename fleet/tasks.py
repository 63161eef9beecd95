"""Celery tasks: thin wrappers over plain functions that tests call directly.

Other modules' tasks are imported at the bottom so the worker registers them all.
"""

from __future__ import annotations

import logging

from celery import shared_task

from fleet.aggregate import aggregate_pending

log = logging.getLogger(__name__)


@shared_task(name="fleet.tasks.aggregate_occurrences", acks_late=True)
def aggregate_occurrences() -> int:
    """Roll every pending occurrence into the aggregates. Idempotent: safe to run at any time."""
    return aggregate_pending().occurrences


@shared_task(name="fleet.tasks.run_pipeline", acks_late=True)
def run_pipeline() -> dict[str, int]:
    """One round: aggregate, triage, alert, send due emails. Safe to overlap with another."""
    from fleet.pipeline import run_round  # imported here: it pulls in templates and mail

    result = run_round()
    return {
        "aggregated": result.aggregation.occurrences,
        "flags_raised": len(result.triage.raised),
        "alerts_fired": len(result.alerts.fired),
        "emails_sent": result.delivery.sent,
    }


def request_aggregation() -> bool:
    """Ask a worker to aggregate soon. Never raises: the occurrences are already committed and
    the next beat tick catches up if the broker is down, so callers must not fail on it."""
    try:
        aggregate_occurrences.apply_async(expires=300, retry=False)
    except Exception as exc:  # noqa: BLE001 - any broker failure means "later", not "error"
        log.warning("could not queue aggregation (will catch up on next beat tick): %s", exc)
        return False
    return True


from fleet.ingest.tasks import run_import  # noqa: E402, F401 - registers the import task
