"""Start real services for integration tests: redis-server and a Celery worker.

Each fixture binds a free loopback port, waits until the service answers, and stops it after.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests import clock

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


class RedisServer:
    """A throwaway redis-server on loopback that tests may stop and start again."""

    def __init__(self, workdir: Path) -> None:
        self.binary = shutil.which("redis-server")
        if not self.binary:
            pytest.fail("redis-server is not installed: run `make test`, which installs it")
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Under libfaketime (scripts/test_clocks.sh) redis-server hangs at start; no test
            # reads the broker's own clock, so it keeps the real one.
            env={k: v for k, v in os.environ.items() if k != "LD_PRELOAD"},
        )
        wait_until(self.ping, 10, "redis-server")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


def database_url_for_subprocess() -> str:
    """The URL of the database this test run uses (the test database, not the dev one)."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        name = str(db["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            pytest.fail("the test database is in memory; subprocesses cannot share it")
        return f"sqlite:///{name}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class CeleryWorker:
    """`celery -A fleet worker` in a subprocess, on the test database and a given broker.

    `env` adds environment variables (SMTP_PORT, say): the worker reads its settings from the
    environment, not from the test's `settings` fixture.
    """

    def __init__(self, broker_url: str, logfile: Path, env: dict[str, str] | None = None) -> None:
        self.broker_url = broker_url
        self.logfile = logfile
        self.extra_env = env or {}
        self.process: subprocess.Popen | None = None
        self._log = None

    def start(self) -> None:
        if clock.anchored():
            pytest.fail(
                "a test that starts a Celery worker must be marked integration: the worker "
                "reads the real clock, not the one this process's test was moved to"
            )
        env = {
            **os.environ,
            "DATABASE_URL": database_url_for_subprocess(),
            "REDIS_URL": self.broker_url,
            "DJANGO_SETTINGS_MODULE": "fleet.settings",
            **self.extra_env,
        }
        self._log = self.logfile.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "fleet",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "1",
                "--pool",
                "prefork",
                "--without-mingle",
                "--without-gossip",
                "--hostname",
                f"test-{os.getpid()}@%h",
            ],
            cwd=REPO,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # Its own process group, so `kill()` takes the pool children down with the parent.
            start_new_session=True,
        )
        wait_until(lambda: "ready." in self.log() or self.process.poll() is not None, 60, "worker")
        if self.process.poll() is not None:
            raise RuntimeError(f"celery worker exited early:\n{self.log()}")

    def log(self) -> str:
        return self.logfile.read_text(errors="replace") if self.logfile.exists() else ""

    def kill(self) -> None:
        """SIGKILL the worker and its pool children at once, as an OOM killer or a lost host
        would: no warm shutdown, no acknowledgement, open transactions cut off."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self._close_log()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


@contextlib.contextmanager
def broker(url: str) -> Iterator[None]:
    """Point this process's Celery producer at `url` for the duration."""
    from fleet.celery import app

    def reset_pool() -> None:
        # Drop both the connection pool and the producer pool built on it. Closing them would
        # close kombu's shared pool for that URL for good, so they are only forgotten.
        app._pool = None
        app.amqp._producer_pool = None

    # The app reads Django settings with the CELERY_ namespace, so the key carries it too.
    previous = app.conf.CELERY_BROKER_URL
    app.conf.CELERY_BROKER_URL = url
    reset_pool()
    try:
        yield
    finally:
        app.conf.CELERY_BROKER_URL = previous
        reset_pool()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def celery_worker(redis_server: RedisServer, tmp_path: Path, settings) -> Iterator[CeleryWorker]:
    """A real worker consuming from `redis_server`; tasks sent from the test reach it."""
    worker = CeleryWorker(redis_server.url, tmp_path / "worker.log")
    worker.start()
    try:
        with broker(redis_server.url):
            yield worker
    finally:
        worker.stop()


class GunicornServer:
    """gunicorn with the production settings (fleet/gunicorn.conf.py) on a free loopback port.

    `args` are added after the config file, so a test can weaken one setting on purpose.
    """

    def __init__(self, logfile: Path, env: dict[str, str], args: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.logfile = logfile
        self.env = {**os.environ, "DJANGO_SETTINGS_MODULE": "fleet.settings", **env}
        self.args = args
        self.process: subprocess.Popen | None = None
        self._log = None

    def start(self) -> None:
        self._log = self.logfile.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                str(REPO / "fleet" / "gunicorn.conf.py"),
                "--bind",
                f"127.0.0.1:{self.port}",
                *self.args,
            ],
            cwd=REPO,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until(self._answers, 60, "gunicorn")
        except BaseException:
            # A server that never answered (workers failing to boot) must not outlive the test.
            self.stop()
            raise

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited early:\n{self.log()}")
        try:
            return http_get(self.port, "/healthz", timeout=2).startswith(b"HTTP/1.1 200")
        except OSError:
            return False

    def log(self) -> str:
        return self.logfile.read_text(errors="replace") if self.logfile.exists() else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        if self._log is not None:
            self._log.close()
            self._log = None


def http_get(port: int, path: str, timeout: float, headers: str = "") -> bytes:
    """One GET on loopback with a plain socket: the whole raw answer, status line first."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Connection: close\r\n\r\n".encode()
        )
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def silent_upload(port: int, path: str = "/login/", length: int = 1024 * 1024) -> socket.socket:
    """A connection that announces a `length`-byte form body and sends none of it.

    It carries a CSRF cookie, so Django's CSRF check reads the body (without one it refuses
    before reading): the worker that took the request waits on the body.
    """
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(
        (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Cookie: csrftoken={'a' * 32}\r\nContent-Length: {length}\r\n\r\n"
        ).encode()
    )
    return sock
