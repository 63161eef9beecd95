"""Single sign-on end to end: our live server and a real OpenID Connect provider
(django-oauth-toolkit, tests/oidc_provider/) in its own process, driven over HTTP through the
authorization-code flow: our button, the provider's login form, its consent page, our callback.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore

from fleet.access import visible_tenants
from fleet.accounts.models import SingleSignOnIdentity
from fleet.models import Tenant
from tests.browser import chromium
from tests.factories import TenantFactory, UserFactory
from tests.fleet.accounts.conftest import PASSWORD
from tests.tools import CHROMIUM

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


class _Inputs(HTMLParser):
    """The named inputs of a page's form, with their values (hidden fields, the allow button)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list) -> None:
        values = dict(attrs)
        if tag == "input" and values.get("name"):
            self.fields[values["name"]] = values.get("value") or ""


def inputs(html: str) -> dict[str, str]:
    parser = _Inputs()
    parser.feed(html)
    return parser.fields


def to_consent(app_url: str, provider_login_prefix: str, username: str) -> tuple:
    """Our button, then the provider's login form: (session, the consent page)."""
    browser = requests.Session()
    login_page = browser.get(f"{app_url}/login/", timeout=10)
    assert "Sign in with Test provider" in login_page.text
    start = browser.get(f"{app_url}/oidc/authenticate/?next=/", allow_redirects=False, timeout=10)
    assert start.status_code == 302
    asked = parse_qs(urlsplit(start.headers["Location"]).query)
    assert asked["code_challenge_method"] == ["S256"] and asked["nonce"] and asked["state"]
    provider_login = browser.get(start.headers["Location"], timeout=10)
    assert provider_login.url.startswith(provider_login_prefix)
    fields = {**inputs(provider_login.text), "username": username, "password": PASSWORD}
    consent = browser.post(provider_login.url, data=fields, timeout=10)
    assert "Authorize Fleet errors?" in consent.text, consent.text[:500]
    return browser, consent


def sign_in(app_url: str, provider, username: str) -> tuple:
    """The whole flow; (session, the page it ends on)."""
    browser, consent = to_consent(app_url, provider.issuer.removesuffix("/o"), username)
    return browser, browser.post(consent.url, data=inputs(consent.text), timeout=10)


def test_signing_in_through_the_provider_ends_on_the_dashboard(live_server, sign_on):
    browser, page = sign_in(live_server.url, sign_on, "bob")
    assert page.status_code == 200
    assert page.url == f"{live_server.url}/"
    assert "bob@customer.example" in page.text and "Log out" in page.text
    user = User.objects.get(username="bob@customer.example")
    identity = SingleSignOnIdentity.objects.get(user=user)
    assert identity.issuer == sign_on.issuer and identity.subject
    assert not user.has_usable_password()
    # Signed in for real: another page answers as the same person.
    assert "bob@customer.example" in browser.get(f"{live_server.url}/triage/", timeout=10).text


def test_an_unmapped_person_is_a_plain_operator_with_no_tenants(live_server, sign_on):
    tenant = TenantFactory(slug="acme", name="Acme Corp")
    tenant.operators.add(UserFactory(username="olivia"))
    browser, page = sign_in(live_server.url, sign_on, "bob")
    assert page.status_code == 200
    user = User.objects.get(email="bob@customer.example")
    assert not user.is_superuser and not user.is_staff
    assert list(visible_tenants(user)) == []
    assert browser.get(f"{live_server.url}/tenants/acme/", timeout=10).status_code == 404


def test_the_admin_group_makes_an_msp_admin_and_leaving_it_takes_that_back(
    live_server, sign_on, settings
):
    TenantFactory(slug="acme", name="Acme Corp")
    sign_in(live_server.url, sign_on, "alice")
    alice = User.objects.get(email="alice@msp.example")
    assert alice.is_superuser and alice.is_staff
    assert [t.slug for t in visible_tenants(alice)] == ["acme"]
    # MSP admin sees every tenant through the role; no tenant was granted to her.
    assert not Tenant.objects.filter(operators=alice).exists()
    # The group no longer maps to MSP admin: her next sign-in makes her a plain operator.
    settings.OIDC_MSP_ADMIN_GROUPS = ["another-group"]
    sign_in(live_server.url, sign_on, "alice")
    alice.refresh_from_db()
    assert not alice.is_superuser and not alice.is_staff
    assert list(visible_tenants(alice)) == []


def test_a_verified_address_finds_the_local_account_and_keeps_only_its_grants(live_server, sign_on):
    acme = TenantFactory(slug="acme", name="Acme Corp")
    TenantFactory(slug="globex", name="Globex")
    dave = UserFactory(username="dave", email="Dave@msp.example")
    acme.operators.add(dave)
    sign_in(live_server.url, sign_on, "dave")
    assert User.objects.filter(email__iexact="dave@msp.example").count() == 1
    assert SingleSignOnIdentity.objects.get().user == dave
    assert [t.slug for t in visible_tenants(dave)] == ["acme"]


def test_an_unverified_address_never_takes_over_the_local_account(live_server, sign_on):
    acme = TenantFactory(slug="acme", name="Acme Corp")
    dave = UserFactory(username="dave", email="dave@msp.example")
    acme.operators.add(dave)
    sign_in(live_server.url, sign_on, "mallory")
    identity = SingleSignOnIdentity.objects.get()
    assert identity.user != dave
    assert list(visible_tenants(identity.user)) == []


def test_a_person_outside_the_operator_groups_is_refused_and_no_account_made(
    live_server, sign_on, settings
):
    settings.OIDC_OPERATOR_GROUPS = ["fleet-operators"]
    _, page = sign_in(live_server.url, sign_on, "bob")
    assert page.status_code == 403
    assert "not in a group or email domain" in page.text
    assert not User.objects.filter(email="bob@customer.example").exists()
    _, page = sign_in(live_server.url, sign_on, "carol")
    assert page.status_code == 200
    assert not User.objects.get(email="carol@msp.example").is_superuser


def test_a_callback_with_another_state_is_refused(live_server, sign_on):
    browser, consent = to_consent(live_server.url, sign_on.issuer.removesuffix("/o"), "bob")
    answer = browser.post(consent.url, data=inputs(consent.text), allow_redirects=False)
    callback = urlsplit(answer.headers["Location"])
    query = parse_qs(callback.query)
    assert callback.path == "/oidc/callback/" and query["code"]
    forged_query = urlencode({**query, "state": "forged-state"}, doseq=True)
    forged = urlunsplit(callback._replace(query=forged_query))
    page = browser.get(forged, timeout=10)
    assert page.status_code == 400
    assert "could not be verified" in page.text
    assert not User.objects.filter(email="bob@customer.example").exists()
    assert browser.get(f"{live_server.url}/", allow_redirects=False).status_code == 302


def test_a_token_whose_nonce_is_not_the_one_sent_is_refused(live_server, sign_on):
    browser, consent = to_consent(live_server.url, sign_on.issuer.removesuffix("/o"), "bob")
    # Our session now remembers the nonce it sent; the provider will put that one in the ID
    # token. Change what we remember, as a token replayed from another sign-in would differ.
    session = SessionStore(session_key=browser.cookies.get("sessionid"))
    states = session["oidc_states"]
    for state in states.values():
        state["nonce"] = "not-the-nonce-sent"
    session["oidc_states"] = states
    session.save()
    page = browser.post(consent.url, data=inputs(consent.text), timeout=10)
    assert page.status_code == 400
    assert "could not be verified" in page.text
    assert not User.objects.filter(email="bob@customer.example").exists()


def test_declining_at_the_provider_says_so(live_server, sign_on):
    browser, consent = to_consent(live_server.url, sign_on.issuer.removesuffix("/o"), "bob")
    fields = {k: v for k, v in inputs(consent.text).items() if k != "allow"}
    page = browser.post(consent.url, data=fields, timeout=10)
    assert page.status_code == 400
    assert "Signing in was not completed" in page.text and "access_denied" in page.text


@pytest.mark.browser
@pytest.mark.needs_tool(CHROMIUM, "Debian's chromium drives the browser tests")
def test_signing_in_through_the_provider_in_chromium(live_server, sign_on, monkeypatch):
    with chromium(monkeypatch, ["--no-sandbox", "--disable-gpu", "--no-first-run"]) as browser:
        tab = browser.new_page()
        tab.goto(f"{live_server.url}/login/")
        tab.click("text=Sign in with Test provider")
        tab.wait_for_url(f"{sign_on.issuer.removesuffix('/o')}/accounts/login/**")
        tab.fill("#id_username", "alice")
        tab.fill("#id_password", PASSWORD)
        tab.click("#provider-login button[type=submit]")
        tab.click("input[name=allow]")
        tab.wait_for_url(f"{live_server.url}/")
        assert tab.locator("header .account").inner_text() == "alice@msp.example"
    assert User.objects.get(email="alice@msp.example").is_superuser
