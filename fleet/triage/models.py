"""Recurrence triage: rules that raise flags per (tenant, code), the flags, and their history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

from codes.models import Severity


class TriageRule(models.Model):
    """Raise a flag when a code of `severity` recurs: `threshold` or more times on one device, or
    on `threshold` or more devices of a tenant, within the last `window_hours`."""

    class Metric(models.TextChoices):
        SAME_DEVICE = "same_device", "Occurrences on the same device"
        DEVICES = "devices", "Devices of a tenant"

    name = models.CharField(max_length=120, unique=True)
    severity = models.CharField(max_length=20, choices=Severity.choices)
    metric = models.CharField(max_length=20, choices=Metric.choices)
    threshold = models.PositiveIntegerField(help_text="At least this many (occurrences/devices).")
    window_hours = models.PositiveIntegerField(
        help_text="Counted in whole hours back from now, including the hour the window starts in."
    )
    enabled = models.BooleanField(
        default=True,
        help_text="Switch a rule off here rather than deleting it: with no rules at all, the "
        "defaults are created again.",
    )

    class Meta:
        ordering = ["severity", "metric", "name"]

    def __str__(self) -> str:
        return self.name

    def describe(self) -> str:
        unit = "times on one device" if self.metric == self.Metric.SAME_DEVICE else "devices"
        return f"{self.severity} code, {self.threshold}+ {unit} within {self.window_hours} h"


class FleetSignal(models.Model):
    """One code rising in several tenants at once (a bad update, a Microsoft-side incident):
    one fleet-wide signal that links the tenants' own flags (`TriageFlag.fleet_signal`)."""

    code = models.PositiveBigIntegerField(unique=True)
    tenants = models.PositiveIntegerField(default=0, help_text="Tenants spiking together.")
    score = models.FloatField(default=0)
    reason = models.CharField(max_length=300, blank=True)
    first_at = models.DateTimeField(default=timezone.now)
    last_at = models.DateTimeField(default=timezone.now)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-last_at"]

    def __str__(self) -> str:
        return f"0x{self.code:08X} in {self.tenants} tenants"

    @property
    def hex(self) -> str:
        return f"0x{self.code:08X}"


class TriageFlag(models.Model):
    """One per (tenant, code) once a rule or a signal fired; operators move it through states."""

    class Kind(models.TextChoices):
        """Why the flag is in the queue now, most urgent first (the queue's ranking)."""

        SPIKE = "spike", gettext_lazy("Spike")
        NEW = "new", gettext_lazy("New in tenant")
        REGRESSION = "regression", gettext_lazy("Regression")
        THRESHOLD = "threshold", gettext_lazy("Threshold")
        FLEET_SPIKE = "fleet_spike", gettext_lazy("Fleet-wide spike")

    class State(models.TextChoices):
        NEW = "new", gettext_lazy("New")
        ACKNOWLEDGED = "acknowledged", gettext_lazy("Acknowledged")
        RESOLVED = "resolved", gettext_lazy("Resolved")
        MUTED = "muted", gettext_lazy("Muted")
        REGRESSED = "regressed", gettext_lazy("Regressed")

    # States an operator still has to look at.
    OPEN_STATES = (State.NEW, State.REGRESSED, State.ACKNOWLEDGED)

    tenant = models.ForeignKey("fleet.Tenant", on_delete=models.CASCADE, related_name="+")
    code = models.PositiveBigIntegerField()
    state = models.CharField(max_length=20, choices=State.choices, default=State.NEW)
    rule = models.ForeignKey(
        TriageRule,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The rule that raised or last re-opened the flag.",
    )
    # Refreshed from the aggregates by every triage run, so the queue needs no raw rows.
    occurrences = models.PositiveIntegerField(default=0)
    devices = models.PositiveIntegerField(default=0)
    first_seen_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    raised_at = models.DateTimeField(default=timezone.now)
    state_changed_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    muted_until = models.DateTimeField(null=True, blank=True)
    mute_occurrences = models.PositiveIntegerField(
        null=True, blank=True, help_text="Muted until this many more occurrences arrive."
    )
    mute_baseline = models.PositiveIntegerField(
        null=True, blank=True, help_text="Occurrence count when the flag was muted."
    )
    # The triage signal (issue 14): what is abnormal now, written by every triage run.
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.THRESHOLD)
    score = models.FloatField(default=0, help_text="Queue rank: higher needs a look sooner.")
    reason = models.CharField(max_length=300, blank=True, help_text="Why, in words.")
    occurrences_24h = models.PositiveIntegerField(default=0)
    devices_24h = models.PositiveIntegerField(default=0)
    baseline_24h = models.FloatField(default=0, help_text="Expected in 24 h from its history.")
    signal_at = models.DateTimeField(null=True, blank=True, help_text="Last abnormal at.")
    fleet_signal = models.ForeignKey(
        FleetSignal, null=True, blank=True, on_delete=models.SET_NULL, related_name="flags"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-last_seen_at"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="triage_flag_unique"),
        ]
        indexes = [
            models.Index(fields=["state", "tenant"], name="triage_flag_state_idx"),
            models.Index(fields=["-score"], name="triage_flag_score_idx"),
        ]

    def __str__(self) -> str:
        return f"0x{self.code:08X} at {self.tenant_id} ({self.state})"

    @property
    def hex(self) -> str:
        return f"0x{self.code:08X}"


class TriageEvent(models.Model):
    """One change of a flag: who (empty for the pipeline), when, from/to state, and why."""

    flag = models.ForeignKey(TriageFlag, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.from_state or '-'} -> {self.to_state}"
