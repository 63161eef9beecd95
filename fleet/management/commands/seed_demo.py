from django.core.management.base import BaseCommand

from fleet.demo import demo_loaded, remove_demo, seed_demo


class Command(BaseCommand):
    help = "Load the deterministic demo fleet (tenants, devices, 90 days of occurrences)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--reset", action="store_true", help="Delete the demo tenants first.")

    def handle(self, reset: bool, **options) -> None:
        if reset:
            remove_demo()
        elif demo_loaded():
            self.stdout.write("demo fleet already loaded (use --reset to load it afresh)")
            return
        created = seed_demo()
        self.stdout.write(
            "demo fleet: {tenants} tenants, {devices} devices, {occurrences} occurrences".format(
                **created
            )
        )
