from datetime import timedelta

import pytest

from fleet.reports import queries
from fleet.reports.periods import parse_range
from fleet.reports.recommend import first_steps, recommendations
from fleet.reports.report import build_report, change_text, duration_text, render_html
from tests.fleet.reports.conftest import NEW, STEADY, STORM


def test_the_series_has_every_day_of_the_period_and_counts_only_the_tenant(fleet):
    series = queries.daily_series(fleet.tenant, fleet.period)
    assert len(series) == fleet.period.days
    assert [row.day for row in series][:2] == [
        fleet.period.first,
        fleet.period.first + timedelta(days=1),
    ]
    storm_day = series[9]
    assert (storm_day.occurrences, storm_day.devices) == (1 + 5 * 8, 6)
    assert (series[0].occurrences, series[0].devices) == (1, 1)


def test_the_figures_and_the_period_before(fleet):
    report = build_report(fleet.tenant, fleet.period)
    days = fleet.period.days
    assert report.totals.occurrences == days + 2 * 5 * 8 + 3
    assert report.totals.devices_affected == 6
    assert report.totals.devices_known == 6
    assert report.totals.codes == 3
    # The period before holds only STEADY (28 days of it before this one: at least those).
    assert report.before.codes == 1
    assert report.before.devices_affected == 1


def test_top_codes_have_their_titles_and_what_was_done(fleet):
    report = build_report(fleet.tenant, fleet.period)
    first = report.top_codes[0]
    assert first.row.code == STORM
    assert (first.row.occurrences, first.row.devices, first.row.days) == (80, 5, 2)
    assert first.facts.title == "Operation was cancelled"
    assert first.flag == fleet.flag
    assert first.resolved == 1
    [(row, facts, took)] = report.resolved_rows
    assert (row.code, row.by, took) == (STORM, "olivia", "30 h")
    assert report.median_time_to_resolve == "30 h"


def test_the_storm_is_a_spike_that_ended_and_the_steady_code_is_not(fleet):
    report = build_report(fleet.tenant, fleet.period)
    [item] = report.spikes
    spike = item.spike
    assert spike.code == STORM
    assert (spike.first_day, spike.days) == (fleet.period.first + timedelta(days=9), 2)
    assert (spike.peak_occurrences, spike.peak_devices, spike.usual) == (40, 5, 0)
    assert spike.ended_on == fleet.period.first + timedelta(days=11)
    assert "back to its usual level" in item.ending


def test_a_spike_still_running_at_the_end_says_so(fleet):
    storm_days = parse_range(
        (fleet.period.first + timedelta(days=2)).isoformat(),
        (fleet.period.first + timedelta(days=10)).isoformat(),
    )
    [item] = build_report(fleet.tenant, storm_days).spikes
    assert item.spike.ended_on is None
    assert "still above" in item.ending


def test_codes_new_this_period_and_devices_that_failed_most(fleet):
    report = build_report(fleet.tenant, fleet.period)
    # The storm's code was never seen before the period either.
    storm, new = (row for row, _ in report.new_codes)
    assert (storm.code, storm.occurrences, storm.peak_devices) == (STORM, 80, 5)
    assert (new.code, new.occurrences, new.peak_devices) == (NEW, 3, 1)
    assert new.first_day == fleet.period.first + timedelta(days=19)
    first, second = report.devices[:2]
    days = fleet.period.days
    row = (first.hostname, first.occurrences, first.codes, first.days)
    assert row == ("ACME-00", days, 1, days)
    row = (second.hostname, second.occurrences, second.codes, second.days)
    assert row == ("ACME-02", 19, 2, 3)
    assert len(report.devices) == 6
    assert STEADY not in {n.code for n, _ in report.new_codes}


def test_recommendations_come_from_the_curated_steps(db):
    [advice] = recommendations([0x12345678, STORM])
    assert advice.code == STORM
    assert len(advice.steps) == 3
    assert advice.steps[0].startswith("Retry once the device is idle")
    assert "\n" not in advice.steps[0]  # wrapped lines joined


def test_first_steps_reads_numbered_and_bulleted_lists():
    text = "1. one\n   more\n2. two\n\n3. three\n4. four"
    assert first_steps(text) == ["one more", "two", "three"]
    assert first_steps("- a\n- b", limit=5) == ["a", "b"]
    assert first_steps("no list here") == []


def test_the_report_reads_a_fixed_number_of_queries(fleet, django_assert_max_num_queries):
    with django_assert_max_num_queries(20):
        build_report(fleet.tenant, fleet.period)


def test_the_html_names_tenant_period_code_title_and_brand(fleet, settings):
    settings.MSP_NAME = "Northwind IT Services"
    settings.MSP_COLOR = "#aa3300"
    html = render_html(build_report(fleet.tenant, fleet.period))
    for text in (
        "Acme Corp",
        fleet.period.label,
        fleet.period.key,
        "0x8024000B",
        "Operation was cancelled",
        "Northwind IT Services",
        "--brand: #aa3300",
        "page-break",
        "Moved the reboot window",
    ):
        assert text in html, text


def test_an_empty_period_renders_its_empty_sections(tenant):
    html = render_html(build_report(tenant, parse_range("2026-01-01", "2026-01-07")))
    assert "No occurrences in this period." in html
    assert "No device reported an error" in html


@pytest.mark.parametrize(
    ("minutes", "text"), [(45, "45 min"), (60, "1 h"), (47 * 60, "47 h"), (74 * 60, "3 d 2 h")]
)
def test_duration_text(minutes, text):
    assert duration_text(timedelta(minutes=minutes)) == text


def test_change_text():
    assert change_text(110, 100) == "+10 % on the period before"
    assert change_text(50, 100) == "−50 % on the period before"
    assert change_text(5, 0) == "none the period before"
    assert change_text(3, 3) == "unchanged"
