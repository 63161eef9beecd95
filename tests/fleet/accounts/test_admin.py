"""The admin shows login failures read-only; deleting a username's rows lifts its refusal."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from fleet.accounts import login_throttle
from fleet.accounts.models import LoginFailure
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def refuse(username: str) -> None:
    LoginFailure.objects.bulk_create(
        LoginFailure(username=username, address="192.0.2.10", failed_at=timezone.now())
        for _ in range(login_throttle.MAX_FAILURES_PER_USERNAME)
    )


def test_the_list_shows_failures_and_offers_no_adding(admin_client):
    refuse("stella")
    response = admin_client.get(reverse("admin:fleet_loginfailure_changelist"))
    assert response.status_code == 200
    assert response.content.decode().count("192.0.2.10") >= 5
    assert admin_client.get(reverse("admin:fleet_loginfailure_add")).status_code == 403


def test_deleting_a_usernames_failures_in_the_admin_lifts_its_refusal(admin_client):
    refuse("stella")
    refuse("otto")
    assert login_throttle.refusal("stella", "198.51.100.1")
    ids = LoginFailure.objects.filter(username="stella").values_list("pk", flat=True)
    response = admin_client.post(
        reverse("admin:fleet_loginfailure_changelist"),
        {"action": "delete_selected", "_selected_action": list(ids), "post": "yes"},
    )
    assert response.status_code == 302
    assert not login_throttle.refusal("stella", "198.51.100.1")
    assert login_throttle.refusal("otto", "198.51.100.1")
