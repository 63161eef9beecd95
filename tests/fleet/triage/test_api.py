"""GET /api/v1/triage and POST /api/v1/triage/<id>: shape, order, filters, grants, auth, CSRF."""

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codes.models import ErrorCode
from fleet.api_auth import create_api_token, revoke
from fleet.triage.models import TriageEvent, TriageFlag
from tests.factories import UserFactory
from tests.fleet.triage.factories import FlagFactory, spike

pytestmark = pytest.mark.django_db
LIST = "/api/v1/triage"


@pytest.fixture
def token(operator) -> str:
    return create_api_token(operator, "psa")[1]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def post(client: Client, flag_id: int, body, **headers):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(
        f"/api/v1/triage/{flag_id}", data, content_type="application/json", headers=headers
    )


@override_settings(SITE_URL="https://fleet.example.test")
def test_list_answers_the_queue_in_order_with_every_documented_key(tenant, token):
    ErrorCode.objects.create(value=0x8024000B, name="WU_E_CALL_CANCELLED")
    top = spike(tenant=tenant, code=0x8024000B, score=70.0)
    later = spike(tenant=tenant, score=3.0, reason="")
    FlagFactory(tenant=tenant)  # steady: only with view=all

    response = Client().get(LIST, headers=bearer(token))

    assert response.status_code == 200
    flags = response.json()["flags"]
    assert [f["id"] for f in flags] == [top.pk, later.pk]
    first = flags[0]
    assert first == first | {
        "id": top.pk,
        "tenant": "acme",
        "code": "0x8024000B",
        "name": "WU_E_CALL_CANCELLED",
        "state": "new",
        "kind": "spike",
        "score": 70.0,
        "reason": "43 in the last 6 h, usually 2",
        "occurrences_24h": 43,
        "devices_24h": 21,
        "baseline_24h": 8.0,
        "url": f"https://fleet.example.test/triage/{top.pk}/",
    }
    assert first["last_seen"] == top.last_seen_at.isoformat().replace("+00:00", "Z")
    assert first["first_seen"].endswith("Z")
    assert flags[1]["reason"] == "Recurring: 10 occurrences on 2 devices so far."
    everything = Client().get(f"{LIST}?view=all", headers=bearer(token)).json()["flags"]
    assert len(everything) == 3


def test_list_filters_like_the_page(tenant, other_tenant):
    boss = UserFactory(username="boss", is_superuser=True)
    _, key = create_api_token(boss)
    mine = spike(tenant=tenant)
    theirs = spike(tenant=other_tenant, kind=TriageFlag.Kind.NEW)
    resolved = spike(tenant=tenant, state="resolved")

    def ids(query: str) -> list[int]:
        response = Client().get(f"{LIST}?{query}", headers=bearer(key))
        assert response.status_code == 200, response.content
        return [f["id"] for f in response.json()["flags"]]

    assert set(ids("")) == {mine.pk, theirs.pk}
    assert ids("tenant=acme") == [mine.pk]
    assert ids("tenant=globex&kind=new") == [theirs.pk]
    assert ids("kind=spike") == [mine.pk]
    assert ids("state=resolved") == [resolved.pk]
    assert ids("limit=1") in ([mine.pk], [theirs.pk])


def test_list_never_shows_another_tenants_flags(tenant, other_tenant, token):
    spike(tenant=other_tenant)
    for query in ("", "?tenant=globex", "?tenant=globex&view=all&state=all"):
        assert Client().get(f"{LIST}{query}", headers=bearer(token)).json() == {"flags": []}


@pytest.mark.parametrize(
    ("query", "field"),
    [("state=bogus", "state"), ("kind=storm", "kind"), ("view=x", "view"), ("limit=0", "limit"),
     ("limit=²", "limit"), ("code=0xZZ", "code")],
)  # fmt: skip
def test_a_bad_filter_is_a_400_naming_it(token, query, field):
    response = Client().get(f"{LIST}?{query}", headers=bearer(token))
    assert response.status_code == 400
    assert response.json()["field"] == field


def test_list_by_session(client, operator, tenant):
    flag = spike(tenant=tenant)
    assert client.get(LIST).status_code == 401
    client.force_login(operator)
    assert [f["id"] for f in client.get(LIST).json()["flags"]] == [flag.pk]


def test_a_token_acts_as_its_owner_and_is_refused_once_revoked(tenant, operator):
    spike(tenant=tenant)
    record, key = create_api_token(operator)
    assert len(Client().get(LIST, headers=bearer(key)).json()["flags"]) == 1

    revoke(record)

    response = Client().get(LIST, headers=bearer(key))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer ft_nope_nope", "Basic abc", "Bearer fk_ingest_key"])
def test_an_unknown_token_is_refused_even_with_a_session(client, operator, header):
    client.force_login(operator)
    assert client.get(LIST, headers={"Authorization": header}).status_code == 401


def test_an_inactive_owners_token_is_refused(operator, token):
    operator.is_active = False
    operator.save()
    assert Client().get(LIST, headers=bearer(token)).status_code == 401


def test_acknowledge_by_token_records_the_owner(tenant, operator, token):
    flag = spike(tenant=tenant)

    response = post(Client(enforce_csrf_checks=True), flag.pk, {"action": "acknowledge",
                    "note": "ticket 4711"}, **bearer(token))  # fmt: skip

    assert response.status_code == 200, response.content
    assert response.json()["flag"]["state"] == "acknowledged"
    event = TriageEvent.objects.get(flag=flag)
    assert (event.user, event.note, event.to_state) == (operator, "ticket 4711", "acknowledged")


def test_mute_takes_the_forms_parameters(tenant, token):
    flag = spike(tenant=tenant, occurrences=40)
    day = (timezone.now() + timedelta(days=3)).date().isoformat()

    by_count = post(Client(), flag.pk, {"action": "mute", "mute_occurrences": 25}, **bearer(token))
    flag.refresh_from_db()
    assert by_count.status_code == 200
    assert (flag.state, flag.mute_occurrences, flag.mute_baseline) == ("muted", 25, 40)

    other = spike(tenant=tenant)
    by_day = post(Client(), other.pk, {"action": "mute", "muted_until": day}, **bearer(token))
    other.refresh_from_db()
    assert by_day.status_code == 200
    assert other.muted_until.date().isoformat() == day and other.muted_until.hour == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "explode"}, "action"),
        ({}, "action"),
        ({"action": "mute"}, "muted_until"),
        ({"action": "mute", "mute_occurrences": 0}, "mute_occurrences"),
        ({"action": "mute", "mute_occurrences": 2**63}, "mute_occurrences"),
        ({"action": "mute", "muted_until": "2026-02-30"}, "muted_until"),
        ({"action": "mute", "muted_until": "2020-01-01"}, "muted_until"),
        ({"action": "resolve", "note": ["x"]}, "note"),
        ({"action": True}, "action"),
        ({"action": "resolve", "note": "x" * 2001}, "note"),
    ],
)
def test_a_bad_action_is_a_400_naming_the_field(tenant, token, body, field):
    flag = spike(tenant=tenant)
    response = post(Client(), flag.pk, body, **bearer(token))
    assert response.status_code == 400
    assert response.json()["field"] == field
    flag.refresh_from_db()
    assert flag.state == "new"


@pytest.mark.parametrize("body", ["", "[1]", "{", '"resolve"', "null", "[" * 100_000])
def test_a_body_that_is_not_an_object_is_a_400(tenant, token, body):
    flag = spike(tenant=tenant)
    response = post(Client(), flag.pk, body, **bearer(token))
    assert response.status_code == 400
    assert "error" in response.json()


def test_a_change_the_flag_cannot_make_is_a_400(tenant, token):
    flag = spike(tenant=tenant, state="muted", mute_occurrences=3, mute_baseline=1)
    response = post(Client(), flag.pk, {"action": "mute", "mute_occurrences": 3}, **bearer(token))
    assert response.status_code == 400
    assert response.json() == {"error": "A muted flag cannot be muted.", "field": "action"}


def test_another_tenants_flag_is_404_and_unchanged(other_tenant, token):
    theirs = spike(tenant=other_tenant)
    for flag_id in (theirs.pk, 10**6, 2**63 + 5):
        response = post(Client(), flag_id, {"action": "resolve"}, **bearer(token))
        assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == "new"


def test_session_posts_need_the_csrf_token_and_token_posts_do_not(tenant, operator, token):
    flag = spike(tenant=tenant)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(operator)

    refused = post(browser, flag.pk, {"action": "resolve"})
    assert refused.status_code == 403 and "CSRF" in refused.json()["error"]
    flag.refresh_from_db()
    assert flag.state == "new"

    browser.get("/triage/")  # sets the csrftoken cookie
    csrf = browser.cookies["csrftoken"].value
    accepted = post(browser, flag.pk, {"action": "resolve"}, **{"X-CSRFToken": csrf})
    assert accepted.status_code == 200
    flag.refresh_from_db()
    assert flag.state == "resolved"


def test_wrong_methods_and_no_login_answer_json(tenant):
    flag = spike(tenant=tenant)
    assert Client().post(LIST).status_code == 405
    assert Client().get(f"/api/v1/triage/{flag.pk}").status_code == 405
    response = post(Client(), flag.pk, {"action": "resolve"})
    assert response.status_code == 401 and "error" in response.json()


def test_list_query_count_does_not_grow_with_flags(tenant, token, django_assert_num_queries):
    for _ in range(20):
        spike(tenant=tenant)
    # token, last-used update, tenants, flags, names
    with django_assert_num_queries(5):
        response = Client().get(LIST, headers=bearer(token))
    assert len(response.json()["flags"]) == 20


def test_both_paths_are_in_the_openapi_document(tenant, token):
    spike(tenant=tenant)
    answered = Client().get(LIST, headers=bearer(token)).json()["flags"][0]
    schema = Client().get("/api/v1/openapi.json").json()
    listing = schema["paths"]["/api/v1/triage"]["get"]
    action = schema["paths"]["/api/v1/triage/{id}"]["post"]
    assert set(action["responses"]) == {"200", "400", "401", "403", "404"}
    assert {p["name"] for p in listing["parameters"]} >= {"tenant", "state", "kind", "view"}
    flag = schema["components"]["schemas"]["TriageFlag"]
    assert set(flag["required"]) == {
        "id", "tenant", "code", "name", "state", "kind", "score", "reason", "occurrences_24h",
        "devices_24h", "baseline_24h", "first_seen", "last_seen", "url",
    }  # fmt: skip
    assert set(answered) == set(flag["properties"])
    assert schema["components"]["securitySchemes"]["apiToken"]["scheme"] == "bearer"


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.sampled_from(["acknowledge", "resolve", "mute", "2027-01-01", "9999-12-31", "0001-01-01",
                     "2026-02-30", "²", "1e309", "-1", "\x00"]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)  # fmt: skip
_BODIES = st.dictionaries(
    st.sampled_from(["action", "note", "muted_until", "mute_occurrences", "other"]), _VALUES
)


@given(body=_BODIES)
@settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_no_body_answers_a_server_error(tenant, token, body):
    flag = spike(tenant=tenant)
    with transaction.atomic():
        response = post(Client(), flag.pk, body, **bearer(token))
        assert response.status_code in (200, 400), (body, response.content)
        assert "error" in response.json() or response.status_code == 200
        transaction.set_rollback(True)
