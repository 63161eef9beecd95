"""Refuse logins for a while after repeated failures for one username or from one address.

Both the operator login and the admin login use these forms. Failures are rows in the database
(`LoginFailure`), so every web worker sees the same counts; a successful login clears the
username's failures. While refused, the password is not even checked, so guessing learns
nothing, and refused attempts are not counted, so the refusal ends WINDOW after the failures.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from dashboards.models import LoginFailure

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


def refusal(username: str, address: str) -> str:
    """Why a login attempt is refused now, or "" when it may go ahead."""
    key = _username_key(username)
    counts = LoginFailure.objects.filter(
        Q(username=key) | Q(address=address), failed_at__gte=timezone.now() - WINDOW
    ).aggregate(
        by_username=Count("pk", filter=Q(username=key)),
        by_address=Count("pk", filter=Q(address=address)),
    )
    if (
        counts["by_username"] >= MAX_FAILURES_PER_USERNAME
        or counts["by_address"] >= MAX_FAILURES_PER_ADDRESS
    ):
        minutes = int(WINDOW.total_seconds() // 60)
        return (
            "Too many failed login attempts. Wait "
            f"{minutes} minutes and try again, or ask an administrator to reset your password."
        )
    return ""


def record_failure(username: str, address: str) -> None:
    now = timezone.now()
    LoginFailure.objects.filter(failed_at__lt=now - WINDOW).delete()
    LoginFailure.objects.create(username=_username_key(username), address=address, failed_at=now)


def record_success(username: str) -> None:
    LoginFailure.objects.filter(username=_username_key(username)).delete()


class _ThrottledLogin:
    """Mixin for Django's login forms: check the throttle first, count a wrong password."""

    request: HttpRequest | None
    user_cache: object

    def clean(self) -> dict:
        username = self.cleaned_data.get("username") or ""
        address = client_address(self.request) if self.request is not None else ""
        message = refusal(username, address)
        if message:
            if self.request is not None:
                self.request.login_refused = True
            raise forms.ValidationError(message, code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            # An inactive or non-staff account with the right password is not a guess.
            if self.user_cache is None:
                record_failure(username, address)
            else:
                record_success(username)
            raise
        # No password given: nothing was checked, so nothing is cleared either.
        if self.user_cache is not None:
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
