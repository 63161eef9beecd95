"""Migration 0003 on a populated database: notes written before notes were per tenant get a
tenant only where their author's grants make it safe."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from codes.models import RunbookNote

BEFORE = ("codes", "0001_initial")


def _executor() -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()  # re-read what is applied
    return executor


@pytest.fixture
def database_before_tenant_notes(settings):
    """The test database stepped back to codes 0001, with the historical models of that state.

    The suite builds its database from the models (`--no-migrations`), so every migration is
    first recorded as applied; the real migration files are then run back and forth.
    """
    settings.MIGRATION_MODULES = {}
    executor = _executor()
    for app_label, name in executor.loader.graph.nodes:
        executor.recorder.record_applied(app_label, name)
    try:
        executor = _executor()
        executor.migrate([BEFORE])
        executor = _executor()
        yield executor.loader.project_state(tuple(executor.loader.applied_migrations)).apps
    finally:
        executor = _executor()
        executor.migrate(executor.loader.graph.leaf_nodes())
        executor.recorder.flush()


@pytest.mark.django_db(transaction=True)
def test_old_notes_get_a_tenant_only_where_the_authors_grants_make_it_safe(
    database_before_tenant_notes,
):
    apps = database_before_tenant_notes
    user_model, tenant_model = apps.get_model("auth", "User"), apps.get_model("fleet", "Tenant")
    note_model = apps.get_model("codes", "RunbookNote")
    assert "tenant" not in {field.name for field in note_model._meta.get_fields()}
    acme, globex, initech = (
        tenant_model.objects.create(slug=slug, name=slug.title())
        for slug in ["acme", "globex", "initech"]
    )
    users = {
        name: user_model.objects.create(username=name, is_superuser=name == "root")
        for name in ["solo_acme", "solo_globex", "msp", "duo", "nobody", "root", "leaver"]
    }
    acme.operators.add(users["solo_acme"], users["msp"], users["duo"], users["root"])
    globex.operators.add(users["solo_globex"], users["msp"], users["duo"])
    initech.operators.add(users["msp"])
    for name in users:
        note_model.objects.create(code=1, author=users[name], body=f"by {name}")
    note_model.objects.create(code=1, author=users["solo_globex"], body="by solo_globex, again")
    users["leaver"].delete()  # author becomes NULL (SET_NULL)

    executor = _executor()
    executor.migrate(executor.loader.graph.leaf_nodes())

    found = {
        note.body: (note.tenant.slug if note.tenant else None, note.all_tenants)
        for note in RunbookNote.objects.select_related("tenant")
    }
    assert found == {
        "by solo_acme": ("acme", False),  # granted one tenant: it is that tenant's
        "by solo_globex": ("globex", False),
        "by solo_globex, again": ("globex", False),
        "by msp": (None, True),  # granted every tenant: all tenants
        "by root": (None, True),  # a superuser, even one also granted Acme alone
        "by duo": (None, False),  # two of three: cannot tell which, superusers only
        "by nobody": (None, False),
        "by leaver": (None, False),
    }
