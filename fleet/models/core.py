"""Tenants, their devices, and the raw error-code occurrences reported for them."""

from __future__ import annotations

import ipaddress
from hashlib import sha256

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

# A GUID as Entra shows it: 8-4-4-4-12 hex digits (stored lower-case, without braces).
GUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def normalize_guid(text: str) -> str:
    """A GUID as exports and the admin may spell it (braces, capitals, spaces) in one form."""
    return text.strip().strip("{}").strip().lower()


class Tenant(models.Model):
    """An MSP customer: every device, occurrence and import belongs to exactly one."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    operators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="TenantGrant",
        related_name="granted_tenants",
        blank=True,
        help_text="People granted this tenant, each with a role. Superusers see every tenant.",
    )
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        help_text="IANA time zone of the customer (e.g. Europe/Paris): alert quiet hours.",
    )
    entra_tenant_id = models.CharField(
        "Entra tenant ID",
        max_length=36,
        blank=True,
        validators=[RegexValidator(GUID_PATTERN, "Enter a GUID: 8-4-4-4-12 hexadecimal digits.")],
        help_text="The customer's Microsoft Entra tenant ID (a GUID). A WUfB export whose "
        "TenantId differs imports with a warning.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    archived_at = models.DateTimeField(
        null=True, blank=True, help_text="Archived tenants are hidden from every page and API."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean_fields(self, exclude=None) -> None:
        # Before the field validators see it, so `{ABC…}` in capitals is accepted as the GUID.
        self.entra_tenant_id = normalize_guid(self.entra_tenant_id)
        super().clean_fields(exclude)


class Role(models.TextChoices):
    """What a grant lets a person do on its tenant; each role includes the ones before it."""

    VIEWER = "viewer", gettext_lazy("Viewer (read)")
    OPERATOR = "operator", gettext_lazy("Operator (triage, notes, imports, alert rules)")
    ADMIN = "admin", gettext_lazy("Admin (the tenant's settings, people, keys)")


class TenantGrant(models.Model):
    """A person's role on one tenant. The table is the one the plain many-to-many used, so
    grants made before roles existed kept their rows and became operators."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.OPERATOR)

    class Meta:
        db_table = "fleet_tenant_operators"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="fleet_tenant_grant_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.tenant}: {self.role}"


def device_name_key(name: str) -> str:
    """The matching key for a device name: case-insensitive, an FQDN reduced to its host part.

    `PC-0042.contoso.local`, `pc-0042` and `PC-0042` are the same device; an IP address is kept
    whole because its dots are not domain separators. The key is "" for a name with no host part
    (`CHC\\`, `.corp.local`, `\\`): that is no device, and callers reject it with NO_HOST_PART.
    """
    name = name.strip().rstrip(".").lower()
    if not name:
        return ""
    # Only digits-and-dots or a colon can be an IP address; skip the costly parse otherwise.
    if ":" in name or name.replace(".", "").isdigit():
        try:
            ipaddress.ip_address(name)
            return name
        except ValueError:
            pass
    if "\\" in name:  # DOMAIN\HOST as some scripts write it
        name = name.rsplit("\\", 1)[1]
    return name.split(".", 1)[0]


# Why a name whose key is "" is refused; the callers put the field and the name in front.
NO_HOST_PART = "has no host part (nothing before its first dot or after its backslash)"


class Device(models.Model):
    """A Windows endpoint of one tenant, known by its name and the identifiers exports carry."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="devices")
    hostname = models.CharField(max_length=255, help_text="Name as first reported (may be FQDN).")
    name_key = models.CharField(max_length=255, editable=False)
    intune_device_id = models.CharField("Intune device ID", max_length=64, blank=True)
    entra_device_id = models.CharField("Entra (Azure AD) device ID", max_length=64, blank=True)
    wsus_computer_id = models.CharField("WSUS computer ID", max_length=64, blank=True)
    configmgr_name = models.CharField("ConfigMgr machine name", max_length=255, blank=True)
    # Inventory facts, as the newest import that carried them said (Intune feature update
    # exports: Build, PolicyName); blank when no import did.
    # db_default: raw INSERTs that name no inventory column still store blank.
    os_build = models.CharField("OS build", max_length=64, blank=True, db_default="")
    update_policy = models.CharField(
        "update ring / policy",
        max_length=255,
        blank=True,
        db_default="",
        help_text="Intune policy name.",
    )
    first_seen_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name_key"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name_key"], name="device_unique_name_key"),
        ]
        indexes = [
            models.Index(fields=["tenant", "intune_device_id"], name="device_intune_idx"),
            models.Index(fields=["tenant", "entra_device_id"], name="device_entra_idx"),
            models.Index(fields=["tenant", "wsus_computer_id"], name="device_wsus_idx"),
            models.Index(fields=["tenant", "-last_seen_at"], name="device_last_seen_idx"),
        ]

    def __str__(self) -> str:
        return self.hostname

    def save(self, *args, **kwargs) -> None:
        self.name_key = device_name_key(self.hostname)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        """Refuse in forms (the admin) what the unique name key would refuse with a 500."""
        key = device_name_key(self.hostname)
        if not key:
            raise ValidationError({"hostname": f"{self.hostname[:80]!r} {NO_HOST_PART}"})
        same = Device.objects.filter(tenant_id=self.tenant_id, name_key=key).exclude(pk=self.pk)
        if self.tenant_id is not None and same.exists():
            raise ValidationError({"hostname": f"this tenant already has a device {key!r}"})


def dedupe_digest(source: str, dedupe_key: str) -> bytes:
    """What the unique index holds for an occurrence's (source, dedupe key): 16 bytes of their
    sha256. A quarter of the text key and its source, and the index every insert probes
    (docs/performance.md); 128 bits make a chance collision negligible at any fleet's size."""
    return sha256(f"{source}\x1f{dedupe_key}".encode()).digest()[:16]


class Occurrence(models.Model):
    """One report of one error code on one device at one time. Never updated after insert:
    whether the aggregation has counted it is the pending ledger's to say (`PendingBatch`)."""

    id = models.BigAutoField(primary_key=True)
    # No single-column indexes: (tenant, code, occurred_at) and (device, occurred_at) serve every
    # lookup by tenant or device (docs/postgresql.md), and each index costs every insert.
    # No database-level foreign keys either (db_constraint=False): PostgreSQL checks one per row
    # with a trigger, several times the cost of the insert itself. Ingest resolves the tenant,
    # device and import of a batch before storing it, and deletes cascade in Django as before.
    tenant = models.ForeignKey(
        Tenant,
        on_delete=models.CASCADE,
        related_name="occurrences",
        db_index=False,
        db_constraint=False,
    )
    device = models.ForeignKey(
        Device,
        on_delete=models.CASCADE,
        related_name="occurrences",
        db_index=False,
        db_constraint=False,
    )
    code = models.PositiveBigIntegerField(help_text="Unsigned 32-bit value, e.g. 2149859339.")
    code_extension = models.CharField(
        max_length=32, blank=True, help_text="Setup extended code, e.g. C3FD of 0xC1900101_C3FD."
    )
    occurred_at = models.DateTimeField()
    source = models.CharField(max_length=40, help_text="api, or the import format name.")
    dedupe_key = models.CharField(max_length=64)
    dedupe_digest = models.BinaryField(
        max_length=16, help_text="dedupe_digest(source, dedupe_key): what the unique index holds."
    )
    update_title = models.CharField(max_length=500, blank=True)
    kb = models.CharField("KB", max_length=20, blank=True)
    message = models.TextField(blank=True)
    extra = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    batch = models.BigIntegerField(
        default=0,
        help_text="The ingest batch that stored it; pending while that batch is in the ledger.",
    )
    import_record = models.ForeignKey(
        "fleet.ImportRecord",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="occurrences",
        db_constraint=False,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "dedupe_digest"], name="occurrence_unique_digest"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "code", "occurred_at"], name="occ_tenant_code_time_idx"),
            models.Index(fields=["device", "occurred_at"], name="occ_device_time_idx"),
        ]

    def __str__(self) -> str:
        return f"0x{self.code:08X} on {self.device_id} at {self.occurred_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs) -> None:
        self.fill_digest()
        super().save(*args, **kwargs)

    def fill_digest(self) -> None:
        """Compute the digest from source and key, unless the writer gave it: an imported row
        keeps only its digest (its text key is empty), and recomputing would lose it."""
        if not self.dedupe_digest:
            self.dedupe_digest = dedupe_digest(self.source, self.dedupe_key)


class PendingBatch(models.Model):
    """One ingest batch whose occurrences the aggregation has not counted yet.

    Ingest writes it in the transaction that stores the batch's rows, so the row and its
    occurrences become visible together; the aggregation deletes it in the transaction that
    counts them. `low_id`..`high_id` bounds the batch's occurrence ids (other batches' ids may
    interleave on PostgreSQL, so readers also match `Occurrence.batch`). Raw rows are never
    rewritten to say they were counted (docs/performance.md).
    """

    id = models.BigAutoField(primary_key=True)
    low_id = models.BigIntegerField(default=0)
    high_id = models.BigIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"batch {self.pk}: {self.rows} occurrences pending"
