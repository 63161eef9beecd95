import pytest

from tests.dashboards.fleet_data import catalog, fleet
from tests.factories import UserFactory


@pytest.fixture
def demo_fleet(tenant, other_tenant, now):
    """0x8024000B tops `tenant` (acme); `other_tenant` (globex) has its own, larger data."""
    catalog()
    return fleet(tenant, other_tenant, now)


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)
