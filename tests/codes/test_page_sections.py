"""Other apps' sections of a code's knowledge page come from `KNOWLEDGE_PAGE_SECTIONS` alone:
the codes app shows what the setting lists, in its order, and nothing when it lists nothing."""

from __future__ import annotations

import pytest

from codes.page_sections import page_sections

CANCELLED = "/codes/0x8024000B/"
HERE = "tests.codes.test_page_sections"


def first_section(request, value: int) -> dict:
    return {"template": "first.html", "first": {"hex": f"0x{value:08X}"}}


def second_section(request, value: int) -> dict:
    return {"template": "second.html", "second": {"path": request.path}}


def test_sections_come_in_the_settings_order_with_their_context_merged(settings, rf):
    settings.KNOWLEDGE_PAGE_SECTIONS = [f"{HERE}.second_section", f"{HERE}.first_section"]
    templates, context = page_sections(rf.get(CANCELLED), 0x8024000B)
    assert templates == ["second.html", "first.html"]
    assert context == {"second": {"path": CANCELLED}, "first": {"hex": "0x8024000B"}}


def test_a_path_that_names_nothing_is_an_error_not_a_silent_gap(settings, rf):
    settings.KNOWLEDGE_PAGE_SECTIONS = [f"{HERE}.no_such_section"]
    with pytest.raises(ImportError):
        page_sections(rf.get(CANCELLED), 0x8024000B)


def test_without_sections_the_page_renders_without_the_fleet_panel(
    settings, catalog, client, operator
):
    client.force_login(operator)
    assert 'id="code-fleet-title"' in client.get(CANCELLED).content.decode()
    settings.KNOWLEDGE_PAGE_SECTIONS = []
    response = client.get(CANCELLED)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="code-fleet-title"' not in html
    assert 'id="decode-snippet"' in html and 'id="notes"' in html
