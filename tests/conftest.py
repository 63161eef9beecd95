"""Shared fixtures. Integration fixtures that start real services live in tests/services.py."""

import pytest

from tests.factories import DeviceFactory, TenantFactory, UserFactory

pytest_plugins = ["tests.services"]


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
