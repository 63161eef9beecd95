"""Every test starts at one fixed moment, so none can pass or fail by the time of day.

The default moment is a hostile one: a quarter of an hour before midnight UTC on the last day
of a year, so rows dated "a few minutes ahead" land in the next day, month and year, past the
end of any window made of whole days. `--now` (or $FLEET_TEST_NOW) picks another moment: CI
runs its PostgreSQL pass at another; `--now=real` runs on the machine's clock.

The clock is moved with time-machine, which reaches this process only (its threads too, such
as live_server's), not a subprocess. Tests marked `integration` (a Celery worker reads the
clock in its own process) or `browser` (Chromium keeps cookies by its own clock) therefore
keep the real clock, and must build their data relative to it without crossing an edge.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine

DEFAULT_NOW = "2026-12-31T23:45:00+00:00"
# Markers of tests whose other processes read the clock: they keep the real one.
REAL_CLOCK_MARKERS = ("integration", "browser")

_anchored: datetime | None = None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--now",
        default=os.environ.get("FLEET_TEST_NOW", DEFAULT_NOW),
        help="the UTC moment every test starts at (ISO 8601), or 'real' for the machine's "
        f"clock; default $FLEET_TEST_NOW or {DEFAULT_NOW}",
    )


def start_moment(config: pytest.Config) -> datetime | None:
    """The `--now` moment as an aware datetime, or None for the real clock."""
    text = config.getoption("--now").strip()
    if text == "real":
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise pytest.UsageError(f"--now: {text!r} is not an ISO 8601 moment or 'real'") from None
    if moment.tzinfo is None:
        raise pytest.UsageError(f"--now: {text!r} has no UTC offset (add Z or +00:00)")
    return moment.astimezone(UTC)


def pytest_configure(config: pytest.Config) -> None:
    start_moment(config)  # a bad --now is a usage error before collection, not 100 errors


def pytest_report_header(config: pytest.Config) -> str:
    moment = start_moment(config)
    if moment is None:
        return "clock: real (--now=real)"
    return f"clock: each test starts at {moment.isoformat()} (--now; real for integration/browser)"


def anchored() -> datetime | None:
    """The moment this process's clock was moved to for the running test, if it was."""
    return _anchored


@pytest.fixture(autouse=True)
def anchored_clock(request: pytest.FixtureRequest) -> Iterator[datetime | None]:
    """Move this process's clock to the start moment for the test (it ticks on from there)."""
    global _anchored
    moment = start_moment(request.config)
    if moment is None or any(request.node.get_closest_marker(m) for m in REAL_CLOCK_MARKERS):
        yield None
        return
    with time_machine.travel(moment, tick=True):
        _anchored = moment
        try:
            yield moment
        finally:
            _anchored = None


@pytest.fixture
def now(anchored_clock: datetime | None) -> datetime:
    """The test's "now": the start moment, or the real time for a real-clock test."""
    return anchored_clock or datetime.now(UTC)
