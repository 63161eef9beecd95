"""The timestamp reader and the per-file day/month rule."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from fleet.ingest.dates import (
    DateError,
    bounds_problem,
    decide_day_first,
    offset_problem,
    parse_datetime,
)

NOW = datetime(2026, 3, 4, 23, 45, tzinfo=UTC)  # late in the day: "a day ahead" is tomorrow


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-04 09:26:03.0000000", datetime(2025, 3, 4, 9, 26, 3, tzinfo=UTC)),
        ("2025-01-15 02:16:00.870", datetime(2025, 1, 15, 2, 16, 0, 870000, tzinfo=UTC)),
        ("2025-03-11", datetime(2025, 3, 11, tzinfo=UTC)),
        ("2025-03-04T09:26:03Z", datetime(2025, 3, 4, 9, 26, 3, tzinfo=UTC)),
        ("2025-03-04T09:26:03+02:00", datetime(2025, 3, 4, 7, 26, 3, tzinfo=UTC)),
        ("2020/05/14 09:26:03.478 AM", datetime(2020, 5, 14, 9, 26, 3, 478000, tzinfo=UTC)),
        ("2/18/2025, 9:06:43.009 PM", datetime(2025, 2, 18, 21, 6, 43, 9000, tzinfo=UTC)),
        ("2/18/2025, 12:06:43 AM", datetime(2025, 2, 18, 0, 6, 43, tzinfo=UTC)),
        ("43965.5", datetime(2020, 5, 14, 12, tzinfo=UTC)),
    ],
)
def test_parse_datetime_formats(text, expected):
    assert parse_datetime(text) == expected


def test_ambiguous_date_follows_the_file_order():
    assert parse_datetime("03/04/2025 10:00").month == 3
    assert parse_datetime("03/04/2025 10:00", day_first=True).month == 4
    assert parse_datetime("04.03.2025 10:00", day_first=True).month == 3


@pytest.mark.parametrize(
    "text", ["", "yesterday", "2025-02-30", "13/13/2025", "2/18/2025 13:00 PM"]
)
def test_unreadable_dates_raise(text):
    with pytest.raises(DateError):
        parse_datetime(text)


def test_day_first_contradiction_names_the_rule():
    with pytest.raises(DateError, match="month-first"):
        parse_datetime("18/02/2025")


@pytest.mark.parametrize(
    ("samples", "delimiter", "day_first"),
    [
        (["03/04/2025", "02/18/2025"], ",", False),  # an unambiguous US date decides
        (["03/04/2025", "18/02/2025"], ",", True),  # an unambiguous day-first date decides
        (["03/04/2025"], ",", False),  # only ambiguous slash dates: US
        (["03.04.2025"], ",", True),  # dot dates: day-first
        (["03/04/2025"], ";", True),  # continental delimiter: day-first
    ],
)
def test_decide_day_first(samples, delimiter, day_first):
    assert decide_day_first(samples, delimiter) is day_first


def test_decide_day_first_stops_at_iso_dates():
    def values():
        yield "2025-03-04 10:00"
        raise AssertionError("read past the first ISO date")

    assert decide_day_first(values()) is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-04T09:26:03+14:00", datetime(2025, 3, 3, 19, 26, 3, tzinfo=UTC)),
        ("2025-03-04T09:26:03-12:00", datetime(2025, 3, 4, 21, 26, 3, tzinfo=UTC)),
        ("2025-03-04 09:26:03 +0545", datetime(2025, 3, 4, 3, 41, 3, tzinfo=UTC)),
    ],
)
def test_offsets_in_use_are_read(text, expected):
    assert parse_datetime(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2025-03-04T09:26:03+99:00", "has UTC offset +99:00, outside -12:00 to +14:00"),
        ("2025-03-04T09:26:03+14:01", "has UTC offset +14:01, outside -12:00 to +14:00"),
        ("2025-03-04T09:26:03-13:00", "has UTC offset -13:00, outside -12:00 to +14:00"),
        ("2025-03-04T09:26:03+05:99", "has an offset +05:99 that is not hours and minutes"),
    ],
)
def test_offsets_not_in_use_raise_naming_the_bounds(text, reason):
    with pytest.raises(DateError) as refused:
        parse_datetime(text)
    assert str(refused.value) == f"{text!r} {reason}"


def test_offset_bounds_are_inclusive():
    assert offset_problem(timedelta(hours=14)) == ""
    assert offset_problem(timedelta(hours=-12)) == ""
    assert offset_problem(timedelta(hours=-12, minutes=-1)).startswith("has UTC offset -12:01")


@pytest.mark.parametrize(
    "when",
    [
        NOW - timedelta(days=3650),
        NOW + timedelta(hours=24),  # clock drift up to a day is allowed
        datetime(2026, 3, 6, 9, 45, tzinfo=timezone(timedelta(hours=10))),  # 23:45 UTC on the 5th
    ],
)
def test_times_up_to_a_day_ahead_are_within_bounds(when):
    assert bounds_problem(when, NOW) == ""


@pytest.mark.parametrize(
    ("when", "reason"),
    [
        (NOW + timedelta(hours=24, seconds=1), "is more than 24 hours ahead of now"),
        (datetime(9999, 12, 31, 23, 59, tzinfo=UTC), "is more than 24 hours ahead of now"),
        (
            datetime(2026, 3, 4, 12, tzinfo=timezone(timedelta(hours=23))),
            "has UTC offset +23:00, outside -12:00 to +14:00",
        ),
    ],
)
def test_times_beyond_the_bounds_say_which_bound(when, reason):
    problem = bounds_problem(when, NOW)
    assert problem.startswith(reason)
    if "ahead" in reason:
        assert problem.endswith("(2026-03-04 23:45 UTC)")
