"""A real HTTP receiver on loopback for webhook, Teams and Slack tests: records every request
and answers a configurable status (`fail_times` answers of `fail_status` first, then
`ok_status`: 200 "ok" as Slack answers, or 202 with no body as a Teams workflow does)."""

from __future__ import annotations

import errno
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

# The helper's assigned port range: services started by tests stay inside it.
PORTS = range(21900, 22000)
# The chat and PSA fakes bind in their own range, apart from the webhook receivers.
CHAT_PORTS = range(7100, 7200)


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class Receiver:
    url: str = ""
    fail_times: int = 0
    fail_status: int = 500
    ok_status: int = 200
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with receiver.lock:
                failing = receiver.fail_times > 0
                receiver.fail_times -= failing
                status = receiver.fail_status if failing else receiver.ok_status
                receiver.requests.append(
                    Request(self.command, self.path, dict(self.headers.items()), body, status)
                )
            answer = b"" if status == 202 else b"ok" if status < 300 else b"no"
            self.send_response(status)
            if 300 <= status < 400:  # a redirect elsewhere on this receiver, as a proxy might
                self.send_header("Location", receiver.url + "?redirected")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def bind(handler: type[BaseHTTPRequestHandler], ports: range = PORTS) -> ThreadingHTTPServer:
    """A server on the first free loopback port of `ports`."""
    for port in ports:
        try:
            return ThreadingHTTPServer(("127.0.0.1", port), handler)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
    raise RuntimeError(f"no free port in {ports}")


@contextmanager
def serving(ports: range = PORTS, path: str = "/hooks/fleet") -> Iterator[Receiver]:
    """A Receiver listening on a free loopback port of `ports` until the block ends."""
    receiver = Receiver()
    server = bind(_handler(receiver), ports)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def webhook_receiver() -> Iterator[Receiver]:
    with serving() as receiver:
        yield receiver


@pytest.fixture
def chat_receiver() -> Iterator[Receiver]:
    """A receiver for Teams and Slack posts (set `ok_status = 202` to answer as Teams does)."""
    with serving(CHAT_PORTS, "/services/T000/B000/XXXX") as receiver:
        yield receiver


@pytest.fixture
def refused_url() -> str:
    """A loopback URL nothing listens on: bound and closed again, so connecting is refused."""
    server = bind(BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    return f"http://127.0.0.1:{port}/hooks/fleet"
