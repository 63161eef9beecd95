from django.core.management.base import BaseCommand, CommandError

from fleet.ingest.keys import create_ingest_key
from fleet.models import Tenant


class Command(BaseCommand):
    help = "Create an ingest API key for a tenant and print it once: create_ingest_key TENANT"

    def add_arguments(self, parser) -> None:
        parser.add_argument("tenant", help="Tenant slug.")
        parser.add_argument("--name", default="", help="What the key is for, e.g. 'agents'.")

    def handle(self, tenant: str, name: str, **options) -> None:
        try:
            owner = Tenant.objects.get(slug=tenant)
        except Tenant.DoesNotExist:
            raise CommandError(f"no tenant with slug {tenant!r}") from None
        record, key = create_ingest_key(owner, name)
        self.stderr.write(
            f"created ingest key {record.prefix}… for {owner.slug}; "
            "store it now, it is not shown again:"
        )
        self.stdout.write(key)
