"""The knowledge pages in real headless Chromium: search, open a code, add a note.

Screenshots land in `test-artifacts/codes/` for CI to keep.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.browser import chromium
from tests.factories import TenantFactory, UserFactory
from tests.tools import CHROMIUM

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "codes"
PASSWORD = "correct horse battery staple"  # the UserFactory password
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.needs_tool(CHROMIUM, "Debian's chromium drives the browser tests"),
]


@pytest.fixture
def tab(monkeypatch, live_server):
    call_command("import_codes", stdout=io.StringIO())
    TenantFactory(slug="acme", name="Acme Corp").operators.add(UserFactory(username="olivia"))
    with chromium(monkeypatch, CHROMIUM_ARGS) as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.errors, page.dialogs = [], []
        page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
        page.goto(f"{live_server.url}/login/?next=/codes/")
        page.fill("input[name=username]", "olivia")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit], input[type=submit]")
        page.wait_for_url("**/codes/")
        yield page


def test_search_open_code_page_and_add_a_note(tab):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.fill("input[name=q]", "-2145124341")
    tab.click("form[role=search] button")
    tab.wait_for_url("**/codes/?q=*")
    tab.click("table a[href='/codes/0x8024000B/']")
    tab.wait_for_url("**/codes/0x8024000B/")
    assert "WU_E_CALL_CANCELLED" in tab.title()
    for section in ["Description", "Common causes", "Troubleshooting steps", "FAQ"]:
        assert tab.locator("h2", has_text=section).first.is_visible(), section
    assert tab.locator("#code-fleet-title").is_visible()
    tab.screenshot(path=str(ARTIFACTS / "code-page.png"), full_page=True)

    tab.fill("textarea[name=body]", "<img src=x onerror=alert(1)> restart BITS first")
    # Her only tenant is picked for her; the note is shown to that tenant's operators.
    assert tab.locator("#notes select[name=tenant] option:checked").inner_text() == "Acme Corp"
    tab.click("#notes button[type=submit]")
    tab.wait_for_url("**/codes/0x8024000B/#notes")
    note = tab.locator(".notes li").first
    assert "<img src=x onerror=alert(1)> restart BITS first" in note.inner_text()
    assert note.locator(".note-tenant").inner_text() == "Acme Corp"
    assert note.locator("img").count() == 0
    assert tab.dialogs == []
    assert tab.errors == []
    tab.screenshot(path=str(ARTIFACTS / "code-page-note.png"), full_page=True)


def test_uncatalogued_and_malformed_codes(tab, live_server):
    tab.goto(f"{live_server.url}/codes/0x8024eeee/")
    assert tab.url.endswith("/codes/0x8024EEEE/")
    assert tab.locator("text=not in our catalog").is_visible()
    response = tab.goto(f"{live_server.url}/codes/not-a-code/")
    assert response.status == 404
    assert tab.locator("h1", has_text="Not an error code").is_visible()
