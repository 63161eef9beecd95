"""The timestamp reader and the per-file day/month rule."""

from datetime import UTC, datetime

import pytest

from fleet.ingest.dates import DateError, decide_day_first, parse_datetime


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
