"""Every URL refuses a POST without a CSRF token, except the key-authenticated ingest API (and the
triage and alerts APIs when a personal token, not a session, authenticates them)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern

from fleet.ingest.api_views import post_occurrences
from fleet.ingest.keys import create_ingest_key
from fleet.models import Occurrence
from tests.factories import UserFactory, client_for

pytestmark = pytest.mark.django_db

# Views that opt out of the CSRF middleware, and why it is safe for each.
CSRF_EXEMPT = {
    # Machine clients with a bearer ingest key; no session cookie is ever read.
    "fleet.ingest.api_views.post_occurrences",
    # Checks the upload's size before anything reads the body, then applies csrf_protect.
    "fleet.ingest.views.import_new",
    # Personal API tokens need no CSRF token; session requests get Django's check in the view
    # (fleet.api_auth.csrf_refusal), before anything else is read.
    "fleet.triage.api_views.triage_flag",
    # The same for the alerts API: the check comes before the method is even looked at.
    "fleet.alerts.api_views.rule_list",
    "fleet.alerts.api_views.rule_detail",
    "fleet.alerts.api_views.rule_test",
}
SAMPLE = {"int": "1", "slug": "acme", "str": "0x8024000B", "path": "1", "uuid": "0" * 32}


def _concrete(pattern) -> str:
    """A path that the pattern matches, with sample values for its parameters."""
    if isinstance(pattern, RoutePattern):
        return re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE[m.group(1) or "str"], str(pattern))
    assert isinstance(pattern, RegexPattern)
    text = re.sub(
        r"\(\?P<\w+>([^)]*)\)",
        lambda m: m.group(1).split("|")[0] if m.group(1) != ".*" else "nothing-here/",
        str(pattern),
    )
    return text.lstrip("^").rstrip("$")


def every_url() -> list[tuple[str, URLPattern]]:
    found = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            path = prefix + _concrete(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, path)
            else:
                found.append(("/" + path, pattern))

    walk(get_resolver().url_patterns, "")
    return found


def _dotted(callback) -> str:
    inner = getattr(callback, "__wrapped__", callback)
    while hasattr(inner, "__wrapped__"):
        inner = inner.__wrapped__
    return f"{inner.__module__}.{inner.__qualname__}"


@pytest.fixture
def root_client(db):
    return client_for(
        UserFactory(username="root", is_staff=True, is_superuser=True), enforce_csrf_checks=True
    )


def test_the_walk_reaches_the_forms_and_the_admin():
    urls = {url for url, _ in every_url()}
    assert len(urls) > 100
    for url in ("/login/", "/logout/", "/admin/login/", "/imports/new/", "/triage/1/",
                "/codes/0x8024000B/notes/", "/codes/0x8024000B/notes/1/delete/",
                "/admin/fleet/tenant/add/", "/admin/fleet/tenant/1/change/",
                "/admin/fleet/ingestkey/", "/api/v1/occurrences"):  # fmt: skip
        assert url in urls, url


def test_only_the_documented_views_are_csrf_exempt():
    exempt = {
        _dotted(pattern.callback)
        for _, pattern in every_url()
        if getattr(pattern.callback, "csrf_exempt", False)
    }
    assert exempt == CSRF_EXEMPT


def test_every_url_refuses_a_post_without_the_token(root_client, tenant):
    checked = 0
    for url, pattern in every_url():
        if _dotted(pattern.callback) == "fleet.ingest.api_views.post_occurrences":
            continue
        resolve(url)  # the sample path is a real URL (an earlier pattern may serve it)
        response = root_client.post(url, {"anything": "1"})
        assert response.status_code == 403, f"{url}: {response.status_code}"
        assert b"CSRF" in response.content, url
        checked += 1
    assert checked > 100


def test_anonymous_posts_to_the_login_pages_need_the_token_too(db):
    client = Client(enforce_csrf_checks=True)
    for url in ("/login/", "/admin/login/"):
        response = client.post(url, {"username": "x", "password": "y"})
        assert response.status_code == 403


def test_the_same_post_with_the_token_goes_through(operator):
    client = Client(enforce_csrf_checks=True)
    client.get("/login/")
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/login/",
        {"username": operator.username, "password": "correct horse battery staple",
         "csrfmiddlewaretoken": token},
    )  # fmt: skip
    assert response.status_code == 302


@pytest.mark.usefixtures("dead_broker")
def test_ingest_api_needs_the_bearer_key_instead(root_client, tenant):
    assert getattr(post_occurrences, "csrf_exempt", False)
    body = '[{"device": "PC-1", "code": "0x8024000B", "occurred_at": "2026-01-01T00:00:00Z"}]'
    # A logged-in browser session is not enough: a cross-site form cannot post occurrences.
    response = root_client.post("/api/v1/occurrences", body, content_type="application/json")
    assert response.status_code == 401
    assert Occurrence.objects.count() == 0
    _record, secret = create_ingest_key(tenant, "agents")
    response = Client(enforce_csrf_checks=True).post(
        "/api/v1/occurrences",
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 202
