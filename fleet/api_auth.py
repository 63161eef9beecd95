"""Who is calling a read/write API: a logged-in session, or a personal API token.

`Authorization: Bearer ft_…` names a token (`fleet.models.ApiToken`); the request then acts as
the token's owner, with the owner's tenant grants. Token requests carry no cookie, so they need
no CSRF token; session requests that change something do (`csrf_refusal`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.http import HttpRequest
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone

from fleet.bearer import bearer_token, hash_secret, new_secret
from fleet.models import ApiToken

TOKEN_PREFIX = "ft_"  # noqa: S105 - a public prefix, not a secret
# last_used_at is written at most this often per token, so a polling script does not write on
# every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass
class Caller:
    user: object  # the authenticated user
    token: ApiToken | None = None  # set when authenticated by token

    @property
    def by_token(self) -> bool:
        return self.token is not None


def create_api_token(user, name: str = "") -> tuple[ApiToken, str]:
    """Create a token for `user`; return the record and the full token, which is never stored."""
    prefix, token = new_secret(TOKEN_PREFIX)
    record = ApiToken.objects.create(
        owner=user, name=name[:100], prefix=prefix, token_hash=hash_secret(token)
    )
    return record, token


def token_owner(authorization: str) -> ApiToken | None:
    """The active token of an active user named by an Authorization header value, else None."""
    token = bearer_token(authorization, TOKEN_PREFIX)
    if token is None:
        return None
    record = (
        ApiToken.objects.select_related("owner")
        .filter(token_hash=hash_secret(token), revoked_at__isnull=True, owner__is_active=True)
        .first()
    )
    if record is None:
        return None
    now = timezone.now()
    if record.last_used_at is None or now - record.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
        record.last_used_at = now
    return record


def authenticate(request: HttpRequest) -> Caller | None:
    """The caller of an API request: a bearer token when the request sends one (a bad token is
    refused even with a session), else the session's user; None when neither."""
    header = request.headers.get("Authorization", "")
    if header:
        record = token_owner(header)
        return Caller(user=record.owner, token=record) if record else None
    if request.user.is_authenticated and request.user.is_active:
        return Caller(user=request.user)
    return None


class _CsrfCheck(CsrfViewMiddleware):
    """Django's own CSRF check, answering the reason instead of its HTML 403 page."""

    def _reject(self, request: HttpRequest, reason: str) -> str:
        return reason


def csrf_refusal(request: HttpRequest) -> str | None:
    """Why Django's CSRF check refuses this (session) request, or None when it passes."""
    return _CsrfCheck(lambda request: None).process_view(request, None, (), {})


def revoke(token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
