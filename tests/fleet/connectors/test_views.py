import pytest
from django.core.management import CommandError, call_command

from fleet.connectors.models import Connector
from tests.factories import UserFactory, client_for
from tests.fleet.connectors.microsoft_server import CLIENT_ID, CLIENT_SECRET, ENTRA_TENANT, STORED

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(tenant):
    """A tenant admin (role admin on acme only): connectors are a tenant setting."""
    user = UserFactory(username="sam")
    tenant.operators.add(user, through_defaults={"role": "admin"})
    return client_for(user)


def test_the_page_is_for_admins_of_granted_tenants(tenant, other_tenant, staff, logged_in):
    assert staff.get("/tenants/acme/connector/").status_code == 200
    assert staff.get("/tenants/globex/connector/").status_code == 404
    assert logged_in.get("/tenants/acme/connector/").status_code == 403
    assert logged_in.post("/tenants/acme/connector/test/").status_code == 403


def test_saving_stores_the_secret_encrypted_and_never_shows_it(tenant, staff):
    response = staff.post(
        "/tenants/acme/connector/",
        {
            "entra_tenant_id": ENTRA_TENANT,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "workspace_id": "",
            "interval_minutes": 120,
            "enabled": "on",
        },  # fmt: skip
    )
    assert response.status_code == 302
    connector = Connector.objects.get(tenant=tenant)
    assert CLIENT_SECRET not in connector.client_secret_encrypted
    assert connector.client_secret() == CLIENT_SECRET
    page = staff.get("/tenants/acme/connector/").content.decode()
    assert CLIENT_SECRET not in page
    assert "Never run" in page


def test_test_connection_says_what_answered(connector, microsoft):
    admin = client_for(UserFactory(username="root", is_staff=True, is_superuser=True))
    response = admin.post("/tenants/acme/connector/test/", follow=True)
    text = response.content.decode()
    assert "Graph: signed in; 2 feature update profile(s)." in text
    assert "Log Analytics: signed in; the workspace answered." in text
    microsoft.secret = "other"  # noqa: S105
    text = admin.post("/tenants/acme/connector/test/", follow=True).content.decode()
    assert "AADSTS7000215" in text


def test_connect_tenant_reads_the_secret_from_a_file(tenant, tmp_path, capsys):
    secret_file = tmp_path / "secret"
    secret_file.write_text(CLIENT_SECRET + "\n")
    call_command("connect_tenant", "acme", "--entra-tenant-id", ENTRA_TENANT,
                 "--client-id", CLIENT_ID, "--client-secret-file", str(secret_file),
                 "--workspace-id", "9a8b7c6d-0000-4000-8000-00000000cccc")  # fmt: skip
    connector = Connector.objects.get(tenant=tenant)
    assert connector.client_secret() == CLIENT_SECRET
    assert connector.workspace_id == "9a8b7c6d-0000-4000-8000-00000000cccc"
    assert CLIENT_SECRET not in capsys.readouterr().out
    with pytest.raises(CommandError, match="client_id"):
        call_command("connect_tenant", "acme", "--entra-tenant-id", ENTRA_TENANT,
                     "--client-id", "nope", "--client-secret-file", str(secret_file))  # fmt: skip


def test_the_admin_lists_and_adds_connectors_without_showing_secrets(tenant, admin_client):
    response = admin_client.post(
        "/admin/fleet/connector/add/",
        {
            "tenant": tenant.pk,
            "entra_tenant_id": ENTRA_TENANT,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "workspace_id": "",
            "enabled": "on",
            "interval_minutes": 360,
        },  # fmt: skip
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    connector = Connector.objects.get(tenant=tenant)
    assert connector.client_secret() == CLIENT_SECRET
    change = admin_client.get(f"/admin/fleet/connector/{connector.pk}/change/").content.decode()
    assert CLIENT_SECRET not in change
    assert connector.client_secret_encrypted not in change
    assert admin_client.get("/admin/fleet/connector/").status_code == 200


def test_pull_now_queues_a_pull_or_says_the_queue_is_down(connector, dead_broker, staff):
    text = staff.post("/tenants/acme/connector/pull/", follow=True).content.decode()
    assert "The pull could not be queued (the task queue is down)." in text


def test_the_page_shows_the_last_run(connector, microsoft, staff):
    from fleet.connectors.pulls import pull

    pull(connector)
    page = staff.get("/tenants/acme/connector/").content.decode()
    assert '<td id="connector-status">OK</td>' in page
    assert f'<td id="connector-rows">{STORED}</td>' in page
    assert "connector: DeviceFailuresByFeatureUpdatePolicy Windows 11 24H2 - pilot.zip" in page


def test_the_tenant_page_links_the_connector_for_admins_only(tenant, staff, logged_in):
    link = 'href="/tenants/acme/connector/"'
    assert link in staff.get("/tenants/acme/").content.decode()
    assert link not in logged_in.get("/tenants/acme/").content.decode()
