"""The generic signed webhook: each send signs the stored body with the channel's secret
(`X-Fleet-Signature: sha256=<hex HMAC-SHA256>`) and names the event (`X-Fleet-Event`).
Queueing and retries are every channel's (`fleet.alerts.channels`); the payload is documented
in docs/alerts.md.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings

log = logging.getLogger(__name__)

USER_AGENT = "fleet-errors-webhook/1"


class ReceiverError(Exception):
    """The receiver answered, but not with a 2xx."""


def signature(secret: str, body: bytes) -> str:
    """The X-Fleet-Signature value for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(url: str, event: str, body: bytes, secret: str) -> int:
    """POST the signed body; the HTTP status, or ReceiverError/OSError when it is not a 2xx."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {url!r}")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Fleet-Event": event,
            "X-Fleet-Signature": signature(secret, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.WEBHOOK_TIMEOUT) as response:  # noqa: S310
            response.read(65536)
            return response.status
    except urllib.error.HTTPError as exc:  # urllib raises for every status >= 400
        raise ReceiverError(f"HTTP {exc.code} {exc.reason}") from None
