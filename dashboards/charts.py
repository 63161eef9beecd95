"""Plotly figures built server-side from the aggregate query results.

Each chart carries its data twice over: as a plotly figure (drawn by our static plotly.js) and
as a plain table, which the page offers as an accessible alternative and `/charts/<name>.csv`
offers as a download. Clickable points carry the URL they open in `customdata`.

Titles, axis titles and hover texts are in the request's language; the column names stay English
in the CSV (a script reading it must not depend on who downloaded it) and are translated for
the page's table only (`Chart.column_labels`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as column

from codes.facts import CodeFacts
from dashboards.filters import Scope
from dashboards.queries import (
    HEATMAP_CODES,
    TOP_CODES,
    CodeFleet,
    DeviceTimeline,
    Overview,
)
from fleet.chart_figure import figure as _figure
from fleet.grains import HOURLY

PALETTE = [
    "#1f5fbf",
    "#e07b39",
    "#2e9e6a",
    "#c23b4e",
    "#7b5cc4",
    "#8c6d31",
    "#d45fa0",
    "#5b6577",
    "#b5a31f",
    "#1fa3b5",
]
SEVERITY_COLOURS = {
    "error": "#c23b4e",
    "warning": "#e0a020",
    "informational": "#1f5fbf",
}
STACKS = ("family", "severity")
SEVERITY_LEGEND = [(name, colour) for name, colour in SEVERITY_COLOURS.items()]


@dataclass
class Chart:
    name: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    links: list[str | None] = field(default_factory=list)  # per row, for the first cell
    figure: dict | None = None  # plotly JSON, None when there is nothing to draw
    csv_url: str = ""
    graphical: bool = True  # False for the code page's plain tables
    # (label, colour) of marks coloured by something the figure's own legend does not name
    legend: list[tuple[str, str]] = field(default_factory=list)

    @property
    def element_id(self) -> str:
        return f"chart-{self.name}"

    @property
    def column_labels(self) -> list[str]:
        """The columns as the page's table heads them (names the catalog knows translated,
        bucket labels and data left as they are)."""
        return [gettext(c) for c in self.columns]

    @property
    def table(self) -> list[tuple[str | None, list]]:
        return list(zip(self.links or [None] * len(self.rows), self.rows, strict=True))


CATEGORIES_TOP_DOWN = {"autorange": "reversed", "type": "category"}


def occurrences_axis() -> dict:
    return {"title": {"text": _("Occurrences")}}


def code_url(value: int, scope: Scope) -> str:
    return f"{reverse('codes:detail', args=[f'0x{value:08X}'])}?{scope.querystring}"


def device_url(device_id: int, scope: Scope) -> str:
    return f"{reverse('dashboards:device', args=[device_id])}?{scope.querystring}"


def day_url(bucket: datetime, scope: Scope) -> str:
    """The overview filtered to the UTC day of `bucket`, for the same tenants: where a bar of a
    time series leads (an hour's bar opens its whole day)."""
    day = bucket.date().isoformat()
    query = urlencode(
        [("tenant", slug) for slug in scope.selected_slugs]
        + [("range", "custom"), ("from", day), ("to", day)]
    )
    return f"{reverse('dashboards:overview')}?{query}"


def _bucket_text(bucket: datetime, scope: Scope) -> str:
    return bucket.strftime("%Y-%m-%d %H:00" if scope.grain is HOURLY else "%Y-%m-%d")


def _bucket_axis(scope: Scope) -> list[datetime]:
    """Every bucket of the window, so empty hours or days show as zero rather than vanish."""
    return scope.grain.buckets(scope.start, scope.end)


def _naive(moments: list[datetime]) -> list[str]:
    """UTC moments as ISO text without their offset: plotly.js reads ISO strings with an offset
    poorly, and every axis here is labelled UTC anyway."""
    return [m.replace(tzinfo=None).isoformat() for m in moments]


# --- overview -------------------------------------------------------------------------------


def occurrences_over_time(data: Overview, scope: Scope, stack: str) -> Chart:
    """Occurrences per bucket, stacked by code family or by operator severity."""
    group_of = (lambda c: c.family_name) if stack == "family" else (lambda c: c.severity)
    series: dict[str, dict[datetime, int]] = {}
    for code, bucket, count in data.code_buckets:
        per_bucket = series.setdefault(group_of(data.codes[code]), {})
        per_bucket[bucket] = per_bucket.get(bucket, 0) + count
    axis = _bucket_axis(scope)
    groups = sorted(series, key=lambda g: -sum(series[g].values()))
    chart = Chart(
        "occurrences_over_time",
        _("Occurrences over time by family")
        if stack == "family"
        else _("Occurrences over time by severity"),
        [column("Bucket"), *groups],
        rows=[[_bucket_text(b, scope), *(series[g].get(b, 0) for g in groups)] for b in axis],
    )
    if groups:
        x = _naive(axis)
        # A click on any part of a bar opens that day's overview; the hover lists every part
        # of the bucket and, from an unseen trace, its total.
        urls = [day_url(b, scope) for b in axis]
        traces = [
            {
                "type": "bar",
                "x": x,
                "y": [series[group].get(b, 0) for b in axis],
                "name": group,
                "customdata": urls,
                "hovertemplate": "%{y}<extra>%{fullData.name}</extra>",
                "marker": {
                    "color": (
                        SEVERITY_COLOURS.get(group)
                        if stack == "severity"
                        else PALETTE[n % len(PALETTE)]
                    )
                },
            }
            for n, group in enumerate(groups)
        ]
        totals = [sum(series[g].get(b, 0) for g in groups) for b in axis]
        traces.append(
            {
                "type": "scatter",
                "x": x,
                "y": totals,
                "name": _("Total"),
                "mode": "markers",
                "marker": {"opacity": 0},
                "showlegend": False,
                "customdata": urls,
                "hovertemplate": _("<b>%{y}</b> (click: this day)<extra>Total</extra>"),
            }
        )
        legend_title = _("Severity") if stack == "severity" else _("Family")
        chart.figure = _figure(
            traces,
            barmode="stack",
            hovermode="x unified",
            yaxis=occurrences_axis(),
            legend={"orientation": "h", "y": -0.18, "title": {"text": f"{legend_title}:"}},
        )
    return chart


def top_codes(data: Overview, scope: Scope) -> Chart:
    """The most frequent codes; a click on a bar opens the code's knowledge page."""
    top = data.code_totals()[:TOP_CODES]
    infos: list[CodeFacts] = [data.codes[code] for code, _ in top]
    urls = [code_url(code, scope) for code, _ in top]
    chart = Chart(
        "top_codes",
        _("Top codes"),
        [
            column("Code"),
            column("Name"),
            column("Family"),
            column("Severity"),
            column("Occurrences"),
        ],
        rows=[
            [i.hex, i.label, i.family_name, i.severity, n]
            for i, (_, n) in zip(infos, top, strict=True)
        ],
        links=urls,
    )
    if top:
        bars = {
            "type": "bar",
            "x": [n for _, n in top],
            "y": [i.hex for i in infos],
            "orientation": "h",
            "customdata": urls,
            "text": [i.label for i in infos],
            "hovertemplate": _("%{y} %{text}<br>%{x} occurrences<extra>click to open</extra>"),
            "marker": {"color": [SEVERITY_COLOURS.get(i.severity, PALETTE[0]) for i in infos]},
        }
        chart.legend = SEVERITY_LEGEND
        # Largest on top, in the order of the table.
        chart.figure = _figure(
            [bars],
            height=60 + 28 * len(top),
            xaxis=occurrences_axis(),
            yaxis=CATEGORIES_TOP_DOWN,
        )
    return chart


def code_heatmap(data: Overview, scope: Scope, limit: int = HEATMAP_CODES) -> Chart:
    """Occurrences per code and day (per hour for a 24 h window); a cell opens the code."""
    codes = [code for code, _ in data.code_totals()[:limit]]
    axis = _bucket_axis(scope)
    cells = {(code, bucket): count for code, bucket, count in data.code_buckets}
    labels = [_bucket_text(b, scope) for b in axis]
    chart = Chart(
        "code_heatmap",
        _("Code × hour") if scope.grain is HOURLY else _("Code × day"),
        [column("Code"), *labels],
        rows=[[data.codes[c].hex, *(cells.get((c, b), 0) for b in axis)] for c in codes],
        links=[code_url(c, scope) for c in codes],
    )
    if codes:
        cells_trace = {
            "type": "heatmap",
            "x": _naive(axis),
            "y": [data.codes[c].hex for c in codes],
            "z": [row[1:] for row in chart.rows],
            "customdata": [[url] * len(axis) for url in chart.links],
            "colorscale": "Reds",
            "hovertemplate": _("%{y}<br>%{x}<br>%{z} occurrences<extra></extra>"),
            "xgap": 1,
            "ygap": 1,
        }
        chart.figure = _figure(
            [cells_trace], height=80 + 24 * len(codes), yaxis=CATEGORIES_TOP_DOWN
        )
    return chart


def top_devices(data: Overview, scope: Scope) -> Chart:
    rows = data.top_devices
    urls = [device_url(r["device_id"], scope) for r in rows]
    chart = Chart(
        "top_devices",
        _("Top devices"),
        [column("Device"), column("Tenant"), column("Occurrences"), column("Distinct codes")],
        rows=[
            [r["device__hostname"], r["tenant__name"], r["occurrences"], r["codes"]] for r in rows
        ],
        links=urls,
    )
    if rows:
        bars = {
            "type": "bar",
            "x": [r["occurrences"] for r in rows],
            "y": [f"{r['device__hostname']} ({r['tenant__slug']})" for r in rows],
            "orientation": "h",
            "customdata": urls,
            "hovertemplate": _("%{y}<br>%{x} occurrences<extra>click to open</extra>"),
            "marker": {"color": PALETTE[0]},
        }
        chart.figure = _figure(
            [bars],
            height=60 + 28 * len(rows),
            xaxis=occurrences_axis(),
            yaxis=CATEGORIES_TOP_DOWN,
        )
    return chart


def overview_charts(data: Overview, scope: Scope, stack: str) -> dict[str, Chart]:
    charts = [
        occurrences_over_time(data, scope, stack),
        top_codes(data, scope),
        code_heatmap(data, scope),
        top_devices(data, scope),
    ]
    return {chart.name: chart for chart in charts}


# --- code page ------------------------------------------------------------------------------


def code_trend(data: CodeFleet, scope: Scope) -> Chart:
    """Occurrences (bars) and distinct devices (line) of one code per bucket."""
    by_bucket = {bucket: (n, devices) for bucket, n, devices in data.trend}
    axis = _bucket_axis(scope)
    chart = Chart(
        "code_trend",
        _("Occurrences and devices over time"),
        [column("Bucket"), column("Occurrences"), column("Distinct devices")],
        rows=[[_bucket_text(b, scope), *by_bucket.get(b, (0, 0))] for b in axis],
    )
    if data.trend:
        x = _naive(axis)
        traces = [
            {
                "type": "bar",
                "x": x,
                "y": [row[1] for row in chart.rows],
                "name": _("Occurrences"),
                "marker": {"color": PALETTE[0]},
            },
            {
                "type": "scatter",
                "x": x,
                "y": [row[2] for row in chart.rows],
                "name": _("Distinct devices"),
                "mode": "lines+markers",
                "yaxis": "y2",
                "line": {"color": PALETTE[1]},
            },
        ]
        chart.figure = _figure(
            traces,
            margin={"l": 60, "r": 70, "t": 10, "b": 40},  # room for the devices axis
            yaxis={"title": {"text": _("Occurrences")}, "rangemode": "tozero"},
            yaxis2={
                "title": {"text": _("Devices")},
                "overlaying": "y",
                "side": "right",
                "rangemode": "tozero",
                "showgrid": False,
            },
        )
    return chart


def code_tables(data: CodeFleet, scope: Scope) -> dict[str, Chart]:
    """The code page's tables: tenant breakdown, devices, updates, co-occurring codes."""
    tenants = Chart(
        "code_tenants",
        _("Tenants"),
        [column("Tenant"), column("Occurrences"), column("Devices")],
        rows=[[r["tenant__name"], r["occurrences"], r["devices"]] for r in data.tenants],
        links=[
            f"{reverse('dashboards:tenant', args=[r['tenant__slug']])}?{scope.querystring}"
            for r in data.tenants
        ],
    )
    devices = Chart(
        "code_devices",
        _("Affected devices"),
        [
            column("Device"),
            column("Tenant"),
            column("Occurrences"),
            column("First seen"),
            column("Last seen"),
        ],
        rows=[
            [
                r["device__hostname"],
                r["tenant__name"],
                r["occurrences"],
                _bucket_text(r["first"], scope),
                _bucket_text(r["last"], scope),
            ]
            for r in data.devices
        ],
        links=[device_url(r["device_id"], scope) for r in data.devices],
    )
    updates = Chart(
        "code_updates",
        _("Updates seen with it"),
        [column("Update title"), "KB", column("Occurrences"), column("Last seen")],
        rows=[
            [r["update_title"], r["kb"], r["occurrences"], r["last"].strftime("%Y-%m-%d %H:%M")]
            for r in data.updates
        ],
    )
    co = Chart(
        "code_cooccurring",
        _("Codes on the same devices"),
        [column("Code"), column("Name"), column("Devices"), column("Occurrences")],
        rows=[
            [
                data.codes[r["code"]].hex,
                data.codes[r["code"]].label,
                r["devices"],
                r["occurrences"],
            ]
            for r in data.cooccurring
        ],
        links=[code_url(r["code"], scope) for r in data.cooccurring],
    )
    found = {c.name: c for c in (tenants, devices, updates, co)}
    for table in found.values():
        table.graphical = False
    return found


# --- device page ----------------------------------------------------------------------------


def device_timeline(data: DeviceTimeline, scope: Scope) -> Chart:
    """Each point is one code in one bucket, sized by occurrences; a click opens the code."""
    rows = data.per_code()
    chart = Chart(
        "device_timeline",
        _("Timeline of codes"),
        [
            column("Code"),
            column("Name"),
            column("Occurrences"),
            column("First seen"),
            column("Last seen"),
        ],
        rows=[
            [
                data.codes[r["code"]].hex,
                data.codes[r["code"]].label,
                r["occurrences"],
                _bucket_text(r["first"], scope),
                _bucket_text(r["last"], scope),
            ]
            for r in rows
        ],
        links=[code_url(r["code"], scope) for r in rows],
    )
    if data.points:
        peak = max(n for _, _, n in data.points)
        urls = {code: code_url(code, scope) for code in data.codes}
        points = {
            "type": "scatter",
            "x": _naive([bucket for _, bucket, _ in data.points]),
            "y": [data.codes[code].hex for code, _, _ in data.points],
            "mode": "markers",
            "customdata": [urls[code] for code, _, _ in data.points],
            "text": [str(n) for _, _, n in data.points],
            "marker": {
                "size": [8 + 16 * math.sqrt(n / peak) for _, _, n in data.points],
                "color": [
                    SEVERITY_COLOURS.get(data.codes[code].severity, PALETTE[0])
                    for code, _, _ in data.points
                ],
            },
            "hovertemplate": _("%{y}<br>%{x}<br>%{text} occurrences<extra>click to open</extra>"),
        }
        chart.legend = SEVERITY_LEGEND
        chart.figure = _figure(
            [points],
            height=max(200, 80 + 30 * len(rows)),
            showlegend=False,
            xaxis={"range": _naive([scope.start, scope.end])},
            yaxis={"type": "category"},
        )
    return chart
