from django.core.management.base import BaseCommand, CommandError

from fleet.connectors.models import Connector
from fleet.connectors.pulls import REPORT_NAMES, pull


class Command(BaseCommand):
    help = (
        "Pull the connectors' reports now: pull_reports [--tenant SLUG] [--report NAME]. "
        f"Reports: {', '.join(REPORT_NAMES)}."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--tenant", help="Tenant slug (default: every enabled connector).")
        parser.add_argument("--report", choices=REPORT_NAMES, help="Only this report.")

    def handle(self, *args, **options) -> None:
        connectors = Connector.objects.select_related("tenant")
        if options["tenant"]:
            connectors = connectors.filter(tenant__slug=options["tenant"])
            if not connectors.exists():
                raise CommandError(f"no connector for tenant {options['tenant']!r}")
        else:
            connectors = connectors.filter(enabled=True)
        failed = 0
        for connector in connectors:
            result = pull(connector, report=options["report"])
            slug = connector.tenant.slug
            if not result.claimed:
                self.stderr.write(f"{slug}: {result.error}")
                failed += 1
                continue
            for outcome in result.reports:
                where = f" ({outcome.policy})" if outcome.policy else ""
                status = f"error: {outcome.error}" if outcome.error else "ok"
                self.stdout.write(
                    f"{slug}: {outcome.report}{where}: {outcome.rows} rows, "
                    f"{outcome.created} new; {status}"
                )
            if result.error:
                self.stderr.write(f"{slug}: {result.error}")
            failed += bool(result.errors)
            self.stdout.write(f"{slug}: {result.created} occurrences imported")
        if failed:
            raise CommandError(f"{failed} connector(s) reported errors (see above)")
