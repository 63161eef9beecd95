"""The period a report covers: a month (`2026-11`), an ISO week (`2026-W47`) or a from–to range
of days, always whole UTC days, so every figure reads the daily aggregates.

Parsing names the field at fault (`period`, `from`, `to`), so a page can answer 400 with it and
the command can print it; nothing here raises anything else on bad input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.utils import formats
from django.utils.translation import gettext


def day_text(day: date, *, year: bool = False) -> str:
    """A day as the report says it: `16 Nov` in English, `16 novembre` in French."""
    pattern = formats.get_format("MONTH_DAY_FORMAT")
    return formats.date_format(day, f"{pattern} Y" if year else pattern)


# A report reads at most this many days: a year of daily rows is still a small read per tenant.
MAX_DAYS = 366
# Years a report may cover: before 1970 no Windows fleet reported, and far ones would overflow
# the date arithmetic of the baseline and the period before.
YEARS = range(1970, 3000)
_MONTH = re.compile(r"^(?P<year>\d{4})-(?P<month>\d{2})$")
_WEEK = re.compile(r"^(?P<year>\d{4})-W(?P<week>\d{2})$", re.IGNORECASE)


class PeriodError(ValueError):
    """A period that cannot be read; `field` is the parameter at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Period:
    """The days [first, end) a report covers, and how it was asked for."""

    first: date
    end: date  # the day after the last one
    kind: str  # month | week | range

    @property
    def last(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.first).days

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=UTC)

    @property
    def end_at(self) -> datetime:
        return datetime.combine(self.end, time.min, tzinfo=UTC)

    @property
    def key(self) -> str:
        """The period as a query string value: `2026-11`, `2026-W47`, `2026-11-01..2026-11-15`
        (a scheduled delivery is unique per schedule and key)."""
        if self.kind == "month":
            return f"{self.first:%Y-%m}"
        if self.kind == "week":
            year, week, _ = self.first.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.first.isoformat()}..{self.last.isoformat()}"

    @property
    def label(self) -> str:
        """The period in words, as the report's title says it, in the active language."""
        if self.kind == "month":
            return formats.date_format(self.first, "YEAR_MONTH_FORMAT")
        first, last = day_text(self.first), day_text(self.last, year=True)
        if self.kind == "week":
            year, week, _ = self.first.isocalendar()
            return gettext("week %(week)s of %(year)s (%(first)s – %(last)s)") % {
                "week": week,
                "year": year,
                "first": first,
                "last": last,
            }
        return f"{day_text(self.first, year=True)} – {last}"

    @property
    def query(self) -> dict[str, str]:
        """The query parameters that ask for this period again."""
        if self.kind == "range":
            return {"from": self.first.isoformat(), "to": self.last.isoformat()}
        return {"period": self.key}

    def previous_start(self) -> date:
        """The first day of the same length of time just before this period."""
        return self.first - timedelta(days=self.days)


def month(year: int, number: int) -> Period:
    first = date(year, number, 1)
    end = date(year + 1, 1, 1) if number == 12 else date(year, number + 1, 1)
    return Period(first, end, "month")


def iso_week(year: int, week: int) -> Period:
    first = date.fromisocalendar(year, week, 1)
    return Period(first, first + timedelta(days=7), "week")


def parse_period(text: str) -> Period:
    """`2026-11` or `2026-W47` (case-insensitive W)."""
    text = text.strip()
    shown = repr(text[:40])
    if found := _MONTH.match(text):
        year, number = int(found["year"]), int(found["month"])
        if not 1 <= number <= 12:
            raise PeriodError("period", f"{shown}: the month must be 01 to 12")
        if year not in YEARS:
            raise PeriodError("period", f"{shown}: the year must be 1970 to 2999")
        return month(year, number)
    if found := _WEEK.match(text):
        year, week = int(found["year"]), int(found["week"])
        if year not in YEARS:
            raise PeriodError("period", f"{shown}: the year must be 1970 to 2999")
        try:
            return iso_week(year, week)
        except ValueError:
            raise PeriodError("period", f"{shown}: {year} has no ISO week {week}") from None
    raise PeriodError("period", f"{shown} is not a month (2026-11) or an ISO week (2026-W47)")


def _day(field: str, text: str) -> date:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise PeriodError(field, f"{text[:40]!r} is not a day (YYYY-MM-DD)") from None
    if day.year not in YEARS:
        raise PeriodError(field, f"{day.isoformat()}: the year must be 1970 to 2999")
    return day


def parse_range(start: str, last: str) -> Period:
    """`from` and `to` as days, both included."""
    if not start.strip():
        raise PeriodError("from", "give the first day (YYYY-MM-DD) with `to`")
    if not last.strip():
        raise PeriodError("to", "give the last day (YYYY-MM-DD) with `from`")
    first, final = _day("from", start), _day("to", last)
    if final < first:
        raise PeriodError("to", f"{final.isoformat()} is before from ({first.isoformat()})")
    period = Period(first, final + timedelta(days=1), "range")
    if period.days > MAX_DAYS:
        raise PeriodError("to", f"a report covers at most {MAX_DAYS} days, not {period.days}")
    return period


def period_from(params, today: date) -> Period:
    """The period of a query string (or the command's options): `period`, or `from` and `to`;
    with none, the last full month before `today`. Giving both kinds is an error."""
    text = (params.get("period") or "").strip()
    start, last = params.get("from") or "", params.get("to") or ""
    if text and (start.strip() or last.strip()):
        raise PeriodError("period", "give either period or from/to, not both")
    if text:
        return parse_period(text)
    if start.strip() or last.strip():
        return parse_range(start, last)
    return last_full("monthly", today)


def last_full(frequency: str, today: date) -> Period:
    """The last whole month or ISO week that ended before `today` (a schedule's due period)."""
    if frequency == "weekly":
        this_monday = today - timedelta(days=today.weekday())
        year, week, _ = (this_monday - timedelta(days=7)).isocalendar()
        return iso_week(year, week)
    previous = today.replace(day=1) - timedelta(days=1)
    return month(previous.year, previous.month)
