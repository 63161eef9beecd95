"""Search: a code in any notation is an exact lookup; anything else matches names and words."""

from __future__ import annotations

import pytest

from codes.models import ErrorCode
from codes.search import search_codes


@pytest.fixture
def entries(db):
    rows = [
        ErrorCode(value=0x8024000B, name="WU_E_CALL_CANCELLED", title="Operation was cancelled"),
        ErrorCode(value=0x8024002F, name="WU_E_CALL_CANCELLED_BY_POLICY"),
        ErrorCode(value=0x8024400B, name="WU_E_PT_SOAP_VERSION"),
        ErrorCode(
            value=0x800705B4,
            name="ERROR_TIMEOUT",
            message="This operation returned because the timeout period expired.",
        ),
        ErrorCode(
            value=0x80072EE2, name="ERROR_WINHTTP_TIMEOUT", message="The operation timed out."
        ),
        ErrorCode(
            value=0x643, name="ERROR_INSTALL_FAILURE", message="Fatal error during installation."
        ),
        ErrorCode(
            value=0x80070005,
            name="ERROR_ACCESS_DENIED",
            other_names=["E_ACCESSDENIED"],
            message="Access is denied.",
        ),
    ]
    ErrorCode.objects.bulk_create(rows)
    return rows


def hexes(result) -> list[str]:
    return [code.hex for code in result.codes]


@pytest.mark.parametrize(
    "query",
    ["0x8024000B", "0x8024000b", "8024000B", "-2145124341", "2149842955", " 0x8024000B "],
)
def test_every_notation_finds_exactly_that_code(entries, query):
    result = search_codes(query)
    assert result.code is not None and result.code.hex == "0x8024000B"
    assert hexes(result) == ["0x8024000B"]


def test_small_decimal_is_read_as_a_win32_code(entries):
    assert hexes(search_codes("1603")) == ["0x00000643"]


def test_valid_code_outside_the_catalog_is_recognised_but_lists_nothing(entries):
    result = search_codes("0x8024EEEE")
    assert result.code.hex == "0x8024EEEE"
    assert hexes(result) == []


def test_exact_name_comes_before_longer_names_with_the_same_prefix(entries):
    assert hexes(search_codes("WU_E_CALL_CANCELLED")) == ["0x8024000B", "0x8024002F"]
    assert hexes(search_codes("wu_e_call_cancelled_by")) == ["0x8024002F"]


def test_name_prefix_and_fragment(entries):
    assert hexes(search_codes("WU_E_PT")) == ["0x8024400B"]
    assert set(hexes(search_codes("TIMEOUT"))) == {"0x800705B4", "0x80072EE2"}


def test_other_names_are_searched_after_primary_names(entries):
    assert hexes(search_codes("E_ACCESSDENIED")) == ["0x80070005"]
    assert hexes(search_codes("ACCESS")) == ["0x80070005"]


def test_words_match_the_name_as_well(entries):
    assert hexes(search_codes("call cancelled")) == ["0x8024000B", "0x8024002F"]


def test_message_words_must_all_appear(entries):
    assert hexes(search_codes("timed out")) == ["0x80072EE2"]
    assert hexes(search_codes("access denied")) == ["0x80070005"]
    assert hexes(search_codes("access timed")) == []


def test_title_words_are_searched(entries):
    assert hexes(search_codes("operation was cancelled")) == ["0x8024000B"]


def test_empty_query_lists_everything_by_value(entries):
    assert hexes(search_codes("")) == sorted(hexes(search_codes("")), key=lambda h: int(h, 16))
    assert search_codes("").codes.count() == len(entries)


def test_curated_only(entries):
    ErrorCode.objects.filter(value=0x8024000B).update(curated=True)
    assert hexes(search_codes("", curated_only=True)) == ["0x8024000B"]
    assert hexes(search_codes("WU_E_CALL", curated_only=True)) == ["0x8024000B"]


def test_nonsense_finds_nothing(entries):
    assert hexes(search_codes("flibbertigibbet")) == []
    assert hexes(search_codes("%%%")) == []


@pytest.mark.parametrize(
    "query", ["0x8024000B", "-2145124341", "2149842955", "WU_E_CALL_CANCELLED", "cancelled"]
)
def test_list_page_search(entries, logged_in, query):
    html = logged_in.get("/codes/", {"q": query}).content.decode()
    assert 'href="/codes/0x8024000B/"' in html
    assert "WU_E_PT_SOAP_VERSION" not in html


def test_list_page_offers_the_page_of_an_uncatalogued_code(entries, logged_in):
    html = logged_in.get("/codes/", {"q": "0x8024eeee"}).content.decode()
    assert "is not in the catalog" in html
    assert 'href="/codes/0x8024EEEE/"' in html


def test_list_page_escapes_the_query(entries, logged_in):
    html = logged_in.get("/codes/", {"q": "<b>x</b>"}).content.decode()
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


def test_list_page_is_paginated_and_keeps_the_query(db, logged_in):
    ErrorCode.objects.bulk_create(
        [ErrorCode(value=0x80240000 + n, name=f"WU_E_TEST_{n:03d}") for n in range(120)]
    )
    first = logged_in.get("/codes/", {"q": "WU_E_TEST"}).content.decode()
    assert "Page 1 of 3" in first and "q=WU_E_TEST&amp;page=2" in first
    third = logged_in.get("/codes/", {"q": "WU_E_TEST", "page": 3}).content.decode()
    assert "WU_E_TEST_119" in third and "WU_E_TEST_000" not in third
    # A page number past the end shows the last page rather than an error.
    assert logged_in.get("/codes/", {"page": 999}).status_code == 200


def test_list_page_query_count_is_fixed(db, logged_in, django_assert_max_num_queries):
    ErrorCode.objects.bulk_create([ErrorCode(value=n, name=f"ERROR_{n}") for n in range(1, 200)])
    # Session, user, count, page: the family names come in the same query (select_related).
    with django_assert_max_num_queries(4):
        logged_in.get("/codes/", {"q": "ERROR"})
