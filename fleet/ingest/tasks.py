"""Celery task for imports too large to run inside the upload request."""

from __future__ import annotations

import logging
from pathlib import Path

from celery import shared_task

from fleet.ingest.importer import ImportFailed
from fleet.ingest.importer import run_import as run_import_now
from fleet.models import ImportRecord

log = logging.getLogger(__name__)


@shared_task(name="fleet.ingest.tasks.run_import", acks_late=True)
def run_import(record_id: int) -> str:
    """Run a queued import. Safe to run twice: a done import is skipped, a re-run of a failed
    or interrupted one stores only what is missing."""
    record = ImportRecord.objects.filter(pk=record_id).first()
    if record is None or record.status == ImportRecord.Status.DONE:
        return "skipped"
    try:
        run_import_now(record, Path(record.stored_path))
    except ImportFailed as exc:
        log.info("import %s failed: %s", record_id, exc)
        return "failed"
    from fleet.tasks import request_aggregation

    request_aggregation()
    return "done"
