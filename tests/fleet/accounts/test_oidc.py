"""Single sign-on in process: the role mapping, the login page's button, and the provider
being down (a real refused connection on loopback, answered with a page, never a 500)."""

from __future__ import annotations

import time

import pytest

from fleet.accounts import oidc
from fleet.accounts.models import SingleSignOnIdentity
from tests.factories import UserFactory
from tests.services import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def configured(settings):
    settings.OIDC_CLIENT_ID = "fleet"
    settings.OIDC_CLIENT_SECRET = "secret"
    settings.OIDC_PROVIDER_NAME = ""
    settings.OIDC_MSP_ADMIN_GROUPS = ["admins-guid"]
    settings.OIDC_MSP_ADMIN_DOMAINS = ["msp.example"]
    settings.OIDC_OPERATOR_GROUPS = []
    settings.OIDC_OPERATOR_DOMAINS = []
    settings.OIDC_GROUPS_CLAIM = "groups"
    return settings


@pytest.fixture
def nothing_listens(configured):
    """Every endpoint on a loopback port nobody listens on."""
    base = f"http://127.0.0.1:{free_port()}"
    configured.OIDC_ISSUER = f"{base}/o"
    return base


@pytest.mark.parametrize(
    ("claims", "role"),
    [
        ({"groups": ["admins-guid"]}, oidc.MSP_ADMIN),
        ({"groups": "admins-guid"}, oidc.MSP_ADMIN),
        ({"email": "ann@msp.example", "email_verified": True}, oidc.MSP_ADMIN),
        # Entra's "domain owner verified" claim counts as verified.
        ({"email": "ann@MSP.example", "xms_edov": True}, oidc.MSP_ADMIN),
        # An address the provider does not vouch for maps nothing.
        ({"email": "ann@msp.example"}, oidc.OPERATOR),
        ({"email": "ann@msp.example", "email_verified": False}, oidc.OPERATOR),
        ({"email": "ann@msp.example.evil", "email_verified": True}, oidc.OPERATOR),
        ({"groups": ["admins"]}, oidc.OPERATOR),
        ({}, oidc.OPERATOR),
    ],
)
def test_groups_and_verified_domains_map_to_msp_roles(configured, claims, role):
    assert oidc.msp_role({"sub": "1", **claims}) == role


def test_with_operator_groups_set_only_they_and_admins_may_sign_in(configured):
    configured.OIDC_OPERATOR_GROUPS = ["ops-guid"]
    configured.OIDC_GROUPS_CLAIM = "roles"
    assert oidc.msp_role({"roles": ["ops-guid"]}) == oidc.OPERATOR
    assert oidc.msp_role({"roles": ["admins-guid"]}) == oidc.MSP_ADMIN
    assert oidc.msp_role({"groups": ["ops-guid"]}) is None  # another claim than configured
    assert oidc.msp_role({"roles": []}) is None
    configured.OIDC_OPERATOR_DOMAINS = ["customer.example"]
    assert oidc.msp_role({"email": "b@customer.example", "email_verified": True}) == "operator"
    assert oidc.msp_role({"email": "b@customer.example"}) is None


def test_the_mapping_takes_back_only_the_msp_admin_it_gave():
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    linked = SingleSignOnIdentity(user=root, issuer="https://idp", subject="r")
    oidc.apply_role(root, linked, oidc.MSP_ADMIN)
    assert not linked.granted_msp_admin  # already an MSP admin: not the mapping's doing
    oidc.apply_role(root, linked, oidc.OPERATOR)
    assert root.is_superuser and root.is_staff
    ann = UserFactory(username="ann")
    hers = SingleSignOnIdentity(user=ann, issuer="https://idp", subject="a")
    oidc.apply_role(ann, hers, oidc.MSP_ADMIN)
    assert ann.is_superuser and ann.is_staff and hers.granted_msp_admin
    oidc.apply_role(ann, hers, oidc.OPERATOR)
    assert not ann.is_superuser and not ann.is_staff and not hers.granted_msp_admin


def test_without_a_client_id_there_is_no_button_and_no_sign_on(client, settings):
    settings.OIDC_CLIENT_ID = ""
    assert "Sign in with" not in client.get("/login/").content.decode()
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/?code=a&state=b").status_code == 404


def test_the_login_page_offers_the_provider_by_name(client, configured):
    configured.OIDC_ISSUER = "https://login.microsoftonline.com/0000-tenant/v2.0"
    page = client.get("/login/?next=/triage/").content.decode()
    assert "Sign in with Microsoft" in page
    assert 'href="/oidc/authenticate/?next=/triage/"' in page
    assert 'name="password"' in page  # local passwords stay
    configured.OIDC_PROVIDER_NAME = "Contoso"
    assert "Sign in with Contoso" in client.get("/login/").content.decode()


def test_a_provider_that_is_down_gives_a_page_not_a_500(client, nothing_listens):
    response = client.get("/oidc/authenticate/?next=/")
    assert response.status_code == 503
    assert "could not be reached" in response.content.decode()
    assert "oidc_states" not in client.session


def test_a_token_endpoint_that_is_down_gives_a_page_not_a_500(client, configured):
    base = f"http://127.0.0.1:{free_port()}"
    configured.OIDC_ISSUER = ""
    configured.OIDC_AUTHORIZATION_ENDPOINT = f"{base}/authorize"
    configured.OIDC_TOKEN_ENDPOINT = f"{base}/token"
    configured.OIDC_JWKS_URI = f"{base}/jwks"
    configured.OIDC_USERINFO_ENDPOINT = ""
    session = client.session
    session["oidc_states"] = {
        "the-state": {"nonce": "n" * 32, "code_verifier": "v" * 64, "added_on": time.time()}
    }
    session.save()
    response = client.get("/oidc/callback/?code=abc&state=the-state")
    assert response.status_code == 503
    assert "could not be reached" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_issuer_that_serves_no_discovery_document_gives_the_same_page(
    client, live_server, configured
):
    # A real HTTP server that is not a provider: our own, answering 404 for the document.
    configured.OIDC_ISSUER = f"{live_server.url}/not-a-provider"
    response = client.get("/oidc/authenticate/")
    assert response.status_code == 503
    assert "could not be reached" in response.content.decode()
