"""fleet/gunicorn.conf.py, run for real: slow clients cannot take the web process down.

Each test starts gunicorn with the production settings on a free loopback port and holds a
bounded number of loopback connections open against it.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services import GunicornServer, http_get, silent_upload

WORKERS = 2
# More than the workers, and more than a gthread setup of the same workers with 8 threads each
# could hold (measured: 6 silent uploads already stop 2 gthread workers of 4 threads).
SLOW_CLIENTS = WORKERS * 8 + 2

pytestmark = pytest.mark.integration


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[GunicornServer]:
    # /healthz needs only a database that answers; no table is read before a body arrives.
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path}/web.sqlite3",
        "WEB_CONCURRENCY": str(WORKERS),
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
    }
    server = GunicornServer(tmp_path / "gunicorn.log", env)
    server.start()
    yield server
    server.stop()


@contextlib.contextmanager
def held(connections: list[socket.socket]) -> Iterator[list[socket.socket]]:
    try:
        yield connections
    finally:
        for sock in connections:
            sock.close()


def still_open(sock: socket.socket) -> bool:
    sock.settimeout(0.2)
    try:
        return sock.recv(1) != b""
    except TimeoutError:
        return True  # nothing to read and not closed: the server is still waiting on it
    except OSError:
        return False


def test_healthz_answers_while_slow_uploads_hold_more_connections_than_workers(gunicorn):
    with held([silent_upload(gunicorn.port) for _ in range(SLOW_CLIENTS)]) as slow:
        time.sleep(1)  # let the workers accept them and start waiting on the bodies
        answer = http_get(gunicorn.port, "/healthz", timeout=20)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        # They were still being waited on while /healthz answered.
        assert all(still_open(sock) for sock in slow)


def test_a_client_that_never_finishes_its_headers_is_dropped(gunicorn):
    with held([socket.create_connection(("127.0.0.1", gunicorn.port), timeout=60)]) as (sock,):
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # no blank line, ever
        # The worker reads headers under its keepalive timeout (5 s): the server closes.
        assert sock.recv(1024) == b""


def test_every_way_of_running_the_web_process_uses_the_config_file():
    repo = Path(__file__).resolve().parents[2]
    assert "gunicorn -c fleet/gunicorn.conf.py" in (repo / "scripts" / "demo.sh").read_text()
    assert '"gunicorn", "-c", "fleet/gunicorn.conf.py"' in (repo / "Dockerfile").read_text()
    assert "gunicorn -c fleet/gunicorn.conf.py" in (repo / "docker-compose.yml").read_text()
