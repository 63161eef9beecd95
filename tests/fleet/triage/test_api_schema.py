"""The triage API's validation, its answers and /api/v1/openapi.json come from one declaration
(fleet/triage/schema.py): what the document lists is what is served and what is refused."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import get_args

import pytest
from django.test import Client
from django.utils import timezone

from fleet.api_auth import create_api_token
from fleet.api_schema import required_fields
from fleet.triage import schema
from fleet.triage.filters import STATE_FILTERS
from fleet.triage.flags import ACTIONS
from fleet.triage.models import TriageEvent, TriageFlag
from tests.fleet.triage.factories import spike

pytestmark = pytest.mark.django_db
LIST = "/api/v1/triage"


@pytest.fixture
def document() -> dict:
    return Client().get("/api/v1/openapi.json").json()


@pytest.fixture
def spec(document) -> dict:
    return document["components"]["schemas"]


@pytest.fixture
def token(operator) -> str:
    return create_api_token(operator, "schema")[1]


@pytest.fixture
def act(tenant, token):
    """POST a body to a new flag of the operator's tenant: (flag, status, answer)."""

    def act(body: dict) -> tuple[TriageFlag, int, dict]:
        flag = spike(tenant=tenant, occurrences=40)
        response = Client().post(
            f"/api/v1/triage/{flag.pk}",
            json.dumps(body),
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
        flag.refresh_from_db()
        return flag, response.status_code, response.json()

    return act


def a_future_day() -> str:
    return (timezone.now() + timedelta(days=3)).date().isoformat()


def test_the_flag_schema_lists_exactly_the_keys_served(spec, tenant, operator, token, act):
    spike(tenant=tenant, assignee=operator)  # assignee and signal_at served as values, not null
    listed = Client().get(LIST, headers={"Authorization": f"Bearer {token}"}).json()
    _flag, status, acted = act({"action": "resolve"})

    assert status == 200
    declared = set(spec["TriageFlag"]["properties"])
    [served] = listed["flags"]
    assert served["assignee"] == operator.username and served["signal_at"].endswith("Z")
    assert set(served) == declared == set(acted["flag"])
    assert set(listed) == set(spec["TriageList"]["properties"]) == {"flags"}
    assert set(acted) == set(spec["TriageFlagAnswer"]["properties"]) == {"flag"}


def test_the_declared_choices_are_the_models_and_the_actions():
    assert set(get_args(schema.State)) == set(TriageFlag.State.values)
    assert set(get_args(schema.Kind)) == set(TriageFlag.Kind.values)
    assert set(get_args(schema.ActionName)) == set(ACTIONS)


def test_the_required_fields_are_exactly_those_rejected_when_missing(spec, act):
    action = spec["TriageAction"]
    # Every declared field, each with a value the API accepts; acknowledge ignores the mute.
    full = {"action": "acknowledge", "note": "ticket 4711", "muted_until": a_future_day(),
            "mute_occurrences": 5}  # fmt: skip
    assert set(full) == set(action["properties"])  # a field declared later needs a value here
    rejected = set()
    for name in action["properties"]:
        body = {key: value for key, value in full.items() if key != name}
        flag, status, answer = act(body)
        if status == 400:
            assert answer == {"error": f"{name} is required", "field": name}
            assert flag.state == TriageFlag.State.NEW
            rejected.add(name)
        else:
            assert (status, flag.state) == (200, TriageFlag.State.ACKNOWLEDGED), (name, answer)
    assert rejected == set(action["required"]) == required_fields(schema.TriageAction)
    assert rejected == {"action"}


@pytest.mark.parametrize("wrong", [True, 1.5, ["x"], {"x": 1}], ids=repr)
def test_a_value_of_a_type_no_field_declares_is_a_400_naming_the_field(spec, act, wrong):
    for name in spec["TriageAction"]["properties"]:
        body = {"action": "mute", "mute_occurrences": 5} | {name: wrong}
        flag, status, answer = act(body)
        assert status == 400, (name, answer)
        assert answer["field"] == name and answer["error"].startswith(f"{name}: expected")
        assert flag.state == TriageFlag.State.NEW
    assert not TriageEvent.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("action", "explode"), ("action", 5), ("muted_until", 20270115),
     ("mute_occurrences", 0), ("mute_occurrences", 1_000_001)],
)  # fmt: skip
def test_a_value_outside_the_declaration_is_a_400_naming_the_field(act, field, value):
    body = {"action": "mute", "note": "x"} | {field: value}
    flag, status, answer = act(body)
    assert (status, answer["field"]) == (400, field)
    assert re.match(rf"{field}: (expected|invalid enum value)", answer["error"]), answer
    assert flag.state == TriageFlag.State.NEW


@pytest.mark.parametrize(
    "body",
    [{"action": "mute", "mute_occurrences": "25", "note": 4711},
     {"action": "mute", "mute_occurrences": 25, "note": None, "muted_until": None, "other": [1]}],
)  # fmt: skip
def test_what_the_form_took_before_the_declaration_is_still_taken(act, body):
    flag, status, answer = act(body)
    assert status == 200, answer
    assert (flag.state, flag.mute_occurrences) == ("muted", 25)
    note = TriageEvent.objects.get(flag=flag).note
    assert note.endswith(str(body["note"] or "more occurrences."))


def test_the_document_lists_both_paths_with_the_declared_bodies(document, spec):
    listing = document["paths"]["/api/v1/triage"]["get"]
    action = document["paths"]["/api/v1/triage/{id}"]["post"]
    answer = listing["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/TriageList"}
    body = action["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/TriageAction"}
    parameters = {p["name"]: p for p in listing["parameters"]}
    # What the list reads: the queue filter's parameters and limit.
    assert set(parameters) == {"tenant", "state", "kind", "view", "assigned", "code", "limit"}
    assert parameters["state"]["schema"]["enum"] == STATE_FILTERS
    assert set(parameters["kind"]["schema"]["items"]["enum"]) == set(TriageFlag.Kind.values)
    assert parameters["limit"]["schema"]["maximum"] == schema.MAX_LIMIT
    for operation in (listing, action):
        assert operation["security"] == [{"apiToken": []}, {"session": []}]
        for code, response in operation["responses"].items():
            if code != "200":
                error = response["content"]["application/json"]["schema"]
                assert error == {"$ref": "#/components/schemas/TriageError"}
    schemes = document["components"]["securitySchemes"]
    assert schemes["apiToken"]["scheme"] == "bearer"
    assert schemes["session"] == {**schemes["session"], "in": "cookie", "name": "sessionid"}


def test_error_answers_are_the_declared_error_body(spec, token):
    declared = spec["TriageError"]
    client = Client()
    with_field = client.get(f"{LIST}?state=bogus", headers={"Authorization": f"Bearer {token}"})
    without_field = client.get(LIST)
    assert set(with_field.json()) == set(declared["properties"])
    assert set(without_field.json()) == set(declared["required"]) == {"error"}
    assert (with_field.status_code, without_field.status_code) == (400, 401)


def test_the_documents_title_and_description_cover_every_api(document):
    info = document["info"]
    assert info["description"].startswith(
        "Endpoints post Windows error-code occurrences. See docs/ingest.md."
    )
    for name in ("ingest", "codes", "triage", "health"):
        assert name in info["title"]
    for path in ("/api/v1/codes/{code}", "/api/v1/triage", "/healthz", "/readyz"):
        assert path in info["description"] and path in document["paths"]
