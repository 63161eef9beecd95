"""`/devices/`: the device inventory of the operator's granted tenants. The device page itself
is the dashboards' (`/devices/<id>/`), which shows this slice's inventory sections."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from fleet.access import visible_tenants
from fleet.devices.queries import SORTS, DeviceSearch, device_page


@login_required
def device_list(request: HttpRequest) -> HttpResponse:
    search = DeviceSearch.from_query(request.GET)
    page = device_page(request.user, search)
    keep = request.GET.copy()
    keep.pop("page", None)
    by_sort = request.GET.copy()
    by_sort.pop("page", None)
    by_sort.pop("sort", None)
    context = {
        "search": search,
        "page": page,
        "tenants": visible_tenants(request.user).order_by("name"),
        "picked": set(search.tenants),
        "paging_query": keep.urlencode(),
        "sort_query": by_sort.urlencode(),
        "sorts": list(SORTS),
    }
    return render(request, "devices/list.html", context)
