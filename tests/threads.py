"""Writer threads for the concurrency tests: calls that race each other on the database."""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

from django.db import connection


class Writers:
    """Run each call in a thread of its own, all released at once by a barrier.

    Every thread has its own database connection (Django's are per thread) and closes it when
    its call ends, as a worker would, so none outlives the test. What the calls return goes
    to `results` and what they raise to `errors` (with the traceback printed), both in the
    order they finished, for the test to assert on. As a context manager the threads start on
    entry and are joined on exit, so the test can work meanwhile (`while writers.running()`).
    """

    def __init__(self, *calls: Callable[[], Any], timeout: float = 120) -> None:
        self.timeout = timeout
        self.results: list[Any] = []
        self.errors: list[BaseException] = []
        self._start = threading.Barrier(len(calls))
        self._threads = [threading.Thread(target=self._run, args=(call,)) for call in calls]

    def _run(self, call: Callable[[], Any]) -> None:
        try:
            self._start.wait()
            self.results.append(call())
        except BaseException as exc:  # noqa: BLE001 - the test asserts on `errors`
            self.errors.append(exc)
            traceback.print_exc()  # pytest shows it with a failing test's captured output
        finally:
            connection.close()

    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def __enter__(self) -> Writers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        for thread in self._threads:
            thread.join(self.timeout)
        for thread in self._threads:
            if thread.is_alive():
                self.errors.append(
                    TimeoutError(f"{thread.name} did not finish in {self.timeout} s")
                )


def run_at_once(*calls: Callable[[], Any], timeout: float = 120) -> Writers:
    """Run `calls` at once, each in its own writer thread, and wait until all have finished."""
    with Writers(*calls, timeout=timeout) as writers:
        pass
    return writers
