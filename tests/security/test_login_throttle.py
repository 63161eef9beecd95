"""Repeated failed logins are refused for a while, on the operator login and the admin login."""

from __future__ import annotations

import threading
from datetime import timedelta
from functools import partial

import pytest
from django.contrib.auth import forms as auth_forms
from django.test import Client
from django.utils import timezone

from fleet.accounts import login_throttle
from fleet.accounts.models import LoginFailure
from tests.factories import UserFactory
from tests.threads import run_at_once

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # the UserFactory password
LOGIN_PAGES = ["/login/", "/admin/login/"]


@pytest.fixture
def staff(db):
    return UserFactory(username="stella", is_staff=True, is_superuser=True)


def attempt(url: str, username: str, password: str, address: str = "192.0.2.10"):
    client = Client(REMOTE_ADDR=address)
    return client, client.post(url, {"username": username, "password": password})


def fail_times(url: str, username: str, times: int, address: str = "192.0.2.10") -> None:
    for _ in range(times):
        _client, response = attempt(url, username, "wrong password", address)
        assert response.status_code == 200


@pytest.mark.parametrize("url", LOGIN_PAGES)
def test_sixth_attempt_after_five_failures_is_refused_even_with_the_right_password(url, staff):
    fail_times(url, staff.username, 5)
    client, response = attempt(url, staff.username, PASSWORD)
    assert response.status_code == 429
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("url", LOGIN_PAGES)
def test_four_failures_still_let_the_right_password_in(url, staff):
    fail_times(url, staff.username, 4)
    client, response = attempt(url, staff.username, PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)


def test_success_clears_the_count(staff):
    fail_times("/login/", staff.username, 4)
    attempt("/login/", staff.username, PASSWORD)
    fail_times("/login/", staff.username, 4)
    _client, response = attempt("/login/", staff.username, PASSWORD)
    assert response.status_code == 302


def test_a_post_without_a_password_does_not_clear_the_count(staff):
    fail_times("/login/", staff.username, 4)
    Client(REMOTE_ADDR="192.0.2.10").post("/login/", {"username": staff.username})
    fail_times("/login/", staff.username, 1)
    _client, response = attempt("/login/", staff.username, PASSWORD)
    assert response.status_code == 429


def test_username_is_counted_whatever_its_case_and_address(staff):
    for n, spelling in enumerate(["stella", "STELLA", "Stella ", "sTeLLa", "stella"]):
        fail_times("/login/", spelling, 1, address=f"198.51.100.{n}")
    _client, response = attempt("/login/", staff.username, PASSWORD, address="203.0.113.9")
    assert response.status_code == 429


def test_failures_from_one_address_across_usernames_are_refused(staff):
    for n in range(login_throttle.MAX_FAILURES_PER_ADDRESS):
        fail_times("/login/", f"guess{n}", 1, address="192.0.2.66")
    _client, refused = attempt("/login/", staff.username, PASSWORD, address="192.0.2.66")
    assert refused.status_code == 429
    _client, elsewhere = attempt("/login/", staff.username, PASSWORD, address="192.0.2.67")
    assert elsewhere.status_code == 302


def test_failures_on_one_page_count_on_the_other(staff):
    fail_times("/login/", staff.username, 3)
    fail_times("/admin/login/", staff.username, 2)
    _client, response = attempt("/admin/login/", staff.username, PASSWORD)
    assert response.status_code == 429


def test_refusal_ends_when_the_failures_leave_the_window(staff):
    fail_times("/login/", staff.username, 5)
    LoginFailure.objects.update(
        failed_at=timezone.now() - login_throttle.WINDOW - timedelta(seconds=1)
    )
    _client, response = attempt("/login/", staff.username, PASSWORD)
    assert response.status_code == 302


def test_refused_attempts_are_not_counted_and_old_failures_are_pruned(staff):
    old = LoginFailure.objects.create(
        username="someone", address="192.0.2.1", failed_at=timezone.now() - timedelta(days=1)
    )
    fail_times("/login/", staff.username, 5)
    attempt("/login/", staff.username, "wrong again")
    assert LoginFailure.objects.filter(username="stella").count() == 5
    assert not LoginFailure.objects.filter(pk=old.pk).exists()


def test_counts_live_in_the_database_shared_by_every_worker(staff):
    # A second "process" (a fresh client, no shared memory but the database) sees the count.
    fail_times("/login/", staff.username, 5)
    assert LoginFailure.objects.filter(username="stella").count() == 5
    assert login_throttle.refusal("stella", "203.0.113.50")


def test_right_password_for_a_non_staff_user_on_admin_is_not_a_failure(operator):
    for _ in range(6):
        _client, response = attempt("/admin/login/", operator.username, PASSWORD)
        assert response.status_code == 200  # "not a staff account"
    assert not LoginFailure.objects.exists()


def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(settings, staff):
    settings.TRUSTED_PROXY = True
    for n in range(login_throttle.MAX_FAILURES_PER_ADDRESS):
        Client(REMOTE_ADDR="10.0.0.2").post(
            "/login/",
            {"username": f"guess{n}", "password": "x"},
            headers={"X-Forwarded-For": "spoofed, 192.0.2.99"},
        )
    assert set(LoginFailure.objects.values_list("address", flat=True)) == {"192.0.2.99"}
    ok = Client(REMOTE_ADDR="10.0.0.2").post(
        "/login/",
        {"username": staff.username, "password": PASSWORD},
        headers={"X-Forwarded-For": "192.0.2.100"},
    )
    assert ok.status_code == 302


def race(monkeypatch, url: str, attempts: list[tuple[str, str, str]]) -> tuple[list, list[int]]:
    """Post every (username, password, address) at once, each from its own thread and database
    connection; return the usernames whose password was checked and the status codes.

    A checked attempt waits inside `authenticate` until every attempt has been checked or
    refused, so that no attempt's result can be recorded before another's check: the widest
    window a check-then-record race can have.
    """
    real_authenticate = auth_forms.authenticate
    settled = threading.Condition()
    arrived = [0]
    checked: list[str] = []
    this_thread = threading.local()

    def arrive() -> None:
        with settled:
            arrived[0] += 1
            settled.notify_all()

    def held_authenticate(request=None, **credentials):
        checked.append(credentials.get("username"))
        this_thread.checked = True
        arrive()
        with settled:
            # The timeout only keeps a broken throttle from hanging the run.
            settled.wait_for(lambda: arrived[0] == len(attempts), timeout=60)
        return real_authenticate(request, **credentials)

    monkeypatch.setattr(auth_forms, "authenticate", held_authenticate)

    def worker(username: str, password: str, address: str) -> int:
        this_thread.checked = False
        try:
            _client, response = attempt(url, username, password, address)
            return response.status_code
        finally:
            if not this_thread.checked:
                arrive()

    writers = run_at_once(*(partial(worker, *args) for args in attempts))
    statuses, errors = writers.results, writers.errors
    monkeypatch.setattr(auth_forms, "authenticate", real_authenticate)
    assert errors == []
    return checked, statuses


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("url", LOGIN_PAGES)
def test_parallel_wrong_passwords_get_at_most_the_limit_checked(monkeypatch, url, staff):
    tries = 3 * login_throttle.MAX_FAILURES_PER_USERNAME
    checked, statuses = race(
        monkeypatch, url, [(staff.username, "wrong password", f"192.0.2.{n}") for n in range(tries)]
    )
    assert len(checked) == login_throttle.MAX_FAILURES_PER_USERNAME
    assert sorted(statuses) == [200] * len(checked) + [429] * (tries - len(checked))
    assert LoginFailure.objects.filter(username="stella").count() == len(checked)
    client, response = attempt(url, staff.username, PASSWORD, "203.0.113.7")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_from_one_address_get_at_most_its_limit_checked(monkeypatch, staff):
    tries = login_throttle.MAX_FAILURES_PER_ADDRESS + 4
    checked, statuses = race(
        monkeypatch, "/login/", [(f"guess{n}", "x", "192.0.2.66") for n in range(tries)]
    )
    assert len(checked) == login_throttle.MAX_FAILURES_PER_ADDRESS
    assert statuses.count(429) == tries - len(checked)
    _client, response = attempt("/login/", staff.username, PASSWORD, "192.0.2.66")
    assert response.status_code == 429
