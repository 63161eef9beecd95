"""A tenant's connector: the app registration its reports are pulled with, and how the last
pull went."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from fleet.connectors.certificates import CertificateCredential, load_certificate
from fleet.models.core import Tenant
from fleet.secrets import decrypt, encrypt


class Connector(models.Model):
    """One tenant's Microsoft Entra app registration (client credentials), its optional Log
    Analytics workspace, its schedule and the outcome of its last pull.

    The client secret, or the certificate (PEM with its private key) that replaces it, is stored
    encrypted (`fleet.secrets`) and never shown again. `running_since`
    is the pull's lock: claimed with a conditional UPDATE, released at the end, and taken for dead
    after CONNECTOR_STALE_MINUTES so a killed worker never leaves it "running" for good.
    `watermarks` holds, per Log Analytics table, the newest TimeGenerated already imported.
    """

    class Status(models.TextChoices):
        NEVER = "never", "Never run"
        OK = "ok", "OK"
        FAILED = "failed", "Failed"

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="connector")
    entra_tenant_id = models.CharField(
        "Entra tenant id", max_length=64, help_text="Directory (tenant) id of the customer."
    )
    client_id = models.CharField(
        "client id", max_length=64, help_text="Application (client) id of the app registration."
    )
    client_secret_encrypted = models.TextField(editable=False, blank=True)
    # Or a certificate: its PEM (private key and certificate) encrypted, and its thumbprint,
    # which is no secret (Entra ID shows it) and lets the page say which certificate is set.
    client_certificate_encrypted = models.TextField(editable=False, blank=True)
    certificate_thumbprint = models.CharField(max_length=40, editable=False, blank=True)
    workspace_id = models.CharField(
        "Log Analytics workspace id",
        max_length=64,
        blank=True,
        help_text="Windows Update for Business reports workspace; empty: not pulled.",
    )
    enabled = models.BooleanField(default=True, help_text="Pulled on its schedule.")
    interval_minutes = models.PositiveIntegerField(
        default=360, help_text="Minutes between scheduled pulls (the reports are daily states)."
    )
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    running_since = models.DateTimeField(null=True, blank=True, editable=False)
    last_status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEVER)
    last_error = models.TextField(blank=True)
    last_rows_imported = models.PositiveIntegerField(
        default=0, help_text="Occurrences the last pull stored (repeats of known state excluded)."
    )
    last_reports = models.JSONField(
        default=list, blank=True, help_text="Per report of the last pull: what it did."
    )
    watermarks = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["tenant__name"]

    def __str__(self) -> str:
        return f"connector of {self.tenant}"

    def set_client_secret(self, secret: str) -> None:
        """A secret replaces a certificate: one credential at a time."""
        self.client_secret_encrypted = encrypt(secret)
        self.client_certificate_encrypted = self.certificate_thumbprint = ""

    def client_secret(self) -> str:
        return decrypt(self.client_secret_encrypted)

    def set_certificate(self, credential: CertificateCredential) -> None:
        """A certificate replaces a secret."""
        self.client_certificate_encrypted = encrypt(credential.pem)
        self.certificate_thumbprint = credential.thumbprint
        self.client_secret_encrypted = ""

    @property
    def uses_certificate(self) -> bool:
        return bool(self.client_certificate_encrypted)

    @property
    def has_credential(self) -> bool:
        return bool(self.client_certificate_encrypted or self.client_secret_encrypted)

    def credential(self) -> str | dict:
        """What MSAL's ConfidentialClientApplication takes as `client_credential`: the secret,
        or the certificate's private key and thumbprint."""
        if self.uses_certificate:
            return load_certificate(decrypt(self.client_certificate_encrypted)).for_msal()
        return self.client_secret()

    @property
    def is_running(self) -> bool:
        if self.running_since is None:
            return False
        stale = timedelta(minutes=settings.CONNECTOR_STALE_MINUTES)
        return self.running_since > timezone.now() - stale
