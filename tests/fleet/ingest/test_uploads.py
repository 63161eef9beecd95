"""Inline or queued: a large upload goes to a worker, and an inline import that runs out of its
time budget hands the rest to one (or, with the broker down, waits queued for the sweep)."""

import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from fleet.ingest import tasks
from fleet.ingest.archives import declared_size
from fleet.ingest.importer import BATCH_ROWS
from fleet.ingest.models import ImportRecord
from fleet.ingest.recovery import recover_imports
from fleet.ingest.uploads import inline_max_bytes, start_import
from fleet.models import Occurrence
from tests.fleet.ingest.exports import report_csv
from tests.services import broker, wait_until

Status = ImportRecord.Status


def queued_record(tenant, path) -> ImportRecord:
    return ImportRecord.objects.create(
        tenant=tenant, file_name=path.name, stored_path=str(path), size=path.stat().st_size
    )


def finished(record: ImportRecord):
    def check() -> bool:
        record.refresh_from_db()
        return record.status in (Status.DONE, Status.FAILED)

    return check


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_large_upload_goes_to_the_worker(tenant, logged_in, tmp_path, celery_worker):
    path = report_csv(tmp_path / "large.csv", 600, pad_to=inline_max_bytes() + 64 * 1024)
    assert path.stat().st_size > inline_max_bytes()

    response = logged_in.post(
        "/imports/new/",
        {
            "tenant": tenant.pk,
            "format": "auto",
            "file": SimpleUploadedFile(path.name, path.read_bytes()),
        },
    )

    assert response.status_code == 302
    record = ImportRecord.objects.get()
    wait_until(finished(record), 60, f"the worker to import; its log:\n{celery_worker.log()}")
    assert (record.status, record.runner, record.attempts) == (Status.DONE, "worker", 1)
    assert (record.rows, record.created) == (600, 600)
    assert "fleet.ingest.tasks.run_import" in celery_worker.log()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_small_zip_that_expands_past_the_inline_limit_goes_to_the_worker(
    tenant, tmp_path, celery_worker
):
    plain = report_csv(tmp_path / "big.csv", 600, pad_to=inline_max_bytes() + 64 * 1024)
    archive = tmp_path / "small.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        out.write(plain, "export.csv")
    assert archive.stat().st_size < inline_max_bytes() < plain.stat().st_size
    record = queued_record(tenant, archive)

    assert start_import(record) == "queued"

    wait_until(finished(record), 60, f"the worker to import; its log:\n{celery_worker.log()}")
    assert (record.status, record.runner, record.rows) == (Status.DONE, "worker", 600)


def test_declared_size_is_a_zips_expanded_size_and_a_plain_files_own(tmp_path):
    plain = report_csv(tmp_path / "plain.csv", 50, pad_to=100_000)
    archive = tmp_path / "plain.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        out.write(plain, "export.csv")
    not_a_zip = tmp_path / "fake.zip"
    not_a_zip.write_bytes(b"PK\x03\x04 but nothing else")

    assert declared_size(plain) == plain.stat().st_size
    assert declared_size(archive) == plain.stat().st_size > archive.stat().st_size
    assert declared_size(not_a_zip) == not_a_zip.stat().st_size


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_an_inline_import_out_of_time_is_finished_by_the_worker(tenant, tmp_path, celery_worker):
    rows = BATCH_ROWS + 1000  # two batches: the budget is checked after the first
    record = queued_record(tenant, report_csv(tmp_path / "slow.csv", rows))

    assert start_import(record, time_budget=0) == "queued"

    wait_until(finished(record), 60, f"the worker to finish; its log:\n{celery_worker.log()}")
    assert (record.status, record.runner, record.attempts) == (Status.DONE, "worker", 2)
    assert (record.rows, record.created, record.duplicates) == (rows, rows, 0)
    assert sum(record.by_code.values()) == rows
    assert Occurrence.objects.filter(tenant=tenant).count() == rows


@pytest.mark.django_db
def test_an_inline_import_out_of_time_with_the_broker_down_waits_for_the_sweep(
    tenant, logged_in, tmp_path, dead_broker, redis_server
):
    rows = BATCH_ROWS + 1000
    record = queued_record(tenant, report_csv(tmp_path / "slow.csv", rows))

    assert start_import(record, time_budget=0) == "queued"

    record.refresh_from_db()
    assert (record.status, record.heartbeat_at) == (Status.QUEUED, None)  # nothing lost
    assert Occurrence.objects.filter(tenant=tenant).count() == BATCH_ROWS
    page = logged_in.get(f"/imports/{record.pk}/").content.decode()
    assert "waiting for the task queue: Redis could not be reached" in page
    with broker(redis_server.url):  # the broker is back
        assert recover_imports().sent == [record.pk]
        assert tasks.run_import(record.pk) == "done"  # what the worker does with it
    record.refresh_from_db()
    assert (record.rows, record.created, record.duplicates) == (rows, rows, 0)


@pytest.mark.django_db
def test_a_small_upload_within_its_budget_is_imported_in_the_request(tenant, tmp_path, dead_broker):
    record = queued_record(tenant, report_csv(tmp_path / "small.csv", 40))

    assert start_import(record) == "inline"

    record.refresh_from_db()
    assert (record.status, record.runner, record.attempts, record.created) == (
        Status.DONE, "inline", 1, 40,
    )  # fmt: skip
