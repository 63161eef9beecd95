"""The error-code catalog: one row per code value, families with their shared texts, and
operators' own runbook notes."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import pgettext_lazy


class Severity(models.TextChoices):
    """Severity as an operator reads it, not the HRESULT severity bit."""

    ERROR = "error", pgettext_lazy("severity", "Error")
    WARNING = "warning", pgettext_lazy("severity", "Warning")
    INFORMATIONAL = "informational", pgettext_lazy("severity", "Informational")


class CodeFamily(models.Model):
    """A group of codes that share where Windows logs them and how to troubleshoot them
    (Windows Update agent, CBS servicing, setup 0xC19…, Win32, NTSTATUS, BITS, …)."""

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    default_severity = models.CharField(max_length=20, choices=Severity.choices)
    summary = models.TextField(blank=True)
    where_logged = models.TextField(blank=True, help_text="Markdown.")
    troubleshooting = models.TextField(blank=True, help_text="Markdown.")
    decode_snippet = models.TextField(blank=True, help_text="PowerShell.")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "code families"

    def __str__(self) -> str:
        return self.name


class ErrorCode(models.Model):
    """One catalog entry per unsigned 32-bit value; filled by `manage.py import_codes`."""

    value = models.PositiveBigIntegerField(unique=True, help_text="Unsigned 32-bit value.")
    name = models.CharField(max_length=120, blank=True, db_index=True)
    other_names = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)
    message_source = models.CharField(max_length=200, blank=True)
    header = models.CharField(max_length=60, blank=True, help_text="SDK header defining it.")
    component = models.CharField(
        max_length=80, blank=True, help_text="Windows Update component of the 0x8024xxxx range."
    )
    family = models.ForeignKey(
        CodeFamily, null=True, blank=True, on_delete=models.SET_NULL, related_name="codes"
    )
    severity = models.CharField(
        max_length=20, choices=Severity.choices, blank=True, help_text="Effective severity."
    )
    severity_override = models.CharField(
        max_length=20, choices=Severity.choices, blank=True, help_text="Curated override."
    )
    severity_reason = models.TextField(blank=True)
    # Curated knowledge, in our own words (codes/knowledge/*.md).
    curated = models.BooleanField(default=False)
    title = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True, help_text="Markdown.")
    causes = models.TextField(blank=True, help_text="Markdown.")
    steps = models.TextField(blank=True, help_text="Markdown.")
    faq = models.JSONField(default=list, blank=True, help_text='[{"q": …, "a": …}]')
    sources = models.JSONField(default=list, blank=True, help_text="Attributions.")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["value"]

    def __str__(self) -> str:
        return f"{self.hex} {self.name}".strip()

    @property
    def hex(self) -> str:
        return f"0x{self.value:08X}"


class RunbookNote(models.Model):
    """An operator's own note on a code, shown on its page to the operators of its tenant.

    A note belongs to one tenant, or (`all_tenants`) to the whole MSP when written by someone
    granted every tenant; `codes.notes` decides who may read and write which. A note with
    neither is one from before notes were per tenant that could not be assigned safely: only
    superusers see it (see migration 0002).
    """

    code = models.PositiveBigIntegerField(db_index=True)
    tenant = models.ForeignKey(
        "fleet.Tenant",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="runbook_notes",
        help_text="Shown only to operators granted this tenant.",
    )
    all_tenants = models.BooleanField(
        default=False,
        help_text="MSP-wide: shown only to operators granted every tenant (and superusers).",
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(tenant__isnull=True) | models.Q(all_tenants=False),
                name="runbook_note_one_tenant_or_all",
                violation_error_message="A note is for one tenant or for all of them, not both.",
            )
        ]

    def __str__(self) -> str:
        return f"note on 0x{self.code:08X}"
