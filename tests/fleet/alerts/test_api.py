"""The alerts API: rules created, read, changed, tested and deleted by whoever may act on their
tenants, and the alerts with their deliveries, scoped like every other API."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import get_args

import pytest
from django.test import Client

from codes.models import CodeFamily, ErrorCode, Severity
from fleet.alerts import schema
from fleet.alerts.models import AlertChannel, AlertDelivery, AlertFiring, AlertRule
from fleet.alerts.payloads import FIRED, RESOLVED, TEST
from fleet.alerts.rules import CHANNEL_TYPES
from fleet.alerts.secrets import decrypt
from fleet.api_auth import create_api_token
from tests.factories import TenantFactory, UserFactory, alert_rule, client_for

pytestmark = pytest.mark.django_db
CODE = 0x8024000B


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {create_api_token(user, 'alerts')[1]}"}


def call(method: str, path: str, headers: dict, body: object = None, client=None):
    client = client or Client()
    data = json.dumps(body) if body is not None else None
    return getattr(client, method)(
        path, data=data, content_type="application/json", headers=headers
    )


def rule_body(**fields) -> dict:
    return {
        "name": "Cancelled storm",
        "trigger": "threshold",
        "code": "0x8024000B",
        "min_devices": 10,
        "window_hours": 24,
        "cooldown_hours": 2,
        "channels": [
            {"type": "email", "to": ["noc@example.test"]},
            {"type": "webhook", "url": "https://hooks.example.test/fleet", "secret": "s3cret"},
        ],
    } | fields


# --- must show: a granted operator creates a rule; one not granted cannot ------------------


def test_a_non_staff_operator_creates_a_rule_for_their_tenant_with_a_token(operator, tenant):
    assert not operator.is_staff
    response = call("post", "/api/v1/alert-rules", bearer(operator), rule_body(tenants=["acme"]))
    assert response.status_code == 201, response.content
    served = response.json()["rule"]
    rule = AlertRule.objects.get()
    assert served["id"] == rule.pk and served["tenants"] == ["acme"] and not served["all_tenants"]
    assert (rule.code, rule.min_devices, rule.cooldown_minutes) == (CODE, 10, 120)
    assert served["code"] == "0x8024000B" and served["cooldown_hours"] == 2
    assert rule.recipient_list == ["noc@example.test"] and rule.created_by == operator
    channel = AlertChannel.objects.get()
    assert decrypt(channel.secret_encrypted) == "s3cret"
    assert b"s3cret" not in response.content
    assert [c["type"] for c in served["channels"]] == ["email", "webhook"]
    assert served["channels"][1]["has_secret"] and served["editable"]
    assert served["description"] == "10+ devices in 24 h"


def test_a_session_operator_creates_a_rule_with_the_csrf_token(operator, tenant, other_tenant):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    refused = call("post", "/api/v1/alert-rules", {}, rule_body(), client=client)
    assert refused.status_code == 403 and "CSRF" in refused.json()["error"]
    client.get("/alerts/")  # sets the CSRF cookie, as a page visit does
    token = client.cookies["csrftoken"].value
    made = call("post", "/api/v1/alert-rules", {"X-CSRFToken": token}, rule_body(), client=client)
    assert made.status_code == 201, made.content
    assert AlertRule.objects.get().tenants.get() == tenant


def test_an_operator_cannot_create_a_rule_for_a_tenant_not_granted(operator, tenant, other_tenant):
    headers = bearer(operator)
    for slugs in (["globex"], ["acme", "globex"], ["no-such-tenant"]):
        response = call("post", "/api/v1/alert-rules", headers, rule_body(tenants=slugs))
        assert response.status_code == 403, slugs
        assert "globex" in response.json()["error"] or "no-such-tenant" in response.json()["error"]
    assert not AlertRule.objects.exists()


def test_someone_granted_nothing_or_nobody_cannot_create(db, tenant):
    outsider = UserFactory()
    response = call("post", "/api/v1/alert-rules", bearer(outsider), rule_body())
    assert response.status_code == 403
    anonymous = call("post", "/api/v1/alert-rules", {}, rule_body())
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"].startswith("Bearer")
    assert call("get", "/api/v1/alerts", {}).status_code == 401
    assert not AlertRule.objects.exists()


def test_no_tenants_means_every_tenant_only_for_someone_who_acts_on_all(
    operator, tenant, other_tenant
):
    made = call("post", "/api/v1/alert-rules", bearer(operator), rule_body(tenants=[]))
    assert made.json()["rule"]["tenants"] == ["acme"] and not made.json()["rule"]["all_tenants"]
    boss = UserFactory(is_superuser=True)
    every = call("post", "/api/v1/alert-rules", bearer(boss), rule_body(name="All"))
    assert every.status_code == 201 and every.json()["rule"]["all_tenants"]


# --- reading, changing, deleting ------------------------------------------------------------


def test_rules_are_listed_and_read_only_within_the_callers_tenants(operator, tenant, other_tenant):
    mine = alert_rule(tenant, name="Mine", min_devices=3)
    theirs = alert_rule(other_tenant, name="Theirs", min_devices=3)
    everywhere = alert_rule(None, name="Everywhere", trigger="spike")
    headers = bearer(operator)
    listed = call("get", "/api/v1/alert-rules", headers).json()["rules"]
    assert [(r["name"], r["editable"]) for r in listed] == [("Everywhere", False), ("Mine", True)]
    assert call("get", f"/api/v1/alert-rules/{mine.pk}", headers).status_code == 200
    assert call("get", f"/api/v1/alert-rules/{theirs.pk}", headers).status_code == 404
    rename = {"name": "x"}
    assert call("patch", f"/api/v1/alert-rules/{theirs.pk}", headers, rename).status_code == 404
    assert call("delete", f"/api/v1/alert-rules/{theirs.pk}", headers).status_code == 404
    # An every-tenant rule is seen but needs every tenant to change.
    assert call("patch", f"/api/v1/alert-rules/{everywhere.pk}", headers, rename).status_code == 403
    assert call("delete", f"/api/v1/alert-rules/{everywhere.pk}", headers).status_code == 403
    assert AlertRule.objects.get(pk=everywhere.pk).name == "Everywhere"


def test_patch_changes_only_the_fields_given(operator, tenant):
    family = CodeFamily.objects.create(slug="wu", name="Windows Update", default_severity="error")
    made = call("post", "/api/v1/alert-rules", bearer(operator), rule_body()).json()["rule"]
    headers = bearer(operator)
    changed = call(
        "patch",
        f"/api/v1/alert-rules/{made['id']}",
        headers,
        {"code": None, "family": "wu", "quiet_from": "22:00", "quiet_until": "06:30",
         "enabled": False},
    )  # fmt: skip
    assert changed.status_code == 200, changed.content
    served = changed.json()["rule"]
    assert (served["code"], served["family"], served["quiet_from"], served["quiet_until"]) == (
        None,
        "wu",
        "22:00",
        "06:30",
    )
    assert served["name"] == "Cancelled storm" and served["min_devices"] == 10
    rule = AlertRule.objects.get()
    assert (rule.family, rule.enabled, rule.code) == (family, False, None)
    # Channels given again without the webhook's secret keep the stored one.
    kept = call(
        "patch",
        f"/api/v1/alert-rules/{made['id']}",
        headers,
        {"channels": [{"type": "webhook", "url": "https://hooks.example.test/fleet"}]},
    )
    assert kept.status_code == 200, kept.content
    assert decrypt(AlertChannel.objects.get().secret_encrypted) == "s3cret"
    assert AlertRule.objects.get().recipients == ""


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"channels": [{"type": "email", "cc": []}]}, "cc"),
        ({"trigger": "sometimes"}, "trigger"),
        ({"code": "not a code"}, "code"),
        ({"family": "no-such-family"}, "family"),
        ({"min_devices": None, "min_occurrences": None}, "min_occurrences"),
        ({"min_devices": 0}, "min_devices"),
        ({"quiet_from": "22:00"}, "quiet_until"),
        ({"quiet_from": "25:00", "quiet_until": "06:00"}, "quiet_from"),
        ({"channels": [{"type": "pager"}]}, "type"),
        ({"channels": [{"type": "email", "to": ["not an address"]}]}, "channels[0].to"),
        ({"channels": [{"type": "webhook", "url": "ftp://x.example"}]}, "channels[0].url"),
        ({"channels": [{"type": "webhook", "url": "https://x.example/h"}]}, "channels[0].secret"),
        ({"name": ""}, "name"),
    ],
)
def test_a_bad_rule_is_refused_naming_its_field(operator, tenant, body, field):
    response = call("post", "/api/v1/alert-rules", bearer(operator), rule_body(**body))
    assert response.status_code == 400, response.content
    assert response.json()["field"] == field
    assert not AlertRule.objects.exists()


def test_not_json_or_wrong_method_is_a_clear_error(operator, tenant):
    headers = bearer(operator)
    broken = Client().post(
        "/api/v1/alert-rules", data=b"{nope", content_type="application/json", headers=headers
    )
    assert broken.status_code == 400 and broken.json()["error"] == "body is not a JSON object"
    assert call("put", "/api/v1/alert-rules", headers, {}).status_code == 405
    assert call("post", "/api/v1/alerts", headers, {}).status_code == 405


def test_delete_hides_the_rule(operator, tenant):
    rule = alert_rule(tenant, name="Gone soon", min_devices=2)
    headers = bearer(operator)
    assert call("delete", f"/api/v1/alert-rules/{rule.pk}", headers).status_code == 204
    assert call("get", f"/api/v1/alert-rules/{rule.pk}", headers).status_code == 404
    assert AlertRule.objects.get(pk=rule.pk).deleted_at is not None


def test_send_a_test_through_the_api_reaches_the_receiver_signed(
    operator, tenant, webhook_receiver
):
    made = call(
        "post",
        "/api/v1/alert-rules",
        bearer(operator),
        rule_body(channels=[{"type": "webhook", "url": webhook_receiver.url, "secret": "k"}]),
    ).json()["rule"]
    response = call("post", f"/api/v1/alert-rules/{made['id']}/test", bearer(operator))
    assert response.status_code == 200, response.content
    [delivery] = response.json()["deliveries"]
    assert (delivery["event"], delivery["state"], delivery["attempts"]) == ("alert.test", "sent", 1)
    [request] = webhook_receiver.requests
    expected = "sha256=" + hmac.new(b"k", request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Fleet-Signature"] == expected
    assert json.loads(request.body)["event"] == "alert.test"


# --- alerts ---------------------------------------------------------------------------------


def _firing(rule: AlertRule, tenant, resolved: bool = False) -> AlertFiring:
    when = datetime(2026, 11, 20, 9, tzinfo=UTC)
    firing = AlertFiring.objects.create(
        rule=rule,
        tenant=tenant,
        code=CODE,
        kind="threshold",
        fired_at=when,
        last_fired_at=when,
        occurrences=40,
        devices=12,
        window_hours=24,
        reason="12 devices in 24 h",
        resolved_at=when + timedelta(hours=3) if resolved else None,
        resolve_reason="the condition cleared" if resolved else "",
    )
    delivery = AlertDelivery.objects.create(
        rule=rule,
        recipient="noc@example.test",
        event="alert.fired",
        subject="s",
        body_text="b",
        body_html="",
        state="sent",
        attempts=2,
        sent_at=when,
    )
    delivery.firings.add(firing)
    return firing


def test_alerts_list_firings_with_deliveries_within_the_callers_tenants(
    operator, tenant, other_tenant
):
    ErrorCode.objects.create(value=CODE, name="WU_E_CALL_CANCELLED", severity=Severity.WARNING)
    everywhere = alert_rule(None, name="Everywhere", min_devices=5)
    mine = _firing(everywhere, tenant)
    _firing(everywhere, other_tenant)
    old = _firing(everywhere, tenant, resolved=True)
    headers = bearer(operator)
    alerts = call("get", "/api/v1/alerts", headers).json()["alerts"]
    assert {a["id"] for a in alerts} == {mine.pk, old.pk}
    first = next(a for a in alerts if a["id"] == mine.pk)
    assert (first["tenant"], first["code"], first["name"], first["state"]) == (
        "acme",
        "0x8024000B",
        "WU_E_CALL_CANCELLED",
        "open",
    )
    assert first["rule"] == {"id": everywhere.pk, "name": "Everywhere"}
    assert first["deliveries"][0] | {"id": 0} == {
        "id": 0,
        "event": "alert.fired",
        "channel": "email",
        "to": "noc@example.test",
        "state": "sent",
        "attempts": 2,
        "last_error": "",
        "sent_at": "2026-11-20T09:00:00Z",
        "created_at": first["deliveries"][0]["created_at"],
    }
    opened = call("get", "/api/v1/alerts?state=open", headers).json()["alerts"]
    assert [a["id"] for a in opened] == [mine.pk]
    resolved = call("get", "/api/v1/alerts?state=resolved&code=-2145124341", headers).json()
    assert [a["id"] for a in resolved["alerts"]] == [old.pk]
    assert call("get", "/api/v1/alerts?tenant=globex", headers).json()["alerts"] == []
    for query, field in (("state=maybe", "state"), ("limit=0", "limit"), ("code=zz", "code")):
        bad = call("get", f"/api/v1/alerts?{query}", headers)
        assert bad.status_code == 400 and bad.json()["field"] == field


def test_a_staff_member_granted_nothing_sees_no_alerts(tenant):
    _firing(alert_rule(tenant, name="R", min_devices=1), tenant)
    staff = UserFactory(is_staff=True)
    assert call("get", "/api/v1/alerts", bearer(staff)).json()["alerts"] == []
    assert client_for(staff).get("/api/v1/alert-rules").json()["rules"] == []


# --- the contract ---------------------------------------------------------------------------


def test_the_declared_choices_agree_with_the_models():
    assert set(get_args(schema.Trigger)) == set(AlertRule.Trigger.values)
    assert set(get_args(schema.ChannelType)) == set(CHANNEL_TYPES)
    assert set(get_args(schema.Severity)) == set(Severity.values)
    assert set(get_args(schema.DeliveryState)) == set(AlertDelivery.State.values)
    assert set(get_args(schema.Event)) == {FIRED, RESOLVED, TEST}


def test_the_operations_are_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").json()
    assert set(document["paths"]["/api/v1/alert-rules"]) == {"get", "post"}
    assert set(document["paths"]["/api/v1/alert-rules/{id}"]) == {"get", "patch", "delete"}
    assert "post" in document["paths"]["/api/v1/alert-rules/{id}/test"]
    assert "get" in document["paths"]["/api/v1/alerts"]
    rule_in = document["components"]["schemas"]["AlertRuleIn"]
    assert {"name", "tenants", "trigger", "code", "family", "min_occurrences", "min_devices",
            "window_hours", "cooldown_hours", "channels"} <= set(rule_in["properties"])  # fmt: skip


def test_a_rule_for_the_operators_tenants_does_not_grow_with_new_tenants(
    operator, tenant, other_tenant
):
    # A tenant added later is watched by every-tenant rules only, not by a listed one.
    rule = call("post", "/api/v1/alert-rules", bearer(operator), rule_body()).json()["rule"]
    TenantFactory(slug="later")
    assert call("get", f"/api/v1/alert-rules/{rule['id']}", bearer(operator)).json()["rule"][
        "tenants"
    ] == ["acme"]
