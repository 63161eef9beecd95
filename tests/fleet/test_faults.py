"""Faults on purpose: real Redis, Celery workers, SMTP and database, broken mid-flight.

Each test takes a real service down (or kills it) while work is in flight, brings it back, and
checks what the README promises: the database is the source of truth, so a dead broker, worker
or mail server delays work but never loses or doubles it. Expected aggregates are computed here
from the raw rows with plain GROUP BY queries, not through `fleet.aggregate`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db.models import Count
from django.db.models.functions import TruncDate, TruncHour
from django.test import Client
from django.utils import timezone

from fleet.alerts.models import AlertDelivery
from fleet.alerts.tasks import send_alert_emails
from fleet.ingest.importer import BATCH_ROWS
from fleet.ingest.keys import create_ingest_key
from fleet.ingest.models import ImportRecord
from fleet.ingest.recovery import recover_imports
from fleet.ingest.tasks import run_import
from fleet.ingest.uploads import inline_max_bytes, start_import
from fleet.models import (
    DailyCodeStat,
    DailyDeviceCodeStat,
    HourlyCodeStat,
    HourlyDeviceCodeStat,
    Occurrence,
)
from fleet.pending import counted_occurrences, pending_occurrences, track
from fleet.tasks import aggregate_occurrences, run_pipeline
from tests.factories import DeviceFactory, alert_rule, emit, occurrence
from tests.fleet.ingest.exports import report_csv
from tests.services import (
    REPO,
    CeleryWorker,
    RedisServer,
    broker,
    database_url_for_subprocess,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CANCELLED = 0x8024000B


class Workers:
    """Start Celery workers on one broker as a test needs them; stop whatever is left after."""

    def __init__(self, redis: RedisServer, folder: Path) -> None:
        self.redis = redis
        self.folder = folder
        self.started: list[CeleryWorker] = []

    def start(self, **env: str) -> CeleryWorker:
        log = self.folder / f"worker-{len(self.started) + 1}.log"
        worker = CeleryWorker(self.redis.url, log, env=env)
        self.started.append(worker)
        worker.start()
        return worker

    def logs(self) -> str:
        return "\n".join(f"--- {w.logfile.name}\n{w.log()}" for w in self.started)

    def wait(self, check, what: str, timeout: float = 60) -> None:
        """Wait for `check`; on a timeout, fail with the workers' logs as they are by then."""
        try:
            wait_until(check, timeout, what)
        except TimeoutError as exc:
            raise AssertionError(f"{exc}; worker logs:\n{self.logs()}") from None

    def stop_all(self) -> None:
        for worker in self.started:
            worker.stop()


@pytest.fixture
def workers(redis_server: RedisServer, tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(redis_server, tmp_path)
    try:
        with broker(redis_server.url):
            yield pool
    finally:
        pool.stop_all()


def expected_aggregates(only_aggregated: bool = False) -> dict[str, set[tuple]]:
    """Every aggregate table's rows as they must be, from one GROUP BY over the raw rows (or
    over those marked aggregated: what committed chunks must add up to)."""
    raw = counted_occurrences() if only_aggregated else Occurrence.objects
    occurrences = raw.annotate(
        hour_bucket=TruncHour("occurred_at"), day_bucket=TruncDate("occurred_at")
    )

    def grouped(*keys: str, devices: bool) -> set[tuple]:
        counts = {"n": Count("id")} | ({"d": Count("device_id", distinct=True)} if devices else {})
        rows = occurrences.values(*keys).annotate(**counts).order_by()
        return {tuple(row[k] for k in (*keys, "n", *(["d"] if devices else []))) for row in rows}

    return {
        "hourly_device": grouped("device_id", "code", "hour_bucket", devices=False),
        "hourly_code": grouped("tenant_id", "code", "hour_bucket", devices=True),
        "daily_device": grouped("device_id", "code", "day_bucket", devices=False),
        "daily_code": grouped("tenant_id", "code", "day_bucket", devices=True),
    }


def stored_aggregates() -> dict[str, set[tuple]]:
    def rows(model, *fields: str) -> set[tuple]:
        return set(model.objects.values_list(*fields))

    return {
        "hourly_device": rows(HourlyDeviceCodeStat, "device_id", "code", "hour", "occurrences"),
        "hourly_code": rows(HourlyCodeStat, "tenant_id", "code", "hour", "occurrences", "devices"),
        "daily_device": rows(DailyDeviceCodeStat, "device_id", "code", "day", "occurrences"),
        "daily_code": rows(DailyCodeStat, "tenant_id", "code", "day", "occurrences", "devices"),
    }


def wait_until_aggregated(workers: Workers) -> None:
    workers.wait(
        lambda: not pending_occurrences().exists(),
        "every occurrence to be aggregated",
    )


def api_batch(start: int, count: int, when: datetime) -> list[dict]:
    return [
        {
            "device": {"hostname": f"API-{n % 25:03d}"},
            "code": "0x8024000B" if n % 3 else "0x80070005",
            "occurred_at": (when + timedelta(minutes=n % 180)).isoformat(),
            "event_id": f"evt-{n}",
        }
        for n in range(start, start + count)
    ]


def upload(client: Client, tenant, path: Path):
    data = {
        "tenant": tenant.pk,
        "format": "auto",
        "file": SimpleUploadedFile(path.name, path.read_bytes(), content_type="text/csv"),
    }
    return client.post("/imports/new/", data)


def test_redis_down_ingest_is_stored_and_aggregates_catch_up_when_it_returns(
    tenant, logged_in, redis_server, workers, tmp_path
):
    workers.start()
    _key, secret = create_ingest_key(tenant, "agents")
    api = Client()
    small = report_csv(tmp_path / "small.csv", 40)
    large = report_csv(tmp_path / "large.csv", 600, pad_to=inline_max_bytes() + 64 * 1024)
    assert large.stat().st_size > inline_max_bytes()  # would go to a worker with Redis up

    redis_server.stop()

    when = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
    for start in (0, 300, 600):
        response = post_batch(api, secret, api_batch(start, 300, when))
        assert response.status_code == 202, response.content
        assert response.json()["accepted"] == 300
    for path, rows in ((small, 40), (large, 600)):
        response = upload(logged_in, tenant, path)
        assert response.status_code == 302, response.content
        # With no broker the upload is imported in the request: its page shows it done.
        page = logged_in.get(response["Location"])
        assert page.status_code == 200
        assert '<strong id="import-status">Done</strong>' in page.content.decode()
        record = ImportRecord.objects.get(file_name=path.name)
        assert (record.status, record.created, record.rejected_count) == ("done", rows, 0)
    assert Occurrence.objects.filter(tenant=tenant).count() == 900 + 640
    assert not counted_occurrences().exists()

    # Same port, empty: nothing was queued while it was down. The next batch's own request
    # for aggregation goes through this process's existing producer, as a web worker's would.
    redis_server.start()
    response = post_batch(api, secret, api_batch(900, 100, when))
    assert (response.status_code, response.json()["accepted"]) == (202, 100)

    wait_until_aggregated(workers)
    assert stored_aggregates() == expected_aggregates()
    assert sum(n for *_, n in stored_aggregates()["hourly_device"]) == 1640
    assert "Task fleet.ingest.tasks.run_import[" not in workers.logs()  # both ran in process


def post_batch(client: Client, secret: str, items: list[dict]):
    return client.post(
        "/api/v1/occurrences",
        data=json.dumps(items),
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )


def test_worker_killed_mid_aggregation_counts_every_row_exactly_once(tenant, workers):
    devices = [DeviceFactory(tenant=tenant) for _ in range(40)]
    start = datetime(2026, 11, 1, tzinfo=UTC)
    total = 8_000
    # Stored as ingest stores them, in many small batches: a run counts whole batches.
    for first_row in range(0, total, 20):
        track(
            occurrence(
                devices[n % 40],
                CANCELLED + (n % 7),
                start + timedelta(minutes=17 * n % (60 * 24 * 3)),
                source="fault",
            )
            for n in range(first_row, first_row + 20)
        )
    first = workers.start()

    # Small chunks: the run commits chunk after chunk, so there is a middle to kill it in.
    aggregate_occurrences.apply_async(kwargs={"chunk_size": 20})
    deadline = time.monotonic() + 60
    while not counted_occurrences().exists():
        assert time.monotonic() < deadline, f"no chunk committed; log:\n{first.log()}"
        time.sleep(0.02)
    first.kill()

    done_before_kill = counted_occurrences().count()
    assert 0 < done_before_kill < total, "the kill did not land mid-run"
    # Committed chunks are counted whole, the one cut off not at all.
    assert stored_aggregates() == expected_aggregates(only_aggregated=True)
    assert stored_aggregates() != expected_aggregates()

    workers.start()
    run_pipeline.apply_async()  # the next beat round

    wait_until_aggregated(workers)
    assert stored_aggregates() == expected_aggregates()
    assert sum(n for *_, n in stored_aggregates()["hourly_device"]) == total


def test_worker_killed_mid_import_is_resumed_by_the_sweep_with_exact_counts(
    tenant, workers, tmp_path
):
    rows = 2 * BATCH_ROWS + 2000  # three batches
    path = report_csv(tmp_path / "big.csv", rows)
    record = ImportRecord.objects.create(
        tenant=tenant, file_name=path.name, stored_path=str(path), size=path.stat().st_size
    )
    first = workers.start()
    assert start_import(record, inline_max=0) == "queued"
    deadline = time.monotonic() + 60
    while not ImportRecord.objects.filter(pk=record.pk, created__gt=0).exists():
        assert time.monotonic() < deadline, f"no batch committed; log:\n{first.log()}"
        time.sleep(0.02)
    first.kill()

    stored_before_kill = Occurrence.objects.filter(tenant=tenant).count()
    assert 0 < stored_before_kill < rows, "the kill did not land mid-import"
    record.refresh_from_db()
    assert (record.status, record.runner, record.attempts) == ("running", "worker", 1)
    # Its last batch was moments ago: the sweep leaves it alone.
    assert recover_imports(now=timezone.now()).resumed == []

    workers.start()
    # IMPORT_STALE_MINUTES later, with no batch since, beat's sweep queues it again.
    stale = record.heartbeat_at + timedelta(minutes=settings.IMPORT_STALE_MINUTES, seconds=1)
    assert recover_imports(now=stale).resumed == [record.pk]
    workers.wait(
        lambda: ImportRecord.objects.filter(pk=record.pk, status="done").exists(),
        "the import to be completed",
    )

    record.refresh_from_db()
    assert Occurrence.objects.filter(tenant=tenant).count() == rows
    assert (record.rows, record.created, record.duplicates) == (rows, rows, 0)
    assert sum(record.by_code.values()) == rows
    assert record.devices_created == 30
    assert (record.runner, record.attempts) == ("worker", 2)

    # The killed worker's own message, which Redis hands out again once its visibility timeout
    # has passed, finds the import done and changes nothing.
    run_import.apply_async(args=[record.pk])
    workers.wait(lambda: "succeeded" in workers.logs() and "'skipped'" in workers.logs(),
                 "the redelivered task to be skipped")  # fmt: skip
    record.refresh_from_db()
    assert (record.created, record.attempts) == (rows, 2)
    assert Occurrence.objects.filter(tenant=tenant).count() == rows


def test_smtp_down_alert_is_kept_retried_and_sent_once(tenant, smtp_server, workers):
    rule = alert_rule(
        name="Cancelled storm",
        tenant=tenant,
        code=CANCELLED,
        min_occurrences=4,
        window_hours=1,
        recipients="noc@example.test",
        cooldown_minutes=60,
    )
    device = DeviceFactory(tenant=tenant)
    now = timezone.now()
    emit(device, CANCELLED, [now - timedelta(minutes=n) for n in range(1, 6)], source="fault")
    smtp_server.stop()  # the port stays reserved for the restart
    workers.start(
        SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_server.port), SMTP_TIMEOUT="5",
        SITE_URL="https://fleet.example.test",
    )  # fmt: skip

    run_pipeline.apply_async()
    workers.wait(
        lambda: AlertDelivery.objects.filter(attempts__gte=1, state="pending").exists(),
        "a failed send attempt",
    )
    delivery = AlertDelivery.objects.get()
    assert delivery.last_error and delivery.sent_at is None
    assert delivery.next_attempt_at > now  # backed off, not dropped

    smtp_server.start()
    # The back-off (a minute for a first failure) elapses; beat's next email round runs.
    AlertDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    send_alert_emails.apply_async()

    [email] = smtp_server.wait_for(1, timeout=60)
    assert email.recipients == ["noc@example.test"]
    assert "0x8024000B" in email.subject
    workers.wait(lambda: AlertDelivery.objects.get().state == "sent", "the send to be recorded")

    # Further rounds, pipeline and email alike, send nothing more.
    emails_before = succeeded(workers, "fleet.tasks.send_alert_emails")
    rounds_before = succeeded(workers, "fleet.tasks.run_pipeline")
    run_pipeline.apply_async()
    send_alert_emails.apply_async()
    send_alert_emails.apply_async()
    workers.wait(
        lambda: (
            succeeded(workers, "fleet.tasks.send_alert_emails") >= emails_before + 2
            and succeeded(workers, "fleet.tasks.run_pipeline") >= rounds_before + 1
        ),
        "the further rounds to finish",
    )
    assert len(smtp_server.messages()) == 1
    assert AlertDelivery.objects.count() == 1
    assert rule.firings.count() == 1


def succeeded(workers: Workers, task: str) -> int:
    """How many runs of `task` the workers have logged as finished."""
    return sum(
        1 for line in workers.logs().splitlines() if f"Task {task}[" in line and "succeeded" in line
    )


# Runs `manage.py import_report` once both processes are up, so the two imports truly overlap:
# each process loads Django, says it is ready, and waits for the test's "go".
IMPORT_AFTER_GO = """
import sys, time, django
from pathlib import Path
django.setup()
from django.core.management import call_command
ready, go, args = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
ready.touch()
while not go.exists():
    time.sleep(0.005)
call_command("import_report", *args)
"""


def test_the_same_file_imported_twice_at_once_is_stored_once(tenant, tmp_path):
    rows = 2 * BATCH_ROWS + 2000  # three batches
    path = report_csv(tmp_path / "twice.csv", rows)
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "DJANGO_SETTINGS_MODULE": "fleet.settings",
    }
    arguments = [str(path), "--tenant", tenant.slug, "--json"]
    go = tmp_path / "go"
    readies = [tmp_path / f"ready-{n}" for n in range(2)]
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", IMPORT_AFTER_GO, str(ready), str(go), *arguments],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for ready in readies
    ]
    try:
        wait_until(lambda: all(r.exists() for r in readies), 60, "both importers to start")
        go.touch()
        outputs = [run.communicate(timeout=120) for run in runs]
    finally:
        for run in runs:
            if run.poll() is None:
                run.kill()
    for run, (_out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err.decode()
    summaries = sorted((json.loads(out) for out, _err in outputs), key=lambda s: s["created"])

    assert Occurrence.objects.filter(tenant=tenant).count() == rows
    assert [s["created"] for s in summaries] == [0, rows]
    assert [s["duplicates"] for s in summaries] == [rows, 0]
    later, first = summaries
    assert later["already_imported_as"] == first["import_id"]
    assert first["already_imported_as"] is None

    # A third run, later, says the same in plain text.
    out = StringIO()
    call_command("import_report", str(path), "--tenant", tenant.slug, stdout=out)
    assert f"same file as import {first['import_id']} (already imported)" in out.getvalue()
    assert Occurrence.objects.filter(tenant=tenant).count() == rows
