"""The tenant filter and time range read from the URL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from dashboards.filters import MAX_ID, id_param, scope_from_request
from fleet.grains import DAILY, HOURLY
from tests.factories import TenantFactory

NOW = datetime(2026, 11, 25, 9, 40, tzinfo=UTC)
pytestmark = pytest.mark.django_db


def scope_for(user, query: str = ""):
    request = RequestFactory().get(f"/?{query}")
    request.user = user
    return scope_from_request(request, now=NOW)


def test_default_range_is_the_last_seven_whole_days_including_today(operator):
    scope = scope_for(operator)
    assert scope.range_key == "7d"
    assert scope.start == datetime(2026, 11, 19, tzinfo=UTC)
    assert scope.end == datetime(2026, 11, 26, tzinfo=UTC)
    assert len(scope.days) == 7
    assert not scope.hourly


def test_24h_range_is_rolling_hours_including_the_current_one(operator):
    scope = scope_for(operator, "range=24h")
    assert scope.hourly
    assert scope.end == datetime(2026, 11, 25, 10, tzinfo=UTC)
    assert scope.start == datetime(2026, 11, 24, 10, tzinfo=UTC)
    assert len(scope.hours) == 24


@pytest.mark.parametrize(
    ("query", "grain", "buckets"),
    [
        ("range=24h", HOURLY, 24),
        ("range=7d", DAILY, 7),
        ("range=90d", DAILY, 90),
        ("range=custom&from=2026-10-01&to=2026-10-31", DAILY, 31),
        ("range=custom&from=2026-10-01&to=2026-10-01", DAILY, 1),
    ],
)
def test_each_range_reads_and_charts_one_grain(operator, query, grain, buckets):
    scope = scope_for(operator, query)
    assert scope.grain is grain
    assert len(scope.grain.buckets(scope.start, scope.end)) == buckets


def test_24h_window_ending_at_midnight_is_still_read_and_charted_per_hour(operator):
    request = RequestFactory().get("/?range=24h")
    request.user = operator
    scope = scope_from_request(request, now=datetime(2026, 11, 25, 23, 40, tzinfo=UTC))
    assert scope.start == datetime(2026, 11, 25, tzinfo=UTC)
    assert scope.end == datetime(2026, 11, 26, tzinfo=UTC)
    assert scope.grain is HOURLY
    assert scope.grain.buckets(scope.start, scope.end) == scope.hours


def test_custom_range_includes_both_end_days(operator):
    scope = scope_for(operator, "range=custom&from=2026-10-01&to=2026-10-31")
    assert scope.start == datetime(2026, 10, 1, tzinfo=UTC)
    assert scope.end == datetime(2026, 11, 1, tzinfo=UTC)
    assert len(scope.days) == 31
    assert scope.querystring == "range=custom&from=2026-10-01&to=2026-10-31"
    assert scope.errors == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("range=custom&from=nope&to=2026-10-31", "from: 'nope' is not a date (use YYYY-MM-DD)"),
        ("range=custom&from=2026-10-31&to=2026-10-01", "to: the end date is before the start date"),
        ("range=custom&from=2020-01-01&to=2026-10-01", "a custom range may span at most 400"),
        ("range=1y", "range: '1y' is not one of 24h, 7d, 30d, 90d, custom"),
        # The window would end at midnight after 9999-12-31, a date Python cannot hold.
        ("range=custom&from=9999-12-31&to=9999-12-31", "to: the last day can be 9999-12-30"),
        ("range=custom&from=2026-01-01&to=9999-12-31", "to: the last day can be 9999-12-30"),
    ],
)
def test_bad_range_falls_back_to_default_with_a_message_naming_the_field(operator, query, message):
    scope = scope_for(operator, query)
    assert scope.range_key == "7d"
    assert any(message in error for error in scope.errors), scope.errors


def test_tenant_filter_narrows_to_picked_tenants_the_user_may_see(operator, tenant, other_tenant):
    third = TenantFactory(slug="initech")
    third.operators.add(operator)
    assert [t.slug for t in scope_for(operator).tenants] == ["acme", "initech"]
    picked = scope_for(operator, "tenant=initech")
    assert [t.slug for t in picked.tenants] == ["initech"]
    assert picked.querystring == "tenant=initech&range=7d"
    # A tenant not granted matches nothing rather than widening the view.
    assert scope_for(operator, "tenant=globex").tenants == []


def test_pinned_scope_is_one_visible_tenant_or_none(operator, tenant, other_tenant):
    scope = scope_for(operator)
    assert [t.slug for t in scope.pinned_to("acme").tenants] == ["acme"]
    assert scope.pinned_to("globex") is None


def test_logged_out_user_sees_no_tenant(tenant):
    assert scope_for(AnonymousUser()).tenants == []


def test_the_latest_custom_range_ends_at_the_last_midnight_python_can_hold(operator):
    scope = scope_for(operator, "range=custom&from=9999-12-01&to=9999-12-30")
    assert scope.errors == []
    assert scope.end == datetime(9999, 12, 31, tzinfo=UTC)
    assert len(scope.days) == 30


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("42", 42),
        (" 42 ", 42),
        ("²", None),  # a digit to str.isdigit(), not to int()
        ("١٢", None),  # Arabic-Indic 12: int() reads it, but no link of ours writes it
        ("0", None),
        ("-3", None),
        ("4.0", None),
        ("", None),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
        ("9" * 400, None),
    ],
)
def test_an_id_in_the_query_string_is_ascii_digits_within_64_bits(raw, expected):
    assert id_param({"device": raw}, "device") == expected
    assert id_param({}, "device") is None
