"""Where the knowledge page's family texts come from: one `CuratedFamily`, from a row or a file."""

import pytest

from codes.knowledge import CuratedFamily, load_families
from codes.knowledge_page import curated_family, knowledge_page
from codes.models import CodeFamily

pytestmark = pytest.mark.django_db


def test_without_an_import_the_committed_file_is_the_family():
    family = curated_family("bits")

    assert family is load_families()["bits"]
    assert family.summary and family.troubleshooting and family.decode_snippet


def test_the_imported_row_is_read_when_there_is_one():
    CodeFamily.objects.create(
        slug="bits", name="BITS (as imported)", default_severity="warning", summary="From the row."
    )

    family = curated_family("bits")

    assert isinstance(family, CuratedFamily)
    assert (family.name, family.default_severity, family.summary) == (
        "BITS (as imported)",
        "warning",
        "From the row.",
    )
    assert family.where_logged == "" and family.path is None


def test_a_family_with_neither_row_nor_file_is_its_slug_with_no_texts():
    family = curated_family("no-such-family")

    assert family == CuratedFamily("no-such-family", "no-such-family", default_severity="error")
    assert family.summary == family.troubleshooting == family.decode_snippet == ""


def test_the_page_carries_the_family_of_its_code():
    page = knowledge_page(0x8024000B)

    assert page.family == load_families()["windows-update"]
    assert "0x8024000B" in page.decode_snippet
