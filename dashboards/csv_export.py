"""CSV downloads of chart data, safe to open in a spreadsheet."""

from __future__ import annotations

import csv

from django.http import HttpResponse

from dashboards.charts import Chart
from fleet.spreadsheet import spreadsheet_safe


def chart_csv(chart: Chart, filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow([spreadsheet_safe(c) for c in chart.columns])
    for row in chart.rows:
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    return response
