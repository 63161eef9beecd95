"""Store an uploaded export under MEDIA_ROOT and start its import: inline when small, on a
Celery worker when large, inline again if the broker cannot be reached (never lose an upload)."""

from __future__ import annotations

import logging
import re
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from fleet.ingest.importer import ImportFailed, run_import
from fleet.models import ImportRecord, Tenant

log = logging.getLogger(__name__)

# Files up to this size import within the request; the summary page shows at once.
INLINE_MAX_BYTES = 2 * 1024 * 1024


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


def start_import(record: ImportRecord, inline_max: int = INLINE_MAX_BYTES) -> str:
    """Run or queue the import; returns "inline" or "queued"."""
    if record.size > inline_max:
        from fleet.ingest.tasks import run_import as task

        try:
            task.apply_async(args=[record.pk], retry=False)
            return "queued"
        except Exception as exc:  # noqa: BLE001 - any broker failure: import here instead
            log.warning("broker unavailable, importing %s inline: %s", record.pk, exc)
    try:
        run_import(record, Path(record.stored_path))
    except ImportFailed:
        pass  # the record says why; the result page shows it
    else:
        from fleet.tasks import request_aggregation

        request_aggregation()
    return "inline"
