"""tests/threads.py: writer threads start together, report what they did, and clean up."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from tests.threads import Writers, run_at_once


def test_the_calls_run_at_the_same_time():
    # Each call waits for the other: run one after the other, both would break the barrier.
    meet = threading.Barrier(2, timeout=10)

    def call() -> str:
        meet.wait()
        return "met"

    writers = run_at_once(call, call)

    assert writers.errors == []
    assert writers.results == ["met", "met"]


def test_an_error_is_kept_for_the_test_and_the_other_calls_still_finish(capsys):
    def fails() -> None:
        raise ValueError("no such device")

    writers = run_at_once(fails, lambda: 7)

    assert writers.results == [7]
    assert [type(error) for error in writers.errors] == [ValueError]
    assert "ValueError: no such device" in capsys.readouterr().err


@pytest.mark.django_db(transaction=True)
def test_each_thread_closes_its_own_database_connection():
    used = []

    def query() -> None:
        connections["default"].ensure_connection()
        used.append(connections["default"])

    writers = run_at_once(query)

    assert writers.errors == []
    assert used[0] is not connections["default"]  # the thread had a connection of its own
    assert used[0].connection is None  # and closed it


def test_the_test_works_while_the_writers_run_and_they_are_joined_on_exit():
    release = threading.Event()

    with Writers(lambda: release.wait(10)) as writers:
        assert writers.running()
        release.set()

    assert not writers.running()
    assert writers.results == [True]


def test_a_call_that_outlives_the_timeout_is_reported():
    release = threading.Event()
    try:
        writers = run_at_once(lambda: release.wait(10), timeout=0.05)
    finally:
        release.set()

    assert [type(error) for error in writers.errors] == [TimeoutError]
    assert "did not finish in 0.05 s" in str(writers.errors[0])
