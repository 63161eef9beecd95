"""Create the test provider's users and its registered client, from a JSON spec on stdin:
{"client": {"client_id", "client_secret", "redirect_uri"}, "users": [{"username", "password",
"email", "verified", "groups"}]}."""

import json
import sys

import django


def main() -> None:
    django.setup()
    from django.contrib.auth.models import Group, User
    from oauth2_provider.models import Application

    spec = json.load(sys.stdin)
    for person in spec["users"]:
        user = User.objects.create_user(
            person["username"],
            email=person["email"],
            password=person["password"],
            first_name=person["username"].title(),
            last_name="" if person.get("verified", True) else "unverified",
        )
        for name in person.get("groups", []):
            user.groups.add(Group.objects.get_or_create(name=name)[0])
    client = spec["client"]
    Application.objects.create(
        name="Fleet errors",
        client_id=client["client_id"],
        client_secret=client["client_secret"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=client["redirect_uri"],
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=False,  # the person consents on a page, as at a real provider
    )


if __name__ == "__main__":
    main()
