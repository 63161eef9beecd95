"""Settings pages: an invitation link works once, keys are shown once and stored hashed, and
each action leaves an audit entry that only the tenant's admins see."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client

from fleet.accounts.models import AuditEntry, Invitation
from fleet.bearer import hash_secret
from fleet.ingest.models import IngestKey
from fleet.models import TenantGrant
from tests.factories import UserFactory, client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(tenant):
    user = UserFactory(username="adele")
    TenantGrant.objects.create(tenant=tenant, user=user, role="admin")
    return user


def invite(admin, tenant, mailoutbox, role="operator") -> str:
    response = client_for(admin).post(
        "/settings/people/", {"email": "nina@example.test", "tenant": tenant.slug, "role": role}
    )
    assert response.status_code == 302
    (mail,) = mailoutbox
    assert mail.to == ["nina@example.test"]
    return re.search(r"http://testserver(/invitation/\S+/)", mail.body).group(1)


def test_an_invitation_link_works_once_then_is_refused(admin, tenant, mailoutbox):
    link = invite(admin, tenant, mailoutbox)
    token = link.rstrip("/").rsplit("/", 1)[1]
    invitation = Invitation.objects.get()
    assert invitation.token_hash == hash_secret(token)
    assert token not in str(Invitation.objects.values().get())

    stranger = Client()
    assert stranger.get(link).status_code == 200
    response = stranger.post(link, {"username": "nina", "password": "a long enough password"})
    assert response.status_code == 302
    assert TenantGrant.objects.get(user__username="nina").role == "operator"

    again = Client()
    assert again.get(link).status_code == 410
    assert (
        again.post(link, {"username": "mallory", "password": "another long one!"}).status_code
        == 410
    )
    assert not TenantGrant.objects.filter(user__username="mallory").exists()
    assert [e.action for e in AuditEntry.objects.order_by("at", "pk")] == [
        "person.invite",
        "person.join",
    ]


def test_a_signed_in_person_accepts_with_their_account(admin, tenant, mailoutbox):
    link = invite(admin, tenant, mailoutbox, role="viewer")
    someone = UserFactory(username="sam")
    assert client_for(someone).post(link).status_code == 302
    assert TenantGrant.objects.get(user=someone, tenant=tenant).role == "viewer"
    assert client_for(UserFactory()).post(link).status_code == 410


def test_an_expired_invitation_is_refused(admin, tenant, mailoutbox):
    link = invite(admin, tenant, mailoutbox)
    Invitation.objects.update(expires_at="2000-01-01T00:00:00Z")
    assert Client().get(link).status_code == 410


def test_an_ingest_key_is_shown_once_and_stored_hashed(admin, tenant):
    client = client_for(admin)
    page = client.post("/settings/keys/", {"tenant": tenant.slug, "name": "laptops"})
    text = html.unescape(page.content.decode())
    shown = re.search(r'<code id="new-key">(fk_[^<]+)</code>', text).group(1)
    assert (
        f'$env:FLEET_INGEST_KEY = "{shown}"; .\\Send-FleetErrors.ps1 -Url http://testserver' in text
    )
    key = IngestKey.objects.get()
    assert key.key_hash == hash_secret(shown)
    assert shown not in str(IngestKey.objects.values().get())
    assert shown not in client.get("/settings/keys/").content.decode()
    assert AuditEntry.objects.get().action == "ingest_key.create"


def test_tenant_admins_see_only_their_tenants_audit_entries(admin, tenant, other_tenant):
    other_admin = UserFactory(username="otto")
    TenantGrant.objects.create(tenant=other_tenant, user=other_admin, role="admin")
    client_for(admin).post("/settings/keys/", {"tenant": tenant.slug, "name": "acme-key"})
    client_for(other_admin).post(
        "/settings/keys/", {"tenant": other_tenant.slug, "name": "globex-only-key"}
    )
    mine = client_for(admin).get("/settings/audit/").content.decode()
    assert "acme-key" in mine and "globex-only-key" not in mine
    everything = client_for(UserFactory(is_superuser=True)).get("/settings/audit/")
    assert "acme-key" in everything.content.decode()
    assert "globex-only-key" in everything.content.decode()


def test_an_api_token_is_shown_once_stored_hashed_and_revoked_by_its_owner_only(operator):
    from fleet.models import ApiToken

    client = client_for(operator)
    page = client.post("/settings/tokens/", {"name": "script"}).content.decode()
    shown = re.search(r'<code id="new-token">(ft_[^<]+)</code>', page).group(1)
    token = ApiToken.objects.get()
    assert token.token_hash == hash_secret(shown)
    assert shown not in str(ApiToken.objects.values().get())
    assert shown not in client.get("/settings/tokens/").content.decode()
    assert (
        client.get("/api/v1/triage", headers={"Authorization": f"Bearer {shown}"}).status_code
        == 200
    )
    assert client_for(UserFactory()).post(f"/settings/tokens/{token.pk}/revoke/").status_code == 404
    assert client.post(f"/settings/tokens/{token.pk}/revoke/").status_code == 302
    assert (
        Client().get("/api/v1/triage", headers={"Authorization": f"Bearer {shown}"}).status_code
        == 401
    )


def test_the_settings_index_lists_what_each_person_may_open(tenant):
    viewer, admin = UserFactory(username="v"), UserFactory(username="a")
    tenant.operators.add(viewer, through_defaults={"role": "viewer"})
    tenant.operators.add(admin, through_defaults={"role": "admin"})
    seen = client_for(viewer).get("/settings/").content.decode()
    assert 'href="/settings/tokens/"' in seen and 'href="/settings/people/"' not in seen
    assert 'href="/settings/"' in seen  # the nav link
    managed = client_for(admin).get("/settings/").content.decode()
    assert 'href="/settings/people/"' in managed and 'href="/settings/keys/"' in managed
    assert 'href="/settings/tenants/"' not in managed
    root = client_for(UserFactory(username="r", is_superuser=True)).get("/settings/")
    assert 'href="/settings/tenants/"' in root.content.decode()


def test_a_token_name_with_control_characters_is_kept_printable(operator):
    from fleet.models import ApiToken

    response = client_for(operator).post("/settings/tokens/", {"name": "ci\x00 runner\n"})
    assert response.status_code == 200
    assert ApiToken.objects.get(owner=operator).name == "ci runner"


def test_the_invitation_form_is_in_french_for_a_french_browser(admin):
    page = html.unescape(
        client_for(admin).get("/settings/people/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    )
    assert "Adresse e-mail" in page
    assert "Opérateur (tri, notes, imports, règles d'alerte)" in page
    assert "Operator (triage" not in page


def test_a_taken_username_is_refused_in_french(admin, tenant, mailoutbox):
    link = invite(admin, tenant, mailoutbox)
    response = Client().post(
        link, {"username": "adele", "password": "long enough pass"}, HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert "Ce nom d'utilisateur est déjà pris." in html.unescape(response.content.decode())
