"""The report's chart as geometry for an inline SVG: occurrences per day as bars, devices
affected per day as a line, on one axis. No script, so it prints, mails and renders the same in
the page and in Chromium's PDF; the table under it carries the same numbers."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.translation import gettext

from fleet.reports.periods import day_text
from fleet.reports.queries import DayRow

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 12, 28


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass
class Tick:
    x: float
    y: float
    text: str


@dataclass
class Chart:
    width: int
    height: int
    bars: list[Bar]
    line: str  # the devices line's points, "x,y x,y …"
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    axis_y: float
    left: int
    right: float


def _nice_max(value: int) -> int:
    """A round axis top at or above `value` (1, 2, 5 times a power of ten)."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def daily_chart(series: list[DayRow]) -> Chart:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = _nice_max(max([r.occurrences for r in series] + [r.devices for r in series] + [1]))
    slot = plot_w / max(len(series), 1)
    base = TOP + plot_h
    bars, points, x_ticks = [], [], []
    every = max(1, len(series) // 8)
    for n, row in enumerate(series):
        x = LEFT + n * slot
        height = plot_h * row.occurrences / top
        bars.append(
            Bar(
                round(x + slot * 0.1, 1),
                round(base - height, 1),
                round(slot * 0.8, 1),
                round(height, 1),
                gettext("%(day)s: %(occurrences)s occurrences, %(devices)s devices")
                % {
                    "day": day_text(row.day),
                    "occurrences": intcomma(row.occurrences),
                    "devices": intcomma(row.devices),
                },
            )
        )
        points.append(f"{x + slot / 2:.1f},{base - plot_h * row.devices / top:.1f}")
        if n % every == 0:
            x_ticks.append(Tick(round(x + slot / 2, 1), base + 16, day_text(row.day)))
    y_ticks = [
        Tick(
            LEFT - 6,
            round(base - plot_h * share, 1) + 4,
            intcomma(round(top * share)),
        )
        for share in (0, 0.5, 1)
    ]
    return Chart(WIDTH, HEIGHT, bars, " ".join(points), x_ticks, y_ticks, base, LEFT, WIDTH - RIGHT)
