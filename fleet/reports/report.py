"""A tenant report for one period: what it holds (`build_report`) and its HTML
(`render_html`), the one template the page, the PDF and the scheduled email all use.

The sections follow what an MSP's customer asks: how many machines reported and how many had
trouble, over time; which codes, in plain words, and what was done about them (flags resolved,
time to resolve); spikes and how they ended; the devices that failed most; codes new this
period; and what we recommend, from the codes' curated knowledge.
"""

from __future__ import annotations

import statistics
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext, pgettext

from codes.facts import CodeFacts, facts_for
from codes.knowledge import translated_title
from fleet.models import Tenant
from fleet.reports import queries
from fleet.reports.chart import Chart, daily_chart
from fleet.reports.periods import Period, day_text
from fleet.reports.recommend import Recommendation, recommendations
from fleet.reports.spikes import Spike, find_spikes
from fleet.triage.models import TriageFlag


def in_language(language: str | None) -> AbstractContextManager:
    """Build and render a report under this: its words, month names and numbers follow
    `language` (blank: the site's default), whoever or whatever asked for it."""
    return translation.override(language or settings.LANGUAGE_CODE)


def duration_text(span: timedelta) -> str:
    """A time to resolve as a person says it: 45 min, 6 h, 3 d 4 h (3 j 4 h in French)."""
    minutes = int(span.total_seconds() // 60)
    if minutes < 60:
        return gettext("%(minutes)s min") % {"minutes": minutes}
    hours = minutes // 60
    if hours < 48:
        return gettext("%(hours)s h") % {"hours": hours}
    days, hours = divmod(hours, 24)
    if hours:
        return gettext("%(days)s d %(hours)s h") % {"days": days, "hours": hours}
    return gettext("%(days)s d") % {"days": days}


def change_text(now: int, before: int) -> str:
    """How a figure moved from the period before: +12 %, −40 %, new, unchanged."""
    if now == before:
        return pgettext("figure", "unchanged")
    if before == 0:
        return gettext("none the period before")
    percent = round(100 * (now - before) / before)
    return gettext("%(change)s %% on the period before") % {
        "change": f"{'+' if percent > 0 else '−'}{formats.number_format(abs(percent))}"
    }


@dataclass
class TopCode:
    row: queries.CodeRow
    facts: CodeFacts
    flag: TriageFlag | None
    resolved: int  # flag resolutions in the period


@dataclass
class SpikeRow:
    spike: Spike
    facts: CodeFacts
    flag: TriageFlag | None

    @property
    def ending(self) -> str:
        spike = self.spike
        if spike.ended_on is None:
            return gettext("still above its usual level when the period ended")
        return gettext("lasted %(days)s d; back to its usual level on %(day)s") % {
            "days": spike.days,
            "day": day_text(spike.ended_on),
        }


@dataclass
class TenantReport:
    tenant: Tenant
    period: Period
    generated_at: datetime
    totals: queries.Totals
    before: queries.Totals
    series: list[queries.DayRow]
    chart: Chart
    top_codes: list[TopCode]
    resolved: queries.Resolved
    resolved_rows: list[tuple[queries.ResolvedRow, CodeFacts, str]]
    median_time_to_resolve: str
    spikes: list[SpikeRow]
    devices: list[queries.DeviceRow]
    new_codes: list[tuple[queries.NewCode, CodeFacts]]
    recommendations: list[tuple[Recommendation, CodeFacts]]
    facts: dict[int, CodeFacts] = field(default_factory=dict)

    @property
    def occurrences_change(self) -> str:
        return change_text(self.totals.occurrences, self.before.occurrences)

    @property
    def devices_change(self) -> str:
        return change_text(self.totals.devices_affected, self.before.devices_affected)

    @property
    def file_name(self) -> str:
        return f"report-{self.tenant.slug}-{self.period.key.replace('..', '_')}"


def build_report(tenant: Tenant, period: Period, now: datetime | None = None) -> TenantReport:
    """Everything the report shows. About fifteen queries whatever the data size."""
    series = queries.daily_series(tenant, period)
    top = queries.top_codes(tenant, period)
    resolved = queries.resolved_in(tenant, period)
    spikes = find_spikes(queries.code_days(tenant, period), period)
    devices = queries.top_devices(tenant, period)
    new = queries.new_codes(tenant, period)
    # The codes to advise on: the top ones by devices affected, then the spiking ones.
    advised = [r.code for r in sorted(top, key=lambda r: (-r.devices, -r.occurrences, r.code))]
    advised += [s.code for s in spikes if s.code not in advised]
    advice = recommendations(advised)
    codes = (
        {r.code for r in top}
        | {r.code for r in resolved.rows}
        | {s.code for s in spikes}
        | {n.code for n in new}
        | {a.code for a in advice}
    )
    facts = _titles_translated(facts_for(codes))
    flags = queries.flags_for(tenant, {r.code for r in top} | {s.code for s in spikes})
    times = [r.time_to_resolve for r in resolved.rows]
    return TenantReport(
        tenant=tenant,
        period=period,
        generated_at=now or timezone.now(),
        totals=queries.totals(tenant, period.first, period.end),
        before=queries.totals(tenant, period.previous_start(), period.first),
        series=series,
        chart=daily_chart(series),
        top_codes=[
            TopCode(r, facts[r.code], flags.get(r.code), resolved.per_code.get(r.code, 0))
            for r in top
        ],
        resolved=resolved,
        resolved_rows=[(r, facts[r.code], duration_text(r.time_to_resolve)) for r in resolved.rows],
        median_time_to_resolve=duration_text(statistics.median(times)) if times else "",
        spikes=[SpikeRow(s, facts[s.code], flags.get(s.code)) for s in spikes],
        devices=devices,
        new_codes=[(n, facts[n.code]) for n in new],
        recommendations=[(a, facts[a.code]) for a in advice],
        facts=facts,
    )


def _titles_translated(facts: dict[int, CodeFacts]) -> dict[int, CodeFacts]:
    """Curated titles in the active language where a translation gives one; Microsoft's
    message texts stay as Microsoft publishes them."""
    language = translation.get_language()
    return {
        value: replace(fact, title=translated_title(value, fact.title, language))
        if fact.title
        else fact
        for value, fact in facts.items()
    }


def branding() -> dict[str, str]:
    """The MSP's name, logo and colour the report goes out under (settings MSP_*)."""
    return {
        "name": settings.MSP_NAME,
        "logo_url": settings.MSP_LOGO_URL,
        "color": settings.MSP_COLOR,
    }


def render_html(report: TenantReport, *, page_links: dict[str, str] | None = None) -> str:
    """The report as one self-contained HTML document (its styles inline, its chart an SVG).
    `page_links` (the page's own PDF and tenant links) appear on screen only, never in print."""
    return render_to_string(
        "reports/report.html",
        {
            "report": report,
            "brand": branding(),
            "links": page_links or {},
            "site_url": settings.SITE_URL,
        },
    )
