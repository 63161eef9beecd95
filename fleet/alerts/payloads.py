"""The notification every channel renders: one dict per (alert, event), documented in
docs/alerts.md. The generic webhook posts it as it is; Teams, Slack and PSA tickets render it
(`fleet.alerts.chat`, `fleet.alerts.psa`)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.urls import reverse

from codes.facts import facts_for
from fleet.alerts.models import AlertFiring, AlertRule

FIRED = "alert.fired"
RESOLVED = "alert.resolved"
TEST = "alert.test"
EVENTS = (FIRED, RESOLVED, TEST)

# A test notification's example code when the rule names none: the demo's recurring warning.
EXAMPLE_CODE = 0x8024000B


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def alert_payload(item: dict, event: str) -> dict:
    """The JSON of one alert (`item` from `fleet.alerts.email.firing_context`)."""
    firing: AlertFiring = item["firing"]
    rule: AlertRule = item["rule"]
    return {
        "event": event,
        "alert_id": firing.pk,
        "state": "resolved" if firing.resolved_at else "firing",
        "rule": rule.name,
        "rule_id": rule.pk,
        "trigger": rule.trigger,
        "tenant": item["tenant"].slug,
        "tenant_name": item["tenant"].name,
        "code": item["hex"],
        "name": item["name"],
        "kind": firing.kind,
        "occurrences": firing.occurrences,
        "devices": firing.devices,
        "window_hours": firing.window_hours,
        "reason": firing.reason or (item["flag"].reason if item["flag"] else ""),
        "url": item["flag_url"],
        "knowledge_url": item["knowledge_url"],
        "fired_at": firing.fired_at.isoformat(),
        "notification": firing.notifications,
        "resolved_at": _iso(firing.resolved_at),
        "resolve_reason": firing.resolve_reason,
    }


def test_payload(rule: AlertRule, tenant_slug: str, tenant_name: str, now: datetime) -> dict:
    """What a rule's "send a test notification" posts: the shape of a real alert, marked as a
    test, with the rule's code (or an example) and no alert behind it."""
    code = rule.code if rule.code is not None else EXAMPLE_CODE
    hex_code = f"0x{code:08X}"
    site = settings.SITE_URL
    return {
        "event": TEST,
        "alert_id": None,
        "state": "test",
        "rule": rule.name,
        "rule_id": rule.pk,
        "trigger": rule.trigger,
        "tenant": tenant_slug,
        "tenant_name": tenant_name,
        "code": hex_code,
        "name": facts_for([code])[code].label,
        "kind": rule.trigger,
        "occurrences": 0,
        "devices": 0,
        "window_hours": rule.window_hours,
        "reason": f"Test notification for the rule {rule.name!r} ({rule.describe()})",
        "url": f"{site}{reverse('alerts:list')}",
        "knowledge_url": f"{site}{reverse('codes:detail', args=[hex_code])}",
        "fired_at": now.isoformat(),
        "notification": 0,
        "resolved_at": None,
        "resolve_reason": "",
    }
