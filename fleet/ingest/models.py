"""Ingest keys for the HTTP API and the record of every file import."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

from fleet.models.core import Tenant


class IngestKey(models.Model):
    """A per-tenant bearer key for `POST /api/v1/occurrences`.

    Only the SHA-256 of the secret is stored: the secret is 32 random bytes, so a fast hash is
    as safe as a slow one (nothing to brute-force) and lets every request be checked in one
    indexed lookup. The full key is shown once, when created.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="ingest_keys")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=16, help_text="First characters, to recognise the key.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["tenant", "-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or 'unnamed'})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiIngestDay(models.Model):
    """What `POST /api/v1/occurrences` took and refused per day: the ingest API's counters for
    /metrics, kept in the database so they survive restarts and add up across web workers."""

    day = models.DateField(unique=True)
    accepted = models.PositiveBigIntegerField(default=0)
    duplicates = models.PositiveBigIntegerField(default=0)
    rejected = models.PositiveBigIntegerField(default=0)
    batches = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-day"]


class ImportRecord(models.Model):
    """One file import: who, when, what file, how it went and what it stored.

    Batches commit one by one, so `status` tells the truth about a half-done import: `running`
    while it works, `done` only after the last batch, `failed` with `error` otherwise. Running
    the same file again completes a failed import without storing anything twice.

    `heartbeat_at` is the last sign of life: while running, the last committed batch (a beat
    sweep resumes or fails a running import without one for IMPORT_STALE_MINUTES); while
    queued, when it was handed to the broker (empty: not yet, the sweep sends it).

    `undone`: its occurrences were deleted and the aggregates corrected (`fleet.ingest.undo`);
    the same file may then be imported again as a new record.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", gettext_lazy("Queued")
        RUNNING = "running", gettext_lazy("Running")
        DONE = "done", gettext_lazy("Done")
        FAILED = "failed", gettext_lazy("Failed")
        UNDONE = "undone", gettext_lazy("Undone")

    class Runner(models.TextChoices):
        INLINE = "inline", "the web request"
        WORKER = "worker", "a Celery worker"
        COMMAND = "command", "the import_report command"
        CONNECTOR = "connector", "a connector's pull"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="imports")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    file_name = models.CharField(max_length=255)
    stored_path = models.CharField(max_length=500, blank=True, help_text="Upload under MEDIA_ROOT.")
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.BigIntegerField(default=0)
    requested_format = models.CharField(max_length=64, default="auto")
    column_map = models.JSONField(default=dict, blank=True)
    format = models.CharField(max_length=64, blank=True)
    encoding = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    runner = models.CharField(
        max_length=10, choices=Runner.choices, blank=True, help_text="Who ran the last attempt."
    )
    attempts = models.PositiveIntegerField(default=0, help_text="Runs started, resumes included.")
    bytes_read = models.BigIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    success_rows = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    rejected = models.JSONField(default=list, blank=True, help_text="First rejected rows.")
    devices = models.PositiveIntegerField(default=0)
    devices_created = models.PositiveIntegerField(default=0)
    by_code = models.JSONField(default=dict, blank=True)
    # The span of the file's occurrence times (success rows have none), set when it finishes.
    first_occurred_at = models.DateTimeField(null=True, blank=True)
    last_occurred_at = models.DateTimeField(null=True, blank=True)
    warnings = models.JSONField(default=list, blank=True, help_text="Shown on the result page.")
    # Undo (fleet.ingest.undo): the rows deleted and the aggregates corrected, then these set.
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    undone_occurrences = models.PositiveIntegerField(
        default=0, help_text="Occurrences the undo deleted."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="import_tenant_time_idx"),
            # The beat sweep's lookup of queued and running imports by their last sign of life.
            models.Index(fields=["status", "heartbeat_at"], name="import_status_beat_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.size:
            return 0
        return min(99, int(self.bytes_read * 100 / self.size))
