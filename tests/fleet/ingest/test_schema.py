"""The ingest API's validation and /api/v1/openapi.json come from one declaration: what the
document says is required is exactly what the API rejects when missing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet.ingest.api import decode_items, validate_batch
from fleet.ingest.keys import create_ingest_key

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dead_broker")]
NOW = datetime(2026, 1, 6, tzinfo=UTC)
# A value for every field either schema declares; the test reads which fields exist from the
# served document, so a field declared later without a value here fails it.
VALUES = {
    "device": {"hostname": "PC-0001", "intune_device_id": "i-1", "entra_device_id": "e-1"},
    "hostname": "PC-0001",
    "intune_device_id": "i-1",
    "entra_device_id": "e-1",
    "code": "0x8024000B",
    "occurred_at": "2026-01-05T10:00:00Z",
    "source": "agent",
    "update_title": "2026-01 Cumulative Update (KB5034441)",
    "kb": "KB5034441",
    "message": "cancelled",
    "event_id": "42",
}


@pytest.fixture
def spec() -> dict:
    return Client().get("/api/v1/openapi.json").json()["components"]["schemas"]


@pytest.fixture
def post(tenant):
    _record, secret = create_ingest_key(tenant, "agents")
    client = Client()

    def post(item: dict) -> dict:
        response = client.post(
            "/api/v1/occurrences",
            data=json.dumps([item]),
            content_type="application/json",
            headers={"Authorization": f"Bearer {secret}"},
        )
        assert response.status_code == 202
        return response.json()

    return post


def full_item(schema: dict) -> dict:
    """An item with every declared field present."""
    return {name: VALUES[name] for name in schema["properties"]}


def test_the_required_fields_are_exactly_those_rejected_when_missing(spec, post):
    occurrence = spec["Occurrence"]
    rejected = set()
    for name in occurrence["properties"]:
        item = full_item(occurrence)
        del item[name]
        item["event_id"] = f"without-{name}"  # each post a new occurrence, not a duplicate
        result = post(item)
        if result["rejected"]:
            [error] = result["errors"]
            assert error["field"] == name and name in error["message"], error
            rejected.add(name)
        else:
            assert result["accepted"] == 1, (name, result)
    assert rejected == set(occurrence["required"])
    assert rejected  # the document does declare required fields


def test_the_device_object_requires_what_its_schema_says(spec, post):
    device = spec["Device"]
    rejected = set()
    for name in device["properties"]:
        item = full_item(spec["Occurrence"])
        item["device"] = full_item(device)
        del item["device"][name]
        item["event_id"] = f"device-without-{name}"
        result = post(item)
        if result["rejected"]:
            [error] = result["errors"]
            # The device object's hostname is reported on `device`, as a bare name would be.
            assert error["field"] == "device" and f"device.{name}" in error["message"], error
            rejected.add(name)
        else:
            assert result["accepted"] == 1, (name, result)
    assert rejected == set(device["required"]) == {"hostname"}


def test_declared_lengths_are_the_ones_enforced(spec, post):
    bounded = 0
    for name, field in spec["Occurrence"]["properties"].items():
        for variant in field.get("anyOf", [field]):
            if (limit := variant.get("maxLength")) is None:
                continue
            bounded += 1
            for length in (limit, limit + 1):
                item = full_item(spec["Occurrence"])
                item[name] = "7" * length
                if name != "event_id":
                    item["event_id"] = f"{name}-{length}"
                result = post(item)
                errors = [e for e in result["errors"] if "length" in e["message"]]
                if length > limit:  # over the bound: refused, naming the field
                    assert [e["field"] for e in errors] == [name], (name, result)
                else:  # at the bound: not refused for its length (kb has a form to hold too)
                    assert errors == [], (name, result)
    assert bounded >= 5


items_strategy = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {},
            optional={
                name: st.one_of(
                    st.just(value),
                    st.none(),
                    st.integers(),
                    st.floats(allow_nan=False),
                    st.text(max_size=5),
                    st.just("\ud800"),
                    st.just(10**30),
                )
                for name, value in VALUES.items()
                if name != "hostname"
            },
        ),
        st.integers(),
        st.text(max_size=3),
    ),
    max_size=6,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items_strategy)
def test_decoding_straight_to_the_declaration_judges_items_as_parsed_json_does(items):
    body = json.dumps(items).encode()
    fast, fast_result = validate_batch(decode_items(body), NOW)
    slow, slow_result = validate_batch(json.loads(body), NOW)

    assert fast_result == slow_result
    assert [item.occurrence for item in fast] == [item.occurrence for item in slow]
