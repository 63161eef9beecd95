"""The fleet section of a code's knowledge page (`/codes/<hex>/`).

The codes app owns the page; `code_fleet_section` is listed in `KNOWLEDGE_PAGE_SECTIONS`, so
the page merges its context and includes `dashboards/_code_fleet.html`, which renders the
filter, the trend chart and the tables.
"""

from __future__ import annotations

from django.http import HttpRequest

from dashboards import charts, queries
from dashboards.filters import Scope, scope_from_request
from dashboards.pages import with_csv_links


def code_charts(scope: Scope, value: int) -> dict[str, charts.Chart]:
    """Every chart and table of the section, keyed by chart name."""
    data = queries.code_fleet(scope, value)
    found = {"code_trend": charts.code_trend(data, scope), **charts.code_tables(data, scope)}
    return with_csv_links(found, scope, code=f"0x{value:08X}")


def code_fleet_context(request: HttpRequest, value: int) -> dict:
    """Context for `dashboards/_code_fleet.html`, under the single key `code_fleet`.

    Seven queries whatever the data size: the visible tenants, then `queries.code_fleet`.
    """
    scope = scope_from_request(request)
    found = code_charts(scope, value)
    trend = found["code_trend"]
    return {
        "code_fleet": {
            "scope": scope,
            "hex": f"0x{value:08X}",
            "trend": trend,
            "occurrences": sum(row[1] for row in trend.rows),
            "devices_affected": sum(row[2] for row in found["code_tenants"].rows),
            "tenants": found["code_tenants"],
            "devices": found["code_devices"],
            "updates": found["code_updates"],
            "cooccurring": found["code_cooccurring"],
            "sample_size": queries.UPDATE_SAMPLE,
            "device_limit": queries.CODE_PAGE_DEVICES,
        }
    }


def code_fleet_section(request: HttpRequest, value: int) -> dict:
    """The section as the knowledge page takes it (`codes.page_sections`): template and context."""
    return {"template": "dashboards/_code_fleet.html", **code_fleet_context(request, value)}
