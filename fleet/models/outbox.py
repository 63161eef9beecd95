"""What every outgoing message the workers send shares: alert emails and channel
notifications (`fleet.alerts`), scheduled tenant reports (`fleet.reports`).

A message is rendered once and stored; a worker claims it (pending -> sending, attempts + 1),
sends it, and marks it sent, or releases it pending again with a back-off. A claim older than
`STALE_CLAIM` belongs to a dead worker and may be taken again, so a message is sent at least
once and, barring a worker dying mid-send, exactly once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

STALE_CLAIM = timedelta(minutes=15)


class OutboxMessage(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", gettext_lazy("Pending")
        SENDING = "sending", gettext_lazy("Sending")
        SENT = "sent", gettext_lazy("Sent")

    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    @classmethod
    def claimable(cls, now: datetime) -> Q:
        """Pending and due, or claimed by a worker that has not finished in STALE_CLAIM."""
        return Q(state=cls.State.PENDING, next_attempt_at__lte=now) | Q(
            state=cls.State.SENDING, claimed_at__lt=now - STALE_CLAIM
        )

    @classmethod
    def claim(cls, pk: int, now: datetime, among: Q | None = None) -> bool:
        """Take message `pk` for sending, if it is still claimable (and in `among`); False
        when another worker has it or it was sent meanwhile."""
        condition = cls.claimable(now) if among is None else among & cls.claimable(now)
        return bool(
            cls.objects.filter(condition, pk=pk).update(
                state=cls.State.SENDING, claimed_at=now, attempts=F("attempts") + 1
            )
        )
