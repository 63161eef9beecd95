"""Celery tasks for imports: running a queued one, and the beat sweep that keeps them moving."""

from __future__ import annotations

import logging
from pathlib import Path

from celery import shared_task

from fleet.ingest import recovery
from fleet.ingest.importer import ImportFailed
from fleet.ingest.importer import run_import as run_import_now
from fleet.ingest.models import ImportRecord

log = logging.getLogger(__name__)


@shared_task(name="fleet.ingest.tasks.run_import", acks_late=True)
def run_import(record_id: int) -> str:
    """Run a queued import. Safe to deliver twice: the first delivery claims the record, a later
    one finds it done or still making progress and is skipped; a re-run of a failed or
    interrupted import stores only what is missing."""
    record = ImportRecord.objects.filter(pk=record_id).only("stored_path").first()
    # A lost upload is left for the sweep, which fails the record with the reason.
    if record is None or not recovery.has_file(record):
        return "skipped"
    if not recovery.claim(record_id, ImportRecord.Runner.WORKER):
        return "skipped"
    record = ImportRecord.objects.get(pk=record_id)
    try:
        run_import_now(record, Path(record.stored_path), runner=ImportRecord.Runner.WORKER)
    except ImportFailed as exc:
        log.info("import %s failed: %s", record_id, exc)
        return "failed"
    from fleet.tasks import request_aggregation

    request_aggregation()
    return "done"


@shared_task(name="fleet.ingest.tasks.recover_imports", acks_late=True)
def recover_imports() -> dict[str, list[int]]:
    """Resume or fail stalled imports and send the queued ones no worker got (beat: 1 min)."""
    result = recovery.recover_imports()
    return {"resumed": result.resumed, "failed": result.failed, "sent": result.sent}
