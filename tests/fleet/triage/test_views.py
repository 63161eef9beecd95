from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from codes.models import ErrorCode
from fleet.aggregate import aggregate_pending
from fleet.pipeline import run_round
from fleet.triage.flags import MAX_MUTE_OCCURRENCES
from fleet.triage.models import TriageEvent, TriageFlag
from tests.factories import DeviceFactory, client_for, emit

CANCELLED = 0x8024000B


@pytest.fixture
def flags(tenant, other_tenant):
    """A 0x8024000B storm flagged at each tenant, found by the real pipeline."""
    ErrorCode.objects.create(value=CANCELLED, name="WU_E_CALL_CANCELLED", severity="warning")
    recent = timezone.now() - timedelta(hours=2)
    for owner in (tenant, other_tenant):
        for _ in range(6):
            emit(DeviceFactory(tenant=owner), CANCELLED, [recent])
    run_round()
    return TriageFlag.objects.get(tenant=tenant), TriageFlag.objects.get(tenant=other_tenant)


def test_triage_pages_need_login(client, flags):
    mine, _ = flags
    for url in (reverse("triage:queue"), reverse("triage:flag", args=[mine.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


def test_queue_lists_visible_flags_with_counts_sparkline_and_knowledge_link(logged_in, flags):
    mine, theirs = flags

    response = logged_in.get("/triage/")

    assert response.status_code == 200
    assert list(response.context["flags"]) == [mine]
    html = response.content.decode()
    assert "Acme Corp" in html and "Globex" not in html
    assert 'href="/codes/0x8024000B/"' in html
    assert "WU_E_CALL_CANCELLED" in html
    assert f'href="/triage/{mine.pk}/"' in html
    assert '<svg class="sparkline"' in html and "6 occurrences in the last 14 days" in html
    row = html[html.index("Acme Corp") :]
    assert "<td>6</td>" in row  # occurrences and devices


def test_another_tenants_flag_is_not_found(logged_in, flags):
    _, theirs = flags
    assert logged_in.get(f"/triage/{theirs.pk}/").status_code == 404
    response = logged_in.post(f"/triage/{theirs.pk}/", {"action": "resolve"})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == "new"


def test_state_filter(logged_in, flags):
    mine, _ = flags
    mine.state = "resolved"
    mine.save()
    assert list(logged_in.get("/triage/").context["flags"]) == []
    assert list(logged_in.get("/triage/?state=resolved").context["flags"]) == [mine]
    assert list(logged_in.get("/triage/?state=all").context["flags"]) == [mine]
    response = logged_in.get("/triage/?state=bogus&code=0xZZ")
    assert response.status_code == 200
    assert "Unknown state" in response.content.decode()
    assert "code:" in response.content.decode()


def test_acknowledge_from_the_queue_records_operator_and_note(logged_in, flags, operator):
    mine, _ = flags

    response = logged_in.post(
        f"/triage/{mine.pk}/",
        {"action": "acknowledge", "note": "WSUS <b>cleanup</b> running", "next": "/triage/"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/triage/"
    mine.refresh_from_db()
    assert mine.state == "acknowledged"
    event = TriageEvent.objects.filter(flag=mine).first()
    assert (event.user, event.note) == (operator, "WSUS <b>cleanup</b> running")
    detail = logged_in.get(f"/triage/{mine.pk}/").content.decode()
    assert "WSUS &lt;b&gt;cleanup&lt;/b&gt; running" in detail
    assert "olivia" in detail


def test_mute_until_more_occurrences_from_the_detail_page(logged_in, flags):
    mine, _ = flags
    response = logged_in.post(
        f"/triage/{mine.pk}/", {"action": "mute", "mute_occurrences": "10", "note": "known"}
    )
    assert response.status_code == 302
    mine.refresh_from_db()
    assert (mine.state, mine.mute_occurrences, mine.mute_baseline) == ("muted", 10, 6)


def test_bad_mute_is_refused_with_a_message(logged_in, flags):
    mine, _ = flags
    response = logged_in.post(f"/triage/{mine.pk}/", {"action": "mute"})
    assert response.status_code == 400
    assert "Mute until a date, or until a number of more occurrences." in response.content.decode()
    mine.refresh_from_db()
    assert mine.state == "new"


@pytest.mark.parametrize("count", [2**31, 2**63, 10**30, MAX_MUTE_OCCURRENCES + 1])
def test_a_mute_count_past_the_limit_is_refused_naming_the_field(logged_in, flags, count):
    mine, _ = flags
    response = logged_in.post(
        f"/triage/{mine.pk}/", {"action": "mute", "mute_occurrences": str(count)}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Mute occurrences: at most 1,000,000 more occurrences" in body
    mine.refresh_from_db()
    assert mine.state == "new"


def test_the_largest_mute_count_is_accepted(logged_in, flags):
    mine, _ = flags
    response = logged_in.post(
        f"/triage/{mine.pk}/", {"action": "mute", "mute_occurrences": str(MAX_MUTE_OCCURRENCES)}
    )
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.mute_occurrences == MAX_MUTE_OCCURRENCES


@pytest.mark.parametrize("target", ["triage", "a\x00b", "queue.html", "//evil.example/"])
def test_next_that_is_not_a_path_of_this_site_is_ignored(logged_in, flags, target):
    mine, _ = flags
    response = logged_in.post(f"/triage/{mine.pk}/", {"action": "resolve", "next": target})
    assert response.status_code == 302
    assert response["Location"] == f"/triage/{mine.pk}/"


def test_next_pointing_off_site_is_ignored(logged_in, flags):
    mine, _ = flags
    response = logged_in.post(
        f"/triage/{mine.pk}/", {"action": "resolve", "next": "https://evil.example/"}
    )
    assert response["Location"] == f"/triage/{mine.pk}/"


def test_state_changes_need_the_csrf_token(operator, flags):
    mine, _ = flags
    client = client_for(operator, enforce_csrf_checks=True)
    assert client.post(f"/triage/{mine.pk}/", {"action": "resolve"}).status_code == 403
    mine.refresh_from_db()
    assert mine.state == "new"


def test_queue_query_count_does_not_grow_with_flags(
    logged_in, flags, tenant, django_assert_max_num_queries
):
    for code in range(0x80070001, 0x80070011):
        TriageFlag.objects.create(tenant=tenant, code=code, occurrences=1, devices=1)
    with django_assert_max_num_queries(8):
        response = logged_in.get("/triage/?state=all")
    assert len(response.context["flags"]) == 17


def test_mute_until_a_day_from_the_queue(logged_in, flags):
    mine, _ = flags
    day = (timezone.now() + timedelta(days=3)).date()
    queue = logged_in.get("/triage/").content.decode()
    assert 'name="muted_until"' in queue and 'value="mute"' in queue

    response = logged_in.post(
        f"/triage/{mine.pk}/",
        {"action": "mute", "muted_until": day.isoformat(), "note": "", "next": "/triage/"},
    )

    assert response["Location"] == "/triage/"
    mine.refresh_from_db()
    assert mine.state == "muted"
    assert mine.muted_until.date() == day and mine.muted_until.hour == 0


def test_queue_puts_signals_first_then_regressions_then_the_busiest_last_day(
    logged_in, flags, tenant
):
    # Issue 14: a code first seen in this tenant today is news (kind `new`) and leads; the
    # flags without a signal follow, regressions first, then by the last day's volume.
    mine, _ = flags  # 6 occurrences two hours ago, the first of that code in this tenant
    quiet = TriageFlag.objects.create(tenant=tenant, code=0x80070002, occurrences=900)
    busy_device = DeviceFactory(tenant=tenant)
    emit(busy_device, 0x800F0922, [timezone.now() - timedelta(hours=1)] * 9)
    aggregate_pending()
    busy = TriageFlag.objects.create(tenant=tenant, code=0x800F0922)
    regressed = TriageFlag.objects.create(tenant=tenant, code=0x80240022, state="regressed")

    flags_shown = list(logged_in.get("/triage/").context["flags"])

    assert flags_shown[0].kind == "new"
    assert flags_shown == [mine, regressed, busy, quiet]
    assert [f.recent for f in flags_shown] == [6, 0, 9, 0]
