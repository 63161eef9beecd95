"""Windows Update message texts from Microsoft's "error codes by component" page: in the catalog,
on the knowledge page, in the API and the decode command, and never over an [MS-ERREF] text."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from codes.catalog import load_catalog
from tests.codes.test_catalog import load_build_script
from tests.tools import WUERROR, require_tool

REPO = Path(__file__).resolve().parents[2]
EXTRACT = REPO / "scripts" / "sources" / "windows-update-error-reference.tsv"
COMMON_EXTRACT = REPO / "scripts" / "sources" / "windows-update-common-errors.tsv"
CANCELLED = 0x8024000B
CANCELLED_MESSAGE = "Operation was canceled."  # verbatim from the pinned page revision
BY_COMPONENT = "Microsoft, Windows Update error codes by component (CC BY 4.0)"


def extract_rows(path: Path = EXTRACT) -> list[tuple[int, str, str]]:
    return load_build_script().read_message_extract(path)


def test_call_cancelled_has_the_microsoft_message_and_its_source():
    entry = load_catalog().get(CANCELLED)
    assert (entry.name, entry.message) == ("WU_E_CALL_CANCELLED", CANCELLED_MESSAGE)
    assert entry.message_source == BY_COMPONENT
    assert "ms-wu-error-reference" in entry.listed_in


def test_at_least_200_wu_e_codes_have_a_message():
    with_message = [e for e in load_catalog() if e.name.startswith("WU_E_") and e.message]
    assert len(with_message) >= 200


def test_every_row_of_the_extract_reaches_the_catalog_under_its_name():
    catalog = load_catalog()
    rows = extract_rows() + extract_rows(COMMON_EXTRACT)
    assert len(rows) >= 250
    for value, name, message in rows:
        entry = catalog.get(value)
        assert entry is not None, hex(value)
        assert name in entry.names, (hex(value), name)
        if entry.message_source != "MS-ERREF":
            assert entry.message == message, hex(value)


def test_extract_holds_messages_not_description_prose():
    # One sentence or two per code, as the page's message cells are; no Markdown left over.
    for value, _name, message in extract_rows() + extract_rows(COMMON_EXTRACT):
        assert len(message) <= 200, hex(value)
        assert "`" not in message and "\\" not in message and "|" not in message, hex(value)


def test_extract_names_its_source_commit_and_licence():
    head = "".join(line for line in EXTRACT.read_text().splitlines(True) if line.startswith("#"))
    assert "MicrosoftDocs/windows-itpro-docs" in head
    assert "windows/deployment/update/windows-update-error-reference.md" in head
    assert "commit 19cb6c52a951d78b65acc836d5b9babf5e8d1620" in head
    assert "CC BY 4.0" in head


def test_catalog_attribution_names_the_licence_of_the_messages():
    data = json.loads(gzip.decompress((REPO / "codes/data/catalog.json.gz").read_bytes()))
    source = next(s for s in data["attribution"]["sources"] if s["id"] == "ms-wu-error-reference")
    assert source["licence"].startswith("CC BY 4.0")
    assert source["extract"] == "scripts/sources/windows-update-error-reference.tsv"


def test_extract_with_a_bad_row_is_refused_naming_file_and_line(tmp_path):
    bad = tmp_path / "extract.tsv"
    bad.write_text("# provenance\nhex\tname\tmessage\n0x8024000B\tWU_E_CALL_CANCELLED\n")
    with pytest.raises(ValueError, match=rf"{bad}:3: expected 3 non-empty"):
        extract_rows(bad)
    bad.write_text("hex\tname\tmessage\nzz\tWU_E_X\tText.\n")
    with pytest.raises(ValueError, match=rf"{bad}:2: 'zz' is not a hex code"):
        extract_rows(bad)


@pytest.fixture(scope="module")
def built_with_test_extracts(tmp_path_factory):
    """The real build script run on extracts that contradict [MS-ERREF] and the headers."""
    require_tool(WUERROR, "the build script reads the mingw-w64-common headers")
    sources = tmp_path_factory.mktemp("sources")
    header = "# test extract\nhex\tname\tmessage\n"
    (sources / "windows-update-error-reference.tsv").write_text(
        header
        + "0x80004005\tE_FAIL\tA page text that must not replace the MS-ERREF one.\n"
        + "0x8024000B\tWU_E_CANCELLED_ELSEWHERE\tCancelled, says the test extract.\n"
    )
    (sources / "windows-update-common-errors.tsv").write_text(header)
    out = sources / "catalog.json.gz"
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts/build_catalog.py"), "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "CATALOG_SOURCES": str(sources)},
    )
    assert done.returncode == 0, done.stderr
    codes = json.loads(gzip.decompress(out.read_bytes()))["codes"]
    return {code["v"]: code for code in codes}


def test_ms_erref_message_is_not_overwritten_by_a_page_message(built_with_test_extracts):
    e_fail = built_with_test_extracts[0x80004005]
    assert e_fail["message_source"] == "MS-ERREF"
    assert e_fail["message"] == load_catalog().get(0x80004005).message
    assert "must not replace" not in e_fail["message"]


def test_page_name_that_disagrees_with_the_header_becomes_another_name(built_with_test_extracts):
    cancelled = built_with_test_extracts[CANCELLED]
    assert cancelled["name"] == "WU_E_CALL_CANCELLED"
    assert "WU_E_CANCELLED_ELSEWHERE" in cancelled["others"]
    assert cancelled["message"] == "Cancelled, says the test extract."


def test_knowledge_page_shows_the_message_with_its_attribution(catalog, logged_in):
    html = logged_in.get("/codes/0x8024000B/").content.decode()
    assert f"<dd>{CANCELLED_MESSAGE} " in html
    assert f"(message text: {BY_COMPONENT})" in html


def test_api_gives_the_message_and_its_source(catalog, logged_in):
    data = logged_in.get("/api/v1/codes/0x8024000B").json()
    assert (data["message"], data["message_source"]) == (CANCELLED_MESSAGE, BY_COMPONENT)


@pytest.mark.django_db
def test_decode_command_json_gives_the_message_and_its_source():
    out = io.StringIO()
    call_command("decode", "0x8024000B", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert (data["message"], data["message_source"]) == (CANCELLED_MESSAGE, BY_COMPONENT)
