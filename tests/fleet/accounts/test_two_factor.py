"""The TOTP second factor of local accounts: enrolment on the account page, then the code
asked at both logins; codes come from django-otp's own generator at the test's fixed moment."""

from __future__ import annotations

import re
from base64 import b32encode
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from fleet.accounts import login_throttle
from fleet.accounts.models import LoginFailure
from tests.factories import UserFactory, client_for

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"  # the UserFactory password


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time += steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def person():
    return UserFactory(username="stella")


@pytest.fixture
def enrolled(person) -> TOTPDevice:
    return TOTPDevice.objects.create(user=person, name="app", confirmed=True)


def log_in(client: Client, otp: str = "", path: str = "/login/"):
    data = {"username": "stella", "password": PASSWORD, "otp_token": otp}
    return client.post(path, data)


def test_the_enrol_page_shows_a_qr_code_and_the_secret_it_encodes(person):
    page = client_for(person).get("/account/two-factor/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "is <strong>off</strong>" in html
    secret = re.search(r'<code class="otp-secret">([A-Z2-7 ]+)</code>', html).group(1)
    device = TOTPDevice.objects.get(user=person, confirmed=False)
    assert secret.replace(" ", "") == b32encode(device.bin_key).decode().rstrip("=")
    # Reloading keeps the secret already scanned.
    again = client_for(person).get("/account/two-factor/").content.decode()
    assert secret in again


def later(now, seconds: int):
    """The clock moved on: django-otp makes a device wait 2**(failures - 1) seconds after a
    wrong code before it checks another."""
    return time_machine.travel(now + timedelta(seconds=seconds), tick=True)


def test_a_right_code_turns_it_on_and_a_wrong_one_does_not(person, now):
    client = client_for(person)
    client.get("/account/two-factor/")
    device = TOTPDevice.objects.get(user=person)
    wrong_code = code_for(device, steps_ahead=10)
    wrong = client.post("/account/two-factor/", {"action": "confirm", "code": wrong_code})
    assert wrong.status_code == 400 and not TOTPDevice.objects.get().confirmed
    with later(now, 3):
        code = code_for(device)
        right = client.post("/account/two-factor/", {"action": "confirm", "code": code})
    assert right.status_code == 302
    assert TOTPDevice.objects.get(user=person).confirmed
    assert "is <strong>on</strong>" in client.get("/account/two-factor/").content.decode()


def test_login_without_second_factor_needs_no_code(client, person):
    assert log_in(client).status_code == 302


def test_an_enrolled_account_needs_its_code_at_login(client, enrolled, now):
    missing = log_in(client)
    assert missing.status_code == 200
    assert "asks for a code" in missing.content.decode()
    assert "_auth_user_id" not in client.session
    # The right password with a missing code stays counted against the throttle.
    assert LoginFailure.objects.filter(username="stella").count() == 1
    wrong = log_in(client, otp=code_for(enrolled, steps_ahead=10))
    assert "wrong or already used" in wrong.content.decode()
    assert "_auth_user_id" not in client.session
    with later(now, 3):
        right = log_in(client, otp=code_for(enrolled))
    assert right.status_code == 302
    assert client.session["_auth_user_id"] == str(enrolled.user_id)
    assert not LoginFailure.objects.filter(username="stella").exists()


def test_a_code_works_once(enrolled):
    code = code_for(enrolled)
    assert log_in(Client(), otp=code).status_code == 302
    replay = Client()
    assert log_in(replay, otp=code).status_code == 200
    assert "_auth_user_id" not in replay.session


def test_guessing_codes_hits_the_login_throttle(client, enrolled):
    for _ in range(login_throttle.MAX_FAILURES_PER_USERNAME):
        log_in(client, otp=code_for(enrolled, steps_ahead=10))
    refused = log_in(client, otp=code_for(enrolled))
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_admin_login_asks_for_the_code_too(client, enrolled):
    enrolled.user.is_staff = True
    enrolled.user.save()
    without = log_in(client, path="/admin/login/?next=/admin/")
    assert without.status_code == 200 and "_auth_user_id" not in client.session
    with_code = log_in(client, otp=code_for(enrolled), path="/admin/login/?next=/admin/")
    assert with_code.status_code == 302


def test_turning_it_off_needs_a_current_code(enrolled, now):
    client = client_for(enrolled.user)
    wrong_code = code_for(enrolled, steps_ahead=10)
    refused = client.post("/account/two-factor/", {"action": "turn_off", "code": wrong_code})
    assert refused.status_code == 400 and TOTPDevice.objects.filter(confirmed=True).exists()
    with later(now, 3):
        code = code_for(enrolled)
        done = client.post("/account/two-factor/", {"action": "turn_off", "code": code})
    assert done.status_code == 302 and not TOTPDevice.objects.exists()
    assert log_in(Client()).status_code == 302


def test_an_account_without_a_password_here_cannot_enrol():
    sso_user = UserFactory(username="sso-person")
    sso_user.set_unusable_password()
    sso_user.save()
    client = client_for(sso_user)
    assert "single sign-on" in client.get("/account/two-factor/").content.decode()
    assert not TOTPDevice.objects.exists()
    post = client.post("/account/two-factor/", {"action": "confirm", "code": "123456"})
    assert post.status_code == 403
