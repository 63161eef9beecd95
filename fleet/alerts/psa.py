"""PSA tickets for alerts: open one when an alert fires, note a re-fire, close it on resolve.

Two clients, each a handful of REST calls with urllib (fleet.alerts.outbound), raising one
error type whose `retryable` tells the caller whether to back off and try again (5xx, 429,
timeouts, refused connections) or to stop and show the operator what to fix (400, 401, 403,
404). Request shapes, from the vendors' API references and checked against open-source
clients of them:

- ConnectWise PSA (Manage) REST API 3.0, codebase v4_6_release (developer.connectwise.com,
  "Service > Tickets" and "Ticket Notes"; the ConnectWiseManageAPI PowerShell module and the
  generated OpenAPI clients agree): `Authorization: Basic base64("{company}+{public}:{private}")`
  of an API member's keys and a `clientId` header from the developer portal. `POST
  service/tickets` with `summary` (at most 100 characters), `company: {identifier}`, `board:
  {name}` and `initialDescription` answers the ticket with its numeric `id`; `POST
  service/tickets/{id}/notes` takes `text` and at least one of `detailDescriptionFlag`,
  `internalAnalysisFlag`, `resolutionFlag`; `PATCH service/tickets/{id}` takes a JSON Patch
  list, here `[{"op": "replace", "path": "status", "value": {"name": ...}}]`.
- HaloPSA REST API (the instance's /apidoc, "Authorisation" and "Tickets"/"Actions"): OAuth 2
  client credentials at `POST {auth}/token` (form `grant_type=client_credentials`, `client_id`,
  `client_secret`, `scope`; `?tenant=` on hosted instances) gives a bearer token with
  `expires_in`; `POST /api/Tickets` and `POST /api/Actions` take a JSON list of objects and
  create (no `id`) or update (with `id`) them; a new ticket comes back with its `id`. Status 9
  is "Closed" in a default instance.

A close is a note, then the status change: when the status change fails and is retried, the
note is written a second time, but the ticket never stays open with its closing note missing.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.utils.translation import gettext

from fleet.alerts.chat import KINDS, number_text, title, when
from fleet.alerts.outbound import USER_AGENT, check_http_url, error_text, send
from fleet.triage.reasons import in_reader_language

# ConnectWise rejects a longer ticket summary.
CONNECTWISE_SUMMARY_MAX = 100
# A token is renewed this long before HaloPSA says it expires, so none expires mid-request.
TOKEN_MARGIN_SECONDS = 60
HALO_CLOSED = 9


class PsaError(Exception):
    """A PSA call that did not succeed; `retryable` is False when retrying cannot help until
    an operator changes something (credentials, permissions, company or board mapping)."""

    def __init__(self, message: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status


def _detail(text: str) -> str:
    """The vendor's own words from an error body: `message` (ConnectWise), `error` /
    `error_description` (OAuth), else the text itself."""
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if isinstance(data, dict):
        parts = [
            str(data[key])
            for key in ("message", "Message", "error", "error_description")
            if data.get(key)
        ]
        errors = data.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            parts.append(str(errors[0].get("message", "")))
        return ": ".join(part for part in parts if part) or text
    return text


def _refused(
    vendor: str, status: int, detail: str, hints: dict[int, str], credentials: tuple[int, ...]
) -> PsaError:
    """The operator's message for an answer that is not a 2xx; `credentials` are the statuses
    that mean the credentials were refused (an OAuth token endpoint answers 400 for them)."""
    retryable = status == 429 or status == 408 or status >= 500
    if status in credentials:
        text = f"{vendor} refused the credentials ({status})"
    elif status == 403:
        text = f"{vendor} denied the request (403)"
    elif status == 404:
        text = f"{vendor} found no such ticket or endpoint (404)"
    elif status == 429:
        text = f"{vendor} is rate limiting us (429)"
    elif 300 <= status < 400:
        text = f"{vendor} redirected the request ({status}): use the URL it redirects to"
    elif retryable:
        text = f"{vendor} failed ({status})"
    else:
        text = f"{vendor} rejected the request ({status})"
    if status in hints:
        text += f": {hints[status]}"
    if detail:
        text += f" - {detail[:300]}"
    return PsaError(text, retryable=retryable, status=status)


def _call(
    vendor: str,
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes | None,
    hints: dict[int, str],
    credentials: tuple[int, ...] = (401,),
) -> Any:
    """One request; the parsed JSON answer (None for an empty one), or PsaError."""
    try:
        check_http_url(url)
    except ValueError as exc:  # a base URL that is not http(s)
        raise PsaError(f"{vendor}: {exc}", retryable=False) from None
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url, data=body, method=method, headers={"User-Agent": USER_AGENT, **headers}
    )
    try:
        _, raw = send(request, timeout=settings.WEBHOOK_TIMEOUT)
    except urllib.error.HTTPError as exc:
        detail = _detail(error_text(exc))
        raise _refused(vendor, exc.code, detail, hints, credentials) from None
    except OSError as exc:  # refused, unreachable, DNS, TLS, timeout
        reason = getattr(exc, "reason", None) or exc
        raise PsaError(f"{vendor} could not be reached: {reason}", retryable=True) from None
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise PsaError(
            f"{vendor} answered with something that is not JSON: {raw[:100]!r}", retryable=False
        ) from None


def _ticket_id(vendor: str, answer: Any) -> str:
    """The id of the ticket a create answered with (HaloPSA may answer a list of one)."""
    if isinstance(answer, list) and answer:
        answer = answer[0]
    if isinstance(answer, dict) and answer.get("id") not in (None, "", 0):
        return str(answer["id"])
    # The ticket may exist: retrying could open a second one, so an operator looks first.
    raise PsaError(f"{vendor} answered the new ticket without an id", retryable=False)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ConnectWise:
    """ConnectWise PSA (Manage) tickets through REST API 3.0 with an API member's keys."""

    vendor = "ConnectWise"
    hints = {
        401: "check the company id and the API member's public and private keys",
        403: "the API member's security role needs Service Desk > Service Tickets "
        "(add, edit) and Ticket Notes",
        404: "check the base URL (…/v4_6_release/apis/3.0) and that the ticket still exists",
    }

    def __init__(
        self, base_url: str, *, company_id: str, public_key: str, private_key: str, client_id: str
    ) -> None:
        self.base_url = base_url.rstrip("/")
        credentials = f"{company_id}+{public_key}:{private_key}".encode()
        self._headers = {
            "Authorization": "Basic " + base64.b64encode(credentials).decode(),
            "clientId": client_id,
            "Accept": "application/json",
            "Content-Type": "application/json",
        }

    def _call(self, method: str, path: str, body: object) -> Any:
        return _call(
            self.vendor,
            method,
            f"{self.base_url}/{path}",
            self._headers,
            json.dumps(body).encode(),
            self.hints,
        )

    def create_ticket(
        self, summary: str, description: str, company: str, board: str | None = None
    ) -> str:
        """Open a ticket for `company` (its identifier, e.g. "AcmeCorp") on `board` (its name;
        None for the member's default board); its id."""
        ticket: dict[str, object] = {
            "summary": _cut(summary, CONNECTWISE_SUMMARY_MAX),
            "company": {"identifier": company},
            "initialDescription": description,
        }
        if board:
            ticket["board"] = {"name": board}
        return _ticket_id(self.vendor, self._call("POST", "service/tickets", ticket))

    def add_note(self, ticket_id: str, text: str) -> None:
        """A Discussion note (detailDescriptionFlag) on the ticket."""
        note = {"text": text, "detailDescriptionFlag": True}
        self._call("POST", f"service/tickets/{ticket_id}/notes", note)

    def close_ticket(self, ticket_id: str, text: str, status: str = "Closed") -> None:
        """A resolution note, then the ticket's status set to `status` (a status name of its
        board, "Closed" or ">Closed" in most)."""
        note = {"text": text, "resolutionFlag": True}
        self._call("POST", f"service/tickets/{ticket_id}/notes", note)
        patch = [{"op": "replace", "path": "status", "value": {"name": status}}]
        self._call("PATCH", f"service/tickets/{ticket_id}", patch)


class HaloPSA:
    """HaloPSA tickets through its REST API with an API application's client credentials.
    The bearer token is kept until shortly before it expires, one per client object."""

    vendor = "HaloPSA"
    hints = {
        401: "the API application's token was not accepted; check its client ID and secret",
        403: "the API application needs the edit:tickets and read:customers permissions "
        "(or scope all)",
        404: "check the resource server URL (https://x.halopsa.com) and that the ticket "
        "still exists",
    }
    token_hints = {
        400: "check the API application's client ID and secret, and the tenant of a hosted "
        "instance",
        401: "check the API application's client ID and secret",
        404: "check the authorisation server URL (normally the resource URL + /auth)",
    }

    def __init__(
        self,
        base_url: str,
        *,
        client_id: str,
        client_secret: str,
        auth_url: str | None = None,
        tenant: str | None = None,
        scope: str = "all",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth_url = (auth_url or f"{self.base_url}/auth").rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self.tenant = tenant or None
        self.scope = scope
        self._clock = clock
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def _fresh_token(self) -> str:
        url = f"{self.auth_url}/token"
        if self.tenant:
            url += "?" + urlencode({"tenant": self.tenant})
        form = urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self._client_secret,
                "scope": self.scope,
            }
        ).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        answer = _call(self.vendor, "POST", url, headers, form, self.token_hints, (400, 401))
        if not isinstance(answer, dict) or not answer.get("access_token"):
            raise PsaError(
                f"{self.vendor} answered the token request without a token", retryable=False
            )
        try:
            lifetime = float(answer.get("expires_in", 3600))
        except (TypeError, ValueError):
            lifetime = 3600.0
        self._token = str(answer["access_token"])
        self._expires = self._clock() + max(lifetime - TOKEN_MARGIN_SECONDS, 0.0)
        return self._token

    def _bearer(self) -> tuple[str, bool]:
        """The token to use, and whether it came from the cache."""
        with self._lock:
            if self._token and self._clock() < self._expires:
                return self._token, True
            return self._fresh_token(), False

    def _call(self, path: str, items: list[dict]) -> Any:
        body = json.dumps(items).encode()
        token, cached = self._bearer()
        for attempt in (1, 2):
            headers = {
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "Content-Type": "application/json",
            }
            try:
                return _call(
                    self.vendor, "POST", f"{self.base_url}/api/{path}", headers, body, self.hints
                )
            except PsaError as exc:
                # A cached token revoked or expired early: one new token, one more try.
                if exc.status != 401 or not cached or attempt == 2:
                    raise
                with self._lock:
                    self._token = None
                    token, cached = self._fresh_token(), False
        raise AssertionError("unreachable")

    def create_ticket(
        self, summary: str, details: str, client_id: int | str, tickettype_id: int | None = None
    ) -> str:
        """Open a ticket for the Halo client `client_id` (its numeric id), of `tickettype_id`
        (None for the instance's default type); its id."""
        ticket: dict[str, object] = {
            "summary": summary,
            "details": details,
            "client_id": _number(client_id),
        }
        if tickettype_id is not None:
            ticket["tickettype_id"] = tickettype_id
        return _ticket_id(self.vendor, self._call("Tickets", [ticket]))

    def add_note(self, ticket_id: str, text: str) -> None:
        """A private note action (hidden from the end user, so no email goes to them)."""
        action = {
            "ticket_id": _number(ticket_id),
            "outcome": "note",
            "note": text,
            "hiddenfromuser": True,
        }
        self._call("Actions", [action])

    def close_ticket(self, ticket_id: str, text: str, status_id: int = HALO_CLOSED) -> None:
        """A private note action, then the ticket's status set to `status_id` (9, Closed, in a
        default instance)."""
        self.add_note(ticket_id, text)
        self._call("Tickets", [{"id": _number(ticket_id), "status_id": status_id}])


def _number(value: int | str) -> int | str:
    """Halo ids are integers; one given as digits is sent as a number."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


def ticket_summary(payload: dict) -> str:
    """One line: what fired (or resolved) where, e.g. "Fleet alert: 0x8024000B
    WU_E_CALL_CANCELLED on acme (Spike)", in the active language (the channel's)."""
    fired = payload.get("event", "alert.fired") == "alert.fired"
    text = title(payload, gettext("Fleet alert") if fired else None)
    if payload.get("kind"):
        text += f" ({KINDS.get(payload['kind'], payload['kind'])})"
    return text


def ticket_body(payload: dict) -> str:
    """Plain text for the ticket or note, in the active language (the channel's): what
    happened, the counts, the reason, and where to look (the flag and the code's page)."""
    event = payload.get("event", "alert.fired")
    what = " ".join(str(payload[key]) for key in ("code", "name") if payload.get(key))
    heading = {
        "alert.resolved": gettext("Alert resolved: %(what)s"),
        "alert.test": gettext("Alert test: %(what)s"),
    }.get(event) or gettext("Alert fired: %(what)s")
    heading %= {"what": what}
    if payload.get("tenant"):
        heading = gettext("%(head)s on %(tenant)s") % {"head": heading, "tenant": payload["tenant"]}
    lines = [heading, ""]
    if payload.get("rule"):
        lines.append(gettext("Rule: %(rule)s") % {"rule": payload["rule"]})
    if payload.get("kind"):
        kind = KINDS.get(payload["kind"], payload["kind"])
        lines.append(gettext("Kind: %(kind)s") % {"kind": kind})
    if payload.get("occurrences") is not None and payload.get("devices") is not None:
        counts = {
            "occurrences": number_text(payload["occurrences"]),
            "devices": number_text(payload["devices"]),
        }
        if payload.get("window_hours"):
            line = gettext(
                "Seen: %(occurrences)s occurrences on %(devices)s devices in %(hours)s h"
            )
            lines.append(line % {**counts, "hours": payload["window_hours"]})
        else:
            line = gettext("Seen: %(occurrences)s occurrences on %(devices)s devices")
            lines.append(line % counts)
    if payload.get("reason"):
        reason = in_reader_language(str(payload["reason"]))
        lines.append(gettext("Reason: %(reason)s") % {"reason": reason})
    if payload.get("fired_at"):
        lines.append(gettext("Fired: %(at)s") % {"at": when(payload["fired_at"])})
    if payload.get("resolved_at"):
        lines.append(gettext("Resolved: %(at)s") % {"at": when(payload["resolved_at"])})
    links = []
    if payload.get("url"):
        links.append(gettext("Flag: %(url)s") % {"url": payload["url"]})
    if payload.get("knowledge_url"):
        links.append(gettext("About the code: %(url)s") % {"url": payload["knowledge_url"]})
    if links:
        lines += ["", *links]
    if payload.get("alert_id") is not None:
        lines += ["", gettext("Fleet alert id %(id)s") % {"id": payload["alert_id"]}]
    return "\n".join(lines)


def _required(kind: str, fields: dict, names: tuple[str, ...]) -> None:
    missing = [name for name in names if not fields.get(name)]
    if missing:
        raise PsaError(f"{kind} channel is missing {', '.join(missing)}", retryable=False)


def client_for(kind: str, config: dict, secret: dict) -> ConnectWise | HaloPSA:
    """The client of a PSA channel: `config` holds what may be shown again (URLs, ids, the
    public key), `secret` what is stored encrypted (private_key, client_secret)."""
    if kind == "connectwise":
        _required(kind, config, ("base_url", "company_id", "public_key", "client_id"))
        _required(kind, secret, ("private_key",))
        return ConnectWise(
            config["base_url"],
            company_id=config["company_id"],
            public_key=config["public_key"],
            private_key=secret["private_key"],
            client_id=config["client_id"],
        )
    if kind == "halopsa":
        _required(kind, config, ("base_url", "client_id"))
        _required(kind, secret, ("client_secret",))
        return HaloPSA(
            config["base_url"],
            client_id=config["client_id"],
            client_secret=secret["client_secret"],
            auth_url=config.get("auth_url") or None,
            tenant=config.get("tenant") or None,
            scope=config.get("scope") or "all",
        )
    raise ValueError(f"unknown PSA kind {kind!r}: connectwise or halopsa")
