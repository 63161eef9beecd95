from django.core.management.base import BaseCommand, CommandError
from django.utils.text import slugify

from fleet.models import Tenant


class Command(BaseCommand):
    help = 'Create a tenant (an MSP customer): create_tenant SLUG "Display name"'

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug")
        parser.add_argument("name")

    def handle(self, slug: str, name: str, **options) -> None:
        if slugify(slug) != slug:
            raise CommandError(f"{slug!r} is not a valid slug; try {slugify(slug)!r}")
        if not name.strip():
            raise CommandError("the display name is blank")
        tenant, created = Tenant.objects.get_or_create(slug=slug, defaults={"name": name.strip()})
        if not created:
            raise CommandError(f"tenant {slug!r} already exists ({tenant.name})")
        self.stdout.write(f"created tenant {tenant.slug} ({tenant.name})")
