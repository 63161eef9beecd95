"""Text that arrives from endpoints and imports is shown as text on every page that shows it,
including inside the plotly figure JSON embedded in the pages."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest

from fleet.models import Tenant
from tests.security.hostile import ESCAPED, HOSTILE, RAW, pages

pytestmark = pytest.mark.django_db

JSON_BLOCK = re.compile(r'<script id="([^"]+)" type="application/json">(.*?)</script>', re.S)


def _assert_safe(url: str, html: str) -> None:
    for raw in RAW:
        assert raw not in html, f"{url} shows {raw!r} unescaped"
    for element_id, text in JSON_BLOCK.findall(html):
        # The block ends where we meant it to: its content is whole JSON with no "<".
        assert "<" not in text, f"{url}: {element_id} could close its <script> early"
        json.loads(text)


def test_every_page_showing_imported_text_escapes_it(hostile_fleet):
    client = hostile_fleet["client"]
    for url in pages(hostile_fleet):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        _assert_safe(url, html)
        assert ESCAPED in html, f"{url} does not show the hostile text at all (nothing tested)"


def test_plotly_figures_carry_the_text_as_json_data_not_markup(hostile_fleet):
    html = hostile_fleet["client"].get("/tenants/evil/?range=7d").content.decode()
    figures = [json.loads(text) for _, text in JSON_BLOCK.findall(html)]
    assert figures, "the page embeds no figure"
    assert any(HOSTILE in text for text in _strings(figures))


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def test_search_and_invalid_code_pages_echo_the_query_escaped(hostile_fleet):
    client = hostile_fleet["client"]
    for url in (f"/codes/?q={quote(HOSTILE)}", f"/codes/{quote(HOSTILE, safe='')}/"):
        response = client.get(url)
        assert response.status_code in (200, 404), url
        _assert_safe(url, response.content.decode())


def test_alert_email_html_escapes_tenant_and_rule_names(hostile_fleet):
    from django.template.loader import render_to_string

    item = {
        "tenant": Tenant.objects.get(slug="evil"),
        "hex": "0x8024000B",
        "name": HOSTILE,
        "rule": {"name": HOSTILE},
        "firing": {"occurrences": 6, "devices": 1, "window_hours": 24},
        "knowledge_url": "https://fleet.example.com/codes/0x8024000B/",
        "flag_url": "https://fleet.example.com/triage/",
    }
    html = render_to_string("fleet/emails/alert_body.html", {"count": 1, "items": [item]})
    for raw in RAW:
        assert raw not in html
    assert html.count(ESCAPED) == 3  # tenant, code name, rule
