"""Celery tasks: thin wrappers over plain functions that tests call directly."""

from __future__ import annotations

from celery import shared_task

from fleet.aggregate import aggregate_pending


@shared_task(name="fleet.tasks.aggregate_occurrences", acks_late=True)
def aggregate_occurrences() -> int:
    """Roll every pending occurrence into the aggregates. Idempotent: safe to run at any time."""
    return aggregate_pending().occurrences
