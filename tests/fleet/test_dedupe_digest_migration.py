"""Migration 0029 gives every stored occurrence the digest ingest computes for a new one, so a
file or batch sent again after the upgrade is still found stored, and it runs back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from fleet.ingest.store import NewOccurrence, insert_occurrences
from fleet.models import Occurrence
from fleet.models.core import dedupe_digest

BEFORE = ("fleet", "0028_alert_channel_language")
KEYS = [
    ("api", "1001@PC-0001"),
    ("configmgr_deployment_errors", "5760" * 16),
    ("intune_update_failures", "Gerät-Ä\u00e9\u4e2d"),  # not ASCII: both databases hash UTF-8
]


def _executor() -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return executor


def _migrate_to_leaves() -> None:
    executor = _executor()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.fixture
def database_before_the_digest(settings):
    """The test database stepped back to before 0029, with that state's models (the suite
    builds its database from the models, so every migration is recorded as applied first)."""
    settings.MIGRATION_MODULES = {}
    executor = _executor()
    for app_label, name in executor.loader.graph.nodes:
        executor.recorder.record_applied(app_label, name)
    try:
        _executor().migrate([BEFORE])
        executor = _executor()
        yield executor.loader.project_state(tuple(executor.loader.applied_migrations)).apps
    finally:
        _migrate_to_leaves()
        _executor().recorder.flush()


def _populate(apps) -> tuple[int, int]:
    tenant = apps.get_model("fleet", "Tenant").objects.create(slug="acme", name="Acme")
    device = apps.get_model("fleet", "Device").objects.create(
        tenant=tenant, hostname="PC-0001", name_key="pc-0001"
    )
    old = apps.get_model("fleet", "Occurrence")
    for source, key in KEYS:
        old.objects.create(
            tenant_id=tenant.pk,
            device_id=device.pk,
            code=0x8024000B,
            occurred_at=datetime(2026, 11, 2, 9, tzinfo=UTC),
            source=source,
            dedupe_key=key,
        )
    return tenant.pk, device.pk


def _new(device_id: int, source: str, key: str) -> NewOccurrence:
    return NewOccurrence(
        device_id=device_id,
        code=0x8024000B,
        occurred_at=datetime(2026, 11, 2, 9, tzinfo=UTC),
        source=source,
        dedupe_key=key,
    )


@pytest.mark.django_db(transaction=True)
def test_stored_rows_get_the_digest_ingest_computes(database_before_the_digest):
    tenant_id, device_id = _populate(database_before_the_digest)

    _migrate_to_leaves()

    stored = {
        (source, key): bytes(digest)
        for source, key, digest in Occurrence.objects.values_list(
            "source", "dedupe_key", "dedupe_digest"
        )
    }
    assert stored == {(source, key): dedupe_digest(source, key) for source, key in KEYS}
    assert len(set(stored.values())) == len(KEYS)
    # The same rows sent again are found stored; the same key from another source is new.
    assert insert_occurrences(tenant_id, [_new(device_id, *pair) for pair in KEYS]) == []
    assert len(insert_occurrences(tenant_id, [_new(device_id, "api", KEYS[1][1])])) == 1


@pytest.mark.django_db(transaction=True)
def test_the_migration_runs_back_and_forth(database_before_the_digest):
    _populate(database_before_the_digest)
    _migrate_to_leaves()
    _executor().migrate([BEFORE])
    executor = _executor()
    apps = executor.loader.project_state(tuple(executor.loader.applied_migrations)).apps
    old = apps.get_model("fleet", "Occurrence")
    assert sorted(old.objects.values_list("source", "dedupe_key")) == sorted(KEYS)
    _migrate_to_leaves()
    assert Occurrence.objects.filter(dedupe_digest=dedupe_digest(*KEYS[0])).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_file_imported_before_the_upgrade_is_found_stored_after_it(
    database_before_the_digest, tmp_path, monkeypatch
):
    """Rows an earlier version imported carry the text key; the importer now stores only the
    digest, and must still find them: the same export imported again adds nothing."""
    from fleet.ingest import importer
    from fleet.models import Tenant

    path = tmp_path / "export.csv"
    path.write_text(
        "MachineName,LastEnforcementTime,ErrorCode\n"
        "PC-1,2025-02-12 10:00:00,0x8024000B\nPC-2,2025-02-12 10:00:01,0x80070002\n"
    )
    _migrate_to_leaves()
    tenant = Tenant.objects.create(slug="acme", name="Acme")
    keys: list[str] = []  # the text keys the importer derives, in file order

    def spy(source: str, key: str) -> bytes:
        keys.append(key)
        return dedupe_digest(source, key)

    monkeypatch.setattr(importer, "dedupe_digest", spy)
    _record, first = importer.import_file(path, tenant)
    monkeypatch.undo()
    assert first.created == 2 and len(keys) == 2
    stored = list(Occurrence.objects.order_by("id"))
    Occurrence.objects.all().delete()

    # Stored again as an earlier version stored them, text key and all; 0029 gives the digest.
    _executor().migrate([BEFORE])
    executor = _executor()
    apps = executor.loader.project_state(tuple(executor.loader.applied_migrations)).apps
    old = apps.get_model("fleet", "Occurrence")
    for row, key in zip(stored, keys, strict=True):
        old.objects.create(
            tenant_id=row.tenant_id, device_id=row.device_id, code=row.code,
            occurred_at=row.occurred_at, source=row.source, dedupe_key=key,
        )  # fmt: skip
    _migrate_to_leaves()

    _record, again = importer.import_file(path, tenant, file_name="renamed.csv")
    assert (again.created, again.duplicates) == (0, 2)
    assert Occurrence.objects.count() == 2
