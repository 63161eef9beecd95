"""The PDF through the real Chromium (seconds each, so few): the command's must-show."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from pypdf import PdfReader

from fleet.reports.pdf import PdfError, html_to_pdf
from tests.tools import CHROMIUM, INSTALL_HINT

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no {CHROMIUM}: {INSTALL_HINT}"),
]


def pdf_text(data: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_the_command_writes_a_paginated_pdf_naming_tenant_code_title_and_period(fleet, tmp_path):
    output = tmp_path / "r.pdf"
    out = io.StringIO()
    call_command(
        "tenant_report", "acme", "--period", fleet.period.key, "--format", "pdf",
        "--output", str(output), stdout=out,
    )  # fmt: skip
    pages, text = pdf_text(output.read_bytes())
    assert pages >= 2  # the print stylesheet breaks before the codes section
    assert "Acme Corp" in text
    assert fleet.period.label in text and fleet.period.key in text
    assert "0x8024000B" in text and "Operation was cancelled" in text
    assert f"wrote {output}" in out.getvalue()


def test_a_timeout_ends_chromium_and_says_so(settings):
    with pytest.raises(PdfError, match="longer than"):
        html_to_pdf("<p>slow</p>", timeout=0.01)


def test_a_missing_chromium_is_named(settings, tenant, tmp_path):
    settings.CHROMIUM_PATH = "/nonexistent/chromium"
    with pytest.raises(CommandError, match="no Chromium"):
        call_command("tenant_report", "acme", "--output", str(tmp_path / "r.pdf"))
