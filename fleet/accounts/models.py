"""Who may sign in: what the login throttle remembers between attempts."""

from __future__ import annotations

from django.db import models


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
