"""What each dashboard page shows, assembled from one query function and the chart builders.

Views stay thin: they parse the request into a `Scope`, call one function here, and render.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse

from dashboards import charts, queries
from dashboards.filters import Scope
from fleet.devices.queries import failed_updates, recent_occurrences
from fleet.models import Device

OVERVIEW_CHARTS = ("occurrences_over_time", "top_codes", "code_heatmap", "top_devices")
CODE_CHARTS = ("code_trend", "code_tenants", "code_devices", "code_updates", "code_cooccurring")
DEVICE_CHARTS = ("device_timeline",)


def with_csv_links(found: dict[str, charts.Chart], scope: Scope, **extra: str):
    """Give each chart the URL of its CSV download: same filter, plus what names the subject."""
    for name, chart in found.items():
        query = urlencode([*scope.params(), *extra.items()])
        chart.csv_url = f"{reverse('dashboards:chart_csv', args=[name])}?{query}"
    return found


def stack_from(params) -> str:
    stack = params.get("stack", "family")
    return stack if stack in charts.STACKS else "family"


def overview_charts(scope: Scope, stack: str) -> tuple[queries.Overview, dict[str, charts.Chart]]:
    data = queries.overview(scope)
    found = charts.overview_charts(data, scope, stack)
    return data, with_csv_links(found, scope, stack=stack)


def overview_page(scope: Scope, stack: str) -> dict:
    """Context of the overview (all picked tenants) and of a tenant page (one tenant)."""
    data, found = overview_charts(scope, stack)
    stack_links = {
        name: "?" + urlencode([*scope.params(), ("stack", name)]) for name in charts.STACKS
    }
    return {
        "scope": scope,
        "figures": data,
        "charts": found,
        "stack": stack,
        "stack_links": stack_links,
    }


def device_charts(scope: Scope, device: Device) -> dict[str, charts.Chart]:
    data = queries.device_timeline(scope, device)
    found = {"device_timeline": charts.device_timeline(data, scope)}
    return with_csv_links(found, scope, device=str(device.pk))


def device_page(scope: Scope, device: Device) -> dict:
    """The device's facts and charts, the updates its failures named, its newest raw rows."""
    return {
        "scope": scope,
        "device": device,
        "charts": device_charts(scope, device),
        "failed_updates": failed_updates(device),
        "recent": recent_occurrences(device),
    }
