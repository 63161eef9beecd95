"""The triage queue's default set, as one condition the page, the API and tests share.

"Needs a look now" is what the signal engine (`fleet/triage/signals.py`) marked abnormal; the
rest of the open flags are steady recurrence, grouped below it. Both keep the caller's filters.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q, QuerySet

from fleet.triage.models import TriageFlag

# A signal is news for this long (the detection's longest window, docs/triage.md); after it a
# threshold flag is steady again.
SIGNAL_WINDOW = timedelta(hours=24)


def needs_look_q(now: datetime) -> Q:
    """The needs-a-look condition as a Q, for filtering, excluding and ordering alike."""
    news = ~Q(kind=TriageFlag.Kind.THRESHOLD) | Q(signal_at__gte=now - SIGNAL_WINDOW)
    return Q(state__in=TriageFlag.OPEN_STATES) & news


def needs_look(flags: QuerySet[TriageFlag], now: datetime) -> QuerySet[TriageFlag]:
    """The default "needs a look now" set: open flags (new, acknowledged, regressed) whose kind
    is not `threshold` (a spike, a new code, a regression, a fleet-wide rise: the engine
    recomputes kinds every run, so these are abnormal now), or whose `signal_at` is within the
    last 24 h. Ranked by `score`, then the latest signal."""
    return flags.filter(needs_look_q(now)).order_by("-score", "-signal_at", "pk")
