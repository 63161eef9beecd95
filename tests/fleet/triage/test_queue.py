"""The ranked queue page, bulk actions, the assignee and the flag page's links and chart."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fleet.aggregate import aggregate_pending
from fleet.triage.models import TriageEvent, TriageFlag
from tests.factories import DeviceFactory, UserFactory, emit
from tests.fleet.triage.factories import FlagFactory, spike

pytestmark = pytest.mark.django_db
State = TriageFlag.State


@pytest.fixture
def signed_in(client, operator) -> Client:
    client.force_login(operator)
    return client


@pytest.fixture
def boss(client) -> Client:
    client.force_login(UserFactory(username="boss", is_superuser=True))
    return client


def test_default_queue_ranks_what_needs_a_look_above_the_steady_flags_and_says_why(
    signed_in, tenant
):
    steady = FlagFactory(tenant=tenant, score=99.0)  # a stale score does not lift it
    second = spike(tenant=tenant, score=10.0, reason="back 3 days after resolved")
    first = spike(tenant=tenant, score=80.0, reason="43 in the last 6 h, usually 2")

    response = signed_in.get("/triage/")

    assert list(response.context["flags"]) == [first, second, steady]
    html = response.content.decode()
    assert "43 in the last 6 h, usually 2" in html and "back 3 days after resolved" in html
    order = ["Needs a look now</th>", "43 in the last 6 h", "back 3 days", "Steady recurring:"]
    positions = [html.index(text) for text in order]
    assert positions == sorted(positions)


def test_the_needs_a_look_view_leaves_the_steady_flags_behind_a_link(signed_in, tenant):
    steady = FlagFactory(tenant=tenant)
    hot = spike(tenant=tenant)

    response = signed_in.get("/triage/?view=now")

    assert list(response.context["flags"]) == [hot]
    html = response.content.decode()
    assert "1 steady recurring flag" in html and 'href="?view=steady' in html
    assert list(signed_in.get("/triage/?view=steady").context["flags"]) == [steady]


def test_a_row_without_a_signal_sentence_explains_its_threshold(signed_in, tenant):
    FlagFactory(tenant=tenant, raised_at=timezone.now(), occurrences=14, devices=6)
    html = signed_in.get("/triage/").content.decode()
    assert "Recurring: 14 occurrences on 6 devices so far." in html


def test_tenant_filter_lists_only_the_picked_tenants(boss, tenant, other_tenant):
    mine = spike(tenant=tenant)
    theirs = spike(tenant=other_tenant)

    assert set(boss.get("/triage/").context["flags"]) == {mine, theirs}
    assert list(boss.get("/triage/?tenant=acme").context["flags"]) == [mine]
    assert list(boss.get("/triage/?tenant=globex").context["flags"]) == [theirs]
    html = boss.get("/triage/?tenant=acme").content.decode()
    assert "Globex</td>" not in html


def test_an_operator_cannot_see_another_tenant_by_naming_it(signed_in, tenant, other_tenant):
    spike(tenant=other_tenant)
    response = signed_in.get("/triage/?tenant=globex&view=all&state=all")
    assert list(response.context["flags"]) == []
    assert "Globex" not in response.content.decode()


def test_kind_and_state_filters(signed_in, tenant):
    spiking = spike(tenant=tenant)
    new = FlagFactory(tenant=tenant, kind=TriageFlag.Kind.NEW)
    resolved = spike(tenant=tenant, state=State.RESOLVED)
    assert list(signed_in.get("/triage/?kind=new").context["flags"]) == [new]
    assert list(signed_in.get("/triage/?kind=spike").context["flags"]) == [spiking]
    assert list(signed_in.get("/triage/?state=resolved").context["flags"]) == [resolved]
    response = signed_in.get("/triage/?kind=storm&view=later")
    assert response.status_code == 200
    assert "Unknown kind" in response.content.decode()


def test_bulk_acknowledge_records_one_event_per_flag(signed_in, tenant, operator):
    one, two = spike(tenant=tenant), spike(tenant=tenant)
    untouched = spike(tenant=tenant)

    response = signed_in.post(
        "/triage/bulk/",
        {"flag": [one.pk, two.pk], "action": "acknowledge", "note": "on it", "next": "/triage/"},
    )

    assert response.status_code == 302 and response["Location"] == "/triage/"
    states = dict(TriageFlag.objects.values_list("pk", "state"))
    assert (states[one.pk], states[two.pk], states[untouched.pk]) == (
        "acknowledged",
        "acknowledged",
        "new",
    )
    events = TriageEvent.objects.filter(to_state="acknowledged")
    assert sorted(e.flag_id for e in events) == sorted([one.pk, two.pk])
    assert {(e.user, e.note, e.from_state) for e in events} == {(operator, "on it", "new")}


def test_bulk_mute_and_a_refused_flag_is_reported_while_the_others_change(signed_in, tenant):
    fresh = spike(tenant=tenant, occurrences=40)
    already = spike(tenant=tenant, state=State.MUTED, mute_occurrences=5, mute_baseline=1)

    response = signed_in.post(
        "/triage/bulk/",
        {"flag": [fresh.pk, already.pk], "action": "mute", "mute_occurrences": "25"},
        follow=True,
    )

    fresh.refresh_from_db()
    already.refresh_from_db()
    assert (fresh.state, fresh.mute_occurrences, fresh.mute_baseline) == ("muted", 25, 40)
    assert already.mute_occurrences == 5
    text = response.content.decode()
    assert "1 flags: muted." in text and "A muted flag cannot be muted." in text


def test_bulk_never_changes_another_tenants_flag(signed_in, tenant, other_tenant):
    mine, theirs = spike(tenant=tenant), spike(tenant=other_tenant)

    response = signed_in.post(
        "/triage/bulk/", {"flag": [mine.pk, theirs.pk], "action": "resolve"}, follow=True
    )

    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert (mine.state, theirs.state) == ("resolved", "new")
    assert not TriageEvent.objects.filter(flag=theirs).exists()
    assert "1 flags not found." in response.content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"action": "resolve"},
        {"action": "explode", "flag": ["1"]},
        {"action": "resolve", "flag": ["²", "-1", "99999999999999999999999"]},
        {"action": "mute", "flag": ["1"], "mute_occurrences": "0"},
    ],
)
def test_bulk_with_bad_input_changes_nothing(signed_in, tenant, data):
    flag = spike(tenant=tenant)
    data = {
        k: (v if k != "flag" else [str(flag.pk) if x == "1" else x for x in v])
        for k, v in data.items()
    }
    response = signed_in.post("/triage/bulk/", data)
    assert response.status_code == 302
    flag.refresh_from_db()
    assert flag.state == "new"


def test_bulk_needs_the_csrf_token(operator, tenant):
    flag = spike(tenant=tenant)
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    assert client.post("/triage/bulk/", {"flag": [flag.pk], "action": "resolve"}).status_code == 403
    flag.refresh_from_db()
    assert flag.state == "new"


def test_assign_to_an_operator_granted_the_tenant_and_filter_assigned_to_me(
    signed_in, tenant, operator
):
    colleague = UserFactory(username="carl")
    tenant.operators.add(colleague)
    flag, other = spike(tenant=tenant), spike(tenant=tenant)

    response = signed_in.post(f"/triage/{flag.pk}/assign/", {"assignee": colleague.pk})

    assert response.status_code == 302
    flag.refresh_from_db()
    assert flag.assignee == colleague
    event = TriageEvent.objects.get(flag=flag)
    assert (event.user, event.note) == (operator, "Assigned to carl.")
    signed_in.post(f"/triage/{other.pk}/assign/", {"assignee": operator.pk})
    assert list(signed_in.get("/triage/?assigned=me").context["flags"]) == [other]
    signed_in.post(f"/triage/{other.pk}/assign/", {"assignee": ""})
    other.refresh_from_db()
    assert other.assignee is None


@pytest.mark.parametrize("who", ["stranger", "inactive", "missing", "garbage"])
def test_assignee_must_be_granted_the_flags_tenant(signed_in, tenant, other_tenant, who):
    stranger = UserFactory(username="sam")
    other_tenant.operators.add(stranger)
    inactive = UserFactory(username="ian", is_active=False)
    tenant.operators.add(inactive)
    value = {
        "stranger": stranger.pk,
        "inactive": inactive.pk,
        "missing": 10**6,
        "garbage": "x²",
    }[who]
    flag = spike(tenant=tenant)

    response = signed_in.post(f"/triage/{flag.pk}/assign/", {"assignee": value})

    assert response.status_code == 400
    assert "Assignee:" in response.content.decode()
    flag.refresh_from_db()
    assert flag.assignee is None
    assert not TriageEvent.objects.filter(flag=flag).exists()


def test_the_assignee_choice_lists_only_the_tenants_operators(signed_in, tenant, other_tenant):
    other_tenant.operators.add(UserFactory(username="sam"))
    UserFactory(username="root", is_superuser=True)
    flag = spike(tenant=tenant)
    detail = signed_in.get(f"/triage/{flag.pk}/").context["detail"]
    assert [u.username for u in detail.assignees] == ["olivia", "root"]


def test_assigning_another_tenants_flag_is_not_found(signed_in, other_tenant, operator):
    theirs = spike(tenant=other_tenant)
    response = signed_in.post(f"/triage/{theirs.pk}/assign/", {"assignee": operator.pk})
    assert response.status_code == 404


def test_flag_page_links_devices_and_draws_baseline_against_now(signed_in, tenant):
    flag = spike(tenant=tenant, code=0x8024000B, baseline_24h=24.0)
    device = DeviceFactory(tenant=tenant, hostname="PC-STORM")
    emit(device, flag.code, [timezone.now() - timedelta(hours=2)] * 3)
    aggregate_pending()

    response = signed_in.get(f"/triage/{flag.pk}/")

    html = response.content.decode()
    assert f'<a href="/devices/{device.pk}/">PC-STORM</a>' in html
    start = html.index('id="chart-baseline-data"')
    figure = json.loads(html[html.index(">", start) + 1 : html.index("</script>", start)])
    bars, baseline = figure["data"]
    assert sum(bars["y"]) == 3 and baseline["y"][0] == 1.0
    assert "43 in the last 6 h, usually 2" in html


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize(
    ("view", "expected"),
    # session, user, tenants, count, flags, names, sparklines (+ the steady count)
    [("", 7), ("?view=now", 8), ("?view=steady", 7)],
)
def test_queue_query_count_is_the_same_for_one_flag_or_thirty(signed_in, tenant, view, expected):
    spike(tenant=tenant)
    FlagFactory(tenant=tenant)
    few = _queries(signed_in, f"/triage/{view}")
    for _ in range(29):
        spike(tenant=tenant)
        FlagFactory(tenant=tenant)
    many = _queries(signed_in, f"/triage/{view}")
    assert few == many == expected
