"""Ingest keys in the admin: created with the key shown once, revoked by an action."""

import re

import pytest

from fleet.ingest.keys import authenticate
from fleet.ingest.models import IngestKey

pytestmark = pytest.mark.django_db


def test_adding_a_key_shows_it_once_and_stores_its_hash(admin_client, tenant):
    response = admin_client.post(
        "/admin/fleet/ingestkey/add/", {"tenant": tenant.pk, "name": "agents"}, follow=True
    )

    page = response.content.decode()
    key = re.search(r"(fk_[0-9a-f]{8}_[A-Za-z0-9_-]{43})", page).group(1)
    record = IngestKey.objects.get()
    assert (record.tenant, record.name) == (tenant, "agents")
    assert authenticate(f"Bearer {key}") == record
    listing = admin_client.get("/admin/fleet/ingestkey/").content.decode()
    assert key not in listing


def test_revoke_action(admin_client, tenant):
    admin_client.post("/admin/fleet/ingestkey/add/", {"tenant": tenant.pk, "name": "a"})
    record = IngestKey.objects.get()

    admin_client.post(
        "/admin/fleet/ingestkey/",
        {"action": "revoke_keys", "_selected_action": [record.pk]},
    )

    record.refresh_from_db()
    assert record.revoked_at is not None
    assert not record.is_active
