"""Alert rules evaluated over the aggregates: which rules fire, claimed once per cooldown.

Evaluation is one `GROUP BY … HAVING` per rule. A firing is claimed per (rule, tenant, code)
with a conditional UPDATE on its cooldown row, so concurrent evaluations fire it once. Claimed
firings are queued as pending email deliveries (`fleet.alerts.email`) and webhook deliveries
(`fleet.alerts.webhooks`) in the same transaction as the claim, so a firing never exists
without its deliveries.
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
from fleet.alerts.email import queue_digests
from fleet.alerts.models import AlertDelivery, AlertFiring, AlertRule, AlertRuleState
from fleet.alerts.webhooks import queue_webhooks
from fleet.models import HourlyDeviceCodeStat
from fleet.triage.flags import window_start

log = logging.getLogger(__name__)


@dataclass
class Match:
    rule: AlertRule
    tenant_id: int
    code: int
    occurrences: int
    devices: int


@dataclass
class EvaluationResult:
    matched: int = 0
    fired: list[AlertFiring] = field(default_factory=list)
    deliveries: list[AlertDelivery] = field(default_factory=list)  # emails
    webhooks: list[AlertDelivery] = field(default_factory=list)


def rule_matches(rule: AlertRule, now: datetime) -> list[Match]:
    """(tenant, code) pairs over the rule's threshold in its window, in one query, and one
    more (`codes.facts`) when the rule names a severity or a family."""
    stats = HourlyDeviceCodeStat.objects.filter(
        hour__gte=window_start(now, rule.window_hours), hour__lte=now
    )
    if rule.tenant_id is not None:
        stats = stats.filter(tenant_id=rule.tenant_id)
    if rule.code is not None:
        stats = stats.filter(code=rule.code)
    if rule.family_id is not None:
        # Codes the catalog puts in the family, and codes it gives no family, whose decoded
        # family is checked below: a rule names a family the way the charts show it.
        stats = stats.filter(
            Q(code__in=ErrorCode.objects.filter(family_id=rule.family_id).values("value"))
            | ~Exists(ErrorCode.objects.filter(value=OuterRef("code"), family__isnull=False))
        )
    rows = (
        stats.values("tenant_id", "code")
        .annotate(total=Sum("occurrences"), devices=Count("device_id", distinct=True))
        .filter(
            **{
                "devices__gt"
                if rule.metric == AlertRule.Metric.DEVICES
                else "total__gt": rule.threshold
            }
        )
        .values_list("tenant_id", "code", "total", "devices")
    )
    matches = [Match(rule, *row) for row in rows]
    if matches and (rule.severity or rule.family_id is not None):
        facts = facts_for(match.code for match in matches)
        if rule.severity:
            matches = [m for m in matches if facts[m.code].severity == rule.severity]
        if rule.family_id is not None:
            matches = [m for m in matches if facts[m.code].family == rule.family.slug]
    return matches


def _claim(state_id: int, cooldown: timedelta, now: datetime) -> bool:
    """Take the right to fire; only one caller per cooldown gets True."""
    claimed = (
        AlertRuleState.objects.filter(pk=state_id)
        .filter(Q(last_fired_at__isnull=True) | Q(last_fired_at__lt=now - cooldown))
        .update(last_fired_at=now)
    )
    return claimed == 1


def evaluate_alerts(now: datetime | None = None) -> EvaluationResult:
    """Fire every enabled rule over its threshold and out of cooldown; queue its emails and
    webhook posts."""
    now = now or timezone.now()
    result = EvaluationResult()
    matches = [
        m
        for rule in AlertRule.objects.filter(enabled=True).select_related("family")
        for m in rule_matches(rule, now)
    ]
    result.matched = len(matches)
    if not matches:
        return result
    with transaction.atomic():
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
        result.fired = AlertFiring.objects.bulk_create(
            [
                AlertFiring(
                    rule=m.rule,
                    tenant_id=m.tenant_id,
                    code=m.code,
                    fired_at=now,
                    occurrences=m.occurrences,
                    devices=m.devices,
                    window_hours=m.rule.window_hours,
                )
                for m in claimed
            ]
        )
        result.deliveries = queue_digests(result.fired, now)
        result.webhooks = queue_webhooks(result.fired, now)
    if result.fired:
        log.info(
            "alerts: %d fired, %d emails and %d webhooks queued",
            len(result.fired),
            len(result.deliveries),
            len(result.webhooks),
        )
    return result
