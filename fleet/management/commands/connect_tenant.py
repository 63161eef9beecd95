from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError

from fleet.connectors.forms import ConnectorForm
from fleet.connectors.models import Connector
from fleet.models import Tenant


class Command(BaseCommand):
    help = (
        "Configure a tenant's connector: connect_tenant SLUG --entra-tenant-id ID --client-id ID "
        "(--client-secret-file PATH | --certificate-file PEM) [--workspace-id ID] "
        "[--interval-minutes N]. The secret or certificate is read from a file so it stays out "
        "of the shell history and the process list."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--entra-tenant-id", required=True)
        parser.add_argument("--client-id", required=True)
        credential = parser.add_mutually_exclusive_group(required=True)
        credential.add_argument("--client-secret-file", help="A file holding the secret's value.")
        credential.add_argument(
            "--certificate-file",
            help="A PEM file with the private key and the certificate uploaded to the app.",
        )
        parser.add_argument("--workspace-id", default="")
        parser.add_argument("--interval-minutes", type=int, default=None)

    def handle(self, *args, **options) -> None:
        try:
            tenant = Tenant.objects.get(slug=options["slug"])
        except Tenant.DoesNotExist:
            raise CommandError(f"no tenant with slug {options['slug']!r}") from None
        path = Path(options["client_secret_file"] or options["certificate_file"])
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror or exc}") from None
        if not content.strip():
            raise CommandError(f"{path} is empty")
        secret, files = "", {}
        if options["certificate_file"]:
            files = {"certificate": SimpleUploadedFile(path.name, content)}
        else:
            secret = content.decode("utf-8", "replace").strip()
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
            files,
            instance=connector,
        )
        if not form.is_valid():
            problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
            raise CommandError(problems)
        form.save()
        if connector.uses_certificate:
            what = f"the certificate {connector.certificate_thumbprint} is stored encrypted"
        else:
            what = "the secret is stored encrypted"
        self.stdout.write(f"connector of {tenant.slug} saved ({what})")
