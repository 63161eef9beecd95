import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from fleet.models import Tenant


class Command(BaseCommand):
    help = "Create or reset the demo operator login, grant it every tenant, print its password."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="operator")

    def handle(self, username: str, **options) -> None:
        user, _ = get_user_model().objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.test"}
        )
        password = secrets.token_urlsafe(12)
        user.set_password(password)
        user.save()
        for tenant in Tenant.objects.all():
            tenant.operators.add(user)
        self.stdout.write(password)
