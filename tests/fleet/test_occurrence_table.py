"""The occurrence table is built for bulk (issue 18): no database-level foreign keys, so
PostgreSQL runs no per-row trigger on insert, while deletes still cascade in Django."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection

from fleet.ingest.models import ImportRecord
from fleet.models import Device, Occurrence, Tenant
from fleet.pending import track


def _foreign_keys(table: str) -> list[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return [name for name, info in constraints.items() if info["foreign_key"]]


def _occurrence(tenant: Tenant, device: Device, key: str, record=None) -> Occurrence:
    return Occurrence(
        tenant=tenant,
        device=device,
        code=0x8024000B,
        occurred_at=datetime(2026, 11, 2, 9, tzinfo=UTC),
        source="api",
        dedupe_key=key,
        import_record=record,
    )


@pytest.mark.django_db
def test_the_occurrence_table_has_no_database_foreign_keys():
    assert _foreign_keys(Occurrence._meta.db_table) == []
    # The tables around it keep theirs: the change is deliberate, not a lost constraint.
    assert _foreign_keys(Device._meta.db_table)


@pytest.mark.django_db
def test_deleting_a_device_or_tenant_still_deletes_its_occurrences(tenant, device):
    other = Device.objects.create(tenant=tenant, hostname="PC-2", name_key="pc-2")
    track([_occurrence(tenant, device, "a"), _occurrence(tenant, other, "b")])
    device.delete()
    assert list(Occurrence.objects.values_list("dedupe_key", flat=True)) == ["b"]
    tenant.delete()
    assert not Occurrence.objects.exists()


@pytest.mark.django_db
def test_deleting_an_import_record_keeps_its_occurrences_unlinked(tenant, device):
    record = ImportRecord.objects.create(tenant=tenant, file_name="export.csv")
    track([_occurrence(tenant, device, "a", record)])
    record.delete()
    assert Occurrence.objects.get().import_record_id is None
