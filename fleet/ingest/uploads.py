"""Store an uploaded export under MEDIA_ROOT and start its import: inline when small, on a
Celery worker when large, inline again if the broker cannot be reached (never lose an upload).

An inline import never outlives the web server's timeout: after INLINE_IMPORT_SECONDS it stops
at a batch boundary and hands the rest to a worker, or, with the broker down, leaves the record
queued for the beat sweep to send once the broker is back.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from fleet.ingest.archives import declared_size
from fleet.ingest.importer import ImportFailed, ImportHandedOff, run_import
from fleet.ingest.models import ImportRecord
from fleet.ingest.recovery import claim, send_to_worker
from fleet.models import Tenant


def inline_max_bytes() -> int:
    """Files up to this size import within the request, so the summary page shows at once."""
    return settings.INLINE_IMPORT_MAX_MB * 1024 * 1024


def save_upload(upload: UploadedFile, tenant: Tenant, user, requested_format: str,
                column_map: dict[str, str]) -> ImportRecord:  # fmt: skip
    folder = Path(settings.MEDIA_ROOT) / "imports" / tenant.slug
    folder.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", Path(upload.name or "upload").name)[:100]
    path = folder / f"{uuid.uuid4().hex}_{safe}"
    with open(path, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return ImportRecord.objects.create(
        tenant=tenant,
        user=user if getattr(user, "is_authenticated", False) else None,
        file_name=(upload.name or "upload")[:255],
        stored_path=str(path),
        size=path.stat().st_size,
        requested_format=requested_format,
        column_map=column_map,
    )


def start_import(
    record: ImportRecord, inline_max: int | None = None, time_budget: float | None = None
) -> str:
    """Run or queue the import; returns "inline" or "queued"."""
    inline_max = inline_max_bytes() if inline_max is None else inline_max
    time_budget = settings.INLINE_IMPORT_SECONDS if time_budget is None else time_budget
    # A small ZIP may expand a hundredfold: decide on what it will take to read.
    if declared_size(Path(record.stored_path)) > inline_max and send_to_worker(record.pk):
        return "queued"
    if not claim(record.pk, ImportRecord.Runner.INLINE):
        return "queued"  # the beat sweep sent it to a worker meanwhile
    try:
        run_import(record, Path(record.stored_path), time_budget=time_budget)
    except ImportFailed:
        pass  # the record says why; the result page shows it
    except ImportHandedOff:
        send_to_worker(record.pk)  # False (broker down): the sweep sends it when it is back
        return "queued"
    else:
        from fleet.tasks import request_aggregation

        request_aggregation()
    return "inline"
