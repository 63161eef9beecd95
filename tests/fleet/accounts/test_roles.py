"""One permission test per view (the NetBox pattern): for every page and endpoint that reads or
acts, what a viewer, an operator and an admin of the tenant get, and someone granted only
another tenant."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from codes.models import RunbookNote
from fleet.access import administrable_tenants, operable_tenants, visible_tenants
from fleet.alerts.models import AlertRule
from fleet.api_auth import create_api_token
from fleet.ingest.models import IngestKey
from fleet.models import TenantGrant
from fleet.triage.models import TriageFlag
from tests.factories import UserFactory, client_for
from tests.fleet.alerts.test_rule_pages import form as rule_form
from tests.fleet.triage.factories import FlagFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dead_broker")]

ROLES = ["viewer", "operator", "admin", "stranger"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def person(request, tenant, other_tenant):
    """A user holding `tenant` in the parametrised role; a stranger is an operator of
    `other_tenant` only."""
    role = request.param
    user = UserFactory(username=f"p-{role}")
    if role == "stranger":
        TenantGrant.objects.create(tenant=other_tenant, user=user, role="operator")
    else:
        TenantGrant.objects.create(tenant=tenant, user=user, role=role)
    return role, user


def expect(role: str, **statuses: int) -> int:
    return statuses[role]


@pytest.fixture
def flag(tenant):
    return FlagFactory(tenant=tenant)


@pytest.mark.parametrize("person", ROLES, indirect=True)
def test_flag_page(person, flag):
    role, user = person
    status = client_for(user).get(f"/triage/{flag.pk}/").status_code
    assert status == expect(role, viewer=200, operator=200, admin=200, stranger=404)


@pytest.mark.parametrize("person", ROLES, indirect=True)
def test_triage_action_on_the_flag_page(person, flag):
    role, user = person
    response = client_for(user).post(f"/triage/{flag.pk}/", {"action": "acknowledge"})
    assert response.status_code == expect(role, viewer=403, operator=302, admin=302, stranger=404)
    flag.refresh_from_db()
    acted = flag.state == TriageFlag.State.ACKNOWLEDGED
    assert acted == (role in ("operator", "admin"))


@pytest.mark.parametrize("person", ROLES, indirect=True)
def test_triage_bulk_action(person, flag):
    role, user = person
    response = client_for(user).post(
        "/triage/bulk/", {"action": "acknowledge", "flag": [str(flag.pk)]}
    )
    assert response.status_code == expect(role, viewer=403, operator=302, admin=302, stranger=302)
    flag.refresh_from_db()
    assert (flag.state == TriageFlag.State.ACKNOWLEDGED) == (role in ("operator", "admin"))


@pytest.mark.parametrize("person", ROLES, indirect=True)
def test_triage_assign(person, flag):
    role, user = person
    response = client_for(user).post(f"/triage/{flag.pk}/assign/", {"assignee": ""})
    assert response.status_code == expect(role, viewer=403, operator=302, admin=302, stranger=404)


@pytest.mark.parametrize("person", ROLES, indirect=True)
def test_triage_api_action(person, flag):
    role, user = person
    response = client_for(user).post(
        f"/api/v1/triage/{flag.pk}",
        json.dumps({"action": "acknowledge"}),
        content_type="application/json",
    )
    assert response.status_code == expect(role, viewer=403, operator=200, admin=200, stranger=404)


def csv_upload(tenant):
    body = b"DeviceName,ErrorCode,Timestamp\nPC-1,0x8024000B,2026-01-01T00:00:00Z\n"
    return {
        "tenant": tenant.pk,
        "format": "auto",
        "file": SimpleUploadedFile("errors.csv", body, content_type="text/csv"),
    }


@pytest.mark.parametrize("person", ROLES, indirect=True)
def test_upload_page(person, tenant):
    role, user = person
    client = client_for(user)
    assert client.get("/imports/new/").status_code == expect(
        role, viewer=403, operator=200, admin=200, stranger=200
    )
    response = client.post("/imports/new/", csv_upload(tenant))
    # A stranger's form offers only their own tenant, so the choice is refused in the form.
    assert response.status_code == expect(role, viewer=403, operator=302, admin=302, stranger=200)


@pytest.mark.parametrize("person", ROLES, indirect=True)
def test_alert_rule_creation_page(person, tenant):
    role, user = person
    client = client_for(user)
    assert client.get("/alerts/rules/new/").status_code == expect(
        role, viewer=403, operator=200, admin=200, stranger=200
    )
    response = client.post("/alerts/rules/new/", rule_form(tenants=[tenant.slug]))
    assert response.status_code == expect(role, viewer=403, operator=302, admin=302, stranger=403)
    assert AlertRule.objects.exists() == (role in ("operator", "admin"))


@pytest.mark.parametrize("person", ROLES, indirect=True)
def test_alert_rule_creation_api(person, tenant):
    role, user = person
    _, token = create_api_token(user, "roles")
    body = {"name": "Storm", "tenants": [tenant.slug], "min_devices": 5,
            "channels": [{"type": "email", "to": ["noc@example.test"]}]}  # fmt: skip
    response = Client().post(
        "/api/v1/alert-rules",
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == expect(role, viewer=403, operator=201, admin=201, stranger=403)
    assert AlertRule.objects.exists() == (role in ("operator", "admin"))


@pytest.mark.parametrize("person", ROLES, indirect=True)
def test_ingest_keys_page(person, tenant):
    role, user = person
    client = client_for(user)
    assert client.get("/settings/keys/").status_code == expect(
        role, viewer=403, operator=403, admin=200, stranger=403
    )
    response = client.post("/settings/keys/", {"tenant": tenant.slug, "name": "laptops"})
    assert response.status_code == expect(role, viewer=403, operator=403, admin=200, stranger=403)
    assert IngestKey.objects.filter(tenant=tenant).exists() == (role == "admin")


@pytest.mark.parametrize("person", ROLES, indirect=True)
def test_ingest_key_revoke(person, tenant):
    from fleet.ingest.keys import create_ingest_key

    role, user = person
    key, _ = create_ingest_key(tenant)
    response = client_for(user).post(f"/settings/keys/{key.pk}/revoke/")
    assert response.status_code == expect(role, viewer=403, operator=403, admin=302, stranger=403)
    key.refresh_from_db()
    assert (key.revoked_at is not None) == (role == "admin")


@pytest.mark.parametrize("person", ROLES, indirect=True)
def test_people_page_and_invitation(person, tenant, mailoutbox):
    role, user = person
    client = client_for(user)
    assert client.get("/settings/people/").status_code == expect(
        role, viewer=403, operator=403, admin=200, stranger=403
    )
    response = client.post(
        "/settings/people/", {"email": "new@example.test", "tenant": tenant.slug, "role": "viewer"}
    )
    assert response.status_code == expect(role, viewer=403, operator=403, admin=302, stranger=403)
    assert len(mailoutbox) == (1 if role == "admin" else 0)


@pytest.mark.parametrize("person", ROLES, indirect=True)
def test_set_role_and_remove(person, tenant):
    role, user = person
    colleague = UserFactory(username="colleague")
    grant = TenantGrant.objects.create(tenant=tenant, user=colleague, role="viewer")
    client = client_for(user)
    response = client.post(f"/settings/people/{grant.pk}/role/", {"role": "operator"})
    assert response.status_code == expect(role, viewer=403, operator=403, admin=302, stranger=403)
    grant.refresh_from_db()
    assert (grant.role == "operator") == (role == "admin")
    response = client.post(f"/settings/people/{grant.pk}/remove/")
    assert response.status_code == expect(role, viewer=403, operator=403, admin=302, stranger=403)
    assert TenantGrant.objects.filter(pk=grant.pk).exists() == (role != "admin")


@pytest.mark.parametrize("person", ROLES, indirect=True)
def test_audit_page(person):
    role, user = person
    assert client_for(user).get("/settings/audit/").status_code == expect(
        role, viewer=403, operator=403, admin=200, stranger=403
    )


def test_an_admin_of_one_tenant_gets_404_for_another_tenants_key_and_grant(tenant, other_tenant):
    from fleet.ingest.keys import create_ingest_key

    admin = UserFactory(username="adam")
    TenantGrant.objects.create(tenant=tenant, user=admin, role="admin")
    theirs, _ = create_ingest_key(other_tenant)
    grant = TenantGrant.objects.create(tenant=other_tenant, user=UserFactory(), role="viewer")
    client = client_for(admin)
    assert client.post(f"/settings/keys/{theirs.pk}/revoke/").status_code == 404
    assert client.post(f"/settings/people/{grant.pk}/remove/").status_code == 404
    assert client.post("/settings/keys/", {"tenant": other_tenant.slug}).status_code == 400
    assert "Globex" not in client.get("/settings/people/").content.decode()


def test_role_sets_of_access(tenant, other_tenant):
    viewer = UserFactory()
    TenantGrant.objects.create(tenant=tenant, user=viewer, role="viewer")
    admin = UserFactory()
    TenantGrant.objects.create(tenant=tenant, user=admin, role="admin")
    msp = UserFactory(is_superuser=True)
    assert list(visible_tenants(viewer)) == [tenant]
    assert not operable_tenants(viewer).exists()
    assert not administrable_tenants(viewer).exists()
    assert list(administrable_tenants(admin)) == [tenant]
    assert set(administrable_tenants(msp)) == {tenant, other_tenant}
    # Staff status alone opens the Django admin for one's own tenants, not every tenant.
    assert not administrable_tenants(UserFactory(is_staff=True)).exists()


def test_a_grant_made_the_old_way_is_an_operator(tenant):
    user = UserFactory()
    tenant.operators.add(user)
    assert TenantGrant.objects.get(user=user).role == "operator"
    assert list(operable_tenants(user)) == [tenant]


@pytest.mark.parametrize("person", ROLES, indirect=True)
def test_tenant_settings_are_for_msp_wide_admins_only(person, tenant):
    role, user = person
    client = client_for(user)
    assert client.get("/settings/tenants/").status_code == 403
    assert client.post(f"/settings/tenants/{tenant.pk}/", {"archive": "1"}).status_code == 403


def test_an_msp_wide_admin_creates_renames_and_archives_a_tenant(tenant):
    from fleet.accounts.models import AuditEntry
    from fleet.models import Tenant

    client = client_for(UserFactory(is_superuser=True))
    new = {"slug": "initech", "name": "Initech", "time_zone": "Europe/Paris"}
    assert client.post("/settings/tenants/", new).status_code == 302
    initech = Tenant.objects.get(slug="initech")
    bad = new | {"time_zone": "Mars/Olympus"}
    assert client.post(f"/settings/tenants/{initech.pk}/", bad).status_code == 400
    renamed = new | {"name": "Initech SA"}
    assert client.post(f"/settings/tenants/{initech.pk}/", renamed).status_code == 302
    assert client.post(f"/settings/tenants/{initech.pk}/", {"archive": "1"}).status_code == 302
    assert initech not in visible_tenants(UserFactory(is_superuser=True))
    assert [e.action for e in AuditEntry.objects.order_by("at", "pk")] == [
        "tenant.create",
        "tenant.edit",
        "tenant.archive",
    ]


@pytest.mark.parametrize("person", ROLES, indirect=True)
def test_runbook_note_writing(person, tenant):
    role, user = person
    client = client_for(user)
    page = client.get("/codes/0x8024000B/").content.decode()
    assert ("Add note" in page) == (role != "viewer")
    response = client.post(
        "/codes/0x8024000B/notes/", {"body": "Reset the WU cache", "tenant": str(tenant.pk)}
    )
    # A stranger's form offers only their own tenant, so this tenant is refused in the form.
    assert response.status_code == expect(role, viewer=403, operator=302, admin=302, stranger=400)
    assert RunbookNote.objects.exists() == (role in ("operator", "admin"))
