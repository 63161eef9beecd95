"""The ingest API on malformed bodies and wrong types: 400, or 202 naming each bad field;
never a server error. Oversized bodies and uploads are refused before the body is read."""

from __future__ import annotations

import json

import pytest
from django.test import Client, RequestFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet.ingest import api_views
from fleet.ingest import views as import_views
from fleet.ingest.keys import create_ingest_key
from fleet.models import Occurrence

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dead_broker")]
URL = "/api/v1/occurrences"

GOOD = {
    "device": {"hostname": "PC-0001", "intune_device_id": "i-1", "entra_device_id": "e-1"},
    "code": "0x8024000B",
    "occurred_at": "2026-01-05T10:00:00Z",
    "source": "agent",
    "update_title": "2026-01 Cumulative Update (KB5034441)",
    "message": "cancelled",
    "kb": "KB5034441",
    "event_id": "42",
}
WRONG_VALUES = [
    1,
    1.5,
    -1,
    True,
    False,
    [],
    ["PC-1"],
    {},
    {"nested": {"deeper": [1, 2, {"x": None}]}},
    "",
    " ",
    "x" * 100_000,
    "\x00",
    "\ud800",  # a lone surrogate: JSON allows the escape, UTF-8 cannot store it
    "<script>alert(1)</script>",
    "2026-02-30T10:00:00Z",
    10**30,
    1e308,
]
# Where an error about each field may point: the device's ids are read from the device object.
FIELD_OF = {
    "hostname": "device",
    "intune_device_id": "intune_device_id",
    "entra_device_id": "entra_device_id",
}


@pytest.fixture
def api(tenant):
    _record, secret = create_ingest_key(tenant, "agents")
    client = Client(raise_request_exception=False)

    def post(body, content_type: str = "application/json", raw: bool = False):
        data = body if raw else json.dumps(body)
        response = client.post(
            URL, data=data, content_type=content_type, headers={"Authorization": f"Bearer {secret}"}
        )
        assert response.status_code != 500, response.content[:300]
        return response

    return post


def _with(field: str, value) -> dict:
    item = json.loads(json.dumps(GOOD))
    if field in FIELD_OF:
        item["device"][field] = value
    else:
        item[field] = value
    return item


def test_the_good_item_is_accepted(api):
    response = api([GOOD])
    assert response.status_code == 202 and response.json()["accepted"] == 1


@pytest.mark.parametrize("field", [*GOOD, *FIELD_OF])
def test_wrong_values_for_every_field_are_named_never_a_server_error(api, field):
    for value in WRONG_VALUES:
        response = api([_with(field, value)])
        assert response.status_code == 202, (field, value)
        result = response.json()
        assert result["accepted"] + result["rejected"] + result["duplicates"] == 1
        for error in result["errors"]:
            assert error["field"] == FIELD_OF.get(field, field), (field, value, error)
            assert error["message"] and error["index"] == 0


@pytest.mark.parametrize(
    "moment",
    [
        "0001-01-01T00:00:00+14:00",
        "0001-01-01T00:30:00+01:00",
        "9999-12-31T23:59:59-14:00",
        "9999-12-31T23:59:59+14:00",
        "2026-01-05",
        "2026-01-05T10:00:00",
        "yesterday",
        "2026-01-05T25:00:00Z",
    ],
)
def test_dates_at_the_edge_of_the_calendar_are_rejected_by_name(api, moment):
    response = api([_with("occurred_at", moment)])
    assert response.status_code == 202
    assert [e["field"] for e in response.json()["errors"]] == ["occurred_at"]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"[1,",
        b"nul",
        b'{"device": "PC-1"}',
        b'"just a string"',
        b"\xff\xfe\x00[",
        b"\xc3\x28",
        "[]".encode("utf-16"),
        b"[" * 100_000 + b"]" * 100_000,
        b"1" * 5000,
        b"NaN",
        b"[NaN, Infinity]",
    ],
)
def test_malformed_bodies_are_400_or_per_item_errors(api, body):
    response = api(body, raw=True)
    assert response.status_code in (400, 202)
    assert Occurrence.objects.count() == 0
    if response.status_code == 400:
        assert response.json()["error"]


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_wrong_content_type_is_never_a_server_error(api, content_type):
    response = api(json.dumps([GOOD]), content_type=content_type, raw=True)
    assert response.status_code in (202, 400)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=15), inner),
    max_leaves=12,
)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(
        st.one_of(
            json_values,
            st.dictionaries(st.sampled_from(sorted(GOOD)), json_values, max_size=9),
            st.builds(
                lambda f, v: _with(f, v), st.sampled_from(sorted([*GOOD, *FIELD_OF])), json_values
            ),
        ),
        max_size=5,
    )
)
def test_random_json_items_are_accepted_or_rejected_one_by_one(api, items):
    response = api(items)
    assert response.status_code == 202
    result = response.json()
    outcomes = ("accepted", "rejected", "duplicates", "success")
    assert sum(result[name] for name in outcomes) == len(items)
    assert sorted({e["index"] for e in result["errors"]}) == [e["index"] for e in result["errors"]]


class _Unreadable:
    """A request body that fails the test if anything reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


def test_oversized_api_body_is_refused_from_its_content_length_unread(tenant, settings):
    _record, secret = create_ingest_key(tenant, "agents")
    request = RequestFactory().post(
        URL, data=b"[]", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )
    request.META["CONTENT_LENGTH"] = str(settings.INGEST_MAX_BODY_MB * 1024 * 1024 + 1)
    request._stream = _Unreadable()
    response = api_views.post_occurrences(request)
    assert response.status_code == 413


def test_oversized_upload_is_refused_from_its_content_length_unread(operator, settings):
    settings.MAX_UPLOAD_MB = 1
    request = RequestFactory().post(
        "/imports/new/", data=b"", content_type="multipart/form-data; boundary=xyz"
    )
    request.META["CONTENT_LENGTH"] = str(5 * 1024 * 1024)
    request._stream = _Unreadable()
    request.user = operator
    response = import_views.import_new(request)
    assert response.status_code == 413
    assert b"over the 1 MB limit" in response.content
