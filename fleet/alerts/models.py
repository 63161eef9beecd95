"""Alert rules, their channels, their per-(tenant, code) cooldown state, the alerts they
opened (fired, re-sent, resolved), the notifications delivered for them, and PSA tickets."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxValueValidator,
    MinValueValidator,
    URLValidator,
    validate_email,
)
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from codes.models import Severity
from fleet.alerts.secrets import decrypt, encrypt
from fleet.models.outbox import OutboxMessage


def split_recipients(text: str) -> list[str]:
    """Addresses from a comma-, semicolon- or newline-separated list, in order, without repeats."""
    seen: dict[str, None] = {}
    for part in text.replace(";", ",").replace("\n", ",").split(","):
        address = part.strip()
        if address:
            seen.setdefault(address, None)
    return list(seen)


def validate_recipients(text: str) -> None:
    addresses = split_recipients(text)
    if not addresses:
        raise ValidationError(gettext("Name at least one recipient address."))
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(
                gettext("%(address)s is not an email address.") % {"address": repr(address)}
            ) from None


def validate_time_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            gettext("%(value)s is not a time zone (e.g. Europe/Paris).") % {"value": repr(value)}
        ) from None


class AlertRule(models.Model):
    """Notify the rule's channels when codes matching it are abnormal at one of its tenants:
    a triage signal (`trigger` spike, new, regression, fleet_spike) or a threshold (at least
    `min_occurrences` occurrences and/or `min_devices` devices within `window_hours`).

    An alert opens per (rule, tenant, code) when the condition holds, is re-sent after each
    cooldown while it holds, and resolves when it clears (`fleet.alerts.firing`)."""

    class Trigger(models.TextChoices):
        THRESHOLD = "threshold", gettext_lazy("Threshold (occurrences or devices in a window)")
        SPIKE = "spike", gettext_lazy("Spike (triage signal)")
        NEW = "new", gettext_lazy("New in tenant (triage signal)")
        REGRESSION = "regression", gettext_lazy("Regression (triage signal)")
        FLEET_SPIKE = "fleet_spike", gettext_lazy("Fleet-wide spike (triage signal)")

    name = models.CharField(max_length=120)
    all_tenants = models.BooleanField(
        default=False,
        help_text="Every tenant, present and future (each counted and alerted on separately).",
    )
    tenants = models.ManyToManyField(
        "fleet.Tenant",
        blank=True,
        related_name="+",
        help_text="The tenants the rule watches when it is not for every tenant.",
    )
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.THRESHOLD)
    code = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Unsigned value, e.g. 2149859339 for 0x8024000B."
    )
    family = models.ForeignKey(
        "codes.CodeFamily",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Codes of this catalog family.",
    )
    severity = models.CharField(
        max_length=20, choices=Severity.choices, blank=True, help_text="Codes of this severity."
    )
    min_occurrences = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Fires at this many occurrences or more in the window.",
    )
    min_devices = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Fires at this many devices or more in the window.",
    )
    window_hours = models.PositiveIntegerField(
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 90)],
        help_text="Threshold window; a triage signal is always judged over 24 h.",
    )
    recipients = models.TextField(
        blank=True,
        validators=[validate_recipients],
        help_text="Email addresses, comma or newline separated (one digest each).",
    )
    cooldown_minutes = models.PositiveIntegerField(
        default=360,
        validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 30)],
        help_text="No second notification for the same tenant and code within this time.",
    )
    quiet_from = models.TimeField(
        null=True, blank=True, help_text="Quiet hours start, in each tenant's time zone."
    )
    quiet_until = models.TimeField(
        null=True, blank=True, help_text="Quiet hours end (may be past midnight)."
    )
    enabled = models.BooleanField(default=True, help_text="Paused rules notify nothing.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deleted_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Deleted by an operator: hidden, fires nothing, its open alerts resolve.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.code is not None and self.code > 0xFFFFFFFF:
            raise ValidationError({"code": "An error code is an unsigned 32-bit value."})
        if (
            self.trigger == self.Trigger.THRESHOLD
            and self.min_occurrences is None
            and self.min_devices is None
        ):
            raise ValidationError(
                {"min_occurrences": "A threshold rule needs a minimum of occurrences or devices."}
            )
        if (self.quiet_from is None) != (self.quiet_until is None):
            raise ValidationError({"quiet_until": "Give both ends of the quiet hours, or neither."})
        if self.quiet_from is not None and self.quiet_from == self.quiet_until:
            raise ValidationError({"quiet_until": "Quiet hours must not start and end together."})

    @property
    def recipient_list(self) -> list[str]:
        return split_recipients(self.recipients)

    @property
    def hex(self) -> str:
        """The rule's code as 0x8024000B; empty for a rule by family, severity or any code."""
        return "" if self.code is None else f"0x{self.code:08X}"

    @property
    def is_signal(self) -> bool:
        return self.trigger != self.Trigger.THRESHOLD

    def describe(self) -> str:
        """What makes the rule fire, in words (pages, emails, webhook `reason`)."""
        parts = []
        if self.min_occurrences is not None:
            parts.append(f"{self.min_occurrences}+ occurrences")
        if self.min_devices is not None:
            parts.append(f"{self.min_devices}+ devices")
        if not self.is_signal:
            return " and ".join(parts) + f" in {self.window_hours} h"
        text = self.get_trigger_display().split(" (")[0].lower()
        return text + (f" with {' and '.join(parts)} in 24 h" if parts else "")

    def in_quiet_hours(self, now: datetime, time_zone: str) -> bool:
        """Whether `now` falls in the rule's quiet hours in `time_zone` (a tenant's)."""
        if self.quiet_from is None or self.quiet_until is None:
            return False
        try:
            local = now.astimezone(ZoneInfo(time_zone)).time()
        except (ZoneInfoNotFoundError, ValueError):
            local = now.astimezone(UTC).time()
        if self.quiet_from < self.quiet_until:
            return self.quiet_from <= local < self.quiet_until
        return local >= self.quiet_from or local < self.quiet_until


class AlertChannel(models.Model):
    """Where a rule's alerts go besides its email recipients. The secret part is stored
    encrypted (`fleet.alerts.secrets`) and never shown again: a webhook's signing secret, the
    whole Teams or Slack webhook URL (the URL is the credential), a PSA's API keys (JSON)."""

    class Kind(models.TextChoices):
        WEBHOOK = "webhook", gettext_lazy("Signed webhook")
        TEAMS = "teams", "Microsoft Teams"
        SLACK = "slack", "Slack"
        CONNECTWISE = "connectwise", gettext_lazy("ConnectWise PSA ticket")
        HALOPSA = "halopsa", gettext_lazy("HaloPSA ticket")

    CHAT_KINDS = (Kind.TEAMS, Kind.SLACK)
    PSA_KINDS = (Kind.CONNECTWISE, Kind.HALOPSA)

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="channels")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.WEBHOOK)
    url = models.URLField(
        max_length=500,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="Webhook: where the POST goes. Teams/Slack: the host only (the full URL is "
        "stored encrypted). PSA: the API base URL.",
    )
    secret_encrypted = models.TextField(
        editable=False, help_text="Fernet token of the channel's secret part."
    )
    config = models.JSONField(
        default=dict,
        blank=True,
        help_text="Non-secret settings: for a PSA the company per tenant slug, board, ids.",
    )
    # A channel is read by a team, not by one person whose setting could say.
    language = models.CharField(
        max_length=8,
        choices=[("", gettext_lazy("Site default")), ("en", "English"), ("fr", "Français")],
        blank=True,
        default="",
        help_text="The language of the Teams and Slack messages; blank: the site's default. "
        "Webhook and PSA payloads are interfaces and keep their English keys.",
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["rule", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.url}"

    def set_secret(self, secret: str) -> None:
        self.secret_encrypted = encrypt(secret)

    @property
    def secret(self) -> str:
        return decrypt(self.secret_encrypted)


class AlertRuleState(models.Model):
    """When a rule last fired for one (tenant, code): the row a firing is claimed on."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="states")
    tenant = models.ForeignKey("fleet.Tenant", on_delete=models.CASCADE, related_name="+")
    code = models.PositiveBigIntegerField()
    last_fired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "tenant", "code"], name="alert_state_unique"),
        ]


class AlertFiring(models.Model):
    """One alert: a rule's condition holding for one (tenant, code), from when it fired until
    it resolved. Re-sent after each cooldown while it holds (`notifications` counts the sends;
    the counts are the latest), resolved once when the condition clears, its flag is resolved
    or muted, or the rule is paused or deleted."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="firings")
    tenant = models.ForeignKey("fleet.Tenant", on_delete=models.CASCADE, related_name="+")
    code = models.PositiveBigIntegerField()
    kind = models.CharField(
        max_length=20, default="threshold", help_text="threshold or the triage signal's kind."
    )
    fired_at = models.DateTimeField(default=timezone.now)
    last_fired_at = models.DateTimeField(default=timezone.now)
    notifications = models.PositiveIntegerField(default=1)
    occurrences = models.PositiveIntegerField()
    devices = models.PositiveIntegerField()
    window_hours = models.PositiveIntegerField()
    reason = models.CharField(max_length=300, blank=True)
    flag = models.ForeignKey(
        "fleet.TriageFlag", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolve_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-fired_at", "-id"]
        indexes = [
            models.Index(
                fields=["rule", "tenant", "code"],
                condition=models.Q(resolved_at__isnull=True),
                name="alert_firing_open_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule} fired for 0x{self.code:08X}"

    @property
    def hex(self) -> str:
        return f"0x{self.code:08X}"


class AlertDelivery(OutboxMessage):
    """One email to one recipient, or one notification to one channel, rendered once; sent at
    most once, retried until it is. A channel delivery has a `channel`, its `event`
    (alert.fired, alert.resolved, alert.test) and its JSON body in `body_text` (a webhook's
    is signed when sent, so a rotated secret signs the retries). A test notification has its
    `rule` and no firing."""

    recipient = models.EmailField(blank=True)
    channel = models.ForeignKey(
        AlertChannel, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(
        max_length=40, blank=True, help_text="alert.fired, alert.resolved or alert.test."
    )
    rule = models.ForeignKey(
        AlertRule,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="test_deliveries",
        help_text="Set on a test notification, which belongs to no alert.",
    )
    firings = models.ManyToManyField(AlertFiring, related_name="deliveries")
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField()

    class Meta(OutboxMessage.Meta):
        verbose_name_plural = "alert deliveries"
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="alert_delivery_due_idx")]

    def __str__(self) -> str:
        target = self.recipient or (self.channel.url if self.channel_id else "")
        return f"{self.subject} -> {target} ({self.state})"


class AlertTicket(models.Model):
    """The PSA ticket one channel opened for one alert: created when it fired, noted when it
    fired again, closed when it resolved."""

    channel = models.ForeignKey(AlertChannel, on_delete=models.CASCADE, related_name="tickets")
    firing = models.ForeignKey(AlertFiring, on_delete=models.CASCADE, related_name="tickets")
    ticket_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "firing"], name="alert_ticket_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.channel.get_kind_display()} #{self.ticket_id}"
