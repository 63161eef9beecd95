"""Operator pages. Views parse the request, call one function, render.

Every view is login-required and scoped by `fleet.access.visible_tenants` through
`scope_from_request`; a device or tenant the user may not see answers 404.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from codes.parse import CodeError, parse_code
from dashboards import pages, queries
from dashboards.code_fleet import code_charts
from dashboards.csv_export import chart_csv, csv_filename
from dashboards.filters import id_param, scope_from_request
from fleet.access import may_administer


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    scope = scope_from_request(request)
    context = pages.overview_page(scope, pages.stack_from(request.GET))
    return render(request, "dashboards/overview.html", context)


@login_required
def tenant(request: HttpRequest, slug: str) -> HttpResponse:
    scope = scope_from_request(request).pinned_to(slug)
    if scope is None:
        raise Http404("No such tenant.")
    context = pages.overview_page(scope, pages.stack_from(request.GET))
    context["tenant"] = scope.tenants[0]
    context["may_administer"] = may_administer(request.user, scope.tenants[0])
    return render(request, "dashboards/tenant.html", context)


@login_required
def device(request: HttpRequest, pk: int) -> HttpResponse:
    scope = scope_from_request(request)
    found = queries.visible_device(scope, pk)
    if found is None:
        raise Http404("No such device.")
    return render(request, "dashboards/device.html", pages.device_page(scope, found))


@login_required
def chart_download(request: HttpRequest, name: str) -> HttpResponse:
    """`/charts/<name>.csv?<filter>`: the data of one chart, filtered like the page it is on.

    Code charts take `code=<any notation>`, the device timeline `device=<id>`.
    """
    scope = scope_from_request(request)
    if name in pages.OVERVIEW_CHARTS:
        _, found = pages.overview_charts(scope, pages.stack_from(request.GET))
    elif name in pages.CODE_CHARTS:
        try:
            value = parse_code(request.GET.get("code", "")).value
        except CodeError as exc:
            return HttpResponse(f"code: {exc}\n", status=400, content_type="text/plain")
        found = code_charts(scope, value)
    elif name in pages.DEVICE_CHARTS:
        device_id = id_param(request.GET, "device")
        found_device = queries.visible_device(scope, device_id) if device_id else None
        if found_device is None:
            raise Http404("No such device.")
        found = pages.device_charts(scope, found_device)
    else:
        raise Http404("No such chart.")
    return chart_csv(found[name], csv_filename(name, scope))
