"""`manage.py undo_import ID`: delete an import's occurrences and correct the aggregates."""

from django.core.management.base import BaseCommand, CommandError

from fleet.ingest.models import ImportRecord
from fleet.ingest.undo import UndoRefused, undo_import


class Command(BaseCommand):
    help = (
        "Undo an import in one transaction: delete its occurrences, take them out of every "
        "aggregate and mark it undone. The same file can then be imported again."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("id", type=int, help="The import's number (as on /imports/ID/).")

    def handle(self, *args, **options) -> None:
        try:
            result = undo_import(options["id"])
        except ImportRecord.DoesNotExist:
            raise CommandError(f"There is no import {options['id']}.") from None
        except UndoRefused as refused:
            raise CommandError(str(refused)) from None
        self.stdout.write(
            f"import {result.record.pk} ({result.record.file_name}) undone: "
            f"{result.deleted} occurrences deleted, {result.aggregated} of them taken out of "
            "the aggregates"
        )
