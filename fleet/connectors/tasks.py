"""The connectors' Celery tasks: beat asks every minute which connectors are due, and each due
one gets its own pull task (so one slow tenant holds up no other)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from fleet.connectors.models import Connector
from fleet.connectors.pulls import due_connectors, pull


@shared_task(name="fleet.connectors.tasks.pull_due_connectors", acks_late=True)
def pull_due_connectors() -> int:
    """Queue one pull per due connector; a pull that is still running refuses the next."""
    due = due_connectors(timezone.now())
    for connector_id in due:
        # Expires before the next beat tick would queue it again.
        pull_connector.apply_async((connector_id,), expires=50)
    return len(due)


@shared_task(name="fleet.connectors.tasks.pull_connector", acks_late=True)
def pull_connector(connector_id: int) -> int:
    """Pull one connector now; the count of occurrences stored. Safe to redeliver: the lock
    refuses a second pull, and a repeated import stores nothing twice."""
    connector = Connector.objects.filter(pk=connector_id, enabled=True).first()
    if connector is None:
        return 0
    return pull(connector).created
