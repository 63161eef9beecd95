"""A fake PSA on loopback that speaks the request shapes fleet/alerts/psa.py cites: ConnectWise
REST 3.0 under /v4_6_release/apis/3.0/ and HaloPSA under /auth/token and /api/. It checks the
credentials the way the real services do (Basic company+public:private and clientId; OAuth
client credentials, then a bearer token), validates the bodies, keeps tickets, notes and
actions, answers ids as numbers, and can be told to fail the next requests with given
statuses. Every request is recorded."""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.fleet.receiver import CHAT_PORTS, Request, bind

CW_PREFIX = "/v4_6_release/apis/3.0/"

CW = {"company_id": "fleetmsp", "public_key": "pub-123", "private_key": "priv-456"}
CW_CLIENT_ID = "3f1c2b7e-client"
CW_COMPANIES = {"AcmeCorp", "Globex"}
CW_BOARDS = {"Service Desk": {"New", "Closed", ">Closed"}, "Alerts": {"New", "Closed"}}
HALO = {"client_id": "halo-app", "client_secret": "halo-secret-789", "tenant": "fleetmsp"}
HALO_CLIENTS = {12, 34}


@dataclass
class PsaServer:
    url: str = ""
    requests: list[Request] = field(default_factory=list)
    # Statuses the next API requests answer with (token requests are not counted).
    failures: list[int] = field(default_factory=list)
    cw_tickets: dict[int, dict] = field(default_factory=dict)
    cw_notes: list[dict] = field(default_factory=list)
    halo_tickets: dict[int, dict] = field(default_factory=dict)
    halo_actions: list[dict] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    token_lifetime: int = 3600
    tenant_required: bool = True
    lock: threading.Lock = field(default_factory=threading.Lock)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(5001))

    @property
    def connectwise_url(self) -> str:
        return self.url + CW_PREFIX.rstrip("/")

    def fail(self, status: int, times: int = 1) -> None:
        self.failures.extend([status] * times)

    def revoke_tokens(self) -> None:
        self.tokens.clear()

    def paths(self) -> list[str]:
        return [f"{r.method} {urlsplit(r.path).path}" for r in self.requests]


def _cw_error(code: str, message: str) -> dict:
    return {"code": code, "message": message, "errors": [{"code": code, "message": message}]}


def _handler(server: PsaServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: object = None) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            path = urlsplit(self.path).path
            with server.lock:
                record = Request(self.command, self.path, dict(self.headers.items()), raw, 0)
                server.requests.append(record)
                if path != "/auth/token" and server.failures:
                    status, body = server.failures.pop(0), {"message": "injected failure"}
                elif path.startswith(CW_PREFIX):
                    status, body = self._connectwise(path[len(CW_PREFIX) :], raw)
                elif path == "/auth/token":
                    status, body = self._halo_token(raw)
                elif path.startswith("/api/"):
                    status, body = self._halo(path[len("/api/") :], raw)
                else:
                    status, body = 404, {"message": "no such endpoint"}
                record.status = status
            self._answer(status, body)

        do_POST = do_PATCH = do_GET = _handle  # noqa: N815 - http.server's naming

        # ConnectWise ---------------------------------------------------------------

        def _connectwise(self, route: str, raw: bytes) -> tuple[int, object]:
            expected = "{company_id}+{public_key}:{private_key}".format(**CW)
            auth = "Basic " + base64.b64encode(expected.encode()).decode()
            if self.headers.get("Authorization") != auth:
                return 401, _cw_error("Unauthorized", "Authentication failed")
            if self.headers.get("clientId") != CW_CLIENT_ID:
                return 401, _cw_error("Unauthorized", "clientId is required")
            try:
                body = json.loads(raw)
            except ValueError:
                return 400, _cw_error("InvalidObject", "The body is not JSON")
            if self.command == "POST" and route == "service/tickets":
                return self._cw_create(body)
            if match := re.fullmatch(r"service/tickets/(\d+)/notes", route):
                return self._cw_note(int(match[1]), body)
            if self.command == "PATCH" and (match := re.fullmatch(r"service/tickets/(\d+)", route)):
                return self._cw_patch(int(match[1]), body)
            return 404, _cw_error("NotFound", f"No endpoint {self.command} {route}")

        def _cw_create(self, body: dict) -> tuple[int, object]:
            summary = body.get("summary") or ""
            if not summary or len(summary) > 100:
                return 400, _cw_error("InvalidObject", "summary is required, at most 100 chars")
            company = (body.get("company") or {}).get("identifier")
            if company not in CW_COMPANIES:
                return 400, _cw_error("InvalidObject", f"Company {company!r} not found")
            board = (body.get("board") or {}).get("name", "Service Desk")
            if board not in CW_BOARDS:
                return 400, _cw_error("InvalidObject", f"Board {board!r} not found")
            ticket_id = next(server.ids)
            ticket = {
                "id": ticket_id,
                "summary": summary,
                "company": {"identifier": company},
                "board": {"name": board},
                "status": {"name": "New"},
                "initialDescription": body.get("initialDescription", ""),
            }
            server.cw_tickets[ticket_id] = ticket
            return 201, ticket

        def _cw_note(self, ticket_id: int, body: dict) -> tuple[int, object]:
            if ticket_id not in server.cw_tickets:
                return 404, _cw_error("NotFound", f"Ticket {ticket_id} not found")
            flags = ("detailDescriptionFlag", "internalAnalysisFlag", "resolutionFlag")
            if not body.get("text") or not any(body.get(flag) for flag in flags):
                return 400, _cw_error("InvalidObject", "text and one note flag are required")
            note = {"id": next(server.ids), "ticketId": ticket_id, **body}
            server.cw_notes.append(note)
            return 201, note

        def _cw_patch(self, ticket_id: int, body: object) -> tuple[int, object]:
            ticket = server.cw_tickets.get(ticket_id)
            if ticket is None:
                return 404, _cw_error("NotFound", f"Ticket {ticket_id} not found")
            if not isinstance(body, list):
                return 400, _cw_error("InvalidObject", "A JSON Patch list is required")
            for op in body:
                name = (op.get("value") or {}).get("name")
                if (op.get("op"), op.get("path")) != ("replace", "status"):
                    return 400, _cw_error("InvalidObject", f"Unsupported patch {op}")
                if name not in CW_BOARDS[ticket["board"]["name"]]:
                    return 400, _cw_error("InvalidObject", f"Status {name!r} not on the board")
                ticket["status"] = {"name": name}
            return 200, ticket

        # HaloPSA -------------------------------------------------------------------

        def _halo_token(self, raw: bytes) -> tuple[int, object]:
            form = {key: values[0] for key, values in parse_qs(raw.decode()).items()}
            query = parse_qs(urlsplit(self.path).query)
            if self.headers.get("Content-Type") != "application/x-www-form-urlencoded":
                return 400, {"error": "invalid_request"}
            if form.get("grant_type") != "client_credentials":
                return 400, {"error": "unsupported_grant_type"}
            if (form.get("client_id"), form.get("client_secret")) != (
                HALO["client_id"],
                HALO["client_secret"],
            ):
                return 400, {"error": "invalid_client"}
            if server.tenant_required and query.get("tenant") != [HALO["tenant"]]:
                return 400, {"error": "invalid_request", "error_description": "unknown tenant"}
            if form.get("scope") != "all":
                return 400, {"error": "invalid_scope"}
            token = f"token-{next(server.ids)}"
            server.tokens.add(token)
            return 200, {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": server.token_lifetime,
                "scope": "all",
            }

        def _halo(self, route: str, raw: bytes) -> tuple[int, object]:
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or auth.removeprefix("Bearer ") not in server.tokens:
                return 401, None
            items = json.loads(raw)
            if not isinstance(items, list) or len(items) != 1:
                return 400, {"message": "A list of objects is expected"}
            [item] = items
            if self.command == "POST" and route == "Tickets":
                return self._halo_ticket(item)
            if self.command == "POST" and route == "Actions":
                return self._halo_action(item)
            return 404, None

        def _halo_ticket(self, item: dict) -> tuple[int, object]:
            if "id" in item:
                ticket = server.halo_tickets.get(item["id"])
                if ticket is None:
                    return 404, {"message": "Ticket not found"}
                ticket.update({k: v for k, v in item.items() if k != "id"})
                return 201, ticket
            if not item.get("summary"):
                return 400, {"message": "summary is required"}
            if not isinstance(item.get("client_id"), int) or item["client_id"] not in HALO_CLIENTS:
                return 400, {"message": f"Client {item.get('client_id')!r} not found"}
            ticket = {"id": next(server.ids), "status_id": 1, **item}
            server.halo_tickets[ticket["id"]] = ticket
            return 201, ticket

        def _halo_action(self, item: dict) -> tuple[int, object]:
            if item.get("ticket_id") not in server.halo_tickets:
                return 400, {"message": f"Ticket {item.get('ticket_id')!r} not found"}
            if not item.get("outcome") or not item.get("note"):
                return 400, {"message": "outcome and note are required"}
            action = {"id": next(server.ids), **item}
            server.halo_actions.append(action)
            return 201, action

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def psa_server() -> Iterator[PsaServer]:
    server = PsaServer()
    httpd = bind(_handler(server), CHAT_PORTS)
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
