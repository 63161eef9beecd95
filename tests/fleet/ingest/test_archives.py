"""ZIP uploads are untrusted: bombs, lying headers, many entries, nesting, encryption and odd
methods are refused with a message naming the limit, on every path into the importer, and a
legitimate zipped export still imports exactly."""

from __future__ import annotations

import html
import itertools
import os
import resource
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from contextlib import closing
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from fleet.ingest import archives, tasks
from fleet.ingest.archives import ArchiveLimits, ArchiveRefused, extract_export, member_chunks
from fleet.ingest.importer import ImportFailed, import_file
from fleet.ingest.models import ImportRecord
from fleet.models import Occurrence
from tests.services import REPO

MiB = 1024 * 1024
GiB = 1024 * MiB
METHODS = {
    "stored": zipfile.ZIP_STORED,
    "deflate": zipfile.ZIP_DEFLATED,
    "bzip2": zipfile.ZIP_BZIP2,
    "lzma": zipfile.ZIP_LZMA,
}
COMPRESSING = ["deflate", "bzip2", "lzma"]


def write_zip(path: Path, chunks, method: str = "deflate", name: str = "export.csv") -> Path:
    """A ZIP of one member made of `chunks`, streamed in (a bomb is never held whole)."""
    info = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0))
    info.compress_type = METHODS[method]
    with zipfile.ZipFile(path, "w") as archive, archive.open(info, "w", force_zip64=True) as out:
        for chunk in chunks:
            out.write(chunk)
    return path


def repeated(byte: bytes, size: int, chunk: int = 16 * MiB):
    return itertools.repeat(byte * chunk, size // chunk)


def export_csv(rows: int = 300) -> bytes:
    """An Intune feature-update export: failures, success rows, and two rows to reject."""
    lines = ["DeviceName,Win32ErrorCode,EventDateTimeUTC,AlertId"]
    for n in range(rows):
        code = "0x00000000" if n % 10 == 0 else f"0x8024{n % 7:04X}"
        lines.append(f"PC-{n % 40:03d},{code},2025-03-04 07:{n % 60:02d}:04,alert-{n}")
    lines += ["PC-001,,2025-03-04 07:00:00,alert-blank", " ,0x80070002,2025-03-04,alert-nohost"]
    return ("\r\n".join(lines) + "\r\n").encode()


@pytest.fixture(scope="module")
def bzip2_bomb(tmp_path_factory) -> Path:
    """The issue's bomb: a ZIP of under a kilobyte whose bzip2 member expands to 1 GiB."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.zip"
    write_zip(path, repeated(b"a", GiB), "bzip2")
    assert path.stat().st_size < 1024
    return path


@pytest.fixture
def temp_dir(tmp_path, monkeypatch) -> Path:
    """A fresh folder for tempfile, to see what the importer leaves there."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def assert_failed_cleanly(match: str, temp_dir: Path) -> ImportRecord:
    record = ImportRecord.objects.get()
    assert record.status == ImportRecord.Status.FAILED
    assert match in record.error
    assert (record.rows, record.created) == (0, 0)
    assert not Occurrence.objects.exists()
    assert list(temp_dir.iterdir()) == []
    return record


# --- legitimate archives -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("method", METHODS)
def test_zipped_export_imports_exactly_as_the_plain_file(tenant, other_tenant, tmp_path, method):
    plain = tmp_path / "DeviceFailuresByFeatureUpdatePolicy.csv"
    plain.write_bytes(export_csv())
    zipped = write_zip(tmp_path / "export.zip", [plain.read_bytes()], method, "export_123.csv")

    _record, expected = import_file(plain, other_tenant)
    record, summary = import_file(zipped, tenant)

    assert summary.as_dict() == expected.as_dict()
    assert (summary.created, summary.success_rows, summary.rejected_count) == (270, 30, 2)
    assert record.status == ImportRecord.Status.DONE
    assert Occurrence.objects.filter(tenant=tenant).count() == 270


def test_every_method_yields_the_member_exactly_in_bounded_chunks(tmp_path):
    data = os.urandom(300_000).hex().encode()  # 600 KB that compress, but not to nothing
    limits = ArchiveLimits(max_bytes=10 * MiB, max_ratio=500)
    for method in METHODS:
        path = write_zip(tmp_path / f"{method}.zip", [data], method)
        with zipfile.ZipFile(path) as archive:
            member = archive.infolist()[0]
        with open(path, "rb") as raw:
            chunks = list(member_chunks(raw, member, limits))
        assert b"".join(chunks) == data, method
        assert max(map(len, chunks)) <= archives.CHUNK, method


# --- bombs -----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("method", COMPRESSING)
def test_a_bomb_is_refused_by_its_compression_ratio(tenant, tmp_path, temp_dir, method):
    bomb = write_zip(tmp_path / "bomb.zip", repeated(b"a", 64 * MiB), method)

    with pytest.raises(ImportFailed, match=r"more than 500 times .*\(MAX_ARCHIVE_RATIO\)"):
        import_file(bomb, tenant)

    assert_failed_cleanly("(MAX_ARCHIVE_RATIO)", temp_dir)


@pytest.mark.django_db
@pytest.mark.parametrize("method", METHODS)
def test_a_member_expanding_past_max_upload_mb_is_refused(
    tenant, tmp_path, temp_dir, settings, method
):
    settings.MAX_UPLOAD_MB = 1
    settings.MAX_ARCHIVE_RATIO = 10**9
    archive = write_zip(tmp_path / "big.zip", repeated(b"a", 2 * MiB, MiB), method)

    with pytest.raises(ImportFailed, match=r"expands past the 1 MB limit \(MAX_UPLOAD_MB\)"):
        import_file(archive, tenant)

    assert_failed_cleanly("the ZIP expands past the 1 MB limit (MAX_UPLOAD_MB)", temp_dir)


def _patch(data: bytearray, signature: bytes, offset: int, fmt: str, value: int) -> None:
    """Overwrite a field of every header that starts with `signature`."""
    start = data.find(signature)
    assert start >= 0
    while start >= 0:
        struct.pack_into(fmt, data, start + offset, value)
        start = data.find(signature, start + 1)


def test_the_declared_size_is_not_trusted(tmp_path):
    path = write_zip(tmp_path / "liar.zip", repeated(b"a", 4 * MiB, MiB), "deflate")
    data = bytearray(path.read_bytes())
    # The uncompressed size says 10 bytes in the local and the central header (zip64 too).
    _patch(data, b"PK\x01\x02", 24, "<L", 10)
    _patch(data, b"PK\x03\x04", 22, "<L", 10)
    path.write_bytes(data)
    with zipfile.ZipFile(path) as archive:
        assert archive.infolist()[0].file_size == 10

    with pytest.raises(ArchiveRefused, match=r"past the 2 MB limit \(MAX_UPLOAD_MB\)"):
        extract_export(path, tmp_path / "out.csv", ArchiveLimits(2 * MiB, 10**9))
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("method", ["bzip2", "lzma"])
def test_memory_stays_bounded_reading_a_bzip2_or_lzma_bomb(tmp_path, method):
    """zipfile's read(n) would decompress the whole 128 MiB here at the first call."""
    bomb = write_zip(tmp_path / "bomb.zip", repeated(b"a", 128 * MiB), method)
    with zipfile.ZipFile(bomb) as archive:
        member = archive.infolist()[0]
    unlimited = ArchiveLimits(max_bytes=GiB, max_ratio=10**9)

    tracemalloc.start()
    try:
        total = 0
        with open(bomb, "rb") as raw:
            for chunk in member_chunks(raw, member, unlimited):
                assert len(chunk) <= archives.CHUNK
                total += len(chunk)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert total == 128 * MiB
    # The chunks in flight, and LZMA's 8 MiB dictionary.
    assert peak < 16 * MiB, f"{peak / MiB:.0f} MiB"


# --- what an export ZIP is not ---------------------------------------------------------------


def test_a_zip_of_many_entries_is_refused_before_zipfile_parses_it(tmp_path, monkeypatch):
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for n in range(2000):
            archive.writestr(f"part-{n}.csv", "")

    def no_parsing(*args, **kwargs):
        raise AssertionError("the central directory was parsed")

    monkeypatch.setattr(archives.zipfile, "ZipFile", no_parsing)
    with pytest.raises(ArchiveRefused, match="lists 2,000 entries; an export ZIP holds one file"):
        extract_export(path, tmp_path / "out.csv")


def test_a_directory_too_large_for_its_entry_count_is_refused(tmp_path):
    path = tmp_path / "lying.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for n in range(2000):
            archive.writestr(f"part-{n}.csv", "")
    data = bytearray(path.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 1, 1)  # "one entry", over 100 KB of directory
    path.write_bytes(data)

    with pytest.raises(ArchiveRefused, match=r"directory takes [\d,]+ bytes, more than the 65,536"):
        extract_export(path, tmp_path / "out.csv")


def test_the_zip64_end_record_counts_when_present(tmp_path):
    """zipfile takes the entry count from a ZIP64 end record over the classic one: so do we."""
    path = write_zip(tmp_path / "one.zip", [export_csv()])
    data = path.read_bytes()
    end = data.rfind(b"PK\x05\x06")
    _sig, _d, _cd, _n, _total, directory_size, directory_offset, _c = struct.unpack(
        "<4s4H2LH", data[end : end + 22]
    )
    record64 = struct.pack(
        "<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, 100_000, 100_000,
        directory_size, directory_offset,
    )  # fmt: skip
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, end, 1)
    path.write_bytes(data[:end] + record64 + locator + data[end:])

    with pytest.raises(ArchiveRefused, match="lists 100,000 entries"):
        extract_export(path, tmp_path / "out.csv")


@pytest.mark.django_db
def test_several_files_are_refused(tenant, tmp_path):
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.csv", "x")
        archive.writestr("b.csv", "y")
    with pytest.raises(ImportFailed, match="holds 2 files; expected one export"):
        import_file(path, tenant)


def test_a_nested_archive_is_refused_by_name_and_by_content(tmp_path):
    inner = write_zip(tmp_path / "inner.zip", repeated(b"a", 16 * MiB))
    by_name = write_zip(tmp_path / "by-name.zip", [inner.read_bytes()], "stored", "inner.zip")
    by_content = write_zip(tmp_path / "by-content.zip", [inner.read_bytes()], "stored")

    with pytest.raises(ArchiveRefused, match="'inner.zip' in the ZIP is itself an archive"):
        extract_export(by_name, tmp_path / "out.csv")
    with pytest.raises(ArchiveRefused, match="'export.csv' in the ZIP is itself compressed"):
        extract_export(by_content, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


def test_an_encrypted_member_is_refused(tmp_path):
    path = write_zip(tmp_path / "secret.zip", [export_csv()], "stored")
    data = bytearray(path.read_bytes())
    _patch(data, b"PK\x01\x02", 8, "<H", 0x1)  # general purpose flag: encrypted
    _patch(data, b"PK\x03\x04", 6, "<H", 0x1)
    path.write_bytes(data)

    with pytest.raises(ArchiveRefused, match="is encrypted; zip it again without a password"):
        extract_export(path, tmp_path / "out.csv")


@pytest.mark.parametrize(("method", "label"), [(9, "Deflate64"), (99, "AES encryption")])
def test_an_unsupported_method_is_refused(tmp_path, method, label):
    path = write_zip(tmp_path / "odd.zip", [export_csv()], "deflate")
    data = bytearray(path.read_bytes())
    _patch(data, b"PK\x01\x02", 10, "<H", method)
    _patch(data, b"PK\x03\x04", 8, "<H", method)
    path.write_bytes(data)

    with pytest.raises(ArchiveRefused, match=f"compression method {method} \\({label}\\)"):
        extract_export(path, tmp_path / "out.csv")


@pytest.mark.parametrize("method", COMPRESSING)
def test_a_damaged_member_is_refused(tmp_path, method):
    path = write_zip(tmp_path / "damaged.zip", [os.urandom(50_000).hex().encode()], method)
    data = bytearray(path.read_bytes())
    middle = data.find(b"PK\x01\x02") // 2
    data[middle : middle + 16] = bytes(16)
    path.write_bytes(data)

    with pytest.raises(ArchiveRefused, match="in the ZIP is damaged"):
        extract_export(path, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


# --- every way in: command, upload page, worker ----------------------------------------------


def _limit_memory_and_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (GiB, GiB))
    # No file the command writes may pass 50 MB: the kernel would stop it (SIGXFSZ).
    resource.setrlimit(resource.RLIMIT_FSIZE, (50 * 1000 * 1000, 50 * 1000 * 1000))


def _manage(*args: str, env: dict[str, str], limited: bool = False, timeout: float = 120):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "fleet.settings", **env},
        preexec_fn=_limit_memory_and_file_size if limited else None,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def fresh_database(tmp_path_factory) -> Path:
    """A migrated SQLite file with tenant `t`, as an operator's would be (small, so the file
    size limit below bounds the temporary file, not the database)."""
    path = tmp_path_factory.mktemp("db") / "fleet.sqlite3"
    env = {"DATABASE_URL": f"sqlite:///{path}"}
    for args in (["migrate", "-v0"], ["create_tenant", "t", "Tenant T"]):
        result = _manage(*args, env=env)
        assert result.returncode == 0, result.stderr
    return path


@pytest.mark.parametrize(
    ("env", "limit"),
    [
        ({}, "(MAX_ARCHIVE_RATIO)"),
        ({"MAX_ARCHIVE_RATIO": str(10**9), "MAX_UPLOAD_MB": "40"}, "40 MB limit (MAX_UPLOAD_MB)"),
    ],
    ids=["ratio", "size"],
)
def test_import_report_refuses_a_1_gib_bzip2_bomb_in_1_gib_of_memory(
    fresh_database, bzip2_bomb, tmp_path, env, limit
):
    database = tmp_path / "fleet.sqlite3"
    shutil.copyfile(fresh_database, database)
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**env, "DATABASE_URL": f"sqlite:///{database}", "TMPDIR": str(temp)}

    started = time.monotonic()
    result = _manage(
        "import_report", str(bzip2_bomb), "--tenant", "t", env=env, limited=True, timeout=60
    )
    elapsed = time.monotonic() - started

    assert result.returncode == 1, result.stderr
    assert "bomb.zip: cannot import: the ZIP expands" in result.stderr
    assert limit in result.stderr
    assert list(temp.iterdir()) == []  # and no file there ever passed 50 MB (RLIMIT_FSIZE)
    with closing(sqlite3.connect(database)) as db:
        (status, error), *more = db.execute("SELECT status, error FROM fleet_importrecord")
    assert (status, more) == (ImportRecord.Status.FAILED, []) and limit in error
    print(f"import_report refused the bomb in {elapsed:.1f} s ({limit})")


def test_a_full_disk_while_unpacking_fails_the_import_with_a_reason(
    fresh_database, bzip2_bomb, tmp_path
):
    # With both limits out of the way, RLIMIT_FSIZE (50 MB) stands in for a full disk.
    database = tmp_path / "fleet.sqlite3"
    shutil.copyfile(fresh_database, database)
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {"MAX_ARCHIVE_RATIO": str(10**9), "DATABASE_URL": f"sqlite:///{database}",
           "TMPDIR": str(temp)}  # fmt: skip

    result = _manage(
        "import_report", str(bzip2_bomb), "--tenant", "t", env=env, limited=True, timeout=60
    )

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "could not be unpacked to the temporary folder" in result.stderr
    assert list(temp.iterdir()) == []
    with closing(sqlite3.connect(database)) as db:
        ((status, error),) = db.execute("SELECT status, error FROM fleet_importrecord")
    assert status == ImportRecord.Status.FAILED and "File too large" in error


@pytest.mark.django_db
def test_the_upload_page_gives_the_same_message(
    tenant, logged_in, bzip2_bomb, settings, tmp_path, temp_dir, dead_broker
):
    settings.MEDIA_ROOT = tmp_path / "media"

    response = logged_in.post(
        "/imports/new/",
        {
            "tenant": tenant.pk,
            "format": "auto",
            "file": SimpleUploadedFile("bomb.zip", bzip2_bomb.read_bytes(), "application/zip"),
        },
    )

    record = assert_failed_cleanly("(MAX_ARCHIVE_RATIO)", temp_dir)
    assert response.status_code == 302 and response["Location"] == f"/imports/{record.pk}/"
    page = html.unescape(logged_in.get(response["Location"]).content.decode())
    assert f"The import failed: {record.error}" in page
    assert "the ZIP expands to more than 500 times its compressed size" in page


@pytest.mark.django_db
def test_the_worker_gives_the_same_failure(tenant, bzip2_bomb, tmp_path, temp_dir, dead_broker):
    stored = tmp_path / "bomb.zip"
    stored.write_bytes(bzip2_bomb.read_bytes())
    record = ImportRecord.objects.create(
        tenant=tenant, file_name="bomb.zip", stored_path=str(stored), size=stored.stat().st_size
    )

    assert tasks.run_import(record.pk) == "failed"

    record = assert_failed_cleanly("(MAX_ARCHIVE_RATIO)", temp_dir)
    assert record.error.startswith("the ZIP expands to more than 500 times its compressed size")
