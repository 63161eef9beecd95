"""A real HTTP receiver on loopback for webhook tests: records every request and answers a
configurable status (`fail_times` 500s first, then 200)."""

from __future__ import annotations

import errno
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

# The helper's assigned port range: services started by tests stay inside it.
PORTS = range(21900, 22000)


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
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with receiver.lock:
                failing = receiver.fail_times > 0
                receiver.fail_times -= failing
                status = 500 if failing else 200
                receiver.requests.append(
                    Request(self.command, self.path, dict(self.headers.items()), body, status)
                )
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok" if status == 200 else b"no")

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def bind(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """A server on the first free loopback port of PORTS."""
    for port in PORTS:
        try:
            return ThreadingHTTPServer(("127.0.0.1", port), handler)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
    raise RuntimeError(f"no free port in {PORTS}")


@pytest.fixture
def webhook_receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    server = bind(_handler(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/fleet"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def refused_url() -> str:
    """A loopback URL nothing listens on: bound and closed again, so connecting is refused."""
    server = bind(BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    return f"http://127.0.0.1:{port}/hooks/fleet"
