"""One answer to "what is this code" (`codes.facts`): the same name, family and severity on a
chart, in the triage queue and flag, and in an alert email, for catalogued codes and others."""

from __future__ import annotations

import math
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from codes.decode import decode
from codes.facts import facts_for, facts_of, lookup_batch
from codes.knowledge import CuratedCode, load_curated_codes
from codes.models import CodeFamily, ErrorCode
from dashboards import charts, queries
from dashboards.filters import scope_from_request
from fleet.aggregate import aggregate_pending
from fleet.alerts.firing import evaluate_alerts, rule_matches
from fleet.alerts.models import AlertDelivery
from fleet.triage.flags import operator_severities, run_triage
from fleet.triage.models import TriageFlag
from tests.factories import DeviceFactory, alert_rule, emit

pytestmark = pytest.mark.django_db

CANCELLED = 0x8024000B  # in the test catalog below, as a warning
DENIED = 0x80070005  # in the committed catalog, not in the database
UNNAMED = 0x80AB0001  # in no catalog at all


@pytest.fixture
def catalog_row():
    family = CodeFamily.objects.create(
        slug="windows-update", name="Windows Update agent", default_severity="warning"
    )
    return ErrorCode.objects.create(
        value=CANCELLED, name="WU_E_CALL_CANCELLED", severity="warning", family=family
    )


def scope_for(user, query: str = ""):
    from django.test import RequestFactory

    request = RequestFactory().get(f"/?{query}")
    request.user = user
    return scope_from_request(request)


def test_every_code_has_a_label_a_family_and_a_severity(catalog_row):
    found = facts_for([CANCELLED, DENIED, UNNAMED])
    assert (found[CANCELLED].name, found[CANCELLED].severity) == ("WU_E_CALL_CANCELLED", "warning")
    assert found[CANCELLED].family_name == "Windows Update agent"
    # Not in the database: the decoder's answer, never a placeholder.
    for value in (DENIED, UNNAMED):
        decoded = decode(value)
        assert (found[value].name, found[value].family, found[value].severity) == (
            decoded.name,
            decoded.family,
            decoded.severity,
        )
        assert found[value].family_name == decoded.family_name
        assert found[value].label
    assert found[DENIED].label == "ERROR_ACCESS_DENIED"
    assert found[UNNAMED].name == ""
    assert found[UNNAMED].label.startswith(decode(UNNAMED).family_name + ": unnamed failure code")


def test_knowledge_page_decode_and_facts_agree_on_an_edited_row(catalog_row):
    catalog_row.name, catalog_row.title, catalog_row.severity = "OUR_NAME", "Our title", "error"
    catalog_row.save()
    page = decode(CANCELLED, use_db=True)
    facts = facts_of(CANCELLED)
    assert (facts.name, facts.title, facts.severity, facts.family) == (
        page.name,
        page.title,
        page.severity,
        page.family,
    )
    assert facts.label == "OUR_NAME" and facts.description == "Our title"


def test_same_code_reads_the_same_on_chart_triage_queue_flag_and_alert_email(
    catalog_row, tenant, operator, client, now
):
    recent = now - timedelta(hours=2)
    for _ in range(6):
        device = DeviceFactory(tenant=tenant)
        emit(device, CANCELLED, [recent])
        emit(device, UNNAMED, [recent, recent - timedelta(minutes=5)])
    alert_rule(name="Storm", min_devices=5, recipients="noc@example.test")
    aggregate_pending()
    run_triage(now)
    evaluate_alerts(now)
    expected = {
        CANCELLED: ("WU_E_CALL_CANCELLED", "warning", "Windows Update agent"),
        UNNAMED: (
            facts_of(UNNAMED).label,
            decode(UNNAMED).severity,
            decode(UNNAMED).family_name,
        ),
    }

    scope = scope_for(operator)
    rows = {row[0]: row for row in charts.top_codes(queries.overview(scope), scope).rows}
    client.force_login(operator)
    queue = client.get(reverse("triage:queue")).content.decode()
    emails = " ".join(d.subject + d.body_text for d in AlertDelivery.objects.all())

    for value, (label, severity, family_name) in expected.items():
        hex_value = f"0x{value:08X}"
        assert rows[hex_value][1:4] == [label, family_name, severity]
        assert label in queue
        flag = TriageFlag.objects.get(code=value)
        assert flag.rule.severity == severity  # triage decided by the same severity
        page = client.get(reverse("triage:flag", args=[flag.pk])).content.decode()
        assert label in page and f"<dd>{severity.capitalize()}</dd>" in page
        assert f"<dd>{family_name}</dd>" in page
        assert f"{hex_value} {label}" in emails
    assert "unknown" not in str(rows).lower() and "Not in catalog" not in str(rows)


def test_a_family_alert_rule_covers_codes_the_catalog_lacks(tenant, now):
    """A rule on a family matches an uncatalogued code the charts put in that family."""
    family = CodeFamily.objects.create(
        slug=decode(UNNAMED).family, name="COM", default_severity="error"
    )
    other = CodeFamily.objects.create(slug="windows-update", name="WU", default_severity="warning")
    ErrorCode.objects.create(value=CANCELLED, name="WU_E_CALL_CANCELLED", family=other)
    device = DeviceFactory(tenant=tenant)
    emit(device, UNNAMED, [now - timedelta(minutes=m) for m in range(3)])
    emit(device, CANCELLED, [now - timedelta(minutes=m) for m in range(3)])
    aggregate_pending()
    rule = alert_rule(
        name="COM", family=family, min_occurrences=3, window_hours=1, recipients="noc@example.test"
    )
    assert [m.code for m in rule_matches(rule, now)] == [UNNAMED]
    rule.family = other
    assert [m.code for m in rule_matches(rule, now)] == [CANCELLED]


def test_admin_edit_and_catalog_import_show_at_once(catalog_row, admin_client):
    assert facts_of(CANCELLED).severity == "warning"
    url = reverse("admin:codes_errorcode_change", args=[catalog_row.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items() if k in form.fields}
    data.update(severity_override="informational", title="Cancelled, retried later")
    data.update(faq="[]", sources="[]")
    assert admin_client.post(url, data).status_code == 302
    facts = facts_of(CANCELLED)
    assert (facts.severity, facts.title) == ("informational", "Cancelled, retried later")
    assert operator_severities([CANCELLED]) == {CANCELLED: "informational"}

    assert facts_of(DENIED).family_name == decode(DENIED).family_name
    call_command("import_codes", stdout=StringIO())
    imported = ErrorCode.objects.select_related("family").get(value=DENIED)
    assert facts_of(DENIED).family_name == imported.family.name
    assert facts_of(DENIED).in_catalog
    # Rows written by the import, not by the ORM (no signals), still show at once.
    ErrorCode.objects.filter(value=DENIED).update(name="RENAMED_IN_DB")
    assert facts_of(DENIED).name == "RENAMED_IN_DB"


def test_decode_cache_follows_a_reload_of_the_curated_files(monkeypatch):
    assert facts_of(UNNAMED).title == ""  # cached now
    curated = dict(load_curated_codes())
    curated[UNNAMED] = CuratedCode(
        value=UNNAMED,
        name="OUR_UNNAMED",
        title="A code we wrote up",
        family="hresult",
        severity="warning",
        severity_reason="",
        description="d",
        causes="c",
        steps="s",
    )
    reloaded = lambda: curated  # noqa: E731 - stands in for a cache_clear()ed loader
    for module in ("codes.facts", "codes.decode", "codes.families"):
        monkeypatch.setattr(f"{module}.load_curated_codes", reloaded)
    facts = facts_of(UNNAMED)
    assert (facts.name, facts.title, facts.severity, facts.curated) == (
        "OUR_UNNAMED",
        "A code we wrote up",
        "warning",
        True,
    )


def test_facts_for_ten_thousand_codes_take_a_bounded_number_of_queries(catalog_row):
    values = list(range(0x80240000, 0x80240000 + 10_000))
    with CaptureQueriesContext(connection) as captured:
        found = facts_for(values)
    # One query per batch: 2 on PostgreSQL, 11 on SQLite's 999 bound parameters.
    assert len(captured) == math.ceil(len(values) / lookup_batch()) <= 11
    assert len(found) == 10_000
    assert found[CANCELLED].name == "WU_E_CALL_CANCELLED"
    assert all(f.family and f.severity and f.label for f in found.values())


def test_no_codes_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert facts_for([]) == {}
