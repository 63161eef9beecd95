"""Large uploads go to a real Celery worker, which imports them and reports progress."""

import shutil

import pytest

from fleet.ingest.models import ImportRecord
from fleet.ingest.tasks import run_import
from fleet.ingest.uploads import start_import
from fleet.models import Occurrence
from tests.fleet.ingest.exports import EXPECTED, EXPORTS, created
from tests.services import wait_until

NAME = "wufb_ucupdatealert.csv"
CREATED = created(EXPECTED[NAME])
REJECTED = len(EXPECTED[NAME]["invalid"])


def queued_record(tenant, tmp_path, name=NAME) -> ImportRecord:
    path = tmp_path / name
    shutil.copy(EXPORTS / name, path)
    return ImportRecord.objects.create(
        tenant=tenant, file_name=name, stored_path=str(path), size=path.stat().st_size
    )


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_worker_runs_a_queued_import(tenant, tmp_path, celery_worker):
    record = queued_record(tenant, tmp_path)

    assert start_import(record, inline_max=0) == "queued"

    def finished() -> bool:
        record.refresh_from_db()
        return record.status in (ImportRecord.Status.DONE, ImportRecord.Status.FAILED)

    wait_until(finished, 60, f"the worker to import; its log:\n{celery_worker.log()}")
    assert record.status == ImportRecord.Status.DONE
    assert (record.created, record.rejected_count, record.progress_percent) == (
        CREATED, REJECTED, 100,
    )  # fmt: skip
    assert "fleet.ingest.tasks.run_import" in celery_worker.log()


@pytest.mark.django_db
def test_task_is_safe_to_run_twice(tenant, tmp_path, dead_broker):
    record = queued_record(tenant, tmp_path)

    assert run_import(record.pk) == "done"
    assert run_import(record.pk) == "skipped"
    assert Occurrence.objects.filter(tenant=tenant).count() == CREATED


@pytest.mark.django_db
def test_rerunning_a_failed_import_completes_it(tenant, tmp_path, dead_broker):
    record = queued_record(tenant, tmp_path)
    ImportRecord.objects.filter(pk=record.pk).update(status=ImportRecord.Status.FAILED)

    assert run_import(record.pk) == "done"
    record.refresh_from_db()
    assert (record.status, record.created, record.error) == (ImportRecord.Status.DONE, CREATED, "")
