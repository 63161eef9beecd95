"""Alert rules evaluated over the aggregates and the triage flags: which alerts open, which are
re-sent, which resolve — each decided once, however many evaluations run at the same time.

A threshold rule is one `GROUP BY … HAVING` over the hourly aggregates; a signal rule (spike,
new, regression, fleet_spike) reads the triage flags the same round has just written. Per
(rule, tenant, code):

- **fire**: the condition holds and the cooldown since the last notification has passed. The
  right to notify is claimed with a conditional UPDATE on the pair's AlertRuleState, so
  concurrent evaluations notify once. With no open alert a new one (AlertFiring) opens; with
  one, it is re-sent (`notifications` + 1, counts refreshed, a note on its PSA ticket).
- **resolve**: an open alert whose condition no longer holds, whose flag was resolved or muted,
  or whose rule was paused or deleted. Claimed by `UPDATE … WHERE resolved_at IS NULL`.
- **quiet hours**: while a rule's quiet hours run in a tenant's time zone, nothing is decided
  for that tenant; the next evaluation after they end fires or resolves what still applies.

Notifications are queued (`fleet.alerts.email`, `fleet.alerts.channels`) in the claim's
transaction, so an alert never exists without its deliveries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone

from codes.facts import facts_for
from codes.models import ErrorCode
from fleet.alerts.channels import queue_channel_deliveries
from fleet.alerts.email import queue_digests
from fleet.alerts.models import AlertDelivery, AlertFiring, AlertRule, AlertRuleState
from fleet.alerts.payloads import FIRED, RESOLVED
from fleet.models import HourlyDeviceCodeStat, Tenant
from fleet.triage.flags import window_start
from fleet.triage.models import TriageFlag

log = logging.getLogger(__name__)

SIGNAL_WINDOW_HOURS = 24  # the triage signal's own window (flag.occurrences_24h)


@dataclass
class Match:
    rule: AlertRule
    tenant_id: int
    code: int
    occurrences: int
    devices: int
    kind: str = "threshold"
    reason: str = ""
    flag_id: int | None = None


@dataclass
class EvaluationResult:
    matched: int = 0
    fired: list[AlertFiring] = field(default_factory=list)  # new alerts and re-sent ones
    resolved: list[AlertFiring] = field(default_factory=list)
    deliveries: list[AlertDelivery] = field(default_factory=list)  # emails
    webhooks: list[AlertDelivery] = field(default_factory=list)  # every other channel


def _tenant_filter(rule: AlertRule) -> Q:
    if rule.all_tenants:
        return Q()
    return Q(tenant_id__in=[t.pk for t in rule.tenants.all()])


def _threshold_matches(rule: AlertRule, now: datetime) -> list[Match]:
    stats = HourlyDeviceCodeStat.objects.filter(
        _tenant_filter(rule), hour__gte=window_start(now, rule.window_hours), hour__lte=now
    )
    if rule.code is not None:
        stats = stats.filter(code=rule.code)
    if rule.family_id is not None:
        # Codes the catalog puts in the family, and codes it gives no family, whose decoded
        # family is checked below: a rule names a family the way the charts show it.
        stats = stats.filter(
            Q(code__in=ErrorCode.objects.filter(family_id=rule.family_id).values("value"))
            | ~Exists(ErrorCode.objects.filter(value=OuterRef("code"), family__isnull=False))
        )
    having = {}
    if rule.min_occurrences is not None:
        having["total__gte"] = rule.min_occurrences
    if rule.min_devices is not None:
        having["devices__gte"] = rule.min_devices
    if not having:
        return []
    rows = (
        stats.values("tenant_id", "code")
        .annotate(total=Sum("occurrences"), devices=Count("device_id", distinct=True))
        .filter(**having)
        .values_list("tenant_id", "code", "total", "devices")
    )
    matches = [Match(rule, *row) for row in rows]
    if not matches:
        return matches
    # A flag an operator resolved or muted is handled: its regression re-opens it.
    flags = {
        (tenant_id, code): (pk, state, reason)
        for pk, tenant_id, code, state, reason in TriageFlag.objects.filter(
            tenant_id__in={m.tenant_id for m in matches}, code__in={m.code for m in matches}
        ).values_list("pk", "tenant_id", "code", "state", "reason")
    }
    kept = []
    for match in matches:
        pk, state, _ = flags.get((match.tenant_id, match.code), (None, "", ""))
        if state in (TriageFlag.State.RESOLVED, TriageFlag.State.MUTED):
            continue
        match.flag_id = pk
        match.reason = (
            f"{match.occurrences} occurrences on {match.devices} devices in "
            f"{rule.window_hours} h: {rule.describe()}"
        )
        kept.append(match)
    return kept


def _signal_matches(rule: AlertRule) -> list[Match]:
    flags = TriageFlag.objects.filter(_tenant_filter(rule), state__in=TriageFlag.OPEN_STATES)
    trigger = AlertRule.Trigger
    if rule.trigger == trigger.REGRESSION:
        flags = flags.filter(state=TriageFlag.State.REGRESSED)
    elif rule.trigger == trigger.FLEET_SPIKE:
        flags = flags.filter(fleet_signal__active=True)
    else:
        flags = flags.filter(kind=rule.trigger)
    if rule.code is not None:
        flags = flags.filter(code=rule.code)
    if rule.min_occurrences is not None:
        flags = flags.filter(occurrences_24h__gte=rule.min_occurrences)
    if rule.min_devices is not None:
        flags = flags.filter(devices_24h__gte=rule.min_devices)
    return [
        Match(rule, tenant_id, code, occurrences, devices, rule.trigger, reason, pk)
        for pk, tenant_id, code, occurrences, devices, reason in flags.values_list(
            "pk", "tenant_id", "code", "occurrences_24h", "devices_24h", "reason"
        )
    ]


def rule_matches(rule: AlertRule, now: datetime) -> list[Match]:
    """(tenant, code) pairs where the rule's condition holds now: one query for the pairs, one
    for their flags, and one more (`codes.facts`) when the rule names a severity or a family."""
    matches = _signal_matches(rule) if rule.is_signal else _threshold_matches(rule, now)
    if matches and (rule.severity or rule.family_id is not None):
        facts = facts_for(match.code for match in matches)
        if rule.severity:
            matches = [m for m in matches if facts[m.code].severity == rule.severity]
        if rule.family_id is not None:
            matches = [m for m in matches if facts[m.code].family == rule.family.slug]
    return matches


def _claim(state_id: int, cooldown: timedelta, now: datetime) -> bool:
    """Take the right to notify; only one caller per cooldown gets True."""
    claimed = (
        AlertRuleState.objects.filter(pk=state_id)
        .filter(Q(last_fired_at__isnull=True) | Q(last_fired_at__lt=now - cooldown))
        .update(last_fired_at=now)
    )
    return claimed == 1


def _resolve_reason(firing: AlertFiring, rule: AlertRule, flag_state: str | None) -> str:
    if rule.deleted_at is not None:
        return "the rule was deleted"
    if not rule.enabled:
        return "the rule was paused"
    if flag_state == TriageFlag.State.RESOLVED:
        return "its triage flag was resolved"
    if flag_state == TriageFlag.State.MUTED:
        return "its triage flag was muted"
    if rule.is_signal:
        return f"no longer a {rule.get_trigger_display().split(' (')[0].lower()}"
    return f"back under the rule ({rule.describe()})"


def _open_alerts() -> list[AlertFiring]:
    return list(
        AlertFiring.objects.filter(resolved_at__isnull=True).select_related("rule", "rule__family")
    )


def evaluate_alerts(now: datetime | None = None) -> EvaluationResult:
    """Open, re-send and resolve alerts for every rule; queue their notifications."""
    now = now or timezone.now()
    result = EvaluationResult()
    rules = list(
        AlertRule.objects.filter(enabled=True, deleted_at__isnull=True)
        .select_related("family")
        .prefetch_related("tenants")
    )
    open_alerts = _open_alerts()
    if not rules and not open_alerts:
        return result
    zones = dict(Tenant.objects.values_list("pk", "time_zone"))
    matches = [
        m
        for rule in rules
        for m in rule_matches(rule, now)
        if not rule.in_quiet_hours(now, zones.get(m.tenant_id, "UTC"))
    ]
    result.matched = len(matches)
    holding = {(m.rule.pk, m.tenant_id, m.code) for m in matches}
    to_resolve = [
        a
        for a in open_alerts
        if (a.rule_id, a.tenant_id, a.code) not in holding
        and not a.rule.in_quiet_hours(now, zones.get(a.tenant_id, "UTC"))
    ]
    flag_states = dict(
        TriageFlag.objects.filter(pk__in={a.flag_id for a in to_resolve if a.flag_id}).values_list(
            "pk", "state"
        )
    )
    with transaction.atomic():
        for alert in to_resolve:
            reason = _resolve_reason(alert, alert.rule, flag_states.get(alert.flag_id))
            if (
                AlertFiring.objects.filter(pk=alert.pk, resolved_at__isnull=True).update(
                    resolved_at=now, resolve_reason=reason
                )
                == 1
            ):
                alert.resolved_at, alert.resolve_reason = now, reason
                result.resolved.append(alert)
        open_by_key = {(a.rule_id, a.tenant_id, a.code): a for a in open_alerts}
        result.fired = _fire(matches, open_by_key, now)
        result.deliveries = queue_digests(result.fired, now) + queue_digests(
            result.resolved, now, event=RESOLVED
        )
        result.webhooks = queue_channel_deliveries(result.fired, FIRED, now) + (
            queue_channel_deliveries(result.resolved, RESOLVED, now)
        )
    if result.fired or result.resolved:
        log.info(
            "alerts: %d fired, %d resolved, %d emails and %d channel notifications queued",
            len(result.fired),
            len(result.resolved),
            len(result.deliveries),
            len(result.webhooks),
        )
    return result


def _fire(
    matches: list[Match], open_by_key: dict[tuple[int, int, int], AlertFiring], now: datetime
) -> list[AlertFiring]:
    """Claim each match out of cooldown; open its alert or re-send the open one."""
    if not matches:
        return []
    AlertRuleState.objects.bulk_create(
        [AlertRuleState(rule=m.rule, tenant_id=m.tenant_id, code=m.code) for m in matches],
        ignore_conflicts=True,
    )
    keys = {(m.rule.pk, m.tenant_id, m.code) for m in matches}
    states = {
        (s.rule_id, s.tenant_id, s.code): s.pk
        for s in AlertRuleState.objects.filter(rule_id__in={k[0] for k in keys})
        if (s.rule_id, s.tenant_id, s.code) in keys
    }
    claimed = [
        m
        for m in matches
        if _claim(
            states[(m.rule.pk, m.tenant_id, m.code)],
            timedelta(minutes=m.rule.cooldown_minutes),
            now,
        )
    ]
    fresh, again = [], []
    for m in claimed:
        window = SIGNAL_WINDOW_HOURS if m.rule.is_signal else m.rule.window_hours
        alert = open_by_key.get((m.rule.pk, m.tenant_id, m.code))
        if alert is None:
            fresh.append(
                AlertFiring(
                    rule=m.rule,
                    tenant_id=m.tenant_id,
                    code=m.code,
                    kind=m.kind,
                    fired_at=now,
                    last_fired_at=now,
                    occurrences=m.occurrences,
                    devices=m.devices,
                    window_hours=window,
                    reason=m.reason[:300],
                    flag_id=m.flag_id,
                )
            )
            continue
        alert.last_fired_at, alert.notifications = now, alert.notifications + 1
        alert.occurrences, alert.devices, alert.window_hours = m.occurrences, m.devices, window
        alert.reason, alert.flag_id = m.reason[:300], m.flag_id or alert.flag_id
        again.append(alert)
    AlertFiring.objects.bulk_update(
        again,
        ["last_fired_at", "notifications", "occurrences", "devices", "window_hours", "reason"]
        + ["flag"],
    )
    return AlertFiring.objects.bulk_create(fresh) + again
