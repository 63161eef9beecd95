"""Read the timestamps exports write, all as UTC.

Accepted: ISO 8601 (`2025-03-04 09:26:03.0000000`, `2025-03-04T09:26:03+01:00`, `2025-03-11`),
`2020/05/14 09:26:03.478 AM`, slash or dot dates with a 12- or 24-hour time
(`2/18/2025, 9:06:43.009 AM`, `18.02.2025 09:06`) and Excel serial days (`43965.3930958102`).

The rule for ambiguous dates such as `03/04/2025`: the day/month order is decided once per file
(see `decide_day_first`). A file in which some date can only be day-first (`18/02/2025`) is read
day-first throughout, one in which some date can only be month-first (`2/18/2025`) month-first.
If no date settles it, dot dates (`04.03.2025`, the German style) and files using `;` as
delimiter (the continental Excel style) are day-first; plain slash dates are US month-first.
A file that has both kinds of unambiguous dates is refused row by row: the rows that contradict
the file's order are rejected with a reason rather than silently misread.

Imports and the ingest API hold times to the same bounds (`offset_problem`, `bounds_problem`):
a UTC offset in use somewhere, and not more than FUTURE_SLACK ahead of now, so that no row can
pin a device's "last seen" in the far future.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

EXCEL_EPOCH = datetime(1899, 12, 30, tzinfo=UTC)  # Excel's day 0, leap-year bug included
# The UTC offsets in use: from -12:00 (Baker Island) to +14:00 (the Line Islands).
EARLIEST_OFFSET = timedelta(hours=-12)
LATEST_OFFSET = timedelta(hours=14)
# Endpoint clocks drift; a time further ahead than this is a bug in the sender.
FUTURE_SLACK = timedelta(days=1)

_TIME = (
    r"(?:[ T,]+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<frac>\d{1,9}))?)?"
    r"\s*(?P<ampm>[AaPp][Mm])?)?"
    r"\s*(?P<tz>Z|UTC|GMT|[+-]\d{2}:?\d{2})?"
)
_ISO = re.compile(r"^(?P<y>\d{4})[-/](?P<mo>\d{1,2})[-/](?P<d>\d{1,2})" + _TIME + "$")
_NUMERIC = re.compile(
    r"^(?P<a>\d{1,2})(?P<sep>[/.\-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4})\.?" + _TIME + "$"
)
_SERIAL = re.compile(r"^\d{4,5}(?:\.\d+)?$")
# What most exports write (`2025-03-04 09:26:03.000`, no zone): a subset of _ISO that
# `datetime.fromisoformat` reads the same way, many times faster, on every row of a large file.
_PLAIN_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?$")


class DateError(ValueError):
    """The text is not a timestamp we can read."""


def _offset_text(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() / 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def offset_problem(offset: timedelta) -> str:
    """Why `offset` is not a UTC offset in use, naming the bounds; "" when it is."""
    if EARLIEST_OFFSET <= offset <= LATEST_OFFSET:
        return ""
    return (
        f"has UTC offset {_offset_text(offset)}, outside {_offset_text(EARLIEST_OFFSET)} "
        f"to {_offset_text(LATEST_OFFSET)}"
    )


def bounds_problem(when: datetime, now: datetime) -> str:
    """Why the aware time `when` cannot have happened by `now`, naming the bound; "" if it can.

    Its offset must be in use (`offset_problem`) and it may be at most FUTURE_SLACK ahead.
    """
    offset = when.utcoffset()
    if offset is not None and (problem := offset_problem(offset)):
        return problem
    if when - now > FUTURE_SLACK:
        hours = int(FUTURE_SLACK.total_seconds() // 3600)
        return f"is more than {hours} hours ahead of now ({now.astimezone(UTC):%Y-%m-%d %H:%M} UTC)"
    return ""


def date_order_hint(text: str) -> str | None:
    """`"dmy"` or `"mdy"` when this value can only be read one way, else None."""
    match = _NUMERIC.match(text.strip())
    if not match:
        return None
    a, b = int(match["a"]), int(match["b"])
    if a > 12 >= b:
        return "dmy"
    if b > 12 >= a:
        return "mdy"
    return None


def numeric_date_kind(text: str) -> str | None:
    """None for ISO, serial or unreadable values; else "dmy", "mdy", or the separator of an
    ambiguous date ("dot" or "slash")."""
    match = _NUMERIC.match(text.strip())
    if not match:
        return None
    return date_order_hint(text) or ("dot" if match["sep"] == "." else "slash")


def decide_day_first(values: Iterable[str], delimiter: str = ",") -> bool:
    """Decide the day/month order of a file's dates (see module docstring).

    Consumes `values` only while every date is ambiguous: the first unambiguous numeric date
    decides, and an ISO or serial date ends the question (those files have no order to guess).
    """
    saw_dot = False
    for text in values:
        raw = text.strip()
        if _ISO.match(raw) or _SERIAL.match(raw):
            return False
        kind = numeric_date_kind(raw)
        if kind in ("dmy", "mdy"):
            return kind == "dmy"
        saw_dot = saw_dot or kind == "dot"
    return saw_dot or delimiter == ";"


def parse_datetime(text: str, *, day_first: bool = False) -> datetime:
    """Parse one timestamp as UTC; a value without zone is taken as UTC, as exports write them."""
    raw = text.strip()
    if _PLAIN_ISO.match(raw):
        try:
            return datetime.fromisoformat(raw + "+00:00")
        except ValueError:
            pass  # an impossible date: the reading below says why
    if not raw:
        raise DateError("time is blank")
    if match := _ISO.match(raw):
        year, month, day = int(match["y"]), int(match["mo"]), int(match["d"])
    elif match := _NUMERIC.match(raw):
        a, b, year = int(match["a"]), int(match["b"]), int(match["y"])
        day, month = (a, b) if day_first else (b, a)
        if month > 12:
            order = "day-first" if day_first else "month-first (US)"
            raise DateError(f"{raw!r} contradicts this file's {order} dates")
    elif _SERIAL.match(raw):
        serial = float(raw)
        if not 1 <= serial < 2958466:
            raise DateError(f"{raw!r} is not an Excel date serial")
        return EXCEL_EPOCH + timedelta(days=serial)
    else:
        raise DateError(f"{raw!r} is not a date and time we can read")
    hour = int(match["h"] or 0)
    minute = int(match["mi"] or 0)
    second = int(match["s"] or 0)
    micro = int((match["frac"] or "0")[:6].ljust(6, "0"))
    if ampm := match["ampm"]:
        if not 1 <= hour <= 12:
            raise DateError(f"{raw!r} has an hour that does not fit AM/PM")
        hour = hour % 12 + (12 if ampm.lower() == "pm" else 0)
    try:
        value = datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)
    except ValueError as exc:
        raise DateError(f"{raw!r} is not a valid date: {exc}") from None
    zone = match["tz"]
    if zone and zone[0] in "+-":
        digits = zone[1:].replace(":", "")
        if int(digits[2:]) > 59:
            raise DateError(f"{raw!r} has an offset {zone} that is not hours and minutes")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        if zone[0] == "-":
            offset = -offset
        if problem := offset_problem(offset):
            raise DateError(f"{raw!r} {problem}")
        try:
            value -= offset
        except OverflowError:
            raise DateError(f"{raw!r} is out of range") from None
    return value
