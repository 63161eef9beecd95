"""A deterministic demo fleet: a few tenants, a few hundred devices, ~40,000 occurrences over
90 days with a realistic code mix and recurring 0x8024000B storms near "now".

The random generator is seeded, so the same fleet comes out every time; only the anchor moves
with the clock, so the storms always sit in the last days where triage windows look.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from fleet.models import Device, Occurrence, Tenant, device_name_key
from fleet.pending import track

SOURCE = "demo"
DAYS = 90


@dataclass(frozen=True)
class DemoTenant:
    slug: str
    name: str
    prefix: str
    devices: int


TENANTS = [
    DemoTenant("contoso-health", "Contoso Health", "CHC", 110),
    DemoTenant("fabrikam-legal", "Fabrikam Legal", "FAB", 70),
    DemoTenant("northwind-retail", "Northwind Retail", "NWR", 90),
    DemoTenant("tailspin-logistics", "Tailspin Logistics", "TSL", 50),
]

# Relative weights of the everyday mix, roughly what a Windows Update fleet reports.
CODE_MIX: list[tuple[int, int]] = [
    (0x8024402C, 12),  # proxy / name resolution
    (0x80240022, 10),  # all updates failed
    (0x80244022, 8),  # HTTP 503 from the update service
    (0x800F0922, 8),  # CBS installers failed
    (0x80070002, 7),  # file not found
    (0x8024A105, 6),  # no registered service
    (0x80073712, 5),  # component store corrupt
    (0xC1900101, 5),  # setup rollback (driver)
    (0x800705B4, 4),  # timeout
    (0x800F081F, 4),  # source files not found
    (0x80072EE2, 4),  # WinINet timeout
    (0x8024000B, 3),  # call cancelled (the storms come on top)
    (0x80070005, 3),  # access denied
    (0x80240017, 3),  # not applicable
    (0x8024200D, 3),  # needs more data downloaded
    (0xC1900208, 2),  # incompatible app blocks upgrade
]
STORM_CODE = 0x8024000B
# Days before "now" each tenant's 0x8024000B storm happened: today's lead the triage queue.
STORM_DAYS = {"tailspin-logistics": (31,)}
DEFAULT_STORM_DAYS = (0, 9, 23, 47)


def storm_days(slug: str) -> tuple[int, ...]:
    return STORM_DAYS.get(slug, DEFAULT_STORM_DAYS)


MONTHLY_TITLE = (
    "{month} Cumulative Update for Windows 11 Version 24H2 for x64-based Systems (KB{kb})"
)
FEATURE_TITLE = "Feature update to Windows 11, version 25H2"
DEFENDER_TITLE = "Security Intelligence Update for Microsoft Defender Antivirus (KB2267602)"


def _update_context(code: int, when: datetime) -> tuple[str, str]:
    if code >> 20 == 0xC19:
        return FEATURE_TITLE, ""
    if code in (0x80240017, 0x8024200D):
        return DEFENDER_TITLE, "KB2267602"
    kb = 5060000 + (when.year * 12 + when.month) % 97 * 131
    return MONTHLY_TITLE.format(month=f"{when:%Y-%m}", kb=kb), f"KB{kb}"


def _occurrence(tenant: Tenant, device: Device, code: int, when: datetime, serial: str):
    title, kb = _update_context(code, when)
    return Occurrence(
        tenant=tenant,
        device=device,
        code=code,
        occurred_at=when,
        source=SOURCE,
        dedupe_key=hashlib.sha256(f"{tenant.slug}:{serial}".encode()).hexdigest(),
        update_title=title,
        kb=kb,
        message="Installation Failure: Windows failed to install the following update",
    )


def seed_demo(now: datetime | None = None, seed: int = 20261125) -> dict[str, int]:
    """Create the demo tenants, devices and occurrences. Returns what was created."""
    now = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(days=DAYS)
    rng = random.Random(seed)
    codes = [code for code, _ in CODE_MIX]
    weights = [weight for _, weight in CODE_MIX]
    created = {"tenants": 0, "devices": 0, "occurrences": 0}

    with transaction.atomic():
        for spec in TENANTS:
            tenant = Tenant.objects.create(slug=spec.slug, name=spec.name)
            created["tenants"] += 1
            devices = Device.objects.bulk_create(
                [_device(tenant, spec, n, rng, start) for n in range(1, spec.devices + 1)]
            )
            created["devices"] += len(devices)
            rows: list[Occurrence] = []
            serial = 0

            # Everyday noise: each device fails a few times a week, with a fleet-wide code mix.
            for device in devices:
                flakiness = rng.uniform(0.2, 2.2)
                for day in range(DAYS):
                    for _ in range(_poisson(rng, flakiness * 1.1)):
                        when = start + timedelta(days=day, seconds=rng.randrange(86_400))
                        code = rng.choices(codes, weights)[0]
                        serial += 1
                        rows.append(_occurrence(tenant, device, code, when, f"n{serial}"))

            # 0x8024000B storms: one fleet-wide burst in the last day, and older ones,
            # plus devices where the cancellation repeats daily for a week.
            for days_ago in storm_days(spec.slug):
                centre = now - timedelta(days=days_ago, hours=rng.randrange(3, 10))
                for device in rng.sample(devices, k=max(6, len(devices) // 4)):
                    for _ in range(rng.randint(2, 5)):
                        when = centre + timedelta(minutes=rng.randrange(-180, 180))
                        when = min(when, now - timedelta(minutes=5))
                        serial += 1
                        rows.append(_occurrence(tenant, device, STORM_CODE, when, f"s{serial}"))
            for device in rng.sample(devices, k=3):
                for days_ago in range(7):
                    when = now - timedelta(days=days_ago, hours=rng.randrange(1, 20))
                    serial += 1
                    rows.append(_occurrence(tenant, device, STORM_CODE, when, f"r{serial}"))

            track(rows)
            created["occurrences"] += len(rows)
            _set_seen(devices, rows)
    return created


def _device(tenant: Tenant, spec: DemoTenant, n: int, rng: random.Random, start: datetime):
    kind = rng.choice(["LT", "LT", "DT", "VM"])
    hostname = f"{spec.prefix}-{kind}-{n:04d}"
    return Device(
        tenant=tenant,
        hostname=hostname,
        name_key=device_name_key(hostname),
        intune_device_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        entra_device_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        first_seen_at=start,
    )


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method; means here are small, so the loop is short.
    limit, product, count = pow(2.718281828459045, -mean), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count


def _set_seen(devices: list[Device], rows: list[Occurrence]) -> None:
    last: dict[int, datetime] = {}
    for row in rows:
        if row.device.pk not in last or row.occurred_at > last[row.device.pk]:
            last[row.device.pk] = row.occurred_at
    for device in devices:
        device.last_seen_at = last.get(device.pk)
    Device.objects.bulk_update(devices, ["last_seen_at"], batch_size=1000)


def demo_loaded() -> bool:
    return Tenant.objects.filter(slug=TENANTS[0].slug).exists()


def remove_demo() -> None:
    Tenant.objects.filter(slug__in=[t.slug for t in TENANTS]).delete()
