"""Delete raw occurrences past RAW_RETENTION_DAYS once they are aggregated; aggregates stay.

Only rows already counted are deleted, so a row imported late (old time, still pending) waits
for the next aggregation run and goes on a later pass. The cutoff is a UTC midnight, so no hour
or day bucket is ever half pruned, and it is recorded as the retention horizon in the same
transaction as each batch: a rebuild keeps the aggregates before it instead of recounting
from the rows that are left. Batches are bounded so no transaction holds locks for long.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from fleet.models import Occurrence, RetentionHorizon
from fleet.pending import COUNTED_SQL, counted_occurrences

log = logging.getLogger(__name__)

DEFAULT_BATCH = 10_000


@dataclass
class PruneResult:
    cutoff: datetime | None = None
    deleted: int = 0
    batches: int = 0


def retention_cutoff(days: int, now: datetime | None = None) -> datetime:
    """The UTC midnight `days` days before today: occurrences before it may be pruned."""
    today = (now or timezone.now()).astimezone(UTC).date()
    return datetime.combine(today - timedelta(days=days), time.min, tzinfo=UTC)


def prunable(cutoff: datetime):
    """The occurrences a prune with this cutoff deletes."""
    return counted_occurrences().filter(occurred_at__lt=cutoff)


def prune_occurrences(
    days: int | None = None,
    now: datetime | None = None,
    batch_size: int = DEFAULT_BATCH,
    dry_run: bool = False,
) -> PruneResult:
    """Delete aggregated occurrences older than `days` (default RAW_RETENTION_DAYS; 0 keeps
    everything) in batches of `batch_size`. With `dry_run`, only count them."""
    days = settings.RAW_RETENTION_DAYS if days is None else days
    if days <= 0:
        return PruneResult()
    cutoff = retention_cutoff(days, now)
    result = PruneResult(cutoff=cutoff)
    if dry_run:
        result.deleted = prunable(cutoff).count()
        return result
    table = connection.ops.quote_name(Occurrence._meta.db_table)
    at = connection.ops.adapt_datetimefield_value(cutoff)
    batch = f"SELECT id FROM {table} WHERE occurred_at < %s AND {COUNTED_SQL} LIMIT %s"
    # PostgreSQL plans `id IN (subquery)` as a hash join over a scan of the whole table; an
    # array of the batch's ids is probed through the primary key instead (docs/postgresql.md).
    if connection.vendor == "postgresql":
        delete = f"DELETE FROM {table} WHERE id = ANY(ARRAY({batch}))"
    else:
        delete = f"DELETE FROM {table} WHERE id IN ({batch})"
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            _raise_horizon(cutoff)
            cursor.execute(delete, [at, batch_size])
            deleted = cursor.rowcount
        if deleted:
            result.deleted += deleted
            result.batches += 1
        if deleted < batch_size:
            break
    if result.deleted:
        log.info("pruned %d occurrences before %s", result.deleted, cutoff.isoformat())
    return result


def _raise_horizon(cutoff: datetime) -> None:
    """Move the recorded horizon up to `cutoff`; never down (a shorter setting pruned more)."""
    horizon = RetentionHorizon.objects.filter(pk=1)
    if horizon.filter(pruned_before__lt=cutoff).update(
        pruned_before=cutoff, updated_at=timezone.now()
    ):
        return
    RetentionHorizon.objects.get_or_create(pk=1, defaults={"pruned_before": cutoff})
