"""`manage.py run_pipeline`: one round of what beat schedules, in this process."""

from django.core.management.base import BaseCommand

from fleet.pipeline import run_round


class Command(BaseCommand):
    help = "Aggregate new occurrences, run triage rules, evaluate alerts and send due emails once."

    def handle(self, *args, **options) -> None:
        result = run_round()
        for line in result.summary():
            self.stdout.write(line)
