"""Refuse logins for a while after repeated failures for one username or from one address.

Both the operator login and the admin login use these forms. Failures are rows in the database
(`LoginFailure`), so every web worker sees the same counts; a successful login clears the
username's failures. While refused, the password is not even checked, so guessing learns
nothing, and refused attempts are not counted, so the refusal ends WINDOW after the failures.

Checking and recording are one step: an attempt counts the failures in the window and, if it
may go ahead, records itself as a failure before its password is checked, all in one
transaction that holds a lock on its username and its address (PostgreSQL advisory locks;
SQLite's IMMEDIATE transactions lock the whole database). So however many attempts arrive at
once, at most the limit get their password checked; a right password then clears the record.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.db import connection, transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from fleet.accounts import two_factor
from fleet.accounts.models import LoginFailure

WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USERNAME = 5
# Higher than per username: several operators of one MSP office share an address.
MAX_FAILURES_PER_ADDRESS = 20


def client_address(request: HttpRequest) -> str:
    """The peer address; behind a trusted proxy, the address that proxy appended."""
    if settings.TRUSTED_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        if forwarded:
            return forwarded[:45]
    return request.META.get("REMOTE_ADDR", "")[:45]


def _username_key(username: str) -> str:
    return username.strip().lower()[:150]


def _counts(key: str, address: str) -> tuple[int, int]:
    """Failures in the window for this username key and for this address."""
    counts = LoginFailure.objects.filter(
        Q(username=key) | Q(address=address), failed_at__gte=timezone.now() - WINDOW
    ).aggregate(
        by_username=Count("pk", filter=Q(username=key)),
        by_address=Count("pk", filter=Q(address=address)),
    )
    return counts["by_username"], counts["by_address"]


def _refusal_message() -> str:
    minutes = int(WINDOW.total_seconds() // 60)
    return (
        "Too many failed login attempts. Wait "
        f"{minutes} minutes and try again, or ask an administrator to reset your password."
    )


def refusal(username: str, address: str) -> str:
    """Why a login attempt would be refused now, or "" (a check only: it records nothing)."""
    by_username, by_address = _counts(_username_key(username), address)
    if by_username >= MAX_FAILURES_PER_USERNAME or by_address >= MAX_FAILURES_PER_ADDRESS:
        return _refusal_message()
    return ""


def _lock(*names: str) -> None:
    """Hold these names until the transaction ends (PostgreSQL; SQLite holds the database)."""
    if connection.vendor != "postgresql":
        return
    # Sorted, so two attempts sharing both names never wait for each other in a cycle.
    keys = sorted(
        int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        for name in names
    )
    with connection.cursor() as cursor:
        for key in keys:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def reserve_attempt(username: str, address: str) -> str:
    """Record an attempt as a failure before its password is checked, if the limits allow.

    Returns "" when the attempt may go ahead, else why not (and nothing is recorded).
    """
    key = _username_key(username)
    LoginFailure.objects.filter(failed_at__lt=timezone.now() - WINDOW).delete()
    with transaction.atomic():
        _lock(f"login-username:{key}", f"login-address:{address}")
        message = refusal(key, address)
        if not message:
            LoginFailure.objects.create(username=key, address=address, failed_at=timezone.now())
    return message


def record_success(username: str) -> None:
    LoginFailure.objects.filter(username=_username_key(username)).delete()


class _ThrottledLogin:
    """Mixin for Django's login forms: reserve the attempt first; a right password clears it,
    unless the account has a second factor and the code is missing or wrong (then the attempt
    stays counted, so codes cannot be guessed faster than passwords)."""

    request: HttpRequest | None
    user_cache: object
    fields: dict

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["otp_token"] = forms.CharField(
            label="Authenticator code",
            required=False,
            max_length=12,
            help_text="Only if you turned on two-factor sign-in.",
            widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        )

    def _check_second_factor(self) -> None:
        user = self.user_cache
        if not two_factor.enrolled(user):
            return
        code = self.cleaned_data.get("otp_token") or ""
        if not code:
            raise forms.ValidationError(
                "This account asks for a code from its authenticator app: enter it too.",
                code="otp_required",
            )
        if not two_factor.check_code(user, code):
            raise forms.ValidationError(
                "That authenticator code is wrong or already used; enter the current one.",
                code="otp_invalid",
            )

    def clean(self) -> dict:
        username = self.cleaned_data.get("username") or ""
        address = client_address(self.request) if self.request is not None else ""
        if username and self.cleaned_data.get("password"):
            # The password will be checked: reserve the attempt (a failure until proven right).
            message = reserve_attempt(username, address)
        else:
            # Nothing will be checked, so nothing is recorded; still say when it is refused.
            message = refusal(username, address)
        if message:
            if self.request is not None:
                self.request.login_refused = True
            raise forms.ValidationError(message, code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            # An inactive or non-staff account with the right password is not a guess.
            if self.user_cache is not None:
                record_success(username)
            raise
        if self.user_cache is not None:
            self._check_second_factor()
            record_success(username)
        return cleaned


class ThrottledAuthenticationForm(_ThrottledLogin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(_ThrottledLogin, AdminAuthenticationForm):
    pass


def refused_as_429(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer 429 Too Many Requests (with the login page and its message) when refused."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if getattr(request, "login_refused", False):
            response.status_code = 429
        return response

    return wrapper
