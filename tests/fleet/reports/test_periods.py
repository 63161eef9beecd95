from datetime import date

import pytest

from fleet.env import ImproperEnvironment, check_color, check_logo_url
from fleet.reports.periods import (
    MAX_DAYS,
    PeriodError,
    last_full,
    parse_period,
    parse_range,
    period_from,
)


def test_a_month_covers_its_days_and_says_its_name():
    period = parse_period("2026-11")
    assert (period.first, period.end, period.days) == (date(2026, 11, 1), date(2026, 12, 1), 30)
    assert (period.key, period.label) == ("2026-11", "November 2026")
    december = parse_period("2026-12")
    assert december.end == date(2027, 1, 1)


def test_an_iso_week_runs_monday_to_sunday_even_across_a_new_year():
    period = parse_period("2026-W47")
    assert (period.first, period.last) == (date(2026, 11, 16), date(2026, 11, 22))
    assert period.key == "2026-W47"
    # ISO week 1 of 2027 starts on Monday 4 January; week 53 of 2026 holds New Year's Day.
    assert parse_period("2026-w53").first == date(2026, 12, 28)
    assert parse_period("2027-W01").first == date(2027, 1, 4)


def test_a_range_includes_both_days():
    period = parse_range("2026-11-01", "2026-11-15")
    assert (period.days, period.last) == (15, date(2026, 11, 15))
    assert period.query == {"from": "2026-11-01", "to": "2026-11-15"}
    assert period.key == "2026-11-01..2026-11-15"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "2026-13"}, "period"),
        ({"period": "2026-W54"}, "period"),
        ({"period": "November"}, "period"),
        ({"period": "2026-11", "from": "2026-11-01"}, "period"),
        ({"from": "2026-11-01"}, "to"),
        ({"to": "2026-11-01"}, "from"),
        ({"from": "yesterday", "to": "2026-11-01"}, "from"),
        ({"from": "2026-11-01", "to": "2026-02-30"}, "to"),
        ({"from": "2026-11-02", "to": "2026-11-01"}, "to"),
        ({"from": "2020-01-01", "to": "2026-11-01"}, "to"),
        ({"period": "0000-01"}, "period"),
        ({"period": "9999-W01"}, "period"),
        ({"from": "0001-01-01", "to": "0001-01-05"}, "from"),
        ({"from": "2026-01-01", "to": "9999-12-31"}, "to"),
    ],
)
def test_a_bad_period_names_its_field(params, field):
    with pytest.raises(PeriodError) as raised:
        period_from(params, date(2026, 12, 3))
    assert raised.value.field == field
    assert str(raised.value).startswith(f"{field}: ")


def test_a_range_is_at_most_a_year():
    assert parse_range("2025-01-01", "2026-01-01").days == MAX_DAYS
    with pytest.raises(PeriodError):
        parse_range("2025-01-01", "2026-01-02")


def test_with_no_period_the_last_full_month_is_shown():
    assert period_from({}, date(2026, 12, 3)).key == "2026-11"
    assert period_from({"period": " "}, date(2027, 1, 1)).key == "2026-12"


def test_the_last_full_period_of_a_schedule():
    assert last_full("monthly", date(2026, 12, 1)).key == "2026-11"
    assert last_full("monthly", date(2026, 12, 31)).key == "2026-11"
    assert last_full("monthly", date(2027, 1, 1)).key == "2026-12"
    # Thursday 3 December 2026 is in ISO week 49: the last full week is 48.
    assert last_full("weekly", date(2026, 12, 3)).key == "2026-W48"
    assert last_full("weekly", date(2026, 11, 30)).key == "2026-W48"  # a Monday
    assert last_full("weekly", date(2027, 1, 4)).key == "2026-W53"


@pytest.mark.parametrize("value", ["#1f4e79", "#FFF", " #abcdef "])
def test_a_brand_colour_is_a_hex_colour(value):
    assert check_color("MSP_COLOR", value) == value.strip()


@pytest.mark.parametrize("value", ["red", "#12345", "#1f4e79; } body { display: none", ""])
def test_anything_else_stops_the_start_naming_the_variable(value):
    with pytest.raises(ImproperEnvironment, match="MSP_COLOR="):
        check_color("MSP_COLOR", value)


def test_a_logo_is_an_https_or_data_image_url():
    assert check_logo_url("MSP_LOGO_URL", "") == ""
    assert check_logo_url("MSP_LOGO_URL", "https://msp.example/logo.png")
    assert check_logo_url("MSP_LOGO_URL", "data:image/png;base64,AAAA")
    with pytest.raises(ImproperEnvironment, match="MSP_LOGO_URL="):
        check_logo_url("MSP_LOGO_URL", "javascript:alert(1)")
