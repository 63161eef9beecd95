"""The demo's alert rules (`manage.py seed_demo`): what `make demo` shows firing and delivered
on /alerts/ after start-up."""

from __future__ import annotations

from fleet.alerts.models import AlertChannel, AlertRule
from fleet.demo import STORM_CODE

DEMO_RECIPIENT = "noc@demo.example"
# Not a credential: the demo sink on loopback checks signatures with it (scripts/demo_sink.py).
DEMO_WEBHOOK_SECRET = "demo-webhook-secret"  # noqa: S105


def seed_demo_rules(webhook_url: str = "") -> list[AlertRule]:
    """The demo's alert rules: a spike rule for every tenant and a threshold rule for the
    storm code, emailing the NOC and (given a URL, as `make demo` gives its local sink)
    posting a signed webhook. Idempotent by name."""
    specs = [
        {
            "name": "Spike in any tenant",
            "trigger": AlertRule.Trigger.SPIKE,
            "min_devices": 5,
            "cooldown_minutes": 360,
        },
        {
            "name": "0x8024000B on 10+ devices",
            "trigger": AlertRule.Trigger.THRESHOLD,
            "code": STORM_CODE,
            "min_devices": 10,
            "window_hours": 24,
            "cooldown_minutes": 720,
        },
    ]
    rules = []
    for spec in specs:
        rule, made = AlertRule.objects.get_or_create(
            name=spec["name"],
            deleted_at=None,
            defaults=spec | {"all_tenants": True, "recipients": DEMO_RECIPIENT},
        )
        if webhook_url and not rule.channels.filter(url=webhook_url).exists():
            channel = AlertChannel(rule=rule, kind=AlertChannel.Kind.WEBHOOK, url=webhook_url)
            channel.set_secret(DEMO_WEBHOOK_SECRET)
            channel.save()
        rules.append(rule)
    return rules


def remove_demo_rules() -> None:
    AlertRule.objects.filter(recipients=DEMO_RECIPIENT).delete()
