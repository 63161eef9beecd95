"""The flag page's chart: the last days per hour against the baseline the signal expects."""

from __future__ import annotations

from datetime import datetime, timedelta

from fleet.chart_figure import figure
from fleet.triage.models import TriageFlag

NOW_COLOUR, BASELINE_COLOUR = "#1f5fbf", "#e07b39"


def baseline_chart(
    flag: TriageFlag, counts: dict[datetime, int], start: datetime, end: datetime
) -> dict:
    """Plotly figure: occurrences per hour in [start, end) as bars (empty hours as zero), and the
    flag's baseline as the line it is compared with (`baseline_24h` spread over 24 hours)."""
    hours = [start + timedelta(hours=n) for n in range(int((end - start).total_seconds() // 3600))]
    axis = [hour.replace(tzinfo=None).isoformat() for hour in hours]
    per_hour = round(flag.baseline_24h / 24, 3)
    return figure(
        [
            {
                "type": "bar",
                "name": "Occurrences per hour",
                "x": axis,
                "y": [counts.get(hour, 0) for hour in hours],
                "marker": {"color": NOW_COLOUR},
            },
            {
                "type": "scatter",
                "mode": "lines",
                "name": "Baseline (expected per hour)",
                "x": axis,
                "y": [per_hour] * len(axis),
                "line": {"color": BASELINE_COLOUR, "dash": "dash"},
            },
        ],
        height=260,
        xaxis={"title": {"text": "Hour (UTC)"}},
        yaxis={"title": {"text": "Occurrences"}, "rangemode": "tozero"},
    )
