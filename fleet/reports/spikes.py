"""Spikes of a report's period and how each ended, from the daily aggregates.

Triage (`fleet.triage.signals`) judges the last 6 and 24 hours as they happen; a report looks
back over whole days. A day is a spike day for a code when it has at least triage's minimum
volume (`MIN_OCCURRENCES` on `MIN_DEVICES` devices) and at least `MIN_RATIO` times the code's
usual day: the median of its daily counts over the 28 days before the period, empty days
included, so a past storm in the baseline does not raise it. Consecutive spike days make one
spike; it ended on the first day back under the threshold, or was still running when the
period ended. The tenant's triage flag for the code says what operators did about it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import median

from fleet.reports.periods import Period
from fleet.reports.queries import BASELINE_DAYS, CodeDay
from fleet.triage.signals import MIN_DAILY_RATE, MIN_DEVICES, MIN_OCCURRENCES, MIN_RATIO, usual


@dataclass
class Spike:
    code: int
    first_day: date
    last_day: date
    peak_day: date
    peak_occurrences: int
    peak_devices: int
    occurrences: int
    usual: float  # the code's median day before the period
    ended_on: date | None  # first day back under the threshold; None: still running at the end

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def usual_text(self) -> str:
        return usual(self.usual)


def threshold(usual_day: float) -> float:
    return max(MIN_OCCURRENCES, MIN_RATIO * max(usual_day, MIN_DAILY_RATE))


def find_spikes(rows: list[CodeDay], period: Period) -> list[Spike]:
    """Every spike inside the period, largest peak first. `rows` are the (code, day) counts
    from BASELINE_DAYS before the period to its end (`queries.code_days`)."""
    by_code: dict[int, dict[date, CodeDay]] = defaultdict(dict)
    for row in rows:
        by_code[row.code][row.day] = row
    baseline_first = period.first - timedelta(days=BASELINE_DAYS)
    days = [period.first + timedelta(days=n) for n in range(period.days)]
    spikes: list[Spike] = []
    for code, seen in by_code.items():
        history = [
            seen[d].occurrences if d in seen else 0
            for d in (baseline_first + timedelta(days=n) for n in range(BASELINE_DAYS))
        ]
        usual_day = float(median(history))
        limit = threshold(usual_day)
        current: list[CodeDay] = []
        for day in days:
            row = seen.get(day)
            if row and row.occurrences >= limit and row.devices >= MIN_DEVICES:
                current.append(row)
                continue
            if current:
                spikes.append(_spike(code, current, usual_day, ended_on=day))
                current = []
        if current:
            spikes.append(_spike(code, current, usual_day, ended_on=None))
    return sorted(spikes, key=lambda s: (-s.peak_occurrences, s.first_day, s.code))


def _spike(code: int, run: list[CodeDay], usual_day: float, ended_on: date | None) -> Spike:
    peak = max(run, key=lambda r: (r.occurrences, r.devices))
    return Spike(
        code=code,
        first_day=run[0].day,
        last_day=run[-1].day,
        peak_day=peak.day,
        peak_occurrences=peak.occurrences,
        peak_devices=peak.devices,
        occurrences=sum(r.occurrences for r in run),
        usual=usual_day,
        ended_on=ended_on,
    )
