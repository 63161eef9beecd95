"""A small fleet around the month before "now": a steady code with a history, a storm of
0x8024000B inside the month and a code new in it, and a flag resolved during the month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import pytest

from fleet.aggregate import aggregate_pending
from fleet.models import Device, Tenant
from fleet.pending import track
from fleet.reports.periods import Period, last_full
from fleet.triage.models import TriageEvent, TriageFlag
from tests.factories import DeviceFactory, TenantFactory, occurrence

STORM = 0x8024000B  # curated: "Operation was cancelled"
STEADY = 0x80070002
NEW = 0x80073712


@dataclass
class Fleet:
    tenant: Tenant
    period: Period
    devices: list[Device]
    flag: TriageFlag


def at(day, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


@pytest.fixture
def fleet(db, operator, now) -> Fleet:
    """Built on `tenant` (the one `operator` is granted); another tenant has rows too."""
    tenant = Tenant.objects.get(slug="acme")
    period = last_full("monthly", now.date())
    devices = [DeviceFactory(tenant=tenant, hostname=f"ACME-{n:02d}") for n in range(6)]
    day = [period.first + timedelta(days=n) for n in range(period.days)]
    # Every day from 28 days before the month to its end: one STEADY on device 0.
    rows = [
        occurrence(devices[0], STEADY, at(period.first + timedelta(days=n)))
        for n in range(-28, period.days)
    ]
    # The storm: days 10 and 11 of the month, 8 occurrences on each of 5 devices, then quiet.
    rows += [
        occurrence(device, STORM, at(day[offset], hour))
        for offset in (9, 10)
        for device in devices[1:]
        for hour in range(8)
    ]
    # NEW: first seen on day 20, 3 times on device 2.
    rows += [occurrence(devices[2], NEW, at(day[19], hour)) for hour in (1, 2, 3)]
    # A row after the period and some at another tenant, which the report must not count.
    rows.append(occurrence(devices[3], STORM, at(period.end, 1)))
    other = DeviceFactory(tenant=TenantFactory(slug="other", name="Other"), hostname="OTH-1")
    rows += [occurrence(other, STORM, at(day[9], hour)) for hour in range(20)]
    track(rows)
    aggregate_pending()

    opened = at(period.first + timedelta(days=9), 8)
    flag = TriageFlag.objects.create(
        tenant=tenant,
        code=STORM,
        state=TriageFlag.State.RESOLVED,
        raised_at=opened,
        resolved_at=opened + timedelta(hours=30),
    )
    TriageEvent.objects.create(flag=flag, at=opened, from_state="", to_state="new")
    TriageEvent.objects.create(
        flag=flag,
        at=opened + timedelta(hours=30),
        user=operator,
        from_state="new",
        to_state="resolved",
        note="Moved the reboot window away from the patch window.",
    )
    return Fleet(tenant, period, devices, flag)
