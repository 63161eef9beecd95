"""Small, exact fleets for the dashboard tests: occurrences in, real aggregation, pages out."""

from __future__ import annotations

from datetime import datetime, timedelta

from codes.models import CodeFamily, ErrorCode
from fleet.aggregate import aggregate_pending
from fleet.models import Device, Tenant
from tests.factories import emit, minutes_up_to

CANCELLED = 0x8024000B
NOT_FOUND = 0x80070002
PROXY = 0x8024402C


def catalog() -> None:
    """Catalog entries for the codes the tests use, with families and severities."""
    agent = CodeFamily.objects.create(
        slug="wu-agent", name="Windows Update agent", default_severity="warning"
    )
    win32 = CodeFamily.objects.create(slug="win32", name="Win32", default_severity="error")
    ErrorCode.objects.create(
        value=CANCELLED, name="WU_E_CALL_CANCELLED", family=agent, severity="warning"
    )
    ErrorCode.objects.create(
        value=PROXY, name="WU_E_PT_WINHTTP_NAME_NOT_RESOLVED", family=agent, severity="error"
    )
    ErrorCode.objects.create(
        value=NOT_FOUND, name="ERROR_FILE_NOT_FOUND", family=win32, severity="error"
    )


def fleet(tenant: Tenant, other: Tenant, now: datetime, size: int = 1) -> dict:
    """A fleet where 0x8024000B is the top code of `tenant`; `size` multiplies devices and
    occurrences, so the same pages can be measured at two data sizes."""
    here = [Device.objects.create(tenant=tenant, hostname=f"ACME-{n:03d}") for n in range(3 * size)]
    there = [
        Device.objects.create(tenant=other, hostname=f"GLOBEX-{n:03d}") for n in range(2 * size)
    ]
    yesterday = now - timedelta(days=1)
    for device in here:
        emit(
            device,
            CANCELLED,
            minutes_up_to(yesterday, 4),
            update_title="2026-11 Cumulative Update",
            kb="KB5070001",
        )
        emit(device, NOT_FOUND, [yesterday - timedelta(days=2)])
    emit(here[0], PROXY, minutes_up_to(now - timedelta(days=20), 2))
    for device in there:
        # The other tenant's own top code, and much more of it: a leak would show.
        emit(device, PROXY, minutes_up_to(yesterday, 9), update_title="Globex secret update")
    aggregate_pending()
    return {"here": here, "there": there}
