"""The queue's bulk form and the flag page's chart in real headless Chromium."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from fleet.aggregate import aggregate_pending
from fleet.triage.models import TriageEvent
from tests.browser import chromium
from tests.dashboards.test_browser import CHROMIUM_ARGS, PASSWORD
from tests.factories import DeviceFactory, emit
from tests.fleet.triage.factories import spike
from tests.tools import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.needs_tool(CHROMIUM, "Debian's chromium drives the browser tests"),
]


@pytest.fixture
def browser(monkeypatch):
    with chromium(monkeypatch, CHROMIUM_ARGS) as launched:
        yield launched


def test_bulk_acknowledge_in_the_browser_and_the_flag_chart_draws(
    browser, live_server, tenant, operator
):
    flag = spike(tenant=tenant, code=0x8024000B, baseline_24h=24.0)
    emit(DeviceFactory(tenant=tenant), flag.code, [timezone.now() - timedelta(hours=2)] * 3)
    aggregate_pending()
    tab = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.goto(f"{live_server.url}/login/")
    tab.fill("#id_username", operator.username)
    tab.fill("#id_password", PASSWORD)
    tab.click("form.login button[type=submit]")
    tab.wait_for_url(f"{live_server.url}/")

    tab.goto(f"{live_server.url}/triage/")
    tab.check(f"input[name=flag][value='{flag.pk}']")
    with tab.expect_navigation():
        tab.click("form#bulk button[value=acknowledge]")

    flag.refresh_from_db()
    assert flag.state == "acknowledged"
    assert TriageEvent.objects.get(flag=flag).user == operator
    tab.goto(f"{live_server.url}/triage/{flag.pk}/")
    tab.wait_for_selector("#chart-baseline[data-rendered=true] .main-svg", timeout=15_000)
    assert errors == []
