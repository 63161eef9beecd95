"""The alerts page: rules, firings and their emails, as the real pipeline leaves them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from codes.models import ErrorCode
from fleet.aggregate import aggregate_pending
from fleet.alerts.email import deliver_pending
from fleet.alerts.firing import evaluate_alerts
from fleet.alerts.models import AlertDelivery, AlertFiring, AlertRule, AlertRuleState
from fleet.alerts.queries import FIRINGS_PER_PAGE
from tests.factories import DeviceFactory, TenantFactory, UserFactory, alert_rule, emit

CANCELLED = 0x8024000B
# Nothing listens here (the "dupes" port range): a send fails with "connection refused".
CLOSED_SMTP_PORT = 21499
# Session, user, the rules (with the any-tenant check), the firings' count, one page of
# firings with their rule and tenant, the codes' names, the deliveries.
PAGE_QUERIES = 14


def rule(**fields) -> AlertRule:
    defaults = {
        "name": "Cancelled storm",
        "code": CANCELLED,
        "min_occurrences": 3,
        "window_hours": 1,
        "recipients": "noc@example.test",
        "cooldown_minutes": 60,
    }
    if "min_devices" in fields:  # a rule by devices counts devices only
        del defaults["min_occurrences"]
    return alert_rule(**(defaults | fields))


def storm(tenant, codes: list[int], occurrences: int = 3) -> None:
    """`occurrences` of each code on one new device of `tenant`, in the last few minutes."""
    device = DeviceFactory(tenant=tenant)
    now = timezone.now()
    for code in codes:
        emit(device, code, [now - timedelta(minutes=m + 1) for m in range(occurrences)])


def firing_rows(html: str) -> list[str]:
    """The rows of the page's firings table, as HTML."""
    table = html[html.index('<table class="table alert-firings">') :]
    table = table[table.index("<tbody>") : table.index("</tbody>")]
    return [row.split("</tr>")[0] for row in table.split("<tr>")[1:]]


def fire() -> list[AlertFiring]:
    """Aggregate what was emitted and evaluate the rules over it, as a pipeline round does."""
    aggregate_pending()
    return evaluate_alerts(timezone.now()).fired


@pytest.fixture
def signed_in(client, operator) -> Client:
    client.force_login(operator)
    return client


@pytest.fixture
def both_tenants_fired(tenant, other_tenant, settings):
    """An every-tenant rule and a rule of each tenant fired at both; the every-tenant rule's
    digest (one email listing both tenants) failed once against a closed SMTP port."""
    ErrorCode.objects.create(value=CANCELLED, name="WU_E_CALL_CANCELLED", severity="warning")
    everywhere = rule(name="Cancelled anywhere", recipients="noc@example.test")
    mine = rule(name="Acme storm", tenant=tenant, recipients="acme-oncall@example.test")
    theirs = rule(name="Globex storm", tenant=other_tenant, recipients="globex@example.test")
    storm(tenant, [CANCELLED], occurrences=3)
    storm(other_tenant, [CANCELLED], occurrences=5)
    fired = fire()
    assert len(fired) == 4
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", CLOSED_SMTP_PORT
    # A round stops at its first failure and a failed email waits a minute: one round each.
    assert [deliver_pending().failed for _ in range(4)] == [1, 1, 1, 0]
    return {"everywhere": everywhere, "mine": mine, "theirs": theirs}


def test_the_page_needs_login(client):
    response = client.get("/alerts/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_page_is_named_and_in_the_navigation(signed_in):
    assert reverse("alerts:list") == "/alerts/"
    assert '<a href="/alerts/">Alerts</a>' in signed_in.get("/triage/").content.decode()


def test_an_operator_sees_their_rules_and_the_every_tenant_rule_but_no_other_tenants(
    signed_in, both_tenants_fired
):
    response = signed_in.get("/alerts/")

    assert response.status_code == 200
    rules = response.context["rules"]
    assert rules == [both_tenants_fired["mine"], both_tenants_fired["everywhere"]]
    html = response.content.decode()
    assert "Globex storm" not in html and "globex@example.test" not in html
    assert "All tenants" in html and "acme-oncall@example.test" in html


def test_an_operator_never_sees_another_tenants_firings_or_deliveries(
    signed_in, both_tenants_fired
):
    response = signed_in.get("/alerts/")

    firings = list(response.context["page"].object_list)
    assert {f.tenant.slug for f in firings} == {"acme"}
    assert {f.rule.name for f in firings} == {"Acme storm", "Cancelled anywhere"}
    html = response.content.decode()
    assert "Globex" not in html  # no tenant name, subject or rule of theirs
    assert "globex@example.test" not in html
    shown = {d.pk for f in firings for d in f.deliveries.all()}
    theirs_only = AlertDelivery.objects.exclude(firings__tenant__slug="acme")
    assert theirs_only.exists()
    assert shown.isdisjoint(theirs_only.values_list("pk", flat=True))


def test_each_firing_shows_its_counts_code_and_emails_with_their_errors(
    signed_in, both_tenants_fired
):
    html = signed_in.get("/alerts/").content.decode()

    [row] = [row for row in firing_rows(html) if "<td>Cancelled anywhere</td>" in row]
    assert 'href="/codes/0x8024000B/"' in row and "WU_E_CALL_CANCELLED" in row
    assert "<td>Acme Corp</td>" in row
    assert "<td>3</td>" in row and "<td>1</td>" in row and "<td>1 h</td>" in row
    # The digest to noc@ lists both tenants' firings; only its delivery state is shown here.
    assert "noc@example.test" in row and "Pending" in row and "1 attempt" in row
    assert "ConnectionRefusedError" in row


def test_firings_are_newest_first(signed_in, tenant):
    rule(tenant=tenant, cooldown_minutes=1)
    storm(tenant, [CANCELLED])
    first = fire()
    # The first alert resolved two hours ago; the storm is back: a second alert.
    AlertFiring.objects.filter(pk__in=[f.pk for f in first]).update(
        fired_at=timezone.now() - timedelta(hours=2),
        resolved_at=timezone.now() - timedelta(hours=2),
    )
    AlertRuleState.objects.update(last_fired_at=None)  # out of cooldown
    second = fire()

    firings = list(signed_in.get("/alerts/").context["page"].object_list)
    assert [f.pk for f in firings] == [second[0].pk, first[0].pk]


@pytest.mark.parametrize("codes", [1, 12])
def test_the_page_costs_the_same_queries_whatever_the_number_of_firings(
    signed_in, tenant, other_tenant, django_assert_num_queries, codes
):
    rule(code=None, name="Any code", min_occurrences=2)
    values = [0x80240000 + n for n in range(codes)]
    ErrorCode.objects.bulk_create([ErrorCode(value=v, name=f"WU_E_{v:X}") for v in values])
    storm(tenant, values)
    storm(other_tenant, values)
    assert len(fire()) == 2 * codes

    with django_assert_num_queries(PAGE_QUERIES):
        response = signed_in.get("/alerts/")

    assert len(response.context["page"].object_list) == codes
    assert all(f.code_name.startswith("WU_E_") for f in response.context["page"].object_list)


def test_firings_are_paginated(signed_in, tenant):
    rule(tenant=tenant, code=None, name="Any code", min_occurrences=2)
    storm(tenant, [0x80240000 + n for n in range(FIRINGS_PER_PAGE + 3)])
    fire()

    first = signed_in.get("/alerts/")
    last = signed_in.get("/alerts/?page=2")

    assert len(first.context["page"].object_list) == FIRINGS_PER_PAGE
    assert len(last.context["page"].object_list) == 3
    assert 'href="?page=2"' in first.content.decode()
    # Anything else is the nearest page, never an error.
    assert signed_in.get("/alerts/?page=zzz").context["page"].number == 1
    assert signed_in.get("/alerts/?page=99").context["page"].number == 2


def test_empty_state_says_how_rules_and_firings_come(signed_in):
    response = signed_in.get("/alerts/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "No alert rules for your tenants yet." in html
    assert "No alert has fired for your tenants yet." in html


def test_an_operator_granted_no_tenant_sees_not_even_the_every_tenant_rules(client, tenant):
    rule(name="Cancelled anywhere")
    storm(tenant, [CANCELLED])
    assert fire()
    client.force_login(UserFactory(username="nobody"))

    response = client.get("/alerts/")

    assert response.context["rules"] == []
    assert list(response.context["page"].object_list) == []
    assert "Cancelled anywhere" not in response.content.decode()


def test_a_superuser_sees_every_tenants_firings(client, tenant, other_tenant):
    rule(name="Cancelled anywhere")
    storm(tenant, [CANCELLED])
    storm(other_tenant, [CANCELLED])
    fire()
    client.force_login(UserFactory(username="root", is_superuser=True))

    firings = client.get("/alerts/").context["page"].object_list

    assert {f.tenant.slug for f in firings} == {"acme", "globex"}


def test_the_page_is_read_only(signed_in):
    assert signed_in.post("/alerts/").status_code == 405


def test_a_tenant_created_later_is_covered_by_the_every_tenant_rule(signed_in, operator):
    rule(name="Cancelled anywhere")
    later = TenantFactory(slug="initech", name="Initech")
    later.operators.add(operator)
    storm(later, [CANCELLED])
    fire()

    firings = signed_in.get("/alerts/").context["page"].object_list

    assert [f.tenant.slug for f in firings] == ["initech"]


def test_logged_out_there_are_no_rules_or_firings(tenant):
    from django.contrib.auth.models import AnonymousUser

    from fleet.alerts.queries import visible_firings, visible_rules

    rule(name="Cancelled anywhere")
    rule(name="Acme storm", tenant=tenant)
    storm(tenant, [CANCELLED])
    assert fire()

    assert list(visible_rules(AnonymousUser())) == []
    assert list(visible_firings(AnonymousUser())) == []
