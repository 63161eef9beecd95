import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from fleet.ingest.csv_formats import FORMATS, GENERIC, FormatError, parse_column_map
from fleet.ingest.importer import ImportFailed, import_file
from fleet.models import Tenant


class Command(BaseCommand):
    help = (
        "Import an Intune / WUfB / WSUS / ConfigMgr export (CSV or Unicode text) for a tenant: "
        "import_report FILE --tenant SLUG [--format auto|NAME] [--map device=COL,code=COL,"
        "time=COL] [--json]"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file")
        parser.add_argument("--tenant", required=True, help="Tenant slug.")
        parser.add_argument(
            "--format",
            default="auto",
            help=f"auto (default) or one of: {', '.join([*FORMATS, GENERIC])}",
        )
        parser.add_argument(
            "--map",
            default="",
            help="Columns of the generic format: device=Computer,code=Error,time=When",
        )
        parser.add_argument("--json", action="store_true", help="Print the summary as JSON.")

    def handle(self, *args, **options) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            tenant = Tenant.objects.get(slug=options["tenant"])
        except Tenant.DoesNotExist:
            raise CommandError(f"no tenant with slug {options['tenant']!r}") from None
        try:
            column_map = parse_column_map(options["map"])
        except FormatError as exc:
            raise CommandError(str(exc)) from None
        requested = options["format"]
        if column_map and requested == "auto":
            requested = GENERIC
        try:
            record, summary = import_file(
                path, tenant, requested_format=requested, column_map=column_map
            )
        except ImportFailed as exc:
            raise CommandError(f"{path}: cannot import: {exc}") from None
        data = summary.as_dict()
        data["import_id"] = record.pk
        if options["json"]:
            self.stdout.write(json.dumps(data, indent=2))
            return
        self.stdout.write(
            f"{path.name}: format {summary.format}, encoding {summary.encoding}\n"
            f"  rows read        {summary.rows}\n"
            f"  created          {summary.created}\n"
            f"  duplicates       {summary.duplicates}\n"
            f"  success rows     {summary.success_rows}\n"
            f"  rejected         {summary.rejected_count}\n"
            f"  devices          {summary.devices} ({summary.devices_created} new)"
        )
        if summary.already_imported_as:
            self.stdout.write(
                f"  same file as import {summary.already_imported_as} (already imported)"
            )
        if summary.first_occurred_at and summary.last_occurred_at:
            self.stdout.write(
                f"  occurred         {summary.first_occurred_at:%Y-%m-%d %H:%M} to "
                f"{summary.last_occurred_at:%Y-%m-%d %H:%M} UTC"
            )
        for warning in summary.warnings:
            self.stdout.write(f"  warning: {warning}")
        for code, count in data["by_code"].items():
            self.stdout.write(f"  {code}  {count}")
        for reject in summary.rejected[:50]:
            self.stdout.write(f"  line {reject['line']}: {reject['reason']}")
        if summary.rejected_count > 50:
            self.stdout.write(f"  … and {summary.rejected_count - 50} more rejected rows")
