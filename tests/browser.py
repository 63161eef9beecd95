"""Headless Chromium for the browser tests, through Playwright's sync API."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from django.db import connections

from tests.tools import CHROMIUM


@contextlib.contextmanager
def chromium(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> Iterator:
    """A launched Chromium; the test and its fixtures may use the ORM while it is open.

    Playwright's sync API keeps an event loop running in this thread. Django then files the
    database connections opened meanwhile apart from the thread's own (asgiref's Local, as
    for async code), so closing the thread's connections at the end misses them: on
    PostgreSQL the one left open made dropping the test database fail ("being accessed by
    other users"). They are closed here, before the loop stops.
    """
    # The test's own ORM calls are still plain synchronous code, so Django's async-safety
    # check does not apply to them.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            yield launched
        finally:
            launched.close()
            connections.close_all()
