from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from fleet.connectors.forms import ConnectorForm
from fleet.connectors.models import Connector
from fleet.models import Tenant


class Command(BaseCommand):
    help = (
        "Configure a tenant's connector: connect_tenant SLUG --entra-tenant-id ID --client-id ID "
        "--client-secret-file PATH [--workspace-id ID] [--interval-minutes N]. The secret is read "
        "from a file so it stays out of the shell history and the process list."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--entra-tenant-id", required=True)
        parser.add_argument("--client-id", required=True)
        parser.add_argument("--client-secret-file", required=True)
        parser.add_argument("--workspace-id", default="")
        parser.add_argument("--interval-minutes", type=int, default=None)

    def handle(self, *args, **options) -> None:
        try:
            tenant = Tenant.objects.get(slug=options["slug"])
        except Tenant.DoesNotExist:
            raise CommandError(f"no tenant with slug {options['slug']!r}") from None
        path = Path(options["client_secret_file"])
        try:
            secret = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror or exc}") from None
        if not secret:
            raise CommandError(f"{path} is empty")
        connector = Connector.objects.filter(tenant=tenant).first() or Connector(tenant=tenant)
        form = ConnectorForm(
            {
                "entra_tenant_id": options["entra_tenant_id"],
                "client_id": options["client_id"],
                "client_secret": secret,
                "workspace_id": options["workspace_id"],
                "interval_minutes": options["interval_minutes"] or connector.interval_minutes,
                "enabled": True,
            },
            instance=connector,
        )
        if not form.is_valid():
            problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
            raise CommandError(problems)
        form.save()
        self.stdout.write(f"connector of {tenant.slug} saved (the secret is stored encrypted)")
