"""The dashboards in real headless Chromium (Debian's `chromium`), driven by Playwright.

Screenshots land in `test-artifacts/dashboards/` for CI to keep.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser import chromium
from tests.tools import CHROMIUM

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboards"
PASSWORD = "correct horse battery staple"  # the UserFactory password
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.needs_tool(CHROMIUM, "Debian's chromium drives the browser tests"),
]


@pytest.fixture
def browser(monkeypatch):
    with chromium(monkeypatch, CHROMIUM_ARGS) as launched:
        yield launched


class Page:
    """A logged-in browser tab that records console errors and uncaught exceptions."""

    def __init__(self, browser, base_url: str):
        self.base_url = base_url
        self.tab = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.errors: list[str] = []
        self.tab.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.tab.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def login(self, username: str) -> None:
        self.tab.goto(f"{self.base_url}/login/")
        self.tab.fill("#id_username", username)
        self.tab.fill("#id_password", PASSWORD)
        self.tab.click("form.login button[type=submit]")
        self.tab.wait_for_url(f"{self.base_url}/")

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_overview_draws_every_chart_and_top_code_bar_opens_its_knowledge_page(
    browser, live_server, demo_fleet, operator
):
    page = Page(browser, live_server.url)
    page.login(operator.username)
    tab = page.tab

    # Each chart is drawn by plotly.js (served from our static files) into an SVG.
    for name in ("occurrences_over_time", "top_codes", "code_heatmap", "top_devices"):
        tab.wait_for_selector(f"#chart-{name}[data-rendered=true] .main-svg", timeout=15_000)
    assert tab.locator("[data-rendered=true]").count() == 4
    page.screenshot("overview")
    assert page.errors == []

    # The top bar is 0x8024000B (largest on top); plotly hit-tests clicks by position.
    first_bar = tab.locator("#chart-top_codes .bars .point path").first
    box = first_bar.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    tab.mouse.move(x, y)
    with tab.expect_navigation(url=re.compile(r"/codes/0x8024000B/\?"), timeout=10_000):
        tab.mouse.click(x, y)
    assert "0x8024000B" in tab.locator("h1").inner_text()
    # The knowledge page carries the fleet trend for the same filter.
    tab.wait_for_selector("#chart-code_trend[data-rendered=true] .main-svg", timeout=15_000)
    page.screenshot("code_page")
    assert page.errors == []


def test_operator_sees_only_granted_tenant_in_browser(browser, live_server, demo_fleet, operator):
    page = Page(browser, live_server.url)
    page.login(operator.username)
    tab = page.tab
    tab.wait_for_selector("#chart-top_devices[data-rendered=true] .main-svg", timeout=15_000)
    # Hostnames show in the drawn chart and its table: the other tenant's never do.
    chart_text = tab.locator("#chart-top_devices").inner_text()
    assert "ACME-000" in chart_text
    body = tab.content()
    assert "GLOBEX-" not in body
    assert "Globex" not in body
    page.screenshot("operator_overview")

    # A top-device bar opens that device's page, whose timeline is drawn too.
    first_bar = tab.locator("#chart-top_devices .bars .point path").first
    box = first_bar.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    tab.mouse.move(x, y)
    with tab.expect_navigation(url=re.compile(r"/devices/\d+/\?"), timeout=10_000):
        tab.mouse.click(x, y)
    tab.wait_for_selector("#chart-device_timeline[data-rendered=true] .main-svg", timeout=15_000)
    assert tab.locator("h1").inner_text() == "ACME-000"
    page.screenshot("device_page")
    assert page.errors == []

    other_device = demo_fleet["there"][0]
    response = tab.goto(f"{live_server.url}/devices/{other_device.pk}/")
    assert response.status == 404
    response = tab.goto(f"{live_server.url}/tenants/globex/")
    assert response.status == 404
    # The CSV download, fetched with the browser's own session cookie.
    download = tab.request.get(f"{live_server.url}/charts/top_devices.csv?range=7d")
    assert download.status == 200
    assert "ACME-000" in download.text()
    assert "GLOBEX-" not in download.text()


def test_superuser_sees_every_tenant_in_browser(browser, live_server, demo_fleet, superuser):
    page = Page(browser, live_server.url)
    page.login("root")
    tab = page.tab
    tab.wait_for_selector("#chart-top_devices[data-rendered=true] .main-svg", timeout=15_000)
    chart_text = tab.locator("#chart-top_devices").inner_text()
    assert "ACME-000" in chart_text
    assert "GLOBEX-000" in chart_text
    page.screenshot("superuser_overview")
    assert page.errors == []


def test_a_time_series_bar_points_and_opens_its_day_and_dark_mode_draws(
    browser, live_server, demo_fleet, operator
):
    page = Page(browser, live_server.url)
    page.login(operator.username)
    tab = page.tab
    tab.wait_for_selector("#chart-occurrences_over_time[data-rendered=true] .main-svg")
    bar = tab.locator("#chart-occurrences_over_time .bars .point path").last
    box = bar.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    tab.mouse.move(x, y)
    tab.wait_for_selector("#chart-occurrences_over_time.pointing", timeout=5_000)
    hover = tab.locator("#chart-occurrences_over_time .hoverlayer").text_content()
    assert "Total" in hover and "click: this day" in hover  # the total, beside each part
    with tab.expect_navigation(url=re.compile(r"/\?range=custom&from=[\d-]+&to=[\d-]+")):
        tab.mouse.click(x, y)
    assert tab.locator("#id_from, [name=from]").first.input_value()
    # Keyboard focus is visible: a focused link has an outline.
    tab.keyboard.press("Tab")
    outline = tab.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    assert page.errors == []

    tab.emulate_media(color_scheme="dark")
    tab.goto(f"{live_server.url}/")
    tab.wait_for_selector("#chart-top_codes[data-rendered=true] .main-svg")
    background = tab.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(20, 23, 28)"
    paper = tab.locator("#chart-top_codes .main-svg").first.evaluate("e => e.style.background")
    assert paper in ("rgba(0, 0, 0, 0)", "transparent")
    page.screenshot("overview_dark")
    assert page.errors == []
