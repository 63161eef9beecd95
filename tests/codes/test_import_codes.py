"""`manage.py import_codes`: the catalog and curated files land in the database, idempotently."""

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from codes.catalog import load_catalog
from codes.catalog_import import import_codes
from codes.knowledge import FAMILY_SLUGS, load_curated_codes
from codes.models import CodeFamily, ErrorCode, RunbookNote
from tests.tools import WUERROR, has_tool

pytestmark = pytest.mark.django_db
REPO = Path(__file__).resolve().parents[2]


def run() -> str:
    out = StringIO()
    call_command("import_codes", stdout=out)
    return out.getvalue()


def test_import_fills_the_catalog_with_names_messages_and_every_wu_e_code():
    output = run()
    assert "Imported" in output
    named = ErrorCode.objects.exclude(name="")
    # The full Windows SDK headers (issue 17), not the mingw-w64 subset (about 8,900).
    assert named.values("value").distinct().count() >= 12000
    assert ErrorCode.objects.exclude(message="").count() >= 5000
    names = set(named.values_list("name", flat=True))
    for other in ErrorCode.objects.exclude(other_names=[]).values_list("other_names", flat=True):
        names.update(other)
    wu_e = {n for n in names if n.startswith("WU_E_")}
    assert len(wu_e) == 458  # 447 in mingw-w64's wuerror.h, 11 more in the SDK's
    if has_tool(WUERROR, "to compare the imported names with it"):
        assert set(re.findall(r"#define\s+(WU_E_\w+)", WUERROR.read_text())) <= wu_e
    sdk = (REPO / "scripts/sources/windows-sdk/wuerror.h.tsv").read_text()
    assert set(re.findall(r"\t(WU_E_\w+)\t", sdk)) <= wu_e


def test_import_creates_every_family_with_its_texts():
    run()
    assert set(CodeFamily.objects.values_list("slug", flat=True)) == set(FAMILY_SLUGS)
    wu = CodeFamily.objects.get(slug="windows-update")
    assert wu.where_logged and wu.troubleshooting and wu.decode_snippet and wu.summary


def test_curated_code_row_has_knowledge_and_operator_severity():
    run()
    row = ErrorCode.objects.select_related("family").get(value=0x8024000B)
    assert (row.name, row.family.slug, row.severity) == (
        "WU_E_CALL_CANCELLED",
        "windows-update",
        "warning",
    )
    assert row.curated and row.title and row.description and row.causes and row.steps
    assert row.faq and all({"q", "a"} == set(item) for item in row.faq)
    assert row.severity_override == "warning"


def test_curated_codes_missing_from_the_catalog_still_get_a_row():
    run()
    setup = ErrorCode.objects.get(value=0xC1900101)
    assert setup.curated and setup.family.slug == "setup"
    wrapped = ErrorCode.objects.get(value=0x80070002)
    assert wrapped.name == "ERROR_FILE_NOT_FOUND"
    assert wrapped.message == "The system cannot find the file specified."


def test_reimport_changes_nothing_and_issues_no_query_per_row():
    run()
    first = ErrorCode.objects.count()
    with CaptureQueriesContext(connection) as queries:
        run()
    rows = len({e.value for e in load_catalog()} | set(load_curated_codes()))
    assert ErrorCode.objects.count() == first == rows
    # Batched upserts (SQLite caps parameters per statement, so batches are smaller there):
    # at least twenty rows per statement, never one statement per row.
    assert len(queries) < rows / 20


def test_reimport_keeps_operator_edits_to_fields_the_files_do_not_own():
    run()
    ErrorCode.objects.filter(value=0x80240010).update(
        description="Seen at Contoso after proxy changes.", severity_override="warning"
    )
    note = RunbookNote.objects.create(code=0x80240010, body="Call the proxy team.")
    run()
    row = ErrorCode.objects.get(value=0x80240010)
    assert row.description == "Seen at Contoso after proxy changes."
    assert (row.severity_override, row.severity) == ("warning", "warning")
    assert row.name == "WU_E_TOO_DEEP_RELATION"
    assert RunbookNote.objects.get(pk=note.pk).body == "Call the proxy team."


def test_reimport_restores_fields_owned_by_the_catalog_and_curated_files():
    run()
    ErrorCode.objects.filter(value=0x8024000B).update(
        name="WRONG", description="Overwritten", severity="error"
    )
    run()
    row = ErrorCode.objects.get(value=0x8024000B)
    assert row.name == "WU_E_CALL_CANCELLED"
    assert row.description == load_curated_codes()[0x8024000B].description
    assert row.severity == "warning"


def test_removing_a_curated_file_drops_its_override_on_the_next_import():
    run()
    curated = dict(load_curated_codes())
    del curated[0x8024000B]
    import_codes(curated=curated)
    row = ErrorCode.objects.get(value=0x8024000B)
    assert not row.curated
    assert row.severity_override == ""
    assert row.severity == "error"  # the windows-update family default


def test_curated_name_that_belongs_to_another_value_is_reported(tmp_path):
    from dataclasses import replace

    curated = dict(load_curated_codes())
    curated[0x8024A105] = replace(curated[0x8024A105], name="WU_E_AU_NO_REGISTERED_SERVICE")
    result = import_codes(curated=curated)
    assert any("belongs to 0x8024A005" in warning for warning in result.warnings)
