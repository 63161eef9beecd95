"""Single sign-on over OpenID Connect, on mozilla-django-oidc (the reasons: docs/sso.md).

The library runs the authorization-code flow (state, nonce, PKCE) and checks the ID token's
signature and expiry. This module adds what it leaves to us: endpoints from the issuer's
discovery document, the issuer and audience checks, who the person is here (their `sub`, or a
verified address the first time) and which MSP-wide role the provider's groups or email domain
give them. It never grants a tenant: tenants are given here, by people, to people.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from fleet.accounts.models import SingleSignOnIdentity

logger = logging.getLogger(__name__)

MSP_ADMIN = "msp_admin"
OPERATOR = "operator"
# A discovery document rarely changes; an hour keeps a key rotation or a move from lasting long.
DISCOVERY_SECONDS = 3600


class ProviderUnavailable(Exception):
    """The provider could not be reached, or answered with something other than OpenID."""


class SignOnRefused(Exception):
    """The provider vouched for the person, but this site does not let them in (the message
    says why, in words for them)."""


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str


def enabled() -> bool:
    return bool(settings.OIDC_CLIENT_ID)


def provider_name() -> str:
    """What the login button says after "Sign in with"."""
    if settings.OIDC_PROVIDER_NAME:
        return settings.OIDC_PROVIDER_NAME
    url = settings.OIDC_ISSUER or settings.OIDC_AUTHORIZATION_ENDPOINT
    host = urlsplit(url).hostname or "single sign-on"
    return "Microsoft" if host == "login.microsoftonline.com" else host


_discovered: dict[str, tuple[float, dict]] = {}


def discover(issuer: str) -> dict:
    """The issuer's discovery document, fetched at most once an hour per process."""
    cached = _discovered.get(issuer)
    if cached and time.monotonic() - cached[0] < DISCOVERY_SECONDS:
        return cached[1]
    url = f"{issuer}/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"its discovery document ({url}) did not load: {exc}") from exc
    if not isinstance(document, dict) or document.get("issuer") != issuer:
        # OpenID Connect Discovery 1.0, section 4.3: the document must name the issuer asked.
        raise ProviderUnavailable(f"{url} names another issuer than OIDC_ISSUER={issuer}")
    _discovered[issuer] = (time.monotonic(), document)
    return document


def provider() -> Provider:
    """The endpoints to use now: each explicit setting, else the issuer's discovery document."""
    explicit = {
        "authorization_endpoint": settings.OIDC_AUTHORIZATION_ENDPOINT,
        "token_endpoint": settings.OIDC_TOKEN_ENDPOINT,
        "userinfo_endpoint": settings.OIDC_USERINFO_ENDPOINT,
        "jwks_uri": settings.OIDC_JWKS_URI,
    }
    document = (
        discover(settings.OIDC_ISSUER)
        if settings.OIDC_ISSUER and not all(explicit.values())
        else {}
    )
    found = {key: value or document.get(key, "") for key, value in explicit.items()}
    required = ("authorization_endpoint", "token_endpoint", "jwks_uri")
    missing = [key for key in required if not found[key]]
    if missing:
        raise ProviderUnavailable(f"no {', '.join(missing)} in its discovery document")
    return Provider(issuer=settings.OIDC_ISSUER, **found)


def email_is_verified(claims: dict) -> bool:
    """Whether the provider vouches for the address: `email_verified`, or Entra's `xms_edov`
    (its "domain owner verified" optional claim; Entra sends no `email_verified`)."""
    return any(claims.get(name) in (True, "true") for name in ("email_verified", "xms_edov"))


def _groups(claims: dict) -> set[str]:
    value = claims.get(settings.OIDC_GROUPS_CLAIM) or []
    if isinstance(value, str):
        value = [value]
    return {str(group) for group in value} if isinstance(value, list) else set()


def msp_role(claims: dict) -> str | None:
    """The MSP-wide role the claims give: MSP_ADMIN, OPERATOR, or None (not let in).

    Groups match exactly (Entra sends group object ids); an email domain counts only when
    the address is verified, or anyone could type one. With no operator groups or domains
    configured, everyone the provider signs in may enter as a plain operator."""
    groups = _groups(claims)
    email = str(claims.get("email") or "")
    domain = email.rpartition("@")[2].lower() if "@" in email and email_is_verified(claims) else ""

    def matches(allowed_groups: list[str], allowed_domains: list[str]) -> bool:
        return bool(groups & set(allowed_groups)) or (bool(domain) and domain in allowed_domains)

    if matches(settings.OIDC_MSP_ADMIN_GROUPS, settings.OIDC_MSP_ADMIN_DOMAINS):
        return MSP_ADMIN
    open_to_all = not settings.OIDC_OPERATOR_GROUPS and not settings.OIDC_OPERATOR_DOMAINS
    if open_to_all or matches(settings.OIDC_OPERATOR_GROUPS, settings.OIDC_OPERATOR_DOMAINS):
        return OPERATOR
    return None


def apply_role(user: AbstractUser, identity: SingleSignOnIdentity, role: str) -> None:
    """Make the user an MSP admin when the mapping says so; take it back only if the mapping
    gave it. Tenant grants are never read or written here."""
    if role == MSP_ADMIN and not user.is_superuser:
        user.is_superuser = user.is_staff = True
        identity.granted_msp_admin = True
    elif role != MSP_ADMIN and identity.granted_msp_admin:
        user.is_superuser = user.is_staff = False
        identity.granted_msp_admin = False


def _new_username(claims: dict, issuer: str, subject: str) -> str:
    User = get_user_model()
    tag = hashlib.sha256(f"{issuer} {subject}".encode()).hexdigest()
    wanted = str(claims.get("email") or claims.get("preferred_username") or "")[:130]
    if wanted and not User.objects.filter(username__iexact=wanted).exists():
        return wanted
    return f"{wanted}-{tag[:8]}" if wanted else f"sso-{tag[:12]}"


class SignOnBackend(OIDCAuthenticationBackend):
    """The authentication backend of the OpenID Connect callback (and of nothing else)."""

    def __init__(self, *args, **kwargs) -> None:
        # The library reads its endpoints from settings here; ours are resolved per sign-in.
        self.UserModel = get_user_model()

    def authenticate(self, request, **kwargs):
        # Only the callback view passes a nonce; a password login never reaches the provider.
        if not enabled() or request is None or "nonce" not in kwargs or "username" in kwargs:
            return None
        endpoints = provider()
        self.endpoints = endpoints
        self.OIDC_OP_TOKEN_ENDPOINT = endpoints.token_endpoint
        self.OIDC_OP_USER_ENDPOINT = endpoints.userinfo_endpoint
        self.OIDC_OP_JWKS_ENDPOINT = endpoints.jwks_uri
        self.OIDC_RP_CLIENT_ID = settings.OIDC_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None
        return super().authenticate(request, **kwargs)

    def verify_token(self, token: str, **kwargs) -> dict:
        """The library checks signature, expiry and nonce; the issuer and audience are ours
        (OpenID Connect Core 1.0, section 3.1.3.7)."""
        payload = super().verify_token(token, **kwargs)
        if kwargs.get("nonce") is None:
            return payload  # a signed userinfo answer, not an ID token
        issuer = self.endpoints.issuer
        if issuer and payload.get("iss") != issuer:
            raise SuspiciousOperation(f"ID token issuer {payload.get('iss')!r} is not {issuer!r}")
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if settings.OIDC_CLIENT_ID not in audiences:
            raise SuspiciousOperation("ID token is not for this client")
        if len(audiences) > 1 and payload.get("azp") != settings.OIDC_CLIENT_ID:
            raise SuspiciousOperation("ID token was issued to another party")
        return payload

    def get_userinfo(self, access_token: str, id_token: str, payload: dict) -> dict:
        """The ID token's claims, with the userinfo endpoint's added when there is one.

        The ID token wins where both speak: it is signed, and Entra puts `groups` only there."""
        if not self.OIDC_OP_USER_ENDPOINT:
            return dict(payload)
        extra = super().get_userinfo(access_token, id_token, payload)
        if extra.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("userinfo describes another subject than the ID token")
        return {**extra, **payload}

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict):
        claims = self.get_userinfo(access_token, id_token, payload)
        subject = str(claims.get("sub") or "")
        issuer = str(payload.get("iss") or self.endpoints.issuer)
        if not subject:
            raise SuspiciousOperation("ID token has no sub")
        role = msp_role(claims)
        if role is None:
            raise SignOnRefused(
                f"Your {provider_name()} account is not in a group or email domain that may "
                "sign in here. Ask an MSP admin to add you."
            )
        email = str(claims.get("email") or "")[:254]
        with transaction.atomic():
            identity = (
                SingleSignOnIdentity.objects.select_for_update()
                .select_related("user")
                .filter(issuer=issuer, subject=subject)
                .first()
            )
            if identity is None:
                user = self._match_by_email(email, issuer) if email_is_verified(claims) else None
                if user is None:
                    user = self.UserModel(
                        username=_new_username(claims, issuer, subject),
                        email=email,
                        first_name=str(claims.get("given_name") or "")[:150],
                        last_name=str(claims.get("family_name") or "")[:150],
                    )
                    # Signs in through the provider only; no password here to guess or reset.
                    user.set_unusable_password()
                    user.save()
                identity = SingleSignOnIdentity(user=user, issuer=issuer, subject=subject)
            user = identity.user
            apply_role(user, identity, role)
            identity.email = email
            user.save(update_fields=["is_superuser", "is_staff"])
            identity.save()
        return user

    def _match_by_email(self, email: str, issuer: str):
        """The one local user with this (provider-verified) address, if any and not already
        linked to another account at this provider."""
        matches = list(self.UserModel.objects.filter(email__iexact=email)[:2])
        if len(matches) > 1:
            raise SignOnRefused(
                f"More than one account here uses {email}. Ask an MSP admin to sort them out."
            )
        if not matches:
            return None
        if SingleSignOnIdentity.objects.filter(user=matches[0], issuer=issuer).exists():
            raise SignOnRefused(
                f"The account here for {email} is linked to another {provider_name()} account."
            )
        return matches[0]
