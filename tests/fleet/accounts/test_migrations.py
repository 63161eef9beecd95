"""LoginFailure moves from the dashboards app to fleet.accounts on a populated database: the
rows stay in their table, the new model and the throttle use them, and the move runs back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from fleet.accounts import login_throttle
from fleet.accounts.models import LoginFailure

BEFORE = ("fleet", "0008_triage_signal")
OLD = ("dashboards", "LoginFailure")


def _executor() -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()  # re-read what is applied
    return executor


def _state_apps(executor: MigrationExecutor):
    return executor.loader.project_state(tuple(executor.loader.applied_migrations)).apps


def _migrate_to_leaves() -> None:
    executor = _executor()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.fixture
def database_before_the_move(settings):
    """The test database stepped back to before fleet 0009, with that state's models.

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
        yield _state_apps(_executor())
    finally:
        _migrate_to_leaves()
        _executor().recorder.flush()


def _populate(apps) -> tuple[set[tuple], int]:
    """Five recent failures for stella, one for otto, and a group allowed to view them.

    Returns the rows as tuples and otto's id."""
    failure = apps.get_model(*OLD)
    now = timezone.now()
    for n in range(login_throttle.MAX_FAILURES_PER_USERNAME):
        failure.objects.create(
            username="stella", address="192.0.2.10", failed_at=now - timedelta(minutes=n)
        )
    failure.objects.create(
        username="otto", address="192.0.2.20", failed_at=now - timedelta(minutes=3)
    )
    content_type = apps.get_model("contenttypes", "ContentType").objects.get(
        app_label="dashboards", model="loginfailure"
    )
    group = apps.get_model("auth", "Group").objects.create(name="auditors")
    group.permissions.add(
        apps.get_model("auth", "Permission").objects.get(
            content_type=content_type, codename="view_loginfailure"
        )
    )
    return {
        (row.username, row.address, row.failed_at) for row in failure.objects.all()
    }, failure.objects.get(username="otto").pk


@pytest.mark.django_db(transaction=True)
def test_failures_recorded_under_dashboards_are_the_fleet_models_after_the_move(
    database_before_the_move,
):
    apps = database_before_the_move
    with pytest.raises(LookupError):
        apps.get_model("fleet", "LoginFailure")  # before the move, only dashboards has it
    rows, otto = _populate(apps)

    _migrate_to_leaves()

    assert {(row.username, row.address, row.failed_at) for row in LoginFailure.objects.all()} == (
        rows
    )
    assert login_throttle.refusal("stella", "198.51.100.1")  # the throttle counts the old rows
    assert not login_throttle.refusal("otto", "198.51.100.1")
    login_throttle.record_success("otto")
    assert not LoginFailure.objects.filter(pk=otto).exists()
    # A new row gets the next id, not one the old rows hold.
    new = LoginFailure.objects.create(username="ivy", address="", failed_at=timezone.now())
    assert new.pk > max(LoginFailure.objects.exclude(pk=new.pk).values_list("pk", flat=True))
    # The permission granted on the old model follows it.
    permission = Permission.objects.get(group__name="auditors")
    assert (permission.content_type.app_label, permission.codename) == (
        "fleet",
        "view_loginfailure",
    )


@pytest.mark.django_db(transaction=True)
def test_moving_back_returns_the_rows_to_the_dashboards_model(database_before_the_move):
    rows, _ = _populate(database_before_the_move)
    _migrate_to_leaves()
    LoginFailure.objects.filter(username="otto").delete()

    executor = _executor()
    executor.migrate([BEFORE])

    apps = _state_apps(_executor())
    with pytest.raises(LookupError):
        apps.get_model("fleet", "LoginFailure")
    old_model = apps.get_model(*OLD)
    back = {(row.username, row.address, row.failed_at) for row in old_model.objects.all()}
    assert back == {row for row in rows if row[0] != "otto"}
    content_type = apps.get_model("contenttypes", "ContentType").objects.get(
        permission__group__name="auditors"
    )
    assert content_type.app_label == "dashboards"
