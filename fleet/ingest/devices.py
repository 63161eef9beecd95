"""Resolve the devices named in a batch of rows to Device ids, in a few queries per batch.

A row names a device by hostname (matched on `device_name_key`: case-insensitive, FQDN or short
name) and maybe by Intune or Entra ID (which survive a rename). Unknown devices are created
with `ON CONFLICT DO NOTHING`, so two imports creating the same device at once both succeed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from fleet.models import Device, Tenant


@dataclass
class DeviceRef:
    """What a batch knows about one device (by name key)."""

    hostname: str
    intune_id: str = ""
    entra_id: str = ""
    wsus_id: str = ""
    configmgr_name: str = ""
    first_seen: datetime | None = None
    last_seen: datetime | None = None

    def seen(self, when: datetime | None) -> None:
        if when is None:
            return
        if self.first_seen is None or when < self.first_seen:
            self.first_seen = when
        if self.last_seen is None or when > self.last_seen:
            self.last_seen = when


def resolve_devices(
    tenant: Tenant,
    refs: dict[str, DeviceRef],
    collect_last_seen: dict[int, datetime] | None = None,
) -> tuple[dict[str, int], int]:
    """Map each name key of `refs` to a device id, creating what is missing.

    Returns the mapping and how many devices this call created. Existing devices' last-seen
    times are raised at once, or, if the caller passes `collect_last_seen`, collected there for one
    `raise_last_seen` at the end (an import does that rather than once per batch).
    """
    if not refs:
        return {}, 0
    keys = list(refs)
    intune_ids = {ref.intune_id for ref in refs.values() if ref.intune_id}
    entra_ids = {ref.entra_id for ref in refs.values() if ref.entra_id}
    match = Q(name_key__in=keys)
    if intune_ids:
        match |= Q(intune_device_id__in=intune_ids)
    if entra_ids:
        match |= Q(entra_device_id__in=entra_ids)
    by_key: dict[str, tuple[int, datetime | None]] = {}
    by_intune: dict[str, tuple[int, datetime | None]] = {}
    by_entra: dict[str, tuple[int, datetime | None]] = {}
    for pk, key, intune, entra, last_seen in (
        Device.objects.filter(tenant=tenant)
        .filter(match)
        .values_list("pk", "name_key", "intune_device_id", "entra_device_id", "last_seen_at")
    ):
        by_key[key] = (pk, last_seen)
        if intune:
            by_intune.setdefault(intune, (pk, last_seen))
        if entra:
            by_entra.setdefault(entra, (pk, last_seen))

    resolved: dict[str, int] = {}
    newer: dict[int, datetime] = {}
    missing: list[str] = []
    for key, ref in refs.items():
        found = by_key.get(key) or by_intune.get(ref.intune_id) or by_entra.get(ref.entra_id)
        if found is None:
            missing.append(key)
            continue
        pk, last_seen = found
        resolved[key] = pk
        later = ref.last_seen and (last_seen is None or ref.last_seen > last_seen)
        if later and (pk not in newer or ref.last_seen > newer[pk]):
            newer[pk] = ref.last_seen
    if collect_last_seen is not None:
        for pk, when in newer.items():
            if pk not in collect_last_seen or when > collect_last_seen[pk]:
                collect_last_seen[pk] = when
    elif newer:
        raise_last_seen(newer)
    created = 0
    if missing:
        created_ids = _insert_devices(tenant, [(key, refs[key]) for key in missing])
        created = len(created_ids)
        resolved.update(created_ids)
        # Another import may have created some of them a moment ago.
        still = [key for key in missing if key not in created_ids]
        if still:
            resolved.update(
                Device.objects.filter(tenant=tenant, name_key__in=still).values_list(
                    "name_key", "pk"
                )
            )
    return resolved, created


def raise_last_seen(newer: dict[int, datetime]) -> None:
    """Move `last_seen_at` forward, never back, in one UPDATE … FROM (VALUES …) per chunk.

    Both SQLite (3.33+) and PostgreSQL name VALUES columns column1, column2.
    """
    quote = connection.ops.quote_name
    table = quote(Device._meta.db_table)
    items = list(newer.items())
    for start in range(0, len(items), 500):
        chunk = items[start : start + 500]
        params: list = []
        for pk, when in chunk:
            params += [pk, connection.ops.adapt_datetimefield_value(when)]
        values = ", ".join(["(%s, %s)"] * len(chunk))
        seen = quote("last_seen_at")
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {seen} = v.column2 FROM (VALUES {values}) AS v "
                f"WHERE {table}.{quote('id')} = v.column1 "
                f"AND ({table}.{seen} IS NULL OR {table}.{seen} < v.column2)",
                params,
            )


def _insert_devices(tenant: Tenant, rows: list[tuple[str, DeviceRef]]) -> dict[str, int]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: exactly the devices this call created."""
    fields = [
        "tenant_id", "hostname", "name_key", "intune_device_id", "entra_device_id",
        "wsus_computer_id", "configmgr_name", "first_seen_at", "last_seen_at", "created_at",
    ]  # fmt: skip
    quote = connection.ops.quote_name
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    created: dict[str, int] = {}
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        params: list = []
        for key, ref in chunk:
            params += [
                tenant.pk,
                ref.hostname[:255],
                key,
                ref.intune_id[:64],
                ref.entra_id[:64],
                ref.wsus_id[:64],
                ref.configmgr_name[:255],
                connection.ops.adapt_datetimefield_value(ref.first_seen),
                connection.ops.adapt_datetimefield_value(ref.last_seen),
                now,
            ]
        placeholders = ", ".join(["(" + ", ".join(["%s"] * len(fields)) + ")"] * len(chunk))
        sql = (
            f"INSERT INTO {quote(Device._meta.db_table)} "
            f"({', '.join(quote(f) for f in fields)}) VALUES {placeholders} "
            f"ON CONFLICT ({quote('tenant_id')}, {quote('name_key')}) DO NOTHING "
            f"RETURNING {quote('name_key')}, {quote('id')}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            created.update(dict(cursor.fetchall()))
    return created
