"""Scheduled tenant reports and their deliveries.

A schedule mails a tenant's report for each full month or ISO week to its recipients; each send
is one `ReportDelivery`, unique per (schedule, period), so a period's report goes out once
however often beat asks, and a failed send is retried with back-off like an alert email.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

from fleet.alerts.models import split_recipients, validate_recipients
from fleet.models.outbox import OutboxMessage


class ReportSchedule(models.Model):
    class Frequency(models.TextChoices):
        MONTHLY = "monthly", "Monthly (the last full month)"
        WEEKLY = "weekly", "Weekly (the last full ISO week, Monday to Sunday)"

    class Language(models.TextChoices):
        DEFAULT = "", gettext_lazy("Site default")
        ENGLISH = "en", "English"
        FRENCH = "fr", "Français"

    tenant = models.ForeignKey(
        "fleet.Tenant", on_delete=models.CASCADE, related_name="report_schedules"
    )
    frequency = models.CharField(
        max_length=10, choices=Frequency.choices, default=Frequency.MONTHLY
    )
    recipients = models.TextField(
        validators=[validate_recipients],
        help_text="Email addresses, comma or newline separated; one email to all of them.",
    )
    language = models.CharField(
        max_length=8,
        choices=Language.choices,
        blank=True,
        default=Language.DEFAULT,
        help_text="The language of the report, its PDF and its email; blank: the site's default.",
    )
    enabled = models.BooleanField(default=True)
    last_sent_period = models.CharField(
        max_length=32, blank=True, editable=False, help_text="The last period mailed, e.g. 2026-11."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["tenant__name", "frequency", "id"]

    def __str__(self) -> str:
        return f"{self.tenant} {self.frequency} report"

    @property
    def recipient_list(self) -> list[str]:
        return split_recipients(self.recipients)


class ReportDelivery(OutboxMessage):
    """One period's report mailed by one schedule: claimed pending -> sending -> sent, retried
    with back-off after a failure (`fleet.reports.deliveries`, `fleet.models.outbox`)."""

    schedule = models.ForeignKey(
        ReportSchedule, on_delete=models.CASCADE, related_name="deliveries"
    )
    period = models.CharField(max_length=32, help_text="2026-11 or 2026-W47.")
    recipients = models.TextField(help_text="The schedule's recipients when it was queued.")

    class Meta(OutboxMessage.Meta):
        verbose_name_plural = "report deliveries"
        constraints = [
            models.UniqueConstraint(fields=["schedule", "period"], name="report_delivery_once"),
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="report_delivery_due_idx")
        ]

    def __str__(self) -> str:
        return f"{self.schedule} {self.period} ({self.state})"
