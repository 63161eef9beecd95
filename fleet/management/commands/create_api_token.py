from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from fleet.api_auth import create_api_token


class Command(BaseCommand):
    help = (
        "Create a personal API token for a user and print it once: "
        "create_api_token USERNAME --name NAME"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username", help="The user the token acts as.")
        parser.add_argument("--name", default="", help="What the token is for, e.g. 'psa-sync'.")

    def handle(self, username: str, name: str, **options) -> None:
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist:
            raise CommandError(f"no user {username!r}") from None
        if not user.is_active:
            raise CommandError(f"user {username!r} is not active")
        record, token = create_api_token(user, name)
        self.stderr.write(
            f"created API token {record.prefix}… for {username}; "
            "store it now, it is not shown again:"
        )
        self.stdout.write(token)
