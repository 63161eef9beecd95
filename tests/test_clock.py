"""tests/clock.py: in-process tests start at one moment; real-clock tests and bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from tests import clock
from tests.services import CeleryWorker


def config_with(now: str) -> SimpleNamespace:
    return SimpleNamespace(getoption=lambda name: now)


def test_a_test_starts_at_the_chosen_moment_and_the_clock_ticks_on(request, now):
    moment = clock.start_moment(request.config)
    if moment is None:
        pytest.skip("the clock is real here (--now=real)")
    assert now == moment == clock.anchored()
    assert moment <= timezone.now() < moment + timedelta(minutes=5)
    assert moment <= datetime.now(UTC) < moment + timedelta(minutes=5)


@pytest.mark.integration
def test_integration_tests_keep_the_real_clock(request, now):
    assert clock.anchored() is None
    if clock.start_moment(request.config) is not None:
        assert abs(timezone.now() - now) < timedelta(minutes=5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-01-01T00:05:00Z", datetime(2027, 1, 1, 0, 5, tzinfo=UTC)),
        ("2027-01-01T01:05:00+01:00", datetime(2027, 1, 1, 0, 5, tzinfo=UTC)),
        ("real", None),
    ],
)
def test_now_option_reads_an_aware_moment_or_real(text, expected):
    assert clock.start_moment(config_with(text)) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("yesterday", "'yesterday' is not an ISO 8601 moment or 'real'"),
        ("2027-01-01T00:05:00", "has no UTC offset"),
    ],
)
def test_a_bad_now_option_is_a_usage_error_naming_it(text, message):
    with pytest.raises(pytest.UsageError, match=message):
        clock.start_moment(config_with(text))


def test_a_worker_refuses_to_start_from_a_test_on_the_anchored_clock(tmp_path):
    if clock.anchored() is None:
        pytest.skip("the clock is real here (--now=real)")
    worker = CeleryWorker("redis://127.0.0.1:1/0", tmp_path / "worker.log")
    with pytest.raises(pytest.fail.Exception, match="must be marked integration"):
        worker.start()
    assert worker.process is None
