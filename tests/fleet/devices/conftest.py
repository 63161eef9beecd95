from __future__ import annotations

import pytest
from django.core.management import call_command

from fleet.aggregate import aggregate_pending
from fleet.models import Device, Tenant


@pytest.fixture
def demo(db) -> Device:
    """`seed_demo`'s fleet, aggregated; answers one of its Contoso devices."""
    call_command("seed_demo", verbosity=0)
    aggregate_pending()
    return Device.objects.filter(tenant__slug="contoso-health").order_by("name_key").first()


@pytest.fixture
def contoso(demo) -> Tenant:
    return demo.tenant
