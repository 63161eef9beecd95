"""What the device list, the device page's inventory sections and the devices API read.

Set-based: a page of the list is two queries (its count and its rows, each device's open flags
and distinct codes as subqueries), whatever the page size; a device's sections one query each.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.paginator import Page, Paginator
from django.db.models import Count, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from fleet.access import picked_tenants
from fleet.models import DailyDeviceCodeStat, Device, Occurrence, device_name_key
from fleet.triage.models import TriageFlag

PAGE_SIZE = 50
RECENT_OCCURRENCES = 50
SORTS = {
    "name": ("name_key", "pk"),
    "last_seen": ("last_seen_at", "name_key", "pk"),
    "flags": ("open_flags", "name_key", "pk"),
    "codes": ("codes", "name_key", "pk"),
}


@dataclass
class DeviceSearch:
    """The list's request, parsed: search text, tenant slugs, sort key and page number."""

    q: str = ""
    tenants: tuple[str, ...] = ()
    sort: str = "name"
    page: str = "1"

    @classmethod
    def from_query(cls, params) -> DeviceSearch:
        sort = params.get("sort", "name").strip()
        if sort.lstrip("-") not in SORTS:
            sort = "name"
        return cls(
            q=params.get("q", "").strip()[:255],
            tenants=tuple(params.getlist("tenant")),
            sort=sort,
            page=params.get("page", "1"),
        )


def _count(queryset: QuerySet) -> Coalesce:
    """COUNT(*) of `queryset` as a correlated subquery (0 when it is empty)."""
    counted = queryset.order_by().values("tenant_id").annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _device_codes() -> QuerySet:
    return DailyDeviceCodeStat.objects.filter(device_id=OuterRef("pk")).values("code")


def with_counts(devices: QuerySet[Device]) -> QuerySet[Device]:
    """`devices` annotated with `open_flags` (open triage flags of its tenant for a code it has
    had) and `codes` (distinct codes it has had, from the daily per-device aggregate)."""
    codes = (
        DailyDeviceCodeStat.objects.filter(device_id=OuterRef("pk"))
        .order_by()
        .values("device_id")
        .annotate(n=Count("code", distinct=True))
        .values("n")
    )
    flags = TriageFlag.objects.filter(
        tenant_id=OuterRef("tenant_id"),
        state__in=TriageFlag.OPEN_STATES,
        code__in=DailyDeviceCodeStat.objects.filter(device_id=OuterRef(OuterRef("pk"))).values(
            "code"
        ),
    )
    return devices.annotate(
        open_flags=_count(flags),
        codes=Coalesce(Subquery(codes, output_field=IntegerField()), Value(0)),
    )


def _matching(devices: QuerySet[Device], q: str) -> QuerySet[Device]:
    """Hostname prefix (on the matching name, so case and domain do not matter), or an exact
    Intune or Entra device id."""
    if not q:
        return devices
    key = device_name_key(q)
    by_name = Q(name_key__startswith=key) if key else Q(pk__in=[])
    return devices.filter(by_name | Q(intune_device_id=q) | Q(entra_device_id=q))


def visible_devices(
    user: AbstractBaseUser | AnonymousUser, search: DeviceSearch
) -> QuerySet[Device]:
    """The devices of `user`'s granted tenants (those named by `search.tenants`, if any) that
    match the search, with their counts, in the sort asked for."""
    _, shown = picked_tenants(user, list(search.tenants))
    devices = Device.objects.filter(tenant_id__in=[t.pk for t in shown]).select_related("tenant")
    devices = with_counts(_matching(devices, search.q))
    fields = SORTS[search.sort.lstrip("-")]
    if search.sort.startswith("-"):
        return devices.order_by(*(f"-{field}" for field in fields))
    return devices.order_by(*fields)


def device_page(user: AbstractBaseUser | AnonymousUser, search: DeviceSearch) -> Page:
    """One page of `visible_devices` (PAGE_SIZE a page; a page out of range gives the last)."""
    return Paginator(visible_devices(user, search), PAGE_SIZE).get_page(search.page)


def visible_device(user: AbstractBaseUser | AnonymousUser, pk: int) -> Device | None:
    """One device with its counts if a tenant granted to `user` owns it, else None."""
    if not 0 < pk < 2**63:
        return None
    _, shown = picked_tenants(user, [])
    devices = Device.objects.filter(pk=pk, tenant_id__in=[t.pk for t in shown])
    return with_counts(devices.select_related("tenant")).first()


def failed_updates(device: Device) -> list[dict]:
    """The updates its failures named (title and KB, where the rows carried them), newest
    first, with how many failures and distinct codes each. One query."""
    rows = (
        Occurrence.objects.filter(device=device)
        .exclude(update_title="", kb="")
        .values("update_title", "kb")
        .annotate(failures=Count("id"), codes=Count("code", distinct=True))
    )
    rows = rows.annotate(last=Max("occurred_at")).order_by("-last", "update_title", "kb")
    return list(rows[:100])


def recent_occurrences(device: Device) -> list[Occurrence]:
    """Its newest raw rows (RECENT_OCCURRENCES of them), each with its import's id and its
    code's canonical notation as `hex`."""
    rows = list(
        Occurrence.objects.filter(device=device).order_by("-occurred_at", "-id")[
            :RECENT_OCCURRENCES
        ]
    )
    for row in rows:
        row.hex = f"0x{row.code:08X}"
    return rows
