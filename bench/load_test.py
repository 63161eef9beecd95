"""Load test: post occurrences while operators browse, then prove nothing was lost or leaked.

    python bench/load_test.py [--duration 180] [--ingest-clients 4] [--operators 2]
                              [--tenants 4] [--database-url URL] [--no-results]

Starts its own stack on loopback: a throwaway database (a SQLite file in a temporary directory,
or, when --database-url or DATABASE_URL names a PostgreSQL server, a `fleet_load_<pid>` database
created there and dropped afterwards) migrated with the real migrations, redis-server on a free
port, gunicorn with the production settings (`-c fleet/gunicorn.conf.py`: gevent workers and,
on PostgreSQL, their connection pools; only the bind address and the number of workers are
set here), a Celery worker and Celery beat. Then, for
--duration seconds, ingest clients post batches of 1 to 1,000 occurrences (some resent whole to
exercise dedupe, some items invalid on purpose, now and then a bad key) while operators log in
and browse the overview, tenant, device, code and triage pages and download chart CSVs, probing
now and then a tenant and a device they are not granted.

Afterwards, once the pipeline has aggregated everything, it checks that
- no request failed: no 5xx, no connection error, every 4xx one the test asked for;
- every 202 answer counted its batch exactly as sent (accepted, duplicates, rejected, success);
- per tenant, the table holds exactly the accepted occurrences (the sum of `accepted`, and the
  very event ids sent), and nothing rejected, unauthorised or "success" was stored;
- every aggregate table equals a GROUP BY of the raw rows computed here in Python;
- no operator page or CSV carried another tenant's data, and operators did see their own;
- no error or traceback in the web, worker or beat logs (a failure a retry papered over).

Prints a summary (requests, occurrences/s, p50/p95/p99 per endpoint, errors) and writes
bench/results/load-<db>.json. Exits 1 when any check fails. Nothing is mocked.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import Figure, database_label, database_version, report  # noqa: E402

# Codes an agent fleet reports, 0x8024000B (operation cancelled) leading as in real fleets.
CODES = [
    "0x8024000B", "0x8024000B", "0x8024000B", "0x8024402C", "0x80240022", "0x800F0922",
    "0xC1900101_C3FD", "0x80070005", "0x80072EE2", "-2145124341", "2149842955", "1603",
]  # fmt: skip
BATCH_SIZES = [1, 5, 20, 50, 100, 250, 500, 1000]
DEVICES_PER_TENANT = 300
RETRY_SHARE = 0.1  # batches resent whole, as an agent does after a lost answer
INVALID_SHARE = 0.03  # items broken on purpose; each must come back rejected, never stored
SUCCESS_SHARE = 0.01  # code 0: counted as success, not stored
NO_EVENT_ID_SHARE = 0.1  # items deduplicated by their content instead of an event id
BAD_KEY_EVERY = 40  # every Nth post from a client uses an unknown key and must get 401
INVALID_ITEMS: list[Callable[[dict], None]] = [
    lambda item: item.update(code="0x8024G00B"),
    lambda item: item.pop("occurred_at"),
    lambda item: item.update(occurred_at="2026-11-02T09:30:00"),  # no time zone
    lambda item: item.update(occurred_at="2999-01-01T00:00:00Z"),
    lambda item: item.update(source="Not A Source"),
    lambda item: item.pop("device"),
]
DEVICE_LINK = re.compile(rb'href="/devices/(\d+)/')
LOG_ERROR = re.compile(r"Traceback|\b(ERROR|CRITICAL)\b")


# -- the stack -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


class Stack:
    """The processes of a deployment, started on loopback and stopped in reverse order."""

    def __init__(self, workdir: Path, database_url: str) -> None:
        self.workdir = workdir
        self.redis_port = free_port()
        self.web_port = free_port()
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "DJANGO_SETTINGS_MODULE": "fleet.settings",
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            "SITE_URL": f"http://127.0.0.1:{self.web_port}",
        }
        self.processes: list[tuple[str, subprocess.Popen]] = []

    def manage(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def spawn(self, name: str, command: list[str], env: dict | None = None) -> None:
        log = (self.workdir / f"{name}.log").open("w")
        process = subprocess.Popen(
            command, cwd=REPO, env=env or self.env, stdout=log, stderr=subprocess.STDOUT
        )
        self.processes.append((name, process))

    def start(self, web_workers: int) -> None:
        redis = shutil.which("redis-server")
        if not redis:
            raise SystemExit("redis-server is not installed (`make system-deps` installs it)")
        self.spawn(
            "redis",
            [
                redis,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.redis_port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
        )
        wait_until(self._redis_answers, 15, "redis-server")
        celery = [sys.executable, "-m", "celery", "-A", "fleet"]
        worker_env = {**self.env, "LOG_LEVEL": "INFO"}
        self.spawn(
            "worker",
            [
                *celery,
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "1",
                "--without-mingle",
                "--without-gossip",
                "--hostname",
                f"load-{os.getpid()}@%h",
            ],
            worker_env,
        )
        self.spawn(
            "beat",
            [
                *celery,
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(self.workdir / "celerybeat-schedule"),
            ],
            worker_env,
        )
        self.spawn(
            "web",
            [
                sys.executable,
                "-m",
                "gunicorn",
                # As deployed (demo.sh, the image, compose): measure the product, not a variant.
                "-c",
                "fleet/gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "--workers",
                str(web_workers),
            ],
        )
        wait_until(self._web_answers, 60, "gunicorn")
        wait_until(lambda: "ready." in self.log("worker"), 90, "the Celery worker")
        self.check_alive()

    def _redis_answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.redis_port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def _web_answers(self) -> bool:
        self.check_alive()
        try:
            return request(self.web_port, "GET", "/healthz").status == 200
        except OSError:
            return False

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def check_alive(self) -> None:
        for name, process in self.processes:
            if process.poll() is not None:
                tail = "\n".join(self.log(name).splitlines()[-30:])
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{tail}")

    def stop(self) -> None:
        for _name, process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)


def create_postgres_database(server_url: str) -> tuple[str, Callable[[], None]]:
    """Create `fleet_load_<pid>` on the server of `server_url`; return its URL and a dropper."""
    import psycopg

    name = f"fleet_load_{os.getpid()}"
    parts = urlsplit(server_url)
    admin = psycopg.connect(server_url.replace("postgres://", "postgresql://", 1), autocommit=True)
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    return parts._replace(path=f"/{name}").geturl(), drop


# -- HTTP ------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    body: bytes
    headers: list[tuple[str, str]]


def request(
    port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None
) -> Answer:
    # A fresh connection per request: a keep-alive the server dropped while idle would look
    # like an error, and a POST must never be silently resent by the client.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Answer(response.status, response.read(), response.getheaders())
    finally:
        connection.close()


@dataclass
class Sample:
    endpoint: str
    status: int  # 0: connection error
    seconds: float
    ok: bool


class Recorder:
    """Every request's endpoint, status and latency, and what went wrong, from every thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.samples: list[Sample] = []
        self.problems: Counter[str] = Counter()
        self.examples: dict[str, str] = {}

    def call(
        self, port: int, endpoint: str, method: str, path: str, expect: int = 200, **kwargs
    ) -> Answer | None:
        started = time.perf_counter()
        try:
            answer = request(port, method, path, **kwargs)
        except OSError as exc:
            self.add(Sample(endpoint, 0, time.perf_counter() - started, False))
            self.problem(f"connection error on {endpoint}", repr(exc))
            return None
        ok = answer.status == expect
        self.add(Sample(endpoint, answer.status, time.perf_counter() - started, ok))
        if not ok:
            self.problem(
                f"{endpoint}: {answer.status} where {expect} was expected",
                f"{method} {path}: {answer.body[:300]!r}",
            )
            return None
        return answer

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)

    def problem(self, kind: str, example: str = "") -> None:
        with self.lock:
            self.problems[kind] += 1
            self.examples.setdefault(kind, example)


def guarded(target: Callable[..., None], recorder: Recorder) -> Callable[..., None]:
    """A client thread that dies stops counting; that must fail the run, not shrink it."""

    def run(*args) -> None:
        try:
            target(*args)
        except Exception:  # noqa: BLE001 - any crash of the harness itself is a failed run
            recorder.problem(f"{target.__name__} crashed", traceback.format_exc()[-300:])

    return run


# -- ingest clients --------------------------------------------------------------------------


@dataclass
class Ledger:
    """What the clients of one tenant were told was stored, to compare with the table."""

    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    success: int = 0
    batches: int = 0
    retries: int = 0
    event_ids: set[str] = field(default_factory=set)


# Event ids posted with an unknown key; set.update is atomic under the GIL.
unauthorised: set[str] = set()


@dataclass
class Batch:
    body: bytes
    expected: dict[str, int]
    event_ids: list[str]


def make_batch(rng: random.Random, client: int, seq: int, token: str) -> Batch:
    """A batch whose answer is known in advance: every event id and message is new."""
    size = rng.choice(BATCH_SIZES)
    now = datetime.now(UTC)
    items, event_ids = [], []
    expected = {"accepted": 0, "duplicates": 0, "rejected": 0, "success": 0}
    for n in range(size):
        uid = f"c{client}-b{seq}-i{n}"
        # Most within the default 7-day view, a third within the last day.
        age = timedelta(hours=rng.uniform(0, 24) if rng.random() < 0.33 else rng.uniform(0, 168))
        item = {
            "device": {"hostname": f"{token}-pc-{rng.randrange(DEVICES_PER_TENANT):04d}"},
            "code": rng.choice(CODES),
            "occurred_at": (now - age).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "source": "agent",
            "update_title": "2026-11 Cumulative Update for Windows 11 (KB5046617)",
            "message": f"load {uid}",
        }
        draw = rng.random()
        if draw < INVALID_SHARE:
            rng.choice(INVALID_ITEMS)(item)
            item["event_id"] = f"rej-{uid}"
            expected["rejected"] += 1
        elif draw < INVALID_SHARE + SUCCESS_SHARE:
            item.update(code=0, event_id=f"ok-{uid}")
            expected["success"] += 1
        else:
            if rng.random() >= NO_EVENT_ID_SHARE:
                item["event_id"] = uid
                event_ids.append(uid)
            expected["accepted"] += 1
        items.append(item)
    if size > 1 and rng.random() < 0.2:
        # The same item twice in one batch: the second is a duplicate, whatever it is.
        twin = rng.choice(items)
        items.append(twin)
        if "event_id" not in twin or twin["event_id"] in event_ids:
            expected["duplicates"] += 1
        elif twin["event_id"].startswith("rej-"):
            expected["rejected"] += 1
        else:
            expected["success"] += 1
    return Batch(json.dumps(items).encode(), expected, event_ids)


def ingest_client(
    index: int,
    port: int,
    key: str,
    token: str,
    ledger: Ledger,
    recorder: Recorder,
    deadline: float,
    ledger_lock: threading.Lock,
) -> None:
    rng = random.Random(index)
    sent: list[Batch] = []
    seq = 0
    while time.monotonic() < deadline:
        seq += 1
        if seq % BAD_KEY_EVERY == 0:
            bogus = make_batch(rng, index, seq, token)
            recorder.call(
                port,
                "POST /api/v1/occurrences (unknown key)",
                "POST",
                "/api/v1/occurrences",
                expect=401,
                body=bogus.body,
                headers={
                    "Authorization": f"Bearer fk_00000000_{secrets.token_urlsafe(32)}",
                    "Content-Type": "application/json",
                },
            )
            unauthorised.update(bogus.event_ids)  # none of these may be stored
            continue
        retry = bool(sent) and rng.random() < RETRY_SHARE
        if retry:
            batch = rng.choice(sent[-20:])
            valid = batch.expected["accepted"] + batch.expected["duplicates"]
            expected = {**batch.expected, "accepted": 0, "duplicates": valid}
            endpoint = "POST /api/v1/occurrences (resent)"
        else:
            batch = make_batch(rng, index, seq, token)
            expected = batch.expected
            endpoint = "POST /api/v1/occurrences"
        answer = recorder.call(
            port,
            endpoint,
            "POST",
            "/api/v1/occurrences",
            expect=202,
            body=batch.body,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        if answer is None:
            continue
        counts = json.loads(answer.body)
        got = {name: counts[name] for name in expected}
        if got != expected:
            recorder.problem("202 answer miscounted a batch", f"expected {expected}, got {got}")
        with ledger_lock:
            for name in ("accepted", "duplicates", "rejected", "success"):
                setattr(ledger, name, getattr(ledger, name) + counts[name])
            ledger.batches += 1
            ledger.retries += retry
            if not retry:
                ledger.event_ids.update(batch.event_ids)
        if not retry:
            sent.append(batch)


# -- operators -------------------------------------------------------------------------------


class Browser:
    """One operator's session: a cookie jar over `Recorder.call`."""

    def __init__(self, port: int, recorder: Recorder) -> None:
        self.port = port
        self.recorder = recorder
        self.cookies: dict[str, str] = {}

    def get(self, endpoint: str, path: str, expect: int = 200) -> Answer | None:
        return self._call(endpoint, "GET", path, expect)

    def _call(self, endpoint, method, path, expect, body=None, headers=None) -> Answer | None:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        answer = self.recorder.call(
            self.port, endpoint, method, path, expect=expect, body=body, headers=headers
        )
        if answer is not None:
            for name, value in answer.headers:
                if name.lower() == "set-cookie":
                    for morsel in SimpleCookie(value).values():
                        self.cookies[morsel.key] = morsel.value
        return answer

    def login(self, username: str, password: str) -> bool:
        if self.get("GET /login/", "/login/") is None:
            return False
        form = urlencode(
            {
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": self.cookies.get("csrftoken", ""),
            }
        ).encode()
        answer = self._call(
            "POST /login/",
            "POST",
            "/login/",
            302,
            body=form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"http://127.0.0.1:{self.port}/login/",
            },
        )
        return answer is not None and "sessionid" in self.cookies


@dataclass
class Isolation:
    checked: int = 0  # operator answers scanned for other tenants' tokens
    own_seen: int = 0  # of which showed one of the operator's own tenants' tokens
    leaks: int = 0


def operator_session(
    index: int,
    port: int,
    username: str,
    password: str,
    own: list[str],
    foreign: list[str],
    foreign_devices: dict[str, list[int]],
    recorder: Recorder,
    isolation: Isolation,
    deadline: float,
    lock: threading.Lock,
) -> None:
    rng = random.Random(1000 + index)
    browser = Browser(port, recorder)
    # A tenant's name and hostnames, not its bare slug: a page may echo a slug the operator
    # typed into the URL, which is not a leak.
    foreign_marks = {t: [f"{t}-pc-".encode(), f"load tenant {t}".encode()] for t in foreign}
    own_marks = [mark for t in own for mark in (f"{t}-pc-".encode(), f"load tenant {t}".encode())]
    if not browser.login(username, password):
        recorder.problem(f"operator {username} could not log in")
        return

    def scan(answer: Answer | None) -> None:
        if answer is None:
            return
        body = answer.body.lower()
        leaked = [t for t, marks in foreign_marks.items() if any(m in body for m in marks)]
        with lock:
            isolation.checked += 1
            isolation.own_seen += any(mark in body for mark in own_marks)
            if leaked:
                isolation.leaks += 1
        if leaked:
            recorder.problem(f"operator {username} saw tenant {leaked[0]}", f"{answer.status}")

    while time.monotonic() < deadline:
        slug = rng.choice(own)
        range_key = rng.choice(["24h", "7d", "7d", "30d"])
        scan(browser.get("GET /", f"/?range={range_key}"))
        tenant_page = browser.get("GET /tenants/<slug>/", f"/tenants/{slug}/?range={range_key}")
        scan(tenant_page)
        device_ids = DEVICE_LINK.findall(tenant_page.body) if tenant_page else []
        if device_ids:
            device = int(rng.choice(device_ids))
            scan(browser.get("GET /devices/<id>/", f"/devices/{device}/"))
            scan(
                browser.get(
                    "GET /charts/<name>.csv", f"/charts/device_timeline.csv?device={device}"
                )
            )
        code = rng.choice(["0x8024000B", "0x8024402C", "0x80070005", "0xC1900101"])
        scan(browser.get("GET /codes/<hex>/", f"/codes/{code}/?range={range_key}"))
        scan(browser.get("GET /triage/", "/triage/"))
        chart = rng.choice(["occurrences_over_time", "top_codes", "code_heatmap", "top_devices"])
        scan(browser.get("GET /charts/<name>.csv", f"/charts/{chart}.csv?range={range_key}"))
        scan(
            browser.get(
                "GET /charts/<name>.csv",
                f"/charts/{rng.choice(['code_tenants', 'code_devices'])}.csv?code={code}",
            )
        )
        # What an operator must not reach, asked for on purpose: 404, not another tenant's data.
        other = rng.choice(foreign)
        scan(browser.get("GET /tenants/<not granted>/ (404)", f"/tenants/{other}/", 404))
        scan(browser.get("GET /?tenant=<not granted>", f"/?tenant={other}"))
        ids = foreign_devices.get(other) or []
        if ids:
            target = rng.choice(ids)
            scan(browser.get("GET /devices/<not granted>/ (404)", f"/devices/{target}/", 404))
        browser.get("GET /healthz", "/healthz")


# -- checks ----------------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    passed: bool
    detail: str


def aggregate_truth(rows: list[tuple[int, int, int, datetime]], model) -> set[tuple]:
    """The rows `model` should hold, from the raw (tenant, device, code, time) rows."""
    names = {f.name for f in model._meta.concrete_fields}
    per_device = "device" in names
    counts: Counter = Counter()
    devices: defaultdict = defaultdict(set)
    for tenant_id, device_id, code, when in rows:
        bucket = when.replace(minute=0, second=0, microsecond=0) if "hour" in names else when.date()
        key = (tenant_id, device_id, code, bucket) if per_device else (tenant_id, code, bucket)
        counts[key] += 1
        devices[key].add(device_id)
    if "devices" in names:
        return {(*key, n, len(devices[key])) for key, n in counts.items()}
    return {(*key, n) for key, n in counts.items()}


def stored_aggregates(model) -> set[tuple]:
    names = {f.name for f in model._meta.concrete_fields}
    columns = ["tenant_id", *(["device_id"] if "device" in names else []), "code"]
    columns += ["hour" if "hour" in names else "day", "occurrences"]
    columns += ["devices"] if "devices" in names else []
    return set(model.objects.values_list(*columns))


def verify(
    tenants: dict[str, int],
    ledgers: dict[str, Ledger],
    recorder: Recorder,
    isolation: Isolation,
    caught_up: bool,
    catch_up_seconds: float,
) -> list[Check]:
    from fleet.aggregate import STAT_MODELS
    from fleet.models import Occurrence

    checks = []
    failed = sum(1 for s in recorder.samples if not s.ok)
    server_errors = sum(1 for s in recorder.samples if s.status >= 500)
    dropped = sum(1 for s in recorder.samples if s.status == 0)
    checks.append(
        Check(
            "every request answered as expected",
            failed == 0 and not recorder.problems,
            f"{len(recorder.samples):,} requests, {failed} unexpected "
            f"({server_errors} 5xx, {dropped} connection errors)",
        )
    )
    lost, extra, mismatched = 0, 0, []
    for slug, tenant_id in tenants.items():
        ledger = ledgers[slug]
        stored = Occurrence.objects.filter(tenant_id=tenant_id).count()
        keys = set(
            Occurrence.objects.filter(tenant_id=tenant_id, dedupe_key__startswith="c").values_list(
                "dedupe_key", flat=True
            )
        )
        event_stored = {key for key in keys if key.startswith("c") and "-b" in key}
        lost += len(ledger.event_ids - event_stored)
        extra += len(event_stored - ledger.event_ids)
        if stored != ledger.accepted:
            mismatched.append(f"{slug}: {stored:,} rows, {ledger.accepted:,} accepted")
    checks.append(
        Check(
            "table holds exactly the accepted occurrences",
            not mismatched and lost == 0 and extra == 0,
            "; ".join(mismatched)
            or f"{sum(lg.accepted for lg in ledgers.values()):,} rows = sum of accepted; "
            f"every event id sent is stored ({lost} missing, {extra} unexpected)",
        )
    )
    forbidden = Occurrence.objects.filter(dedupe_key__regex=r"^(rej|ok)-").count()
    forbidden += Occurrence.objects.filter(dedupe_key__in=list(unauthorised)).count()
    checks.append(
        Check(
            "nothing rejected, unauthorised or 'success' stored",
            forbidden == 0,
            f"{forbidden} such rows; {sum(lg.rejected for lg in ledgers.values()):,} rejected, "
            f"{sum(lg.duplicates for lg in ledgers.values()):,} duplicates answered",
        )
    )
    checks.append(
        Check(
            "pipeline caught up",
            caught_up,
            f"no pending occurrence {catch_up_seconds:.1f} s after the load stopped"
            if caught_up
            else f"occurrences still pending after {catch_up_seconds:.0f} s",
        )
    )
    rows = list(
        Occurrence.objects.values_list("tenant_id", "device_id", "code", "occurred_at").iterator(
            chunk_size=20_000
        )
    )
    differing = []
    for model in STAT_MODELS:
        truth, stored = aggregate_truth(rows, model), stored_aggregates(model)
        if truth != stored:
            differing.append(
                f"{model.__name__}: {len(stored - truth)} wrong or extra rows, "
                f"{len(truth - stored)} missing"
            )
    checks.append(
        Check(
            "aggregates equal a GROUP BY of the raw rows",
            not differing and caught_up,
            "; ".join(differing)
            or f"{len(STAT_MODELS)} tables over {len(rows):,} rows, computed independently",
        )
    )
    checks.append(
        Check(
            "no operator saw another tenant's data",
            isolation.leaks == 0 and isolation.own_seen > 0,
            f"{isolation.checked:,} answers scanned, {isolation.leaks} with a foreign tenant, "
            f"{isolation.own_seen:,} showed the operator's own tenants",
        )
    )
    return checks


# -- main ------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=180, help="seconds of load")
    parser.add_argument("--ingest-clients", type=int, default=4)
    parser.add_argument("--operators", type=int, default=2)
    parser.add_argument("--tenants", type=int, default=4)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument(
        "--catch-up", type=float, default=180, help="seconds the pipeline gets to aggregate"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="a postgres:// server to create the throwaway database on (default: DATABASE_URL "
        "if it is PostgreSQL, else a temporary SQLite file)",
    )
    parser.add_argument(
        "--no-results", action="store_true", help="do not write bench/results/load-<db>.json"
    )
    args = parser.parse_args()
    if args.tenants < 2 or min(args.ingest_clients, args.operators, args.duration) <= 0:
        parser.error("need at least 2 tenants, 1 ingest client, 1 operator, a positive duration")
    return args


def main() -> int:
    args = parse_args()
    # SIGTERM (a CI timeout, `kill`) unwinds like Ctrl-C, so the stack below is still stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = Path(tempfile.mkdtemp(prefix="fleet-load-"))
    drop_database: Callable[[], None] | None = None
    if database_label(args.database_url) == "postgresql":
        database_url, drop_database = create_postgres_database(args.database_url)
    else:
        database_url = f"sqlite:///{workdir}/load.sqlite3"
    stack = Stack(workdir, database_url)
    try:
        return run(args, stack, database_url)
    finally:
        stack.stop()
        if drop_database:
            drop_database()
        shutil.rmtree(workdir, ignore_errors=True)


def run(args: argparse.Namespace, stack: Stack, database_url: str) -> int:
    print(f"migrating a throwaway {database_label(database_url)} database", flush=True)
    stack.manage("migrate", "--no-input", "-v", "0")
    stack.manage("import_codes")
    os.environ.update({k: stack.env[k] for k in ("DATABASE_URL", "REDIS_URL", "LOG_LEVEL")})
    os.environ["DJANGO_SETTINGS_MODULE"] = "fleet.settings"
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import close_old_connections

    from fleet.ingest.keys import create_ingest_key
    from fleet.models import Device, PendingBatch, Tenant
    from fleet.pending import pending_rows

    # A token per tenant in its slug, name and every hostname: an operator answer carrying
    # another tenant's name or hostnames is a leak, whatever page or CSV column shows it.
    tokens = [f"lt{n}{secrets.token_hex(3)}" for n in range(args.tenants)]
    tenants, keys = {}, {}
    for token in tokens:
        tenant = Tenant.objects.create(slug=token, name=f"Load tenant {token}")
        tenants[token] = tenant.pk
        keys[token] = create_ingest_key(tenant, "load test")[1]
    operators = []
    for n in range(args.operators):
        # One or two tenants each, never all: there is always something not to see.
        own = [tokens[n % args.tenants]]
        if args.tenants >= 3:
            own.append(tokens[(n + 1) % args.tenants])
        password = secrets.token_urlsafe(16)
        user = get_user_model().objects.create_user(f"operator{n}", password=password)
        for token in own:
            Tenant.objects.get(slug=token).operators.add(user)
        operators.append((user.username, password, own, [t for t in tokens if t not in own]))

    print(
        f"starting redis, gunicorn (fleet/gunicorn.conf.py, {args.web_workers} workers), "
        "celery worker and beat",
        flush=True,
    )
    stack.start(args.web_workers)
    port = stack.web_port
    recorder, isolation = Recorder(), Isolation()
    ledgers = {token: Ledger() for token in tokens}
    ledger_lock, isolation_lock = threading.Lock(), threading.Lock()
    foreign_devices: dict[str, list[int]] = {}
    deadline = time.monotonic() + args.duration
    threads = [
        # Daemons: Ctrl-C stops the run (and the stack, in `main`) without waiting for them.
        threading.Thread(
            daemon=True,
            target=guarded(ingest_client, recorder),
            args=(
                n,
                port,
                keys[tokens[n % args.tenants]],
                tokens[n % args.tenants],
                ledgers[tokens[n % args.tenants]],
                recorder,
                deadline,
                ledger_lock,
            ),
        )
        for n in range(args.ingest_clients)
    ] + [
        threading.Thread(
            daemon=True,
            target=guarded(operator_session, recorder),
            args=(
                n,
                port,
                username,
                password,
                own,
                foreign,
                foreign_devices,
                recorder,
                isolation,
                deadline,
                isolation_lock,
            ),
        )
        for n, (username, password, own, foreign) in enumerate(operators)
    ]
    print(
        f"load: {args.ingest_clients} ingest clients, {args.operators} operators, "
        f"{args.tenants} tenants, {args.duration:.0f} s",
        flush=True,
    )
    started = time.monotonic()
    for thread in threads:
        thread.start()
    max_pending = 0
    pending_samples: list[tuple[float, int]] = []
    next_sample = started
    while alive := [thread for thread in threads if thread.is_alive()]:
        alive[0].join(max(0.0, next_sample - time.monotonic()))
        if time.monotonic() < next_sample:
            continue
        next_sample += 5
        # Meanwhile: how far the pipeline lags, and device ids for the operators' 404 probes.
        stack.check_alive()
        pending_now = pending_rows()
        max_pending = max(max_pending, pending_now)
        pending_samples.append((time.monotonic() - started, pending_now))
        for token, tenant_id in tenants.items():
            foreign_devices[token] = list(
                Device.objects.filter(tenant_id=tenant_id).values_list("pk", flat=True)[:50]
            )
        close_old_connections()
        elapsed = time.monotonic() - started
        print(
            f"  {elapsed:5.0f} s  {len(recorder.samples):,} requests, "
            f"{sum(lg.accepted for lg in ledgers.values()):,} occurrences accepted, "
            f"{pending_now:,} pending now, {max_pending:,} max pending, "
            f"{sum(recorder.problems.values())} problems",
            flush=True,
        )
    load_seconds = time.monotonic() - started

    stopped = time.monotonic()
    caught_up = False
    while time.monotonic() - stopped < args.catch_up:
        if not PendingBatch.objects.exists():
            caught_up = True
            break
        time.sleep(0.5)
    catch_up_seconds = time.monotonic() - stopped
    stack.check_alive()
    checks = verify(tenants, ledgers, recorder, isolation, caught_up, catch_up_seconds)
    checks.append(logs_clean(stack))

    accepted = sum(lg.accepted for lg in ledgers.values())
    print_summary(recorder, ledgers, load_seconds, max_pending, checks)
    first, second = backlog_halves(pending_samples)
    print(
        f"backlog: at most {first:,} occurrences pending in the first half of the run, "
        f"{second:,} in the second (a backlog that grows without bound shows as second >> first)"
    )
    if not args.no_results:
        write_results(args, database_url, recorder, accepted, load_seconds, max_pending, checks)
    return 1 if any(not check.passed for check in checks) else 0


def logs_clean(stack: Stack) -> Check:
    """A failed task or request the next round papered over still shows in the logs."""
    found = {
        name: [line for line in stack.log(name).splitlines() if LOG_ERROR.search(line)]
        for name in ("web", "worker", "beat")
    }
    first = next((lines[0] for lines in found.values() if lines), "")
    return Check(
        "no error in the web, worker or beat logs",
        not first,
        ", ".join(f"{name}.log: {len(lines)} error lines" for name, lines in found.items())
        + (f"; first: {first[:200]}" if first else ""),
    )


def endpoint_rows(recorder: Recorder) -> list[tuple[str, int, int, float, float, float]]:
    by_endpoint: defaultdict[str, list[Sample]] = defaultdict(list)
    for sample in recorder.samples:
        by_endpoint[sample.endpoint].append(sample)
    rows = []
    for endpoint, samples in sorted(by_endpoint.items()):
        times = [s.seconds * 1000 for s in samples]
        errors = sum(1 for s in samples if not s.ok)
        rows.append(
            (
                endpoint,
                len(samples),
                errors,
                percentile(times, 0.5),
                percentile(times, 0.95),
                percentile(times, 0.99),
            )
        )
    return rows


def backlog_halves(samples: list[tuple[float, int]]) -> tuple[int, int]:
    """The most occurrences pending in the first and in the second half of the run."""
    if not samples:
        return 0, 0
    middle = samples[-1][0] / 2
    first = [pending for at, pending in samples if at <= middle]
    second = [pending for at, pending in samples if at > middle]
    return max(first, default=0), max(second, default=0)


def print_summary(
    recorder: Recorder,
    ledgers: dict[str, Ledger],
    seconds: float,
    max_pending: int,
    checks: list[Check],
) -> None:
    print(
        f"\n{'endpoint':<42} {'requests':>9} {'errors':>7} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8}"
    )
    for endpoint, count, errors, p50, p95, p99 in endpoint_rows(recorder):
        print(f"{endpoint:<42} {count:>9,} {errors:>7} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f}")
    accepted = sum(lg.accepted for lg in ledgers.values())
    batches = sum(lg.batches for lg in ledgers.values())
    print(
        f"\n{len(recorder.samples):,} requests in {seconds:.0f} s "
        f"({len(recorder.samples) / seconds:.1f}/s); {batches:,} batches "
        f"({sum(lg.retries for lg in ledgers.values()):,} resent), {accepted:,} occurrences "
        f"accepted ({accepted / seconds:,.0f}/s), "
        f"{sum(lg.duplicates for lg in ledgers.values()):,} duplicates, "
        f"{sum(lg.rejected for lg in ledgers.values()):,} rejected; "
        f"at most {max_pending:,} occurrences waiting for aggregation"
    )
    for kind, count in recorder.problems.most_common():
        print(f"  PROBLEM {count:>6} x {kind}\n           e.g. {recorder.examples[kind][:300]}")
    print()
    for check in checks:
        print(f"{'ok  ' if check.passed else 'FAIL'} {check.name}: {check.detail}")


def write_results(
    args: argparse.Namespace,
    database_url: str,
    recorder: Recorder,
    accepted: int,
    seconds: float,
    max_pending: int,
    checks: list[Check],
) -> None:
    rows = {row[0]: row for row in endpoint_rows(recorder)}
    healthz = rows.get("GET /healthz")
    base = healthz[4] if healthz else None
    figures = [
        Figure("occurrences accepted per second", accepted / seconds, "occ/s"),
        Figure("requests per second", len(recorder.samples) / seconds, "req/s"),
        Figure(
            "unexpected answers",
            sum(1 for s in recorder.samples if not s.ok),
            "requests",
            target="= 0",
            met=all(s.ok for s in recorder.samples),
        ),
        Figure("max occurrences pending aggregation", max_pending, "occ"),
    ]
    for endpoint, _count, _errors, _p50, p95, _p99 in rows.values():
        if endpoint != "GET /healthz":
            figures.append(
                Figure(f"p95 {endpoint}", p95, "ms", baseline=base, baseline_label="p95 /healthz")
            )
    figures += [
        Figure(
            f"check: {c.name}", float(c.passed), "pass", target="pass", met=c.passed, note=c.detail
        )
        for c in checks
    ]
    report(
        "load",
        database_url,
        figures,
        {
            "duration_s": args.duration,
            "ingest_clients": args.ingest_clients,
            "operators": args.operators,
            "tenants": args.tenants,
            "web": f"gunicorn -c fleet/gunicorn.conf.py, {args.web_workers} gevent workers",
            "worker": "celery worker --concurrency 1, celery beat (pipeline every 60 s)",
        },
        db_version=database_version(),
    )


if __name__ == "__main__":
    raise SystemExit(main())
