"""What the alerts pages read: rules, firings and deliveries, scoped by `fleet.access`.

A rule for every tenant is shown to anyone granted at least one tenant, but its firings only
for the tenants they are granted; a digest email can list firings of several tenants, so a
delivery is only ever shown under a firing the operator may see, and never with its subject or
body (those name the other tenants). Every query is set-based: the page costs the same number
of queries whatever the number of firings on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, QuerySet

from codes.models import ErrorCode
from fleet.access import visible_tenants
from fleet.alerts.models import AlertDelivery, AlertFiring, AlertRule
from fleet.alerts.rules import editable_rule_ids, open_alert_counts, visible_rules

FIRINGS_PER_PAGE = 50
# What the page shows of a delivery; the rendered subject and bodies stay unread.
_DELIVERY_FIELDS = (
    "id",
    "recipient",
    "event",
    "channel__url",
    "channel__kind",
    "state",
    "attempts",
    "last_error",
    "sent_at",
    "created_at",
)


@dataclass(frozen=True)
class AlertsPage:
    rules: list[AlertRule]
    firings: Page  # of AlertFiring, each with `deliveries` prefetched and `code_name` set


def visible_firings(user: AbstractBaseUser | AnonymousUser) -> QuerySet[AlertFiring]:
    """Firings at the user's tenants, newest first, with the deliveries shown beside them."""
    deliveries = (
        AlertDelivery.objects.select_related("channel")
        .only(*_DELIVERY_FIELDS)
        .order_by("created_at", "id")
    )
    return (
        AlertFiring.objects.filter(tenant__in=visible_tenants(user))
        .select_related("rule", "tenant")
        .prefetch_related(Prefetch("deliveries", queryset=deliveries))
        .order_by("-fired_at", "-id")
    )


def alerts_page(user: AbstractBaseUser | AnonymousUser, page_number: str | None) -> AlertsPage:
    """The rules and one page of recent firings; any page number is accepted (out of range or
    not a number gives the nearest page, as Paginator.get_page does)."""
    rules = list(
        visible_rules(user)
        .select_related("family")
        .prefetch_related("tenants", "channels")
        .order_by("name", "id")
    )
    editable = editable_rule_ids(user, rules)
    open_counts = open_alert_counts([r.pk for r in rules])
    for rule in rules:
        rule.editable = rule.pk in editable
        rule.open_alerts = open_counts.get(rule.pk, 0)
    page = Paginator(visible_firings(user), FIRINGS_PER_PAGE).get_page(page_number)
    firings = list(page.object_list)
    names = dict(
        ErrorCode.objects.filter(value__in={f.code for f in firings}).values_list("value", "name")
    )
    for firing in firings:
        firing.code_name = names.get(firing.code, "")
    page.object_list = firings
    return AlertsPage(rules=rules, firings=page)
