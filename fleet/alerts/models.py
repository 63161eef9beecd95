"""Alert rules, their channels, their per-(tenant, code) cooldown state, what fired, and the
emails and webhook posts delivered for it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, URLValidator, validate_email
from django.db import models
from django.utils import timezone

from codes.models import Severity
from fleet.alerts.secrets import decrypt, encrypt


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
        raise ValidationError("Name at least one recipient address.")
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(f"{address!r} is not an email address.") from None


class AlertRule(models.Model):
    """Email `recipients` when codes matching the rule pass `threshold` within the window."""

    class Metric(models.TextChoices):
        OCCURRENCES = "occurrences", "More than N occurrences"
        DEVICES = "devices", "More than N devices"

    name = models.CharField(max_length=120)
    tenant = models.ForeignKey(
        "fleet.Tenant",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Empty: every tenant (each tenant is counted and alerted on separately).",
    )
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
    metric = models.CharField(max_length=20, choices=Metric.choices, default=Metric.OCCURRENCES)
    threshold = models.PositiveIntegerField(help_text="Fires when the count is more than this.")
    window_hours = models.PositiveIntegerField(default=24, validators=[MinValueValidator(1)])
    recipients = models.TextField(
        validators=[validate_recipients], help_text="Email addresses, comma or newline separated."
    )
    cooldown_minutes = models.PositiveIntegerField(
        default=360,
        validators=[MinValueValidator(1)],
        help_text="No second email for the same tenant and code within this time.",
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.code is not None and self.code > 0xFFFFFFFF:
            raise ValidationError({"code": "An error code is an unsigned 32-bit value."})

    @property
    def recipient_list(self) -> list[str]:
        return split_recipients(self.recipients)

    @property
    def hex(self) -> str:
        """The rule's code as 0x8024000B; empty for a rule by family, severity or any code."""
        return "" if self.code is None else f"0x{self.code:08X}"


class AlertChannel(models.Model):
    """Where a rule's firings go besides its email recipients: a signed webhook (more kinds
    later). The secret is stored encrypted (`fleet.alerts.secrets`), never shown again."""

    class Kind(models.TextChoices):
        WEBHOOK = "webhook", "Signed webhook"

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="channels")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.WEBHOOK)
    url = models.URLField(
        max_length=500,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="Receives a POST of JSON per firing.",
    )
    secret_encrypted = models.TextField(
        editable=False, help_text="Fernet token of the signing secret."
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
    """One rule crossing its threshold for one (tenant, code), with the counts it saw."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="firings")
    tenant = models.ForeignKey("fleet.Tenant", on_delete=models.CASCADE, related_name="+")
    code = models.PositiveBigIntegerField()
    fired_at = models.DateTimeField(default=timezone.now)
    occurrences = models.PositiveIntegerField()
    devices = models.PositiveIntegerField()
    window_hours = models.PositiveIntegerField()

    class Meta:
        ordering = ["-fired_at", "-id"]

    def __str__(self) -> str:
        return f"{self.rule} fired for 0x{self.code:08X}"

    @property
    def hex(self) -> str:
        return f"0x{self.code:08X}"


class AlertDelivery(models.Model):
    """One email to one recipient, or one webhook POST to one channel, rendered once; sent at
    most once, retried until it is. A webhook delivery has a `channel` and its JSON body in
    `body_text` (signed when sent, so a rotated secret signs the retries)."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"

    recipient = models.EmailField(blank=True)
    channel = models.ForeignKey(
        AlertChannel, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(
        max_length=40, blank=True, help_text="Webhook event, e.g. alert.fired."
    )
    firings = models.ManyToManyField(AlertFiring, related_name="deliveries")
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField()
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "alert deliveries"
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="alert_delivery_due_idx")]

    def __str__(self) -> str:
        target = self.recipient or (self.channel.url if self.channel_id else "")
        return f"{self.subject} -> {target} ({self.state})"
