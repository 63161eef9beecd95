from django.core.management.base import BaseCommand

from fleet.alerts.demo import remove_demo_rules, seed_demo_rules
from fleet.demo import demo_loaded, remove_demo, seed_demo
from fleet.reports.demo import seed_demo_schedules


class Command(BaseCommand):
    help = "Load the deterministic demo fleet (tenants, devices, 90 days of occurrences)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--reset", action="store_true", help="Delete the demo tenants first.")
        parser.add_argument(
            "--webhook-url",
            default="",
            help="Also post the demo rules' alerts, signed, to this URL (make demo's sink).",
        )

    def handle(self, reset: bool, webhook_url: str, **options) -> None:
        if reset:
            remove_demo()
            remove_demo_rules()
        elif demo_loaded():
            seed_demo_rules(webhook_url)
            seed_demo_schedules()
            self.stdout.write("demo fleet already loaded (use --reset to load it afresh)")
            return
        created = seed_demo()
        rules = seed_demo_rules(webhook_url)
        for schedule in seed_demo_schedules():
            self.stdout.write(f"demo report schedule: {schedule}, to {schedule.recipients}")
        self.stdout.write(f"demo alert rules: {', '.join(r.name for r in rules)}")
        self.stdout.write(
            "demo fleet: {tenants} tenants, {devices} devices, {occurrences} occurrences".format(
                **created
            )
        )
