"""The same-file lock: a second import waits for the first, and keeps saying it is alive."""

import threading

import pytest

from fleet.ingest import same_file
from fleet.ingest.same_file import one_import_at_a_time
from tests.threads import run_at_once


@pytest.mark.django_db(transaction=True)
def test_an_import_waiting_for_the_same_file_keeps_its_heartbeat(monkeypatch, tenant):
    monkeypatch.setattr(same_file, "_WAITING_EVERY_SECONDS", 0.0)
    first_holds, waiter_beat, waiter_done = threading.Event(), threading.Event(), threading.Event()
    order: list[str] = []

    def first() -> None:
        with one_import_at_a_time(tenant.pk, "abc"):
            first_holds.set()
            waiter_beat.wait(30)  # held until the waiter has beaten at least once
            order.append("first done")

    def waiter() -> None:
        first_holds.wait(30)
        with one_import_at_a_time(tenant.pk, "abc", while_waiting=waiter_beat.set):
            order.append("waiter in")
        waiter_done.set()

    run_at_once(first, waiter, timeout=60)

    assert waiter_beat.is_set() and waiter_done.is_set()
    assert order == ["first done", "waiter in"]
