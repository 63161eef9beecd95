"""Shared fixtures. Integration fixtures that start real services live in tests/services.py."""

import os
from pathlib import Path

import pytest
from django.test import Client

from tests.factories import DeviceFactory, TenantFactory, UserFactory, client_for

pytest_plugins = ["tests.clock", "tests.services", "tests.tools"]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix) -> None:
    """One SQLite test database file per pytest run, so two runs on one machine (a developer's
    and a benchmark's, say) never create and delete each other's file."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        name = Path(db["TEST"]["NAME"])
        db["TEST"]["NAME"] = str(name.with_name(f"{name.stem}-{os.getpid()}{name.suffix}"))


@pytest.fixture(scope="session", autouse=True)
def collected_static_root(tmp_path_factory) -> Path:
    """An empty STATIC_ROOT, as collectstatic leaves one: without it WhiteNoise warns "No
    directory at" for every test client. Pages under test find static files through the
    finders (live_server) or only name their URLs."""
    from django.conf import settings

    root = tmp_path_factory.mktemp("static")
    settings.STATIC_ROOT = str(root)
    return root


@pytest.fixture
def tenant(db):
    return TenantFactory(slug="acme", name="Acme Corp")


@pytest.fixture
def other_tenant(db):
    return TenantFactory(slug="globex", name="Globex")


@pytest.fixture
def device(tenant):
    return DeviceFactory(tenant=tenant, hostname="PC-0001.acme.local")


@pytest.fixture
def operator(tenant):
    """An operator granted only `tenant`."""
    user = UserFactory(username="olivia")
    tenant.operators.add(user)
    return user


@pytest.fixture
def logged_in(operator) -> Client:
    """A test client logged in as `operator`: what most page tests start from."""
    return client_for(operator)


@pytest.fixture
def dead_broker(tmp_path):
    """Celery pointed at a port nothing listens on: queueing fails fast, as when Redis is down."""
    # Imported here: a module-level import would load the plugin before pytest can rewrite it.
    from tests.services import RedisServer, broker

    with broker(RedisServer(tmp_path).url):
        yield
