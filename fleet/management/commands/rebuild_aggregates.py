"""`manage.py rebuild_aggregates`: recount every aggregate from the raw occurrences."""

import time

from django.core.management.base import BaseCommand, CommandError

from fleet.aggregate import DEFAULT_CHUNK, STAT_MODELS, rebuild_all


class Command(BaseCommand):
    help = (
        "Empty the hourly and daily aggregates, mark every occurrence pending and aggregate them "
        "again in chunks. Gives the same numbers as the incremental runs."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--chunk-size", type=int, default=DEFAULT_CHUNK, help="Occurrences per transaction."
        )

    def handle(self, *args, chunk_size: int, **options) -> None:
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1")
        started = time.perf_counter()
        result = rebuild_all(chunk_size)
        seconds = time.perf_counter() - started
        rows = ", ".join(f"{m._meta.db_table} {m.objects.count()}" for m in STAT_MODELS)
        self.stdout.write(
            f"rebuilt aggregates from {result.occurrences} occurrences in {result.chunks} chunks "
            f"({seconds:.1f} s): {rows}"
        )
