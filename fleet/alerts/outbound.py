"""Outbound HTTP for the chat and PSA channels: one urllib request, redirects not followed.

A redirect is refused rather than followed because urllib turns a redirected POST into a GET
without its body (the "send" would then look delivered), and because following one would hand
a PSA's Authorization header to whatever host the redirect names. A 3xx therefore surfaces as
an HTTPError like any other non-2xx, so the operator sees the status and fixes the URL.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import urlsplit

USER_AGENT = "fleet-errors-alerts/1"
# The most of a response body read: enough for an id or an error message, never a flood.
MAX_RESPONSE = 1 << 20


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


_opener = urllib.request.build_opener(_NoRedirect)


def check_http_url(url: str) -> None:
    """ValueError unless `url` is an absolute http(s) URL (urllib also opens file: URLs)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {url!r}")


def send(request: urllib.request.Request, timeout: float) -> tuple[int, bytes]:
    """The status and body of a 2xx answer. urllib.error.HTTPError for any other status (its
    body readable once), OSError (URLError, TimeoutError, ...) when nothing answered."""
    check_http_url(request.full_url)
    with _opener.open(request, timeout=timeout) as response:
        return response.status, response.read(MAX_RESPONSE)


def error_text(exc: urllib.error.HTTPError, limit: int = 300) -> str:
    """The first `limit` characters of an error answer's body, for the operator's message."""
    try:
        return exc.read(limit * 4).decode("utf-8", "replace").strip()[:limit]
    except OSError:
        return ""
