"""Resolve the devices named in a batch of rows to Device ids, in a few queries per batch.

A row names a device by hostname (matched on `device_name_key`: case-insensitive, FQDN or short
name) and maybe by Intune or Entra ID (which survive a rename). Unknown devices are created
with `ON CONFLICT DO NOTHING`, so two imports creating the same device at once both succeed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection
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
    os_build: str = ""
    update_policy: str = ""
    inventory_at: datetime | None = None  # when the row giving os_build/update_policy happened

    def inventory(self, when: datetime | None, os_build: str, update_policy: str) -> None:
        """Keep the facts of the newest row that carries any."""
        if not (os_build or update_policy):
            return
        if self.inventory_at is None or (when is not None and when >= self.inventory_at):
            self.os_build, self.update_policy, self.inventory_at = os_build, update_policy, when

    def seen(self, when: datetime | None) -> None:
        if when is None:
            return
        if self.first_seen is None or when < self.first_seen:
            self.first_seen = when
        if self.last_seen is None or when > self.last_seen:
            self.last_seen = when


# How many name keys one import remembers between batches (about 200 bytes each).
KNOWN_DEVICES_LIMIT = 200_000


def resolve_devices(
    tenant: Tenant,
    refs: dict[str, DeviceRef],
    collect_last_seen: dict[int, datetime] | None = None,
    known: dict[str, tuple[int, datetime | None]] | None = None,
) -> tuple[dict[str, int], int]:
    """Map each name key of `refs` to a device id, creating what is missing.

    Returns the mapping and how many devices this call created. Existing devices' last-seen
    times are raised at once, or, if the caller passes `collect_last_seen`, collected there for one
    `raise_last_seen` at the end (an import does that rather than once per batch).

    A caller resolving many batches may pass the same `known` dict to every call: keys found by
    name are remembered there with their device's last-seen time, and are not looked up again.
    The name match wins over the Intune and Entra IDs, so a remembered key resolves as a query
    would, and `raise_last_seen` never moves a time back, so collecting from the remembered
    (older) time stores the same times.
    """
    if not refs:
        return {}, 0
    if "" in refs:  # the callers reject such names; one slipping through would merge devices
        raise ValueError("a device name with no host part has no name key")
    resolved: dict[str, int] = {}
    newer: dict[int, datetime] = {}
    if known:
        remembered = {key: known[key] for key in refs.keys() & known.keys()}
        _collect_newer(refs, remembered, resolved, newer)
        queried = {key: ref for key, ref in refs.items() if key not in remembered}
    else:
        queried = refs
    by_key: dict[str, tuple[int, datetime | None]] = {}
    by_intune: dict[str, tuple[int, datetime | None]] = {}
    by_entra: dict[str, tuple[int, datetime | None]] = {}
    if queried:
        for pk, key, intune, entra, last_seen in _matching_devices(tenant.pk, queried):
            by_key[key] = (pk, last_seen)
            if intune:
                by_intune.setdefault(intune, (pk, last_seen))
            if entra:
                by_entra.setdefault(entra, (pk, last_seen))

    found: dict[str, tuple[int, datetime | None]] = {}
    missing: list[str] = []
    for key, ref in queried.items():
        match = by_key.get(key) or by_intune.get(ref.intune_id) or by_entra.get(ref.entra_id)
        if match is None:
            missing.append(key)
        else:
            found[key] = match
    _collect_newer(refs, found, resolved, newer)
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
    if known is not None and len(known) < KNOWN_DEVICES_LIMIT:
        known.update((key, found[key]) for key in found.keys() & by_key.keys())
        if missing:
            known.update((key, (created_ids[key], refs[key].last_seen)) for key in created_ids)
    return resolved, created


def _collect_newer(
    refs: dict[str, DeviceRef],
    matches: dict[str, tuple[int, datetime | None]],
    resolved: dict[str, int],
    newer: dict[int, datetime],
) -> None:
    """Record each matched key's device, and its time where the batch saw it later."""
    for key, (pk, last_seen) in matches.items():
        resolved[key] = pk
        ref_seen = refs[key].last_seen
        later = ref_seen and (last_seen is None or ref_seen > last_seen)
        if later and (pk not in newer or ref_seen > newer[pk]):
            newer[pk] = ref_seen


def _matching_devices(tenant_id: int, refs: dict[str, DeviceRef]) -> list[tuple]:
    """(id, name_key, intune id, entra id, last_seen_at) of devices matching any ref, in one query.

    Each identifier goes as one array parameter (a JSON text on SQLite) rather than hundreds of
    placeholders, and each is looked up through its own index, joined by UNION.
    """
    columns = ["id", "name_key", "intune_device_id", "entra_device_id", "last_seen_at"]
    quote = connection.ops.quote_name
    table = quote(Device._meta.db_table)
    lookups = [("name_key", sorted(refs))]
    for column, values in (
        ("intune_device_id", {ref.intune_id for ref in refs.values() if ref.intune_id}),
        ("entra_device_id", {ref.entra_id for ref in refs.values() if ref.entra_id}),
    ):
        if values:
            lookups.append((column, sorted(values)))
    postgres = connection.vendor == "postgresql"
    selects = []
    params: list = []
    for column, values in lookups:
        if postgres:
            match, value = f"{quote(column)} = ANY(%s)", values
        else:
            match = f"{quote(column)} IN (SELECT value FROM json_each(%s))"
            value = json.dumps(values)
        selects.append(
            f"SELECT {', '.join(quote(c) for c in columns)} FROM {table} "
            f"WHERE {quote('tenant_id')} = %s AND {match}"
        )
        params += [tenant_id, value]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ".join(selects), params)
        rows = cursor.fetchall()
    if postgres:
        return rows
    # Raw SQLite hands back naive UTC datetimes; the ORM would have made them aware.
    return [
        (pk, key, intune, entra, when.replace(tzinfo=UTC) if when and not when.tzinfo else when)
        for pk, key, intune, entra, when in rows
    ]


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
        "os_build", "update_policy",
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
                ref.os_build[:64],
                ref.update_policy[:255],
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


def record_inventory(
    mapping: dict[str, int], refs: dict[str, DeviceRef], facts_at: dict[int, datetime | None]
) -> None:
    """Set each device's OS build and update policy from `refs`, one UPDATE … FROM (VALUES …)
    per 500 devices. Devices the batch carried no facts for are left as they are, and so are
    those an earlier batch of the same import (`facts_at`, kept by the caller) gave newer facts.
    """
    items = []
    for key, ref in refs.items():
        if not (ref.os_build or ref.update_policy):
            continue
        pk, when, written = mapping[key], ref.inventory_at, facts_at.get(mapping[key])
        if written is not None and (when is None or when < written):
            continue
        facts_at[pk] = when
        items.append((pk, ref.os_build[:64], ref.update_policy[:255]))
    quote = connection.ops.quote_name
    table = quote(Device._meta.db_table)
    build, policy = quote("os_build"), quote("update_policy")
    for start in range(0, len(items), 500):
        chunk = items[start : start + 500]
        params = [value for item in chunk for value in item]
        values = ", ".join(["(%s, %s, %s)"] * len(chunk))
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {build} = CASE WHEN v.column2 = '' THEN {table}.{build} "
                f"ELSE v.column2 END, {policy} = CASE WHEN v.column3 = '' THEN {table}.{policy} "
                f"ELSE v.column3 END FROM (VALUES {values}) AS v "
                f"WHERE {table}.{quote('id')} = v.column1",
                params,
            )
