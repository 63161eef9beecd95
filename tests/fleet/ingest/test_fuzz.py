"""The importer on hostile files: a clear failure or rejected rows with line numbers, never a
traceback and never rows that vanish without a word.

Every row the reader yields ends up created, a duplicate, a success row or rejected, so
`rows == created + duplicates + success_rows + rejected_count` after any import that finishes;
an import that cannot finish is `failed` with a message.
"""

from __future__ import annotations

import codecs
import csv

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.html import escape
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fleet.ingest import dates
from fleet.ingest.importer import ImportFailed, import_file
from fleet.ingest.models import ImportRecord
from fleet.models import Occurrence
from tests.factories import client_for

pytestmark = pytest.mark.django_db

HEADER = "MachineName,LastEnforcementTime,ErrorCode"
GOOD = "PC-{n},2025-02-12 10:{m:02d}:00,0x8024000B"
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def run(tenant, tmp_path):
    """Import `content` (bytes); return the record, checking the no-silent-loss invariants."""
    counter = iter(range(10**6))

    def run_import(content: bytes) -> ImportRecord:
        path = tmp_path / f"fuzz-{next(counter)}.csv"
        path.write_bytes(content)
        before = Occurrence.objects.count()
        try:
            record, summary = import_file(path, tenant)
        except ImportFailed as exc:
            record = ImportRecord.objects.latest("pk")
            assert record.status == ImportRecord.Status.FAILED
            assert record.error and str(exc) == record.error
            # A failure after some batches says so; before any batch nothing is stored.
            stored = Occurrence.objects.filter(import_record=record).count()
            assert stored == Occurrence.objects.count() - before
            return record
        assert record.status == ImportRecord.Status.DONE
        accounted = summary.created + summary.duplicates + summary.success_rows
        assert summary.rows == accounted + summary.rejected_count
        assert Occurrence.objects.count() - before == summary.created
        for reject in record.rejected:
            assert isinstance(reject["line"], int) and reject["line"] >= 2
            assert reject["reason"]
        return record

    return run_import


def _export(*rows: str, newline: str = "\n") -> str:
    return newline.join([HEADER, *rows]) + newline


@FUZZ
@given(st.binary(max_size=2000))
@example(b"")
@example(b"\x00" * 10)
@example(b"\xff\xfe")
@example(b"\xef\xbb\xbf")
@example(b"PK\x03\x04garbage")
def test_random_bytes_fail_clearly_or_import_with_every_row_accounted(run, content):
    run(content)


@FUZZ
@given(
    st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=40), min_size=1, max_size=8),
    st.sampled_from([",", ";", "\t", "|"]),
)
def test_random_rows_under_a_real_header_are_imported_or_rejected_with_lines(run, cells, delimiter):
    header = HEADER.replace(",", delimiter)
    rows = [delimiter.join(cells[i : i + 3]) for i in range(0, len(cells), 3)]
    run(("\n".join([header, *rows]) + "\n").encode("utf-8"))


@FUZZ
@given(
    st.lists(
        st.sampled_from(['"', '""', ",", "\n", "\r\n", "x", "PC-1", "0x8024000B", "\x00"]),
        max_size=60,
    )
)
def test_unbalanced_and_deep_quoting_never_crashes(run, pieces):
    run(_export(GOOD.format(n=1, m=1), "".join(pieces), GOOD.format(n=2, m=2)).encode())


@FUZZ
@given(st.binary(min_size=1, max_size=300), st.sampled_from(["utf-8", "utf-16", "cp1252"]))
def test_valid_export_with_random_bytes_spliced_in(run, noise, encoding):
    text = _export(*(GOOD.format(n=n, m=n) for n in range(5)))
    data = text.encode(encoding)
    middle = len(data) // 2
    run(data[:middle] + noise + data[middle:])


def test_field_larger_than_the_csv_limit_is_a_rejected_row_and_the_rest_imports(run):
    huge = "x" * (csv.field_size_limit() + 10)
    record = run(
        _export(GOOD.format(n=1, m=1), f'PC-2,"{huge}",0x1', GOOD.format(n=3, m=3)).encode()
    )
    assert record.created == 2
    assert [r["line"] for r in record.rejected] == [3]
    assert "field larger than field limit" in record.rejected[0]["reason"]


def test_a_quote_never_closed_is_reported_not_swallowed(run):
    rows = [GOOD.format(n=n, m=n) for n in range(2, 40)]
    record = run(_export(GOOD.format(n=1, m=1), 'PC-X,"2025-02-12 10:00:00,0x1', *rows).encode())
    assert record.created == 1
    assert record.rejected_count == 1
    reject = record.rejected[0]
    assert reject["line"] == 3
    assert "quote" in reject["reason"] and "not closed" in reject["reason"]


def test_a_quote_closed_far_below_is_reported_with_the_lines_it_swallowed(run):
    rows = [GOOD.format(n=n, m=n % 60) for n in range(2, 300)]
    stray = 'PC-X,"2025-02-12 10:00:00,0x1'
    closing = 'PC-Y,2025-02-12 10:00:00",0x1'
    record = run(_export(stray, *rows, closing, GOOD.format(n=1, m=1)).encode())
    assert record.status == ImportRecord.Status.DONE
    assert record.rejected_count == 1
    assert record.rejected[0]["line"] == 2
    assert "lines" in record.rejected[0]["reason"]
    assert record.created == 1


def test_nul_bytes_in_a_utf8_file_fail_as_not_text(run):
    record = run(_export(GOOD.format(n=1, m=1), "PC-2\x00,2025-02-12 10:00:00,0x1").encode())
    assert record.status == ImportRecord.Status.FAILED
    assert "not text" in record.error


def test_nul_byte_after_the_first_4_kb_is_a_rejected_row(run):
    rows = [GOOD.format(n=n, m=n % 60) for n in range(200)]
    record = run(
        _export(*rows, "PC-2\x00,2025-02-12 10:00:00,0x1", GOOD.format(n=999, m=1)).encode()
    )
    assert record.status == ImportRecord.Status.DONE
    assert record.rejected_count == 1 and record.rejected[0]["line"] == 202
    assert "NUL" in record.rejected[0]["reason"]


def test_utf16_without_bom_imports(run):
    record = run(_export(GOOD.format(n=1, m=1), newline="\r\n").encode("utf-16-le"))
    assert record.status == ImportRecord.Status.DONE and record.created == 1


def test_utf16_truncated_mid_character_fails_with_the_line(run):
    data = codecs.BOM_UTF16_LE + _export(*(GOOD.format(n=n, m=n) for n in range(3))).encode(
        "utf-16-le"
    )
    record = run(data[:-1])
    assert record.status == ImportRecord.Status.FAILED
    assert "utf-16" in record.error


def test_mixed_utf8_and_cp1252_reads_as_cp1252_and_says_which_rows_it_could_not_use(run):
    data = _export(GOOD.format(n=1, m=1), "PC-é,2025-02-12 10:00:00,0x1").encode() + (
        "PC-ü,2025-02-12 10:00:00,0x1\n".encode("cp1252")
    )
    record = run(data)
    assert record.status == ImportRecord.Status.DONE
    assert record.encoding == "cp1252" and record.created == 2
    # The UTF-8 "é" read as cp1252 is "Ã©": not a device name, and the row says so.
    assert [r["line"] for r in record.rejected] == [3]
    assert "is not a device name" in record.rejected[0]["reason"]


def test_file_truncated_mid_row_rejects_the_last_row(run):
    data = _export(GOOD.format(n=1, m=1), GOOD.format(n=2, m=2)).encode()
    record = run(data[:-12])
    assert record.status == ImportRecord.Status.DONE
    assert record.created == 1 and [r["line"] for r in record.rejected] == [3]


DATE_ALPHABET = "0123456789-/.:T Z+AMPamp"


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(alphabet=DATE_ALPHABET, max_size=32), st.text(max_size=40)))
@example("0001-01-01T00:00:00+01:00")
@example("9999-12-31T23:59:59-01:00")
@example("99999999999999999999")
@example("1e400")
def test_date_parser_returns_a_utc_time_or_a_date_error(text):
    try:
        value = dates.parse_datetime(text, day_first=False)
    except dates.DateError as exc:
        assert str(exc)
        return
    assert value.utcoffset().total_seconds() == 0


def test_a_time_at_the_edge_of_the_calendar_is_a_rejected_row_not_a_crash(run):
    record = run(_export("PC-1,0001-01-01T00:00:00+01:00,0x1", GOOD.format(n=2, m=2)).encode())
    assert record.status == ImportRecord.Status.DONE
    assert record.created == 1 and [r["line"] for r in record.rejected] == [2]
    assert "out of range" in record.rejected[0]["reason"]


@pytest.fixture
def uploader(operator, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return client_for(operator, raise_request_exception=False)  # a 500 for the assert to name


@pytest.mark.usefixtures("dead_broker")
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.one_of(st.binary(max_size=600), st.sampled_from([b"", b"\x00\x01", b"PK\x03\x04"])))
def test_uploading_any_bytes_shows_a_result_page_never_a_server_error(uploader, tenant, content):
    response = uploader.post(
        "/imports/new/",
        {"tenant": tenant.pk, "format": "auto", "file": SimpleUploadedFile("x.csv", content)},
    )
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 302:
        page = uploader.get(response["Location"])
        assert page.status_code == 200
        record = ImportRecord.objects.latest("pk")
        assert record.status in (ImportRecord.Status.DONE, ImportRecord.Status.FAILED)
        if record.status == ImportRecord.Status.FAILED:
            assert escape(record.error) in page.content.decode()  # the page says why
