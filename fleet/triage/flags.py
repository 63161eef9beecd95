"""Recurrence triage: raise, re-open and un-mute flags per (tenant, code) from the aggregates.

Each enabled rule is one `GROUP BY … HAVING` over the hourly per-device aggregate, giving every
(tenant, code) pair over its threshold at once; the pair's operator severity then decides which
rules apply. Windows count whole hours back from `now`, including the hour the window starts in.
Operators change a flag's state with `change_state`; every change, theirs or the pipeline's,
is written as a `TriageEvent`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.humanize.templatetags.humanize import intcomma
from django.db import connection, transaction
from django.db.models import Count, F, IntegerField, Max, Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext

from codes.facts import facts_for
from codes.models import Severity
from fleet.models import HourlyDeviceCodeStat, Occurrence
from fleet.triage.models import FleetSignal, TriageEvent, TriageFlag, TriageRule
from fleet.triage.queries import assignable_users
from fleet.triage.signals import (
    SCORE_BASE,
    STEADY_BASE,
    Detection,
    detect,
    record_fleet_signals,
    volume_strength,
)

log = logging.getLogger(__name__)

_LOCK_KEY = 0x0F1EE7A7  # PostgreSQL advisory lock id shared by every triage run

# The defaults the issue names; operators edit them in admin.
DEFAULT_RULES: list[dict] = [
    {
        "name": "Warning repeats on one device (3 in 7 days)",
        "severity": Severity.WARNING,
        "metric": TriageRule.Metric.SAME_DEVICE,
        "threshold": 3,
        "window_hours": 7 * 24,
    },
    {
        "name": "Warning on many devices (5 in 24 hours)",
        "severity": Severity.WARNING,
        "metric": TriageRule.Metric.DEVICES,
        "threshold": 5,
        "window_hours": 24,
    },
    {
        "name": "Error on many devices (5 in 24 hours)",
        "severity": Severity.ERROR,
        "metric": TriageRule.Metric.DEVICES,
        "threshold": 5,
        "window_hours": 24,
    },
]


# A count mute ends at baseline + this many; it must stay far inside the 32-bit integer columns
# (and their sum in the un-mute query). Longer than a million more occurrences: mute by date.
MAX_MUTE_OCCURRENCES = 1_000_000


class TransitionError(ValueError):
    """An operator asked for a state change the flag cannot make; the message says why, and
    `field` names the parameter at fault (for the API's error answer)."""

    def __init__(self, message: str, field: str = "action") -> None:
        super().__init__(message)
        self.field = field


@dataclass
class TriageResult:
    raised: list[TriageFlag] = field(default_factory=list)
    regressed: list[TriageFlag] = field(default_factory=list)
    unmuted: list[TriageFlag] = field(default_factory=list)
    signals: int = 0  # flags whose signal (kind, score, reason, 24 h counts) changed


def ensure_default_rules(rule_model: type[TriageRule] = TriageRule) -> int:
    """Create the default rules when there are none at all; return how many were created.

    Takes the model so a data migration can pass its historical one.
    """
    if rule_model.objects.exists():
        return 0
    rule_model.objects.bulk_create([rule_model(**spec) for spec in DEFAULT_RULES])
    return len(DEFAULT_RULES)


def operator_severities(codes: Iterable[int]) -> dict[int, str]:
    """Severity an operator reads for each code, by the one rule of `codes.facts` (the catalog
    row's, else the decoded one), so a rule flags a code by the severity its chart shows."""
    return {code: facts.severity for code, facts in facts_for(codes).items()}


def window_start(now: datetime, hours: int) -> datetime:
    """First hour bucket inside a window of `hours` ending at `now`."""
    return (now - timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)


def rule_candidates(rule: TriageRule, now: datetime) -> set[tuple[int, int]]:
    """(tenant id, code) pairs over the rule's threshold, of any severity, in one query."""
    stats = HourlyDeviceCodeStat.objects.filter(
        hour__gte=window_start(now, rule.window_hours), hour__lte=now
    )
    if rule.metric == TriageRule.Metric.DEVICES:
        rows = (
            stats.values("tenant_id", "code")
            .annotate(devices=Count("device_id", distinct=True))
            .filter(devices__gte=rule.threshold)
            .values_list("tenant_id", "code")
        )
        return set(rows)
    per_device = (
        stats.values("tenant_id", "code", "device_id")
        .annotate(total=Sum("occurrences"))
        .filter(total__gte=rule.threshold)
    )
    # Pairs only: the database folds the per-device groups, not Python.
    sql, params = per_device.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT tenant_id, code FROM ({sql}) AS per_device", params)
        return set(cursor.fetchall())


def matching_pairs(now: datetime) -> dict[tuple[int, int], TriageRule]:
    """Every flagged (tenant id, code) pair with the first enabled rule that flags it."""
    rules = list(TriageRule.objects.filter(enabled=True).order_by("id"))
    candidates = [(rule, rule_candidates(rule, now)) for rule in rules]
    severities = operator_severities(code for _, pairs in candidates for _, code in pairs)
    matches: dict[tuple[int, int], TriageRule] = {}
    for rule, pairs in candidates:
        for pair in pairs:
            if severities[pair[1]] == rule.severity:
                matches.setdefault(pair, rule)
    return matches


@contextlib.contextmanager
def _exclusive() -> Iterator[None]:
    """One triage run at a time; SQLite's write transaction serialises runs by itself."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        yield


def refresh_flag_counts(flags=None) -> int:
    """Copy all-time counts and first/last seen from the aggregates onto flags, set-based."""
    flags = TriageFlag.objects.all() if flags is None else flags
    same_pair = {"tenant_id": OuterRef("tenant_id"), "code": OuterRef("code")}
    stats = HourlyDeviceCodeStat.objects.filter(**same_pair).values("code")
    occurrences = Occurrence.objects.filter(**same_pair).values("code")
    return flags.update(
        occurrences=Coalesce(
            Subquery(stats.annotate(n=Sum("occurrences")).values("n")),
            0,
            output_field=IntegerField(),
        ),
        devices=Coalesce(
            Subquery(stats.annotate(n=Count("device_id", distinct=True)).values("n")),
            0,
            output_field=IntegerField(),
        ),
        # Exact times from the raw rows: one index seek each on (tenant, code, occurred_at).
        first_seen_at=Subquery(occurrences.annotate(t=Min("occurred_at")).values("t")),
        last_seen_at=Subquery(occurrences.annotate(t=Max("occurred_at")).values("t")),
    )


def _record(changes: list[tuple[TriageFlag, str, str, str]], now: datetime) -> None:
    """Write one pipeline event per (flag, from state, to state, note), in one insert."""
    TriageEvent.objects.bulk_create(
        [
            TriageEvent(flag=flag, at=now, from_state=old, to_state=new, note=note)
            for flag, old, new, note in changes
        ]
    )


def run_triage(now: datetime | None = None) -> TriageResult:
    """Raise new flags (a rule or a signal), re-open resolved ones that recur, end expired
    mutes, and write every flag's signal: kind, score, reason, 24 h counts (docs/triage.md)."""
    now = now or timezone.now()
    result = TriageResult()
    State = TriageFlag.State
    with _exclusive():
        ensure_default_rules()
        matches = matching_pairs(now)
        detection = detect(now)
        wanted = set(matches) | {pair for pair, s in detection.pairs.items() if s.raises}
        candidates = TriageFlag.objects.filter(
            tenant_id__in={tenant_id for tenant_id, _ in wanted},
            code__in={code for _, code in wanted},
        )
        existing = {
            (flag.tenant_id, flag.code): flag
            for flag in candidates
            if (flag.tenant_id, flag.code) in wanted
        }

        result.raised = TriageFlag.objects.bulk_create(
            [
                TriageFlag(
                    tenant_id=t,
                    code=c,
                    rule=matches.get((t, c)),
                    raised_at=now,
                    state_changed_at=now,
                )
                for (t, c) in sorted(wanted)
                if (t, c) not in existing
            ]
        )
        refresh_flag_counts()

        # A resolved flag recurs when a rule or a signal flags it again and an occurrence came
        # after the resolution; older rows still inside the window do not count as a recurrence.
        result.regressed = list(
            TriageFlag.objects.filter(
                pk__in=[f.pk for f in existing.values() if f.state == State.RESOLVED],
                state=State.RESOLVED,
                last_seen_at__gt=F("resolved_at"),
            )
        )
        for flag in result.regressed:
            flag.rule = matches.get((flag.tenant_id, flag.code), flag.rule)
            flag.state, flag.state_changed_at = State.REGRESSED, now
        TriageFlag.objects.bulk_update(result.regressed, ["state", "state_changed_at", "rule"])

        result.unmuted = list(
            TriageFlag.objects.filter(state=State.MUTED).filter(
                Q(muted_until__lte=now)
                | Q(
                    mute_occurrences__isnull=False,
                    occurrences__gte=F("mute_baseline") + F("mute_occurrences"),
                )
            )
        )
        TriageFlag.objects.filter(pk__in=[flag.pk for flag in result.unmuted]).update(
            state=State.NEW,
            state_changed_at=now,
            muted_until=None,
            mute_occurrences=None,
            mute_baseline=None,
        )

        fleet = record_fleet_signals(detection, now)
        result.signals = write_signals(detection, matches, fleet, now)

        def why(flag: TriageFlag) -> str:
            pair = (flag.tenant_id, flag.code)
            if pair in matches or not detection.pairs.get(pair):
                return f"rule: {flag.rule.name}" if flag.rule else "rule"
            return f"signal: {detection.pairs[pair].reason}"

        _record(
            [(f, "", State.NEW, f"Raised by {why(f)}") for f in result.raised]
            + [
                (f, State.RESOLVED, State.REGRESSED, f"Recurred after resolution; {why(f)}")
                for f in result.regressed
            ]
            + [(f, State.MUTED, State.NEW, _mute_ended(f)) for f in result.unmuted],
            now,
        )
    if result.raised or result.regressed or result.unmuted:
        log.info(
            "triage: %d raised, %d regressed, %d unmuted",
            len(result.raised),
            len(result.regressed),
            len(result.unmuted),
        )
    return result


# What write_signals compares and writes on each flag.
SIGNAL_FIELDS = [
    "kind",
    "score",
    "reason",
    "occurrences_24h",
    "devices_24h",
    "baseline_24h",
    "signal_at",
    "fleet_signal",
]


def _ago(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours < 48:
        return f"{max(1, round(hours))} h"
    return f"{round(hours / 24)} days"


def write_signals(
    detection: Detection,
    matches: dict[tuple[int, int], TriageRule],
    fleet: dict[int, FleetSignal],
    now: datetime,
) -> int:
    """Write this run's signal onto every flag whose signal changed; return how many.

    A pair's own signal (spike, fleet_spike, new) wins; else a regressed flag is a regression;
    else it is a threshold flag, scored low, lower still when no rule holds it any more.
    """
    Kind, State = TriageFlag.Kind, TriageFlag.State
    changed = []
    for flag in TriageFlag.objects.select_related(None).only(
        "id", "tenant_id", "code", "state", "state_changed_at", "resolved_at", *SIGNAL_FIELDS
    ):
        pair = (flag.tenant_id, flag.code)
        signal = detection.pairs.get(pair)
        values: dict = {
            "occurrences_24h": signal.occurrences_24h if signal else 0,
            "devices_24h": signal.devices_24h if signal else 0,
            "baseline_24h": signal.baseline_24h if signal else flag.baseline_24h,
            "signal_at": flag.signal_at,
            "fleet_signal_id": flag.fleet_signal_id,
        }
        volume = volume_strength(values["occurrences_24h"], values["devices_24h"])
        if signal and signal.kind:
            values |= {"kind": signal.kind, "score": signal.score, "reason": signal.reason}
            values["signal_at"] = now
            if flag.code in fleet and pair in detection.fleet[flag.code]:
                values["fleet_signal_id"] = fleet[flag.code].pk
        elif flag.state == State.REGRESSED:
            back = _ago(flag.state_changed_at - (flag.resolved_at or flag.state_changed_at))
            values |= {
                "kind": Kind.REGRESSION,
                "score": SCORE_BASE[Kind.REGRESSION] + volume,
                "reason": f"back {back} after resolved",
                "signal_at": flag.state_changed_at,
            }
        else:
            steady = signal.reason if signal else "nothing in the last 24 h"
            rule = matches.get(pair)
            values |= {
                "kind": Kind.THRESHOLD,
                "score": (SCORE_BASE[Kind.THRESHOLD] if rule else STEADY_BASE) + volume,
                "reason": f"{rule.describe()}: {steady}" if rule else f"steady: {steady}",
            }
        values["score"] = round(values["score"], 2)
        values["reason"] = values["reason"][:300]
        if any(getattr(flag, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(flag, name, value)
            changed.append(flag)
    TriageFlag.objects.bulk_update(changed, SIGNAL_FIELDS, batch_size=500)
    return len(changed)


def _mute_ended(flag: TriageFlag) -> str:
    if flag.mute_occurrences is not None:
        return f"Mute ended: {flag.mute_occurrences} more occurrences arrived"
    return f"Mute ended: {flag.muted_until:%Y-%m-%d %H:%M} UTC passed"


# action -> (states it may start from, state it leads to)
ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "acknowledge": (
        (TriageFlag.State.NEW, TriageFlag.State.REGRESSED, TriageFlag.State.MUTED),
        TriageFlag.State.ACKNOWLEDGED,
    ),
    "resolve": (
        (
            TriageFlag.State.NEW,
            TriageFlag.State.ACKNOWLEDGED,
            TriageFlag.State.REGRESSED,
            TriageFlag.State.MUTED,
        ),
        TriageFlag.State.RESOLVED,
    ),
    "mute": (
        (TriageFlag.State.NEW, TriageFlag.State.ACKNOWLEDGED, TriageFlag.State.REGRESSED),
        TriageFlag.State.MUTED,
    ),
}


def change_state(
    flag: TriageFlag,
    action: str,
    user,
    note: str = "",
    *,
    now: datetime | None = None,
    muted_until: datetime | None = None,
    mute_occurrences: int | None = None,
) -> TriageEvent:
    """Apply an operator's action to `flag` and record it; raise TransitionError if it can't."""
    now = now or timezone.now()
    if action not in ACTIONS:
        raise TransitionError(f"Unknown action {action!r}; use one of {', '.join(ACTIONS)}.")
    sources, target = ACTIONS[action]
    if flag.state not in sources:
        raise TransitionError(
            gettext("A %(state)s flag cannot be %(target)s.")
            % {
                "state": flag.get_state_display().lower(),
                "target": TriageFlag.State(target).label.lower(),
            }
        )
    changes: dict = {"state": target, "state_changed_at": now}
    if action == "mute":
        if (muted_until is None) == (mute_occurrences is None):
            raise TransitionError(
                gettext("Mute until a date, or until a number of more occurrences."),
                "muted_until",
            )
        if muted_until is not None and muted_until <= now:
            raise TransitionError(gettext("The mute date must be in the future."), "muted_until")
        if mute_occurrences is not None and mute_occurrences < 1:
            raise TransitionError(
                gettext("Mute for at least one more occurrence."), "mute_occurrences"
            )
        if mute_occurrences is not None and mute_occurrences > MAX_MUTE_OCCURRENCES:
            raise TransitionError(
                gettext(
                    "Mute for at most %(limit)s more occurrences; for longer, mute until a day."
                )
                % {"limit": intcomma(MAX_MUTE_OCCURRENCES)},
                "mute_occurrences",
            )
        changes |= {
            "muted_until": muted_until,
            "mute_occurrences": mute_occurrences,
            "mute_baseline": flag.occurrences,
        }
        detail = (
            f"until {muted_until:%Y-%m-%d %H:%M} UTC"
            if muted_until
            else f"until {mute_occurrences} more occurrences"
        )
        note = f"Muted {detail}. {note}".strip()
    else:
        changes |= {"muted_until": None, "mute_occurrences": None, "mute_baseline": None}
    if action == "resolve":
        changes["resolved_at"] = now
    with transaction.atomic():
        # Conditional on the state the operator saw, so a concurrent change is not overwritten.
        if not TriageFlag.objects.filter(pk=flag.pk, state=flag.state).update(**changes):
            raise TransitionError(
                gettext("The flag changed meanwhile; reload the page and try again.")
            )
        event = TriageEvent.objects.create(
            flag=flag, at=now, user=user, from_state=flag.state, to_state=target, note=note
        )
    for name, value in changes.items():
        setattr(flag, name, value)
    return event


@dataclass
class BulkResult:
    changed: list[TriageFlag] = field(default_factory=list)
    refused: list[tuple[TriageFlag, str]] = field(default_factory=list)  # (flag, why)


def change_states(
    flags: Iterable[TriageFlag], action: str, user, note: str = "", **mute
) -> BulkResult:
    """Apply one action to several flags, each through `change_state` (so each change is its own
    TriageEvent); a flag that cannot make the change is reported, the others still change."""
    result = BulkResult()
    for flag in flags:
        try:
            change_state(flag, action, user, note, **mute)
        except TransitionError as exc:
            result.refused.append((flag, str(exc)))
        else:
            result.changed.append(flag)
    return result


def assign(flag: TriageFlag, assignee, by, *, now: datetime | None = None) -> TriageEvent:
    """Assign `flag` to `assignee` (None to unassign), recorded as an event; TransitionError
    unless the assignee is one of the users the flag's tenant is granted to."""
    if assignee is not None and not assignable_users(flag.tenant_id).filter(pk=assignee.pk):
        raise TransitionError(
            gettext("%(person)s is not granted %(tenant)s.")
            % {"person": assignee.get_username(), "tenant": flag.tenant.name}
        )
    now = now or timezone.now()
    with transaction.atomic():
        TriageFlag.objects.filter(pk=flag.pk).update(assignee=assignee)
        flag.assignee = assignee
        note = f"Assigned to {assignee.get_username()}." if assignee else "Unassigned."
        return TriageEvent.objects.create(
            flag=flag, at=now, user=by, from_state=flag.state, to_state=flag.state, note=note
        )
