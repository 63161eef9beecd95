"""Batches: a fixed number of queries per batch, and an import that fails half-way is visible
as failed and completed by running it again."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fleet.ingest import importer
from fleet.ingest.importer import ImportFailed, import_file, run_import
from fleet.ingest.models import ImportRecord
from fleet.models import Device, Occurrence

pytestmark = pytest.mark.django_db


def export(tmp_path, rows: int, devices: int, name: str = "export.csv"):
    path = tmp_path / name
    lines = ["MachineName,LastEnforcementTime,ErrorCode"]
    lines += [f"PC-{n % devices},2025-02-12 10:00:{n % 60:02d},0x8024{n:04X}" for n in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def queries_for(path, tenant) -> int:
    with CaptureQueriesContext(connection) as captured:
        import_file(path, tenant, batch_size=10_000)
    return len(captured)


def test_query_count_does_not_grow_with_rows_or_devices(tenant, other_tenant, tmp_path):
    small = queries_for(export(tmp_path, 20, 5, "small.csv"), tenant)
    large = queries_for(export(tmp_path, 2000, 400, "large.csv"), other_tenant)

    assert Occurrence.objects.filter(tenant=other_tenant).count() == 2000
    # One COPY (PostgreSQL) or one executemany (SQLite, on the sqlite3 connection, which Django
    # does not count) per batch either way: nothing depends on the size.
    assert large == small
    assert small < 22  # two of them open and close the batch's pending-ledger row


def test_a_failed_import_says_so_and_a_rerun_completes_it(tenant, tmp_path, monkeypatch):
    path = export(tmp_path, 250, 30)
    real_insert = importer.insert_occurrences
    calls = {"n": 0}

    def failing_insert(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return real_insert(*args, **kwargs)

    monkeypatch.setattr(importer, "insert_occurrences", failing_insert)
    with pytest.raises(RuntimeError):
        import_file(path, tenant, batch_size=100)

    record = ImportRecord.objects.get()
    assert record.status == ImportRecord.Status.FAILED
    assert "disk full" in record.error
    assert record.created == 200  # two batches committed, counted in the record
    assert Occurrence.objects.count() == 200

    monkeypatch.setattr(importer, "insert_occurrences", real_insert)
    summary = run_import(record, path, batch_size=100)

    record.refresh_from_db()
    assert record.status == ImportRecord.Status.DONE and record.error == ""
    # The record stored all 250, across both attempts: none of them is its own duplicate.
    assert (summary.created, summary.duplicates) == (250, 0)
    assert (record.created, sum(record.by_code.values())) == (250, 250)
    assert Occurrence.objects.count() == 250
    assert Device.objects.count() == 30


def test_unreadable_file_marks_the_record_failed(tenant, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")

    with pytest.raises(ImportFailed, match="empty"):
        import_file(path, tenant)
    assert ImportRecord.objects.get().status == ImportRecord.Status.FAILED


def test_utf16_without_bom_is_recognised(tenant, tmp_path):
    path = tmp_path / "nobom.txt"
    text = "MachineName\tLastEnforcementTime\tErrorCode\nPC-1\t2025-02-12 10:00:00\t0x80070002\n"
    path.write_bytes(text.encode("utf-16-le"))

    _record, summary = import_file(path, tenant)

    assert (summary.encoding, summary.created) == ("utf-16-le", 1)


def progress_updates(path, tenant, batch_size: int) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        import_file(path, tenant, batch_size=batch_size)
    return [
        q["sql"]
        for q in captured
        if q["sql"].startswith('UPDATE "fleet_importrecord"') and '"bytes_read"' in q["sql"]
    ]


def test_each_batch_costs_one_update_of_the_record_which_carries_the_heartbeat(
    tenant, other_tenant, tmp_path
):
    path = export(tmp_path, 500, 20)

    five = progress_updates(path, tenant, batch_size=100)
    ten = progress_updates(path, other_tenant, batch_size=50)

    assert len(ten) - len(five) == 5
    assert all('"heartbeat_at"' in sql for sql in five + ten)


def test_a_batch_over_several_statements_stores_each_new_row_once(tenant, device, monkeypatch):
    """SQLite stores a batch in statements of ROWS_PER_STATEMENT rows (PostgreSQL by COPY):
    the counts stay exact across statement edges, with rows stored before among them."""
    from datetime import UTC, datetime

    from fleet.ingest import store

    monkeypatch.setattr(store, "ROWS_PER_STATEMENT", 3)

    def rows(keys):
        return [
            store.NewOccurrence(
                device_id=device.pk,
                code=0x80070000 + n,
                occurred_at=datetime(2026, 11, 2, 9, n, tzinfo=UTC),
                source="api",
                dedupe_key=f"key-{n}",
            )
            for n in keys
        ]

    assert sorted(store.insert_occurrences(tenant.pk, rows([1, 4, 7]))) == [
        0x80070001, 0x80070004, 0x80070007,
    ]  # fmt: skip
    new = store.insert_occurrences(tenant.pk, rows(range(10)))
    assert sorted(new) == [0x80070000 + n for n in range(10) if n not in (1, 4, 7)]
    assert Occurrence.objects.filter(tenant=tenant).count() == 10
    assert store.insert_occurrences(tenant.pk, rows(range(10))) == []
