"""Keep every import moving: who may run it, handing it to a worker, and the beat sweep that
resumes or fails an import whose runner died.

An import belongs to whoever took it with a conditional UPDATE (`claim`), so a redelivered task,
a second sweep and the upload request never run it side by side by accident. While it runs,
each committed batch refreshes `heartbeat_at`; `recover_imports` (beat, every minute) looks for
running imports with no heartbeat for IMPORT_STALE_MINUTES, and queued ones the broker never got
or never delivered. A stale import is queued again from its stored upload (rows already stored
are found by their dedupe keys, so nothing is counted twice) while it has attempts left, and
failed with the reason otherwise.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from fleet.ingest.models import ImportRecord

log = logging.getLogger(__name__)

Status = ImportRecord.Status
Runner = ImportRecord.Runner


@dataclass
class SweepResult:
    resumed: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    # Queued imports handed to the broker: never sent (it was down), or sent and never started.
    sent: list[int] = field(default_factory=list)


def stale_before(now: datetime) -> datetime:
    return now - timedelta(minutes=settings.IMPORT_STALE_MINUTES)


def _stale(now: datetime) -> Q:
    # No heartbeat at all while running: a record from before heartbeats existed.
    return Q(status=Status.RUNNING) & (
        Q(heartbeat_at__lt=stale_before(now)) | Q(heartbeat_at__isnull=True)
    )


def claim(record_id: int, runner: str, now: datetime | None = None) -> bool:
    """Take the import for `runner` with one conditional UPDATE; False when someone else has it.

    Anyone may take a queued import. A worker may also take, while attempts are left, a failed
    one (a re-run completes it) or a stale one (the broker redelivered the task of a dead
    worker before the sweep resumed it); never one whose runner is still making progress."""
    now = now or timezone.now()
    takeable = Q(status=Status.QUEUED)
    if runner == Runner.WORKER:
        takeable |= (Q(status=Status.FAILED) | _stale(now)) & Q(
            attempts__lt=settings.IMPORT_MAX_ATTEMPTS
        )
    taken = ImportRecord.objects.filter(takeable, pk=record_id).update(
        status=Status.RUNNING, runner=runner, heartbeat_at=now
    )
    return taken == 1


def send_to_worker(record_id: int, now: datetime | None = None) -> bool:
    """Hand a queued import that no broker has yet to the `ingest` queue. True when it is with
    the broker (sent now, or by someone else first); False when the broker cannot be reached,
    which leaves it for the sweep to send once it is back."""
    now = now or timezone.now()
    taken = ImportRecord.objects.filter(
        pk=record_id, status=Status.QUEUED, heartbeat_at__isnull=True
    ).update(heartbeat_at=now)
    if not taken:
        return True
    return _publish(record_id, now)


def _publish(record_id: int, claimed_at: datetime, expires: float | None = None) -> bool:
    from fleet.ingest.tasks import run_import

    try:
        run_import.apply_async(args=[record_id], retry=False, expires=expires)
    except Exception as exc:  # noqa: BLE001 - any broker failure: the sweep sends it later
        log.warning("broker unavailable, import %s waits for it: %s", record_id, exc)
        ImportRecord.objects.filter(
            pk=record_id, status=Status.QUEUED, heartbeat_at=claimed_at
        ).update(heartbeat_at=None)
        return False
    return True


def stale_reason(record: ImportRecord, file_gone: bool) -> str:
    """Why the sweep gave up on `record`, in words an operator can act on."""
    who = record.get_runner_display() if record.runner else "the process"
    said = f"no progress for {settings.IMPORT_STALE_MINUTES} minutes; {who} running it was "
    if file_gone:
        return said + "probably killed. " + (FILE_GONE if record.stored_path else _NO_COPY)
    return said + (
        f"probably killed, for the last of {record.attempts} attempts, so it is not retried "
        "(a file that makes the worker run out of memory does this). Import the file again "
        "once the cause is fixed; rows already stored are not stored twice."
    )


FILE_GONE = (
    "The uploaded file is no longer on disk, so the import cannot be resumed: import the file "
    "again (rows already stored are not stored twice)."
)

_NO_COPY = (
    "A command-line import keeps no copy of its file, so it cannot be resumed: run "
    "import_report again (rows already stored are not stored twice)."
)


def recover_imports(now: datetime | None = None) -> SweepResult:
    """Resume or fail the running imports that stopped making progress, and send the queued
    ones no worker got. Safe to run from several processes at once: each step is claimed."""
    now = now or timezone.now()
    result = SweepResult()
    stale = ImportRecord.objects.filter(_stale(now)).only("stored_path", "runner", "attempts")
    for record in stale.order_by("pk"):
        if not has_file(record):
            reason = stale_reason(record, file_gone=True)
        elif record.attempts >= settings.IMPORT_MAX_ATTEMPTS:
            reason = stale_reason(record, file_gone=False)
        else:
            # Queued without a heartbeat: the sending step below hands it to the broker.
            if ImportRecord.objects.filter(_stale(now), pk=record.pk).update(
                status=Status.QUEUED, heartbeat_at=None
            ):
                log.warning("import %s made no progress; queued again", record.pk)
                result.resumed.append(record.pk)
            continue
        if ImportRecord.objects.filter(_stale(now), pk=record.pk).update(
            status=Status.FAILED, error=reason, finished_at=now
        ):
            log.warning("import %s failed: %s", record.pk, reason)
            result.failed.append(record.pk)
    _send_queued(now, result)
    return result


def _send_queued(now: datetime, result: SweepResult) -> None:
    waiting = Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=stale_before(now))
    queued = ImportRecord.objects.filter(waiting, status=Status.QUEUED).only("stored_path")
    for record in queued.order_by("pk"):
        if not has_file(record):
            if ImportRecord.objects.filter(waiting, pk=record.pk, status=Status.QUEUED).update(
                status=Status.FAILED, error=FILE_GONE, finished_at=now
            ):
                result.failed.append(record.pk)
            continue
        if not ImportRecord.objects.filter(waiting, pk=record.pk, status=Status.QUEUED).update(
            heartbeat_at=now
        ):
            continue  # another sweep, or a worker, took it meanwhile
        # A copy older than the stale period is replaced by the next sweep's: let it expire
        # rather than pile up while no worker consumes the queue.
        if not _publish(record.pk, now, expires=settings.IMPORT_STALE_MINUTES * 60):
            return  # the broker is down: the rest wait for the next sweep too
        result.sent.append(record.pk)


def has_file(record: ImportRecord) -> bool:
    return bool(record.stored_path) and Path(record.stored_path).is_file()
