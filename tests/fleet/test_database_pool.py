"""The web's PostgreSQL connection pool, run for real: gunicorn with fleet/gunicorn.conf.py
(gevent workers) on the test database.

To hold connections for as long as a test needs, a second connection locks `django_session`:
every signed-in request then waits inside PostgreSQL on its session lookup, holding the pooled
connection it took, until the test releases the lock.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from django.core.exceptions import MiddlewareNotUsed
from django.db import OperationalError, connection
from django.http import HttpResponse
from django.test import Client
from psycopg_pool import PoolTimeout

from fleet.database_pool import PoolTimeoutMiddleware, busy_response, is_pool_timeout
from fleet.ingest.keys import create_ingest_key
from tests.factories import UserFactory, client_for
from tests.services import (
    REPO,
    GunicornServer,
    database_url_for_subprocess,
    http_get,
    wait_until,
)

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the pool bounds PostgreSQL server connections; SQLite has none (CI runs both)",
)

WORKERS = 2
POOL_MAX = 3
BURST = 60  # ten times what the pools of both workers hold

# The web's backends on the test database: everyone but the test's own connections.
WEB_BACKENDS = """
    SELECT count(*), count(*) FILTER (WHERE wait_event_type = 'Lock'),
           coalesce(array_agg(DISTINCT application_name), '{}')
    FROM pg_stat_activity
    WHERE datname = current_database() AND backend_type = 'client backend'
      AND NOT pid = ANY(%s)
"""


def start_web(tmp_path: Path, workers: int, pool_max: int, pool_timeout: int) -> GunicornServer:
    env = {
        "DATABASE_URL": database_url_for_subprocess(),
        "WEB_CONCURRENCY": str(workers),
        "DB_POOL_MAX": str(pool_max),
        "DB_POOL_TIMEOUT": str(pool_timeout),
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
    }
    server = GunicornServer(tmp_path / "gunicorn.log", env)
    server.start()
    return server


def admin_connection() -> psycopg.Connection:
    return psycopg.connect(database_url_for_subprocess().replace("postgres://", "postgresql://"))


class SessionLock:
    """A connection of the test's that can hold an exclusive lock on the session table."""

    def __init__(self) -> None:
        self.holder = admin_connection()
        self.pid = self.holder.info.backend_pid

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        self.holder.execute("LOCK TABLE django_session IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            self.holder.rollback()

    def close(self) -> None:
        self.holder.close()


@pytest.fixture
def session_lock() -> Iterator[SessionLock]:
    lock = SessionLock()
    yield lock
    lock.close()


def own_pids(session_lock: SessionLock) -> list[int]:
    """The test's backends, which are not the web's: its Django connection and the lock's."""
    connection.ensure_connection()
    return [connection.connection.info.backend_pid, session_lock.pid]


class BackendWatch:
    """Samples pg_stat_activity in a thread: the most web backends ever seen at once."""

    def __init__(self, own_pids: list[int]) -> None:
        self.own_pids = own_pids
        self.most = 0
        self.waiting_on_lock = 0
        self.application_names: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with admin_connection() as watcher:
            watcher.autocommit = True
            pids = [*self.own_pids, watcher.info.backend_pid]
            while not self._stop.is_set():
                total, on_lock, names = watcher.execute(WEB_BACKENDS, [pids]).fetchone()
                self.most = max(self.most, total)
                self.waiting_on_lock = on_lock
                self.application_names.update(names)
                self._stop.wait(0.02)

    def __enter__(self) -> BackendWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)


def session_cookie() -> str:
    client = client_for(UserFactory(username="burst"))
    return f"Cookie: sessionid={client.cookies['sessionid'].value}\r\n"


def status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)  # the gunicorn workers must see the test's rows
@postgresql_only
def test_a_burst_ten_times_the_pool_opens_at_most_workers_times_pool_size(tmp_path, session_lock):
    cookie = session_cookie()
    web = start_web(tmp_path, WORKERS, POOL_MAX, pool_timeout=120)
    try:
        with (
            BackendWatch(own_pids(session_lock)) as watch,
            ThreadPoolExecutor(BURST) as clients,
        ):
            with session_lock.held():
                burst = [
                    clients.submit(http_get, web.port, "/triage/", 180, cookie)
                    for _ in range(BURST)
                ]
                # Every request is now waiting: on the lock if it got a connection, on the
                # pool if not. At least one worker took more requests than its pool holds.
                wait_until(lambda: watch.waiting_on_lock >= POOL_MAX, 60, "a full pool")
                assert not any(request.done() for request in burst)
                held = watch.most
            answers = [request.result() for request in burst]
    finally:
        web.stop()

    assert POOL_MAX <= held <= WORKERS * POOL_MAX
    assert watch.most <= WORKERS * POOL_MAX, watch.most
    assert watch.application_names == {"fleet-web"}
    assert [status(answer) for answer in answers] == [200] * BURST
    assert "Traceback" not in web.log()


def post_occurrences(port: int, key: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(
            "POST",
            "/api/v1/occurrences",
            body=b"[]",
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)  # the gunicorn workers must see the test's rows
@postgresql_only
def test_a_request_that_cannot_get_a_connection_in_time_gets_503_with_retry_after(
    tmp_path, tenant, session_lock
):
    cookie = session_cookie()
    _, key = create_ingest_key(tenant, "pool test")
    # One worker with one connection: the first signed-in request takes it and waits on the lock.
    web = start_web(tmp_path, workers=1, pool_max=1, pool_timeout=1)
    try:
        with (
            BackendWatch(own_pids(session_lock)) as watch,
            ThreadPoolExecutor(1) as clients,
        ):
            with session_lock.held():
                first = clients.submit(http_get, web.port, "/triage/", 60, cookie)
                wait_until(lambda: watch.waiting_on_lock == 1, 60, "the first request")
                page = http_get(web.port, "/triage/", 60, cookie)
                api_status, api_headers, api_body = post_occurrences(web.port, key)
                assert not first.done()
            first_answer = first.result()
        after = http_get(web.port, "/triage/", 60, cookie)
    finally:
        web.stop()

    head, _, body = page.partition(b"\r\n\r\n")
    assert status(page) == 503, page[:300]
    assert b"\r\nRetry-After: 5" in head
    assert b"no connection came free within 1 s" in body
    assert api_status == 503
    assert api_headers["Retry-After"] == "5"
    assert "no connection came free within 1 s" in json.loads(api_body)["error"]
    # The request that held the connection, and the next one, are served as usual.
    assert status(first_answer) == 200
    assert status(after) == 200
    log = web.log()
    assert "Traceback" not in log
    assert "GET /triage/: no database connection within 1 s (pool of 1" in log
    assert "POST /api/v1/occurrences: no database connection within 1 s" in log


# -- the settings and the middleware, without a server -----------------------------------------

SHOW_DATABASE = (
    "import json, django; from django.conf import settings; "
    "print(json.dumps(settings.DATABASES['default'], default=str))"
)


def database_settings(database_url: str, gevent: bool, **env: str) -> dict:
    """fleet/settings.py's DATABASES entry as read by a fresh process, gevent-patched or not."""
    code = ("from gevent import monkey; monkey.patch_all(); " if gevent else "") + SHOW_DATABASE
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "fleet.settings",
            "DATABASE_URL": database_url,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


def test_a_gevent_web_worker_on_postgresql_pools_db_pool_max_connections():
    db = database_settings("postgres://fleet@db:5432/fleet", gevent=True, DB_POOL_MAX="7")
    assert db["CONN_MAX_AGE"] == 0  # Django's pool refuses persistent connections
    assert db["OPTIONS"]["pool"] == {
        "min_size": 2,
        "max_size": 7,
        "timeout": 10,
        "name": "fleet-web",
    }
    assert db["OPTIONS"]["application_name"] == "fleet-web"


def test_celery_and_manage_py_keep_one_persistent_connection_and_no_pool():
    # A prefork Celery process runs one task at a time: one connection, kept between tasks.
    db = database_settings("postgres://fleet@db:5432/fleet", gevent=False)
    assert db["CONN_MAX_AGE"] == 60
    assert "pool" not in db.get("OPTIONS", {})


def test_sqlite_under_gevent_has_no_pool(tmp_path):
    db = database_settings(f"sqlite:///{tmp_path}/x.sqlite3", gevent=True)
    assert db["CONN_MAX_AGE"] == 0
    assert "pool" not in db["OPTIONS"]


def test_the_middleware_is_dropped_without_a_pool():
    # This test process is not a gevent worker, so its settings have no pool.
    with pytest.raises(MiddlewareNotUsed):
        PoolTimeoutMiddleware(lambda request: HttpResponse())


def test_only_the_pool_timeout_becomes_a_503(rf):
    # As Django raises it: its own OperationalError, caused by the pool's.
    wrapped = OperationalError("couldn't get a connection after 10.00 sec")
    wrapped.__cause__ = PoolTimeout("couldn't get a connection after 10.00 sec")
    other = OperationalError("server closed the connection unexpectedly")
    assert is_pool_timeout(wrapped)
    assert is_pool_timeout(PoolTimeout("couldn't get a connection after 10.00 sec"))
    assert not is_pool_timeout(other)

    page = busy_response(rf.get("/triage/"))
    api = busy_response(rf.post("/api/v1/occurrences"))
    assert (page.status_code, page["Retry-After"], page["Content-Type"]) == (
        503,
        "5",
        "text/plain",
    )
    assert "no connection came free within 10 s" in page.content.decode()
    assert api.status_code == 503
    assert "no connection came free" in json.loads(api.content)["error"]


def middleware_without_a_connection(get_response):
    """A middleware whose first query finds the pool exhausted (or, on /healthz, the database
    gone), as the session read that picks a person's language can before any view runs."""

    def middleware(request):
        if request.path == "/healthz":
            raise OperationalError("server closed the connection unexpectedly")
        wrapped = OperationalError("couldn't get a connection after 10.00 sec")
        wrapped.__cause__ = PoolTimeout("couldn't get a connection after 10.00 sec")
        raise wrapped

    return middleware


def test_a_pool_timeout_raised_by_a_middleware_is_a_503_and_anything_else_a_500(settings, caplog):
    # Django answers a middleware's exception through the site's handler500, never through
    # PoolTimeoutMiddleware.process_exception (which sees only views' exceptions).
    settings.DEBUG = False
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.middleware_without_a_connection"]
    client = Client(raise_request_exception=False)
    busy = client.get("/triage/")
    broken = client.get("/healthz")
    assert (busy.status_code, busy["Retry-After"]) == (503, "5")
    assert "no connection came free" in busy.content.decode()
    assert broken.status_code == 500
    # One line for the timeout, no traceback; the other error keeps its traceback.
    tracebacks = [r.getMessage() for r in caplog.records if r.exc_info]
    assert tracebacks == ["Internal Server Error: /healthz"]
    assert "GET /triage/: no database connection within" in caplog.text
