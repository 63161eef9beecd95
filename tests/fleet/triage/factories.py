"""Flags as the signal engine leaves them: kind, score, reason and 24 h counts set directly."""

from datetime import timedelta

import factory
from django.utils import timezone

from fleet.triage.models import TriageFlag
from tests.factories import TenantFactory

# Long enough ago that a flag raised then is no longer news by itself.
LONG_AGO = timedelta(days=60)


class FlagFactory(factory.django.DjangoModelFactory):
    """A steady threshold flag raised long ago unless told otherwise."""

    class Meta:
        model = TriageFlag

    tenant = factory.SubFactory(TenantFactory)
    code = factory.Sequence(lambda n: 0x80070000 + n)
    occurrences = 10
    devices = 2
    raised_at = factory.LazyFunction(lambda: timezone.now() - LONG_AGO)
    state_changed_at = factory.LazyAttribute(lambda f: f.raised_at)
    first_seen_at = factory.LazyAttribute(lambda f: f.raised_at)
    last_seen_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=3))


def spike(**fields) -> TriageFlag:
    """A flag the engine found spiking an hour ago."""
    defaults = {
        "kind": TriageFlag.Kind.SPIKE,
        "score": 50.0,
        "reason": "43 in the last 6 h, usually 2",
        "occurrences_24h": 43,
        "devices_24h": 21,
        "baseline_24h": 8.0,
        "signal_at": timezone.now() - timedelta(hours=1),
    }
    return FlagFactory(**(defaults | fields))
