"""`GET /api/v1/devices` and `GET /api/v1/devices/<id>`: bearer token or session, granted
tenants only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fleet.aggregate import aggregate_pending
from fleet.api_auth import create_api_token
from tests.factories import DeviceFactory, UserFactory, emit

pytestmark = pytest.mark.django_db
LIST = "/api/v1/devices"


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {create_api_token(user, 'test')[1]}"}


def test_a_demo_device_is_found_by_its_first_characters_only_when_granted(demo, contoso):
    granted, stranger = UserFactory(), UserFactory()
    contoso.operators.add(granted)
    prefix = demo.hostname[:6].lower()
    found = Client().get(LIST, {"q": prefix}, headers=bearer(granted)).json()
    assert demo.pk in [item["id"] for item in found["items"]]
    assert {item["tenant"] for item in found["items"]} == {"contoso-health"}
    none = Client().get(LIST, {"q": prefix}, headers=bearer(stranger)).json()
    assert none["items"] == [] and none["count"] == 0


def test_items_carry_every_documented_key(operator, tenant):
    device = DeviceFactory(
        tenant=tenant, hostname="LT-7", intune_device_id="in-7", entra_device_id="en-7",
        os_build="10.0.26100.1", update_policy="Broad ring",
    )  # fmt: skip
    when = timezone.now() - timedelta(hours=1)
    emit(device, 0x8024000B, [when])
    aggregate_pending()
    answer = Client().get(LIST, {"q": "lt-", "tenant": "acme"}, headers=bearer(operator)).json()
    assert answer["count"] == 1 and answer["page"] == 1 and answer["pages"] == 1
    item = answer["items"][0]
    assert item == {
        "id": device.pk, "hostname": "LT-7", "tenant": "acme",
        "last_seen_at": item["last_seen_at"], "open_flags": 0, "codes": 1,
        "os_build": "10.0.26100.1", "update_policy": "Broad ring",
        "intune_device_id": "in-7", "entra_device_id": "en-7",
    }  # fmt: skip
    detail = Client().get(f"{LIST}/{device.pk}", headers=bearer(operator)).json()
    assert detail == item


def test_another_tenants_device_is_404_and_absent(operator, other_tenant):
    theirs = DeviceFactory(tenant=other_tenant)
    response = Client().get(f"{LIST}/{theirs.pk}", headers=bearer(operator))
    assert response.status_code == 404
    assert Client().get(LIST, headers=bearer(operator)).json()["items"] == []
    assert Client().get(f"{LIST}/99999999999999999999", headers=bearer(operator)).status_code == 404


def test_no_token_is_401_and_a_session_works(logged_in, device):
    response = Client().get(LIST)
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    assert Client().get(LIST, headers={"Authorization": "Bearer ft_nope"}).status_code == 401
    assert logged_in.get(LIST).json()["items"][0]["id"] == device.pk


def test_other_methods_are_405(logged_in, device):
    assert logged_in.post(LIST).status_code == 405
    assert logged_in.delete(f"{LIST}/{device.pk}").status_code == 405


def test_a_page_is_a_bounded_number_of_queries(operator, tenant, django_assert_max_num_queries):
    DeviceFactory.create_batch(60, tenant=tenant)
    headers = bearer(operator)
    with django_assert_max_num_queries(5):  # token, tenants, count, rows, last-used stamp
        answer = Client().get(LIST, headers=headers).json()
    assert len(answer["items"]) == 50 and answer["pages"] == 2
