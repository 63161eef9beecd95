"""CSV downloads of chart data, safe to open in a spreadsheet."""

from __future__ import annotations

import csv

from django.http import HttpResponse

from dashboards.charts import Chart
from dashboards.filters import Scope
from fleet.spreadsheet import spreadsheet_safe

# More tenants than this in a file name read as the first ones and "+N".
NAMED_TENANTS = 3


def csv_filename(name: str, scope: Scope) -> str:
    """`top_codes-acme-2026-11-01_2026-11-30.csv`: the chart, whose tenants (`all` for every
    visible one) and which days (UTC), so two downloads of the same chart never collide and
    each says what it holds. Slugs are `[a-z0-9-]`, so the name needs no quoting."""
    if scope.selected_slugs and scope.tenants:
        slugs = [t.slug for t in scope.tenants]
        tenants = "_".join(slugs[:NAMED_TENANTS])
        if len(slugs) > NAMED_TENANTS:
            tenants += f"+{len(slugs) - NAMED_TENANTS}"
    else:
        tenants = "all"
    days = scope.days
    span = f"{days[0]:%Y-%m-%d}_{days[-1]:%Y-%m-%d}" if len(days) > 1 else f"{days[0]:%Y-%m-%d}"
    if scope.hourly:
        span = f"{scope.start:%Y-%m-%dT%H%M}_{scope.end:%Y-%m-%dT%H%M}"
    return f"{name}-{tenants}-{span}.csv"


def chart_csv(chart: Chart, filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow([spreadsheet_safe(c) for c in chart.columns])
    for row in chart.rows:
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    return response
