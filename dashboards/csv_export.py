"""CSV downloads of chart data, safe to open in a spreadsheet."""

from __future__ import annotations

import csv

from django.http import HttpResponse

from dashboards.charts import Chart

# A cell starting with one of these is read as a formula by spreadsheet programs.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """Prefix text cells that a spreadsheet would evaluate with `'`, so they stay text.
    Numbers are left alone: a negative count is a number, not a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def chart_csv(chart: Chart, filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow([spreadsheet_safe(c) for c in chart.columns])
    for row in chart.rows:
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    return response
