"""`manage.py prune_occurrences`: delete aggregated raw occurrences past the retention period."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from fleet.retention import DEFAULT_BATCH, prune_occurrences


class Command(BaseCommand):
    help = (
        "Delete raw occurrences older than N days (default RAW_RETENTION_DAYS) that are already "
        "aggregated, in batches. Aggregates are never touched; pending rows wait until counted."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--days", type=int, default=None, help="Days of raw occurrences to keep."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing."
        )
        parser.add_argument(
            "--batch-size", type=int, default=DEFAULT_BATCH, help="Rows per transaction."
        )

    def handle(self, *args, days: int | None, dry_run: bool, batch_size: int, **options) -> None:
        days = settings.RAW_RETENTION_DAYS if days is None else days
        if days < 0:
            raise CommandError("--days must be 0 (keep everything) or more")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        if days == 0:
            self.stdout.write("retention is off (RAW_RETENTION_DAYS=0): nothing pruned")
            return
        result = prune_occurrences(days, batch_size=batch_size, dry_run=dry_run)
        before = f"before {result.cutoff:%Y-%m-%d %H:%M} UTC"
        if dry_run:
            self.stdout.write(f"would delete {result.deleted} aggregated occurrences {before}")
        else:
            self.stdout.write(
                f"deleted {result.deleted} aggregated occurrences {before} "
                f"in {result.batches} batches"
            )
