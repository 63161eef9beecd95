"""Who may sign in: what the login throttle remembers between attempts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from fleet.models.core import Role


class LoginFailure(models.Model):
    """One failed login, kept for the throttle window of `fleet.accounts.login_throttle`.

    In the database rather than a per-process cache, so every gunicorn worker counts the same
    attempts."""

    username = models.CharField(max_length=150)
    address = models.CharField(max_length=45)
    failed_at = models.DateTimeField()

    class Meta:
        # The table the dashboards app created: the model moved (fleet migration 0009), the
        # rows did not.
        db_table = "dashboards_loginfailure"
        indexes = [
            models.Index(fields=["username", "failed_at"], name="loginfailure_user_time"),
            models.Index(fields=["address", "failed_at"], name="loginfailure_address_time"),
            models.Index(fields=["failed_at"], name="loginfailure_time"),
        ]

    def __str__(self) -> str:
        return f"{self.username} from {self.address} at {self.failed_at:%Y-%m-%d %H:%M}"


class SingleSignOnIdentity(models.Model):
    """Which provider account (issuer and `sub`) signs in as which user.

    Matched on `sub`, the one claim a provider promises never to reassign, so a renamed address
    still finds its user. `granted_msp_admin` remembers that the group or domain mapping made
    the user an MSP admin, so a later sign-in outside the mapping takes back only what the
    mapping gave, never an MSP admin status set here by hand."""

    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="sign_ons")
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    email = models.EmailField(blank=True, help_text="The address the provider last sent.")
    granted_msp_admin = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="sign_on_issuer_subject"),
            # One provider account per user per issuer: a second one would be someone else.
            models.UniqueConstraint(fields=["issuer", "user"], name="sign_on_issuer_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} as {self.subject} at {self.issuer}"


class Invitation(models.Model):
    """A one-time link that grants its holder a role on a tenant. Only sha256(token) is kept;
    the link stops working once used or after `expires_at`."""

    email = models.EmailField()
    tenant = models.ForeignKey("fleet.Tenant", on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.OPERATOR)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.email} to {self.tenant} as {self.role}"


class AuditEntry(models.Model):
    """One settings action: who did what to which target, on which tenant, when."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    action = models.CharField(max_length=64)
    target = models.CharField(max_length=200)
    tenant = models.ForeignKey(
        "fleet.Tenant", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor}: {self.action} {self.target}"


class PersonSettings(models.Model):
    """A person's own preferences; one row, created the first time they change one.

    `language` blank means "follow the browser" (Accept-Language, through Django's
    LocaleMiddleware); otherwise it wins on every page and in every email they receive
    (fleet/accounts/language.py)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="person_settings"
    )
    language = models.CharField(max_length=8, blank=True, choices=settings.LANGUAGES)

    def __str__(self) -> str:
        return f"settings of {self.user}"
