"""The importer reads each distinct device, code and `extra` cell once per file and remembers
the result: these check that a remembered reading says what a fresh one would, on every row."""

from datetime import UTC, datetime
from hashlib import sha256

import pytest

from fleet.ingest import importer
from fleet.ingest.importer import import_file
from fleet.models import Occurrence
from fleet.models.core import dedupe_digest

pytestmark = pytest.mark.django_db

CM_HEADER = (
    "MachineName,UserName,LastEnforcementTime,ErrorStatusID,ErrorCode,ErrorCodeInt,MessageName"
)
GOOD = "PC-1,u,2025-02-12 19:24:42,1,0x8024000B,,x"


def run(tenant, write_file, *rows: str, **kwargs):
    text = CM_HEADER + "\r\n" + "".join(row + "\r\n" for row in rows)
    _record, summary = import_file(write_file(text), tenant, **kwargs)
    return summary


def reasons(summary) -> dict[int, str]:
    return {r["line"]: r["reason"] for r in summary.rejected}


def test_a_bad_code_cell_is_rejected_with_the_same_reason_on_every_row(tenant, write_file):
    bad = "PC-2,u,2025-02-12 19:24:42,1,0x8024-000B,,x"
    summary = run(tenant, write_file, bad, GOOD, bad, bad.replace("PC-2", "PC-3"), bad)

    expected = "ErrorCode: '0x8024-000B' is not valid hex: expected 0x and 1 to 8 hex digits"
    assert reasons(summary) == {2: expected, 4: expected, 5: expected, 6: expected}
    assert summary.created == 1


def test_code_cells_are_remembered_by_every_code_column(tenant, write_file):
    # The same bad ErrorCode, once with a readable ErrorCodeInt beside it and once without.
    rescued = "PC-1,u,2025-02-12 19:24:42,1,0x8024-000B,-2145124341,x"
    lost = "PC-2,u,2025-02-12 19:24:42,1,0x8024-000B,,x"
    summary = run(tenant, write_file, rescued, lost, rescued.replace("PC-1", "PC-3"), lost)

    assert sorted(reasons(summary)) == [3, 5]
    assert summary.by_code == {0x8024000B: 2}


def test_a_bad_device_cell_is_rejected_with_the_same_reason_on_every_row(tenant, write_file):
    rows = ["PC ONE,u,2025-02-12 19:24:42,1,0x8024000B,,x", ",u,2025-02-12 19:24:42,1,0x1,,x"]
    summary = run(tenant, write_file, *rows, GOOD, *rows)

    blank, bad = "MachineName is blank", "MachineName 'PC ONE' is not a device name"
    assert reasons(summary) == {2: bad, 3: blank, 5: bad, 6: blank}


def test_two_timestamp_formats_in_one_file_are_each_read(tenant, write_file):
    summary = run(
        tenant,
        write_file,
        "PC-1,u,2025-02-12 19:24:42.500,1,0x8024000B,,x",
        "PC-2,u,2/18/2025 9:06:43 PM,1,0x8024000B,,x",
        "PC-3,u,2025-02-12T19:24:42+01:00,1,0x8024000B,,x",
        "PC-4,u,43965.5,1,0x8024000B,,x",
        "PC-5,u,2025-02-13 08:00:00,1,0x8024000B,,x",
    )

    assert summary.created == 5
    times = dict(Occurrence.objects.values_list("device__hostname", "occurred_at"))
    assert times == {
        "PC-1": datetime(2025, 2, 12, 19, 24, 42, 500000, tzinfo=UTC),
        "PC-2": datetime(2025, 2, 18, 21, 6, 43, tzinfo=UTC),
        "PC-3": datetime(2025, 2, 12, 18, 24, 42, tzinfo=UTC),
        "PC-4": datetime(2020, 5, 14, 12, 0, tzinfo=UTC),
        "PC-5": datetime(2025, 2, 13, 8, 0, tzinfo=UTC),
    }


def test_an_extended_code_does_not_leak_its_code_text_into_rows_sharing_its_extra(
    tenant, write_file
):
    summary = run(
        tenant,
        write_file,
        "PC-1,u,2025-02-12 19:24:42,1,0x8024000B,,x",
        "PC-2,u,2025-02-12 19:24:42,1,0xC1900101_C3FD,,x",
        "PC-3,u,2025-02-12 19:24:42,1,0x8024000B,,x",
    )

    assert summary.created == 3
    extras = dict(Occurrence.objects.values_list("device__hostname", "extra"))
    plain = {"errorstatusid": "1", "username": "u"}
    assert extras == {
        "PC-1": plain,
        "PC-2": {**plain, "code_text": "0xC1900101_C3FD"},
        "PC-3": plain,
    }


def test_the_dedupe_key_of_a_row_is_unchanged(tenant, write_file):
    """Keys of rows stored by earlier versions must still match, or a re-import counts twice."""
    run(tenant, write_file, GOOD)

    identity = (
        "row\x1ferrorcode=0x8024000B\x1ferrorcodeint=\x1ferrorstatusid=1"
        "\x1flastenforcementtime=2025-02-12 19:24:42\x1fmachinename=PC-1\x1fmessagename=x"
        "\x1fusername=u"
    )
    key = sha256(identity.encode()).hexdigest()
    assert key == "b738bd6abec371ed0368aa545b437ad5f59bfaeb360e78e506e62e8fe2325c6b"
    # An import stores only the digest of its key (the text is a hash of the row), the same
    # digest migration 0029 gave rows stored with the text.
    stored = Occurrence.objects.get()
    assert stored.dedupe_key == ""
    assert bytes(stored.dedupe_digest) == dedupe_digest(stored.source, key)
    stored.save()  # an ORM save (the admin) keeps the digest it cannot recompute from ""
    stored.refresh_from_db()
    assert bytes(stored.dedupe_digest) == dedupe_digest(stored.source, key)


def test_cells_past_the_cache_limits_read_as_remembered_ones_do(tenant, write_file, monkeypatch):
    rows = [
        GOOD,
        "PC-2,u,2025-02-12 19:24:43,1,0x80070002,,y",
        "PC ONE,u,2025-02-12 19:24:42,1,0x8024000B,,x",
        "PC-3,u,2025-02-12 19:24:42,1,0x8024-000B,,x",
        "PC-4,v,2025-02-12 19:24:44,2,0xC1900101_C3FD,,z",
    ]
    remembered = run(tenant, write_file, *rows, *rows)
    monkeypatch.setattr(importer, "_DEVICE_CACHE_LIMIT", 1)
    monkeypatch.setattr(importer, "_CELL_CACHE_LIMIT", 1)
    Occurrence.objects.all().delete()
    limited = run(tenant, write_file, *rows, *rows)

    assert reasons(limited) == reasons(remembered)
    assert len(reasons(limited)) == 4
    assert (limited.created, limited.duplicates) == (remembered.created, remembered.duplicates)
    assert (limited.created, limited.duplicates) == (3, 3)
