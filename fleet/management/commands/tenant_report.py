from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from fleet.aggregate import aggregate_pending
from fleet.models import Tenant
from fleet.reports.pdf import PdfError, html_to_pdf
from fleet.reports.periods import PeriodError, period_from
from fleet.reports.report import build_report, in_language, render_html


class Command(BaseCommand):
    help = (
        "Write a tenant's report: tenant_report SLUG --period 2026-11|2026-W47 "
        "(or --from 2026-11-01 --to 2026-11-15) --format pdf|html --output FILE [--language fr|en]"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug")
        parser.add_argument(
            "--period", default="", help="A month (2026-11) or ISO week (2026-W47)."
        )
        parser.add_argument("--from", dest="start", default="", help="First day, YYYY-MM-DD.")
        parser.add_argument("--to", dest="last", default="", help="Last day, YYYY-MM-DD.")
        parser.add_argument("--format", choices=["pdf", "html"], default="pdf")
        parser.add_argument(
            "--output", required=True, help="The file to write ('-': stdout, html)."
        )
        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            default="",
            help=f"The report's language (default: the site's, {settings.LANGUAGE_CODE}).",
        )

    def handle(self, slug, period, start, last, format, output, language, **options) -> None:
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            raise CommandError(f"no tenant {slug!r}")
        try:
            asked = period_from(
                {"period": period, "from": start, "to": last}, timezone.now().date()
            )
        except PeriodError as exc:
            raise CommandError(str(exc)) from None
        # What is stored but not yet counted (no worker ran since an import or seed_demo) is
        # counted first, so the report says everything the database holds.
        counted = aggregate_pending()
        if counted.occurrences:
            self.stderr.write(f"counted {counted.occurrences} pending occurrences first")
        with in_language(language):
            html = render_html(build_report(tenant, asked))
        if format == "html":
            if output == "-":
                self.stdout.write(html)
                return
            Path(output).write_text(html, encoding="utf-8")
        else:
            if output == "-":
                raise CommandError("--output -: only with --format html")
            try:
                Path(output).write_bytes(html_to_pdf(html))
            except PdfError as exc:
                raise CommandError(str(exc)) from None
        self.stdout.write(f"wrote {output}: {tenant.name}, {asked.label}")
