"""The two OpenID Connect endpoints: start a sign-in at the provider, and take its answer.

Thin wrappers over mozilla-django-oidc's views that resolve the provider per request and turn
every way a sign-in can fail into a page that says so, never a 500.
"""

from __future__ import annotations

import logging

import requests
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.generic import View
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from fleet.accounts import oidc

logger = logging.getLogger(__name__)


def sign_on_error(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(
        request,
        "registration/sign_on_error.html",
        {"message": message, "provider": oidc.provider_name()},
        status=status,
    )


def _unreachable(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.warning("single sign-on: provider unavailable: %s", exc)
    return sign_on_error(
        request,
        f"{oidc.provider_name()} could not be reached, so signing in with it is not possible "
        "right now. Try again in a few minutes, or sign in with a password if you have one.",
        503,
    )


class SignOnStart(OIDCAuthenticationRequestView):
    """GET /oidc/authenticate/?next=…: off to the provider with a fresh state, nonce and PKCE
    challenge kept in the session."""

    def __init__(self, **kwargs) -> None:
        View.__init__(self, **kwargs)  # the library's reads endpoints from settings

    def get(self, request: HttpRequest) -> HttpResponse:
        if not oidc.enabled():
            raise Http404("single sign-on is not configured")
        try:
            endpoints = oidc.provider()
        except oidc.ProviderUnavailable as exc:
            return _unreachable(request, exc)
        self.OIDC_OP_AUTH_ENDPOINT = endpoints.authorization_endpoint
        self.OIDC_RP_CLIENT_ID = settings.OIDC_CLIENT_ID
        return super().get(request)


class SignOnCallback(OIDCAuthenticationCallbackView):
    """GET /oidc/callback/?code=…&state=…: the provider's answer, checked and turned into a
    login (SignOnBackend does the checking)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if not oidc.enabled():
            raise Http404("single sign-on is not configured")
        try:
            return super().get(request)
        except oidc.ProviderUnavailable as exc:
            return _unreachable(request, exc)
        except oidc.SignOnRefused as exc:
            return sign_on_error(request, str(exc), 403)
        except SuspiciousOperation as exc:
            # A state this browser never started, a nonce that does not match, a token that
            # does not check out: a replay or a forgery as likely as a stale tab.
            logger.warning("single sign-on refused: %s", exc)
            return sign_on_error(
                request,
                "This sign-in could not be verified, so it was refused. Start again from "
                "the login page.",
                400,
            )
        except requests.HTTPError as exc:
            logger.warning("single sign-on: provider answered an error: %s", exc)
            return sign_on_error(
                request,
                f"{oidc.provider_name()} refused to complete this sign-in. Start again from "
                "the login page.",
                502,
            )
        except requests.RequestException as exc:
            return _unreachable(request, exc)

    def login_failure(self) -> HttpResponse:
        # The provider said no (the person declined, say) or the session lost its state.
        reason = self.request.GET.get("error_description") or self.request.GET.get("error")
        message = "Signing in was not completed."
        if reason:
            message += f" {oidc.provider_name()} said: {reason[:200]}"
        return sign_on_error(self.request, message, 400)
