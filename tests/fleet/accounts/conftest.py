"""The real OpenID Connect provider the single sign-on tests sign in through."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.oidc_provider.server import OidcProvider

CLIENT_ID = "fleet-errors-test"
CLIENT_SECRET = "a-client-secret-for-loopback-only"
PASSWORD = "provider password 1"
# The people at the provider: an admin by group, two plain people, one whose address the
# provider does not vouch for.
PEOPLE = [
    {"username": "alice", "email": "alice@msp.example", "groups": ["fleet-admins"]},
    {"username": "bob", "email": "bob@customer.example", "groups": []},
    {"username": "carol", "email": "carol@msp.example", "groups": ["fleet-operators"]},
    {"username": "dave", "email": "dave@msp.example", "groups": []},
    {"username": "mallory", "email": "dave@msp.example", "groups": [], "verified": False},
]


@pytest.fixture(scope="session")
def oidc_provider(live_server, tmp_path_factory) -> Iterator[OidcProvider]:
    """Started once per run, with our live server's callback registered as its redirect URI."""
    provider = OidcProvider(tmp_path_factory.mktemp("oidc-provider"))
    provider.start(
        client={
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uri": f"{live_server.url}/oidc/callback/",
        },
        users=[{**person, "password": PASSWORD} for person in PEOPLE],
    )
    yield provider
    provider.stop()


@pytest.fixture
def sign_on(settings, oidc_provider: OidcProvider) -> OidcProvider:
    """Our app configured for the provider by its issuer alone (discovery finds the rest)."""
    settings.OIDC_CLIENT_ID = CLIENT_ID
    settings.OIDC_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_ISSUER = oidc_provider.issuer
    settings.OIDC_PROVIDER_NAME = "Test provider"
    settings.OIDC_MSP_ADMIN_GROUPS = ["fleet-admins"]
    settings.OIDC_MSP_ADMIN_DOMAINS = []
    settings.OIDC_OPERATOR_GROUPS = []
    settings.OIDC_OPERATOR_DOMAINS = []
    return oidc_provider
