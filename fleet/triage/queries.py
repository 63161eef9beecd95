"""The triage queue's sets, as querysets the page, the API and the digests share.

`needs_look` is the default view: what is abnormal now. `steady` is everything else an operator
still owns, grouped below it. Both keep the caller's filters (tenant scope, `?tenant=`, kind).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import F, Q, QuerySet

from fleet.triage.models import TriageFlag

# A spike, fleet spike or new-code signal leaves the default view this long after it was last
# seen abnormal (the detection's longest window: docs/triage.md).
SIGNAL_HOURS = 24

# Kinds that say "abnormal now" (a threshold flag is steady recurrence).
SIGNAL_KINDS = (TriageFlag.Kind.SPIKE, TriageFlag.Kind.FLEET_SPIKE, TriageFlag.Kind.NEW)


def _needs_look_q(now: datetime) -> Q:
    State = TriageFlag.State
    # Nobody has taken it yet; or someone acknowledged it and it turned abnormal again since.
    untaken = Q(state=State.NEW) | Q(state=State.ACKNOWLEDGED, signal_at__gt=F("state_changed_at"))
    signal = Q(kind__in=SIGNAL_KINDS, signal_at__gte=now - timedelta(hours=SIGNAL_HOURS))
    # A regression waits for an operator however old it is: someone resolved it and was wrong.
    regressed = Q(state=State.REGRESSED)
    return (untaken & signal) | regressed


def needs_look(flags: QuerySet[TriageFlag], now: datetime) -> QuerySet[TriageFlag]:
    """The default queue: open flags abnormal now, most urgent first.

    That is: new (or acknowledged, then abnormal again) flags whose kind is spike, fleet_spike
    or new with a signal in the last SIGNAL_HOURS, plus every regressed flag; ranked by `score`
    (docs/triage.md defines it), then the latest signal.
    """
    latest = F("signal_at").desc(nulls_last=True)
    return flags.filter(_needs_look_q(now)).order_by("-score", latest, "pk")


def steady(flags: QuerySet[TriageFlag], now: datetime) -> QuerySet[TriageFlag]:
    """Open flags that are not abnormal now (steady recurrence), for the group below."""
    return (
        flags.filter(state__in=TriageFlag.OPEN_STATES)
        .exclude(_needs_look_q(now))
        .order_by("-score", F("last_seen_at").desc(nulls_last=True), "pk")
    )
