"""Migration 0006: PostgreSQL vacuums the aggregate tables sooner; SQLite is left alone."""

import importlib

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

migration = importlib.import_module("fleet.migrations.0006_aggregate_autovacuum")


def reloptions() -> dict[str, list[str] | None]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname = ANY(%s)",
            [list(migration.TABLES)],
        )
        return dict(cursor.fetchall())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="storage parameters are PostgreSQL's")
def test_aggregate_tables_are_vacuumed_after_one_percent_and_reset_back():
    with connection.schema_editor() as editor:
        migration.vacuum_sooner(None, editor)
    found = reloptions()
    assert set(found) == set(migration.TABLES)
    for options in found.values():
        assert "autovacuum_vacuum_insert_scale_factor=0.01" in options
        assert "autovacuum_vacuum_scale_factor=0.01" in options
    with connection.schema_editor() as editor:
        migration.vacuum_as_default(None, editor)
    assert all(options is None for options in reloptions().values())


def test_the_migration_does_nothing_on_sqlite():
    if connection.vendor == "postgresql":
        pytest.skip("SQLite only")

    class RecordingEditor:
        """Stands in for SQLite's schema editor, which refuses to open inside a test."""

        def __init__(self) -> None:
            self.connection = connection
            self.executed: list[str] = []

        def execute(self, sql: str) -> None:
            self.executed.append(sql)

    editor = RecordingEditor()
    migration.vacuum_sooner(None, editor)
    migration.vacuum_as_default(None, editor)
    assert editor.executed == []
