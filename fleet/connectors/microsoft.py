"""Talking to Microsoft: an access token by MSAL's client credentials flow, and HTTP requests
that wait out throttling.

Every endpoint comes from settings (MS_LOGIN_URL, MS_GRAPH_URL, LOG_ANALYTICS_URL), so a national
cloud, and the tests' loopback stand-in, need no code change. Errors are turned into
`ConnectorError`s whose message is what the connector page shows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import msal
import requests
from django.conf import settings

USER_AGENT = "fleet-errors-connectors/1"
TIMEOUT = 60
# A 429 is retried this many times at most, each wait bounded by CONNECTOR_MAX_RETRY_AFTER.
MAX_THROTTLED = 5


class ConnectorError(Exception):
    """A pull step failed; the message says what and what to do, for the connector page."""


class CredentialsRejected(ConnectorError):
    """The token endpoint refused the app: wrong secret or client id, expired secret, consent
    revoked, unknown tenant (AADSTS codes)."""


class AccessDenied(ConnectorError):
    """A token was issued but the API refused it (401/403): a permission missing or not
    granted by an admin."""


class Throttled(ConnectorError):
    """Still 429 after the bounded waits, or asked to wait longer than allowed."""


def _first_line(text: str, limit: int = 300) -> str:
    return (text or "").strip().splitlines()[0][:limit] if (text or "").strip() else ""


@dataclass
class Session:
    """One tenant's credential and an HTTP session; `sleep` is injectable for tests."""

    entra_tenant_id: str
    client_id: str
    # A client secret, or {"private_key": PEM, "thumbprint": hex} for a certificate (MSAL then
    # signs a client assertion instead of sending a secret).
    credential: str | dict
    sleep: Callable[[float], None] = time.sleep
    http: requests.Session = field(default_factory=requests.Session)
    _app: msal.ConfidentialClientApplication | None = None

    def __post_init__(self) -> None:
        self.http.headers["User-Agent"] = USER_AGENT

    def token(self, resource: str) -> str:
        """A bearer token for `resource` (a base URL), from the token endpoint of the tenant.
        MSAL keeps it in its cache and asks for a new one only when it nears expiry, so a long
        pull never sends an expired token."""
        authority = f"{settings.MS_LOGIN_URL}/{self.entra_tenant_id}"
        try:
            if self._app is None:
                self._app = msal.ConfidentialClientApplication(
                    self.client_id,
                    client_credential=self.credential,
                    authority=authority,
                    # The authority is ours to name (a national cloud, the tests' stand-in):
                    # only its own OpenID discovery document is read, no instance discovery.
                    validate_authority=False,
                    instance_discovery=False,
                    http_client=self.http,
                    timeout=TIMEOUT,
                )
            result = self._app.acquire_token_for_client(scopes=[f"{resource}/.default"])
        except ValueError as exc:  # MSAL: the authority's discovery document is unreadable
            raise CredentialsRejected(
                f"the sign-in authority {authority} did not answer as Entra ID does "
                f"(is the Entra tenant id right?): {_first_line(str(exc))}"
            ) from None
        except requests.RequestException as exc:
            raise ConnectorError(f"cannot reach {settings.MS_LOGIN_URL}: {exc}") from None
        if "access_token" not in result:
            error = result.get("error", "error")
            description = _first_line(result.get("error_description", ""))
            raise CredentialsRejected(
                f"Entra ID refused the app registration ({error}): {description}"
            )
        return result["access_token"]

    def request(
        self, method: str, url: str, *, resource: str | None = None, **kwargs: object
    ) -> requests.Response:
        """One request; a 429 is waited out (its Retry-After, bounded), 401/403 and other
        non-2xx statuses raise. `resource` adds its bearer token (none for a download link)."""
        for attempt in range(MAX_THROTTLED + 1):
            headers = dict(kwargs.pop("headers", {}) or {})
            if resource:
                headers["Authorization"] = f"Bearer {self.token(resource)}"
            try:
                response = self.http.request(
                    method, url, headers=headers, timeout=TIMEOUT, **kwargs
                )
            except requests.RequestException as exc:
                raise ConnectorError(f"cannot reach {url.split('?')[0]}: {exc}") from None
            if response.status_code != 429:
                return response
            wait = _retry_after(response)
            if wait > settings.CONNECTOR_MAX_RETRY_AFTER or attempt == MAX_THROTTLED:
                raise Throttled(
                    f"throttled by {url.split('?')[0]} (429, Retry-After {wait:g} s) "
                    f"after {attempt + 1} tries; the next pull tries again"
                )
            self.sleep(wait)
            kwargs["headers"] = headers
        raise AssertionError("unreachable")


def _retry_after(response: requests.Response) -> float:
    """Seconds to wait: the Retry-After header (seconds), else a short default."""
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return 10.0


def check(response: requests.Response, what: str) -> requests.Response:
    """The response if 2xx; otherwise the error a page can show."""
    if response.ok:
        return response
    detail = _error_message(response)
    if response.status_code in (401, 403):
        raise AccessDenied(
            f"{what}: refused ({response.status_code}) {detail}; check the app's API "
            "permissions and that an admin granted consent (docs/connectors.md)"
        )
    raise ConnectorError(f"{what}: HTTP {response.status_code} {detail}")


def _error_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return _first_line(response.text, 200)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return _first_line(f"{error.get('code', '')}: {error.get('message', '')}", 200)
    return _first_line(str(body), 200)
