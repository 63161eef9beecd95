"""RowReader bounds what one row may hold, so a file of one enormous line is refused with the
line and the limit instead of being read into memory."""

from __future__ import annotations

import itertools
import os
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from fleet.ingest.importer import ImportFailed, import_file
from fleet.ingest.models import ImportRecord
from fleet.ingest.reader import MAX_ROW_CHARS, RowReader, UnreadableFile
from fleet.models import Occurrence

MiB = 1024 * 1024
HEADER = b"DeviceName,Win32ErrorCode,EventDateTimeUTC,AlertId\r\n"


def write_huge_line(path: Path, size: int, head: bytes = b"") -> Path:
    with open(path, "wb") as out:
        out.write(head)
        for chunk in itertools.repeat(b"a" * MiB, size // MiB):
            out.write(chunk)
    return path


def test_one_huge_line_is_refused_without_reading_it_whole(tmp_path):
    path = write_huge_line(tmp_path / "one-line.csv", 64 * MiB)

    tracemalloc.start()
    try:
        with pytest.raises(UnreadableFile) as refused, RowReader(path, "utf-8"):
            pass
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert str(refused.value) == (
        "line 1 makes a row longer than 1,048,576 characters, the most one row may hold: "
        "is the file a table export?"
    )
    # The limit's worth of characters, as str and as the decoder's chunks: not 64 MiB.
    assert peak < 4 * MAX_ROW_CHARS + MiB, f"{peak / MiB:.0f} MiB"


@pytest.mark.django_db
def test_a_huge_data_line_fails_the_import_naming_the_line(tenant, tmp_path):
    head = HEADER + b"PC-1,0x80070002,2025-03-04 07:00:00,alert-1\r\n"
    path = write_huge_line(tmp_path / "export.csv", 8 * MiB, head)

    with pytest.raises(ImportFailed, match="line 3 makes a row longer than 1,048,576 characters"):
        import_file(path, tenant)

    record = ImportRecord.objects.get()
    assert record.status == ImportRecord.Status.FAILED
    assert record.error.startswith("line 3 makes a row longer than 1,048,576 characters")
    assert not Occurrence.objects.exists()


@pytest.mark.django_db
def test_a_zipped_huge_line_is_refused_the_same_way(tenant, tmp_path):
    """Random hex compresses only 2:1, so the ZIP limits let it through to the reader."""
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export.csv", HEADER + os.urandom(3 * MiB).hex().encode())

    with pytest.raises(ImportFailed, match="line 2 makes a row longer than 1,048,576 characters"):
        import_file(path, tenant)
    assert ImportRecord.objects.get().status == ImportRecord.Status.FAILED


def test_a_row_of_many_lines_is_limited_as_a_whole(tmp_path):
    # Fields of 100,000 characters (under csv's field limit) on lines of their own, in one row.
    field = '"' + "x" * 100_000 + '\n"'
    row = ",".join([field] * 12)
    path = tmp_path / "export.csv"
    path.write_text("DeviceName,Code,Time\n" + row + "\nPC-1,0x1,2025-01-01\n", newline="")

    with RowReader(path, "utf-8") as reader, pytest.raises(UnreadableFile) as refused:
        list(reader.rows())

    assert "makes a row longer than 1,048,576 characters" in str(refused.value)
    assert str(refused.value).startswith("line 12 ")  # the row starts on line 2


def test_rows_up_to_the_limit_are_read(tmp_path):
    field = "x" * 100_000
    row = ",".join([field] * 10)  # 1,000,009 characters
    path = tmp_path / "export.csv"
    path.write_text("DeviceName,Code,Time\n" + row + "\nPC-1,0x1,2025-01-01\n", newline="")

    with RowReader(path, "utf-8") as reader:
        rows = list(reader.rows())

    assert [(line, len(fields or [])) for line, fields, _error in rows] == [(2, 10), (3, 3)]
