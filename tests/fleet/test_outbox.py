"""The claim every sender of an outgoing message makes (`fleet.models.outbox`): one worker
gets a due message, a sent one is never taken again, a dead worker's claim is taken over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Q

from fleet.alerts.models import AlertDelivery
from fleet.models.outbox import STALE_CLAIM

NOW = datetime(2026, 11, 2, 9, tzinfo=UTC)


def _delivery(**fields) -> AlertDelivery:
    values = {"recipient": "ops@example.com", "subject": "s", "body_text": "t", "body_html": "h"}
    return AlertDelivery.objects.create(**{**values, **fields})


@pytest.mark.django_db
def test_a_due_message_is_claimed_once_and_a_stale_claim_is_taken_over():
    due = _delivery(next_attempt_at=NOW)
    later = _delivery(next_attempt_at=NOW + timedelta(minutes=1))

    assert AlertDelivery.claim(due.pk, NOW)
    assert not AlertDelivery.claim(due.pk, NOW)  # the first worker has it
    assert not AlertDelivery.claim(later.pk, NOW)  # not due yet
    due.refresh_from_db()
    assert (due.state, due.attempts, due.claimed_at) == (AlertDelivery.State.SENDING, 1, NOW)

    # Just inside the stale bound the claim holds; past it the message is taken again.
    assert not AlertDelivery.claim(due.pk, NOW + STALE_CLAIM)
    assert AlertDelivery.claim(due.pk, NOW + STALE_CLAIM + timedelta(seconds=1))
    due.refresh_from_db()
    assert due.attempts == 2

    AlertDelivery.objects.filter(pk=due.pk).update(state=AlertDelivery.State.SENT)
    assert not AlertDelivery.claim(due.pk, NOW + timedelta(days=1))


@pytest.mark.django_db
def test_a_claim_among_a_subset_leaves_the_others():
    email = _delivery(next_attempt_at=NOW)
    assert not AlertDelivery.claim(email.pk, NOW, among=Q(channel__isnull=False))
    assert AlertDelivery.claim(email.pk, NOW, among=Q(channel__isnull=True))
    assert set(AlertDelivery.objects.filter(AlertDelivery.claimable(NOW))) == set()
