"""The beat sweep: a stalled import is resumed from its upload or failed with the reason, a live
one is left alone, and two sweeps (or a sweep and a redelivered task) never both take one.

Staleness is decided against the `now` each test passes, never by waiting.
"""

from datetime import UTC, datetime, timedelta

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from fleet.ingest import tasks
from fleet.ingest.importer import ImportHandedOff, run_import
from fleet.ingest.models import ImportRecord
from fleet.ingest.recovery import recover_imports
from fleet.models import Occurrence
from tests.fleet.ingest.exports import report_csv
from tests.services import RedisServer, broker
from tests.threads import run_at_once

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
Status = ImportRecord.Status


def stale_minutes() -> timedelta:
    return timedelta(minutes=settings.IMPORT_STALE_MINUTES)


def upload_record(tenant, path, **fields) -> ImportRecord:
    return ImportRecord.objects.create(
        tenant=tenant,
        file_name=path.name,
        stored_path=str(path),
        size=path.stat().st_size if path.exists() else 0,
        **fields,
    )


def left_running(record: ImportRecord, heartbeat_at: datetime, runner: str = "inline") -> None:
    """What a process killed mid-import leaves behind."""
    ImportRecord.objects.filter(pk=record.pk).update(
        status=Status.RUNNING, runner=runner, heartbeat_at=heartbeat_at
    )


def queued_messages(server: RedisServer) -> int:
    return redis.Redis.from_url(server.url).llen("ingest")


@pytest.fixture
def live_broker(redis_server):
    with broker(redis_server.url):
        yield redis_server


@pytest.mark.django_db
def test_a_fresh_heartbeat_is_left_alone(tenant, tmp_path, live_broker):
    record = upload_record(tenant, report_csv(tmp_path / "live.csv", 20), attempts=1)
    beat = NOW - stale_minutes() + timedelta(seconds=1)
    left_running(record, beat, runner="worker")

    result = recover_imports(now=NOW)

    assert (result.resumed, result.failed, result.sent) == ([], [], [])
    record.refresh_from_db()
    assert (record.status, record.heartbeat_at, record.error) == (Status.RUNNING, beat, "")
    assert queued_messages(live_broker) == 0


@pytest.mark.django_db
def test_a_dead_inline_import_is_resumed_from_its_upload_and_counted_once(
    tenant, tmp_path, live_broker
):
    path = report_csv(tmp_path / "half.csv", 120)
    record = upload_record(tenant, path)
    # The web request commits its first batch of 50, then its process is killed.
    with pytest.raises(ImportHandedOff):
        run_import(record, path, batch_size=50, time_budget=0)
    assert Occurrence.objects.filter(tenant=tenant).count() == 50
    left_running(record, NOW - stale_minutes() - timedelta(seconds=1))

    result = recover_imports(now=NOW)

    assert (result.resumed, result.failed, result.sent) == ([record.pk], [], [record.pk])
    record.refresh_from_db()
    assert (record.status, record.heartbeat_at) == (Status.QUEUED, NOW)  # with the broker
    assert queued_messages(live_broker) == 1

    assert tasks.run_import(record.pk) == "done"  # what the worker does with that message
    record.refresh_from_db()
    assert (record.status, record.runner, record.attempts) == (Status.DONE, "worker", 2)
    assert (record.rows, record.created, record.duplicates) == (120, 120, 0)
    assert sum(record.by_code.values()) == 120
    assert Occurrence.objects.filter(tenant=tenant).count() == 120


@pytest.mark.django_db
def test_a_dead_import_whose_upload_is_gone_is_failed_and_the_pages_say_why(
    tenant, logged_in, tmp_path, dead_broker
):
    record = upload_record(tenant, tmp_path / "deleted.csv", attempts=1)
    left_running(record, NOW - stale_minutes() - timedelta(minutes=5))

    result = recover_imports(now=NOW)

    assert (result.resumed, result.failed) == ([], [record.pk])
    record.refresh_from_db()
    assert (record.status, record.finished_at) == (Status.FAILED, NOW)
    assert record.error.startswith(
        f"no progress for {settings.IMPORT_STALE_MINUTES} minutes; the web request running it "
        "was probably killed. The uploaded file is no longer on disk"
    )
    for page in (f"/imports/{record.pk}/", "/imports/"):
        assert (
            "the web request running it was probably killed" in logged_in.get(page).content.decode()
        )
    assert logged_in.get(f"/imports/{record.pk}/status.json").json()["error"] == record.error


@pytest.mark.django_db
def test_a_dead_import_out_of_attempts_is_failed_not_resumed(tenant, tmp_path, dead_broker):
    record = upload_record(
        tenant, report_csv(tmp_path / "poison.csv", 20), attempts=settings.IMPORT_MAX_ATTEMPTS
    )
    left_running(record, NOW - stale_minutes() - timedelta(seconds=1), runner="worker")

    result = recover_imports(now=NOW)

    assert (result.resumed, result.failed, result.sent) == ([], [record.pk], [])
    record.refresh_from_db()
    assert record.status == Status.FAILED
    assert "a Celery worker running it was probably killed" in record.error
    assert f"the last of {settings.IMPORT_MAX_ATTEMPTS} attempts" in record.error
    # The dead worker's message, delivered again by Redis, does not start a fourth run.
    assert tasks.run_import(record.pk) == "skipped"
    assert not Occurrence.objects.exists()


@pytest.mark.django_db
def test_a_dead_command_line_import_is_failed_with_what_to_do(tenant, tmp_path, dead_broker):
    record = ImportRecord.objects.create(tenant=tenant, file_name="export.csv", attempts=1)
    left_running(record, NOW - stale_minutes() - timedelta(seconds=1), runner="command")

    assert recover_imports(now=NOW).failed == [record.pk]
    record.refresh_from_db()
    assert "the import_report command running it was probably killed" in record.error
    assert "run import_report again" in record.error


@pytest.mark.django_db
def test_a_record_left_running_from_before_heartbeats_is_recovered(tenant, tmp_path, dead_broker):
    record = upload_record(tenant, tmp_path / "gone.csv", status=Status.RUNNING)

    assert recover_imports(now=NOW).failed == [record.pk]
    record.refresh_from_db()
    assert record.error.startswith("no progress for")
    assert "the process running it" in record.error


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_resume_each_import_once(tenant, tmp_path, live_broker):
    records = [upload_record(tenant, report_csv(tmp_path / f"{n}.csv", 10)) for n in range(6)]
    for record in records:
        left_running(record, NOW - stale_minutes() - timedelta(minutes=1))

    def sweep():
        return recover_imports(now=NOW)

    writers = run_at_once(sweep, sweep, timeout=60)
    results, errors = writers.results, writers.errors

    assert errors == []
    resumed = [pk for result in results for pk in result.resumed]
    sent = [pk for result in results for pk in result.sent]
    assert sorted(resumed) == sorted(sent) == [record.pk for record in records]
    assert queued_messages(live_broker) == len(records)


@pytest.mark.django_db
def test_an_import_the_broker_never_got_is_sent_once_it_is_back(tenant, tmp_path, redis_server):
    record = upload_record(tenant, report_csv(tmp_path / "waiting.csv", 10))

    with broker(RedisServer(tmp_path).url):  # nothing listens there
        assert recover_imports(now=NOW).sent == []
    record.refresh_from_db()
    assert (record.status, record.heartbeat_at) == (Status.QUEUED, None)

    with broker(redis_server.url):
        assert recover_imports(now=NOW).sent == [record.pk]
        assert recover_imports(now=NOW + timedelta(minutes=1)).sent == []  # it has it now
    assert queued_messages(redis_server) == 1


@pytest.mark.django_db
def test_a_queued_import_no_worker_started_is_sent_again(tenant, tmp_path, live_broker):
    record = upload_record(tenant, report_csv(tmp_path / "lost.csv", 10))
    # Handed to a Redis that restarted without its data: the message is gone.
    ImportRecord.objects.filter(pk=record.pk).update(heartbeat_at=NOW - stale_minutes() * 2)

    assert recover_imports(now=NOW).sent == [record.pk]
    assert queued_messages(live_broker) == 1
    record.refresh_from_db()
    assert (record.status, record.heartbeat_at, record.attempts) == (Status.QUEUED, NOW, 0)


@pytest.mark.django_db
def test_a_queued_import_whose_upload_is_gone_is_failed(tenant, tmp_path, dead_broker):
    record = upload_record(tenant, tmp_path / "missing.csv")

    assert recover_imports(now=NOW).failed == [record.pk]
    record.refresh_from_db()
    assert record.status == Status.FAILED
    assert "no longer on disk" in record.error


@pytest.mark.django_db
def test_a_redelivered_task_leaves_an_import_that_is_making_progress(tenant, tmp_path, dead_broker):
    record = upload_record(tenant, report_csv(tmp_path / "busy.csv", 30), attempts=1)
    left_running(record, timezone.now(), runner="worker")

    assert tasks.run_import(record.pk) == "skipped"
    record.refresh_from_db()
    assert (record.status, record.attempts) == (Status.RUNNING, 1)
    assert not Occurrence.objects.exists()

    # Once its heartbeat is stale, a redelivery (Redis's visibility timeout) takes it over.
    left_running(record, timezone.now() - stale_minutes() - timedelta(seconds=1), "worker")
    assert tasks.run_import(record.pk) == "done"
    record.refresh_from_db()
    assert (record.status, record.attempts, record.created) == (Status.DONE, 2, 30)


def test_the_sweep_runs_every_minute_on_a_queue_imports_cannot_block():
    entry = settings.CELERY_BEAT_SCHEDULE["recover-imports"]

    assert entry["task"] == "fleet.ingest.tasks.recover_imports"
    assert entry["options"]["expires"] < entry["schedule"] <= 60
    assert settings.CELERY_TASK_ROUTES[entry["task"]]["queue"] != "ingest"
    # Redis redelivers a dead worker's import only after the sweep has had its chance.
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert visibility > settings.IMPORT_STALE_MINUTES * 60 + entry["schedule"]
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
