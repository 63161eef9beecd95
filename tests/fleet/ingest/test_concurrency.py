"""Two imports of the same file at the same time store it once, with exact counts."""

import pytest

from fleet.ingest.importer import import_file
from fleet.models import Device, Occurrence
from tests.fleet.ingest.exports import EXPECTED, EXPORTS, created
from tests.threads import run_at_once


@pytest.mark.django_db(transaction=True)
def test_concurrent_imports_of_the_same_file_add_it_once(tenant, tmp_path):
    # A bigger file than the committed exports, in small batches, so the two imports interleave.
    path = tmp_path / "big.csv"
    lines = ["MachineName,LastEnforcementTime,ErrorCode"]
    lines += [f"PC-{n % 40},2025-02-12 10:{n % 60:02d}:00,0x8024{n:04X}" for n in range(600)]
    path.write_text("\n".join(lines) + "\n")

    def worker():
        return import_file(path, tenant, batch_size=50)[1]

    writers = run_at_once(worker, worker)
    summaries, errors = writers.results, writers.errors

    assert errors == []
    assert Occurrence.objects.filter(tenant=tenant).count() == 600
    assert Device.objects.filter(tenant=tenant).count() == 40
    assert sum(s.created for s in summaries) == 600
    assert sum(s.duplicates for s in summaries) == 600
    assert sum(s.devices_created for s in summaries) == 40
    assert sum(sum(s.by_code.values()) for s in summaries) == 600


@pytest.mark.django_db(transaction=True)
def test_concurrent_imports_of_a_committed_export(tenant):
    name = "wsus_susdb_event_errors.csv"
    path = EXPORTS / name

    def worker() -> int:
        return import_file(path, tenant)[1].created

    results = run_at_once(worker, worker, worker, timeout=60).results

    assert sum(results) == created(EXPECTED[name]) and len(results) == 3
    assert Occurrence.objects.filter(tenant=tenant).count() == created(EXPECTED[name])
