"""Hostile names in real Chromium: no script runs, and the pages break no Content-Security-Policy
rule (plotly.js included)."""

from __future__ import annotations

import pytest

from tests.browser import chromium
from tests.security.hostile import pages
from tests.tools import CHROMIUM

PASSWORD = "correct horse battery staple"  # the UserFactory password

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.needs_tool(CHROMIUM, "Debian's chromium drives the browser tests"),
]


@pytest.fixture
def browser(monkeypatch):
    with chromium(monkeypatch, ["--no-sandbox", "--disable-gpu"]) as launched:
        yield launched


def test_hostile_names_never_run_and_pages_keep_to_the_policy(browser, live_server, hostile_fleet):
    tab = browser.new_page(viewport={"width": 1400, "height": 1000})
    dialogs: list[str] = []
    problems: list[str] = []
    tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda exc: problems.append(str(exc)))
    tab.goto(f"{live_server.url}/login/")
    tab.fill("#id_username", "olga")
    tab.fill("#id_password", PASSWORD)
    tab.click("form.login button[type=submit]")
    tab.wait_for_url(f"{live_server.url}/")

    for url in pages(hostile_fleet):
        tab.goto(live_server.url + url)
        tab.wait_for_load_state("load")
        # The charts are drawn (plotly.js ran under the policy) ...
        for plot in tab.locator("[data-figure]").all():
            plot.locator("svg.main-svg").first.wait_for(timeout=15_000)
        # ... and hovering the hostile device bar shows its label without running it.
        bars = tab.locator("#chart-top_devices .bars path")
        if bars.count():
            box = bars.first.bounding_box()
            tab.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            tab.locator("#chart-top_devices .hoverlayer .hovertext").wait_for()
        assert dialogs == [], url
    assert problems == []
    # The page text shows the markup as text.
    tab.goto(f"{live_server.url}/devices/{hostile_fleet['device'].pk}/?range=7d")
    assert "<script>alert(1)</script>" in tab.locator("h1").inner_text()
