"""A report in the language asked for: the command's --language, the page's reader, the
schedule's `language`; words, month names, numbers and curated titles all follow it."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.utils import translation

from fleet.reports import deliveries
from fleet.reports.chart import daily_chart
from fleet.reports.deliveries import deliver_due
from fleet.reports.models import ReportSchedule
from fleet.reports.periods import iso_week, month
from fleet.reports.queries import DayRow
from fleet.reports.report import change_text, duration_text

FRENCH_MONTHS = [
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
]  # fmt: skip


def write_html(fleet, tmp_path, *language: str) -> str:
    output = tmp_path / "r.html"
    call_command(
        "tenant_report", "acme", "--period", fleet.period.key, "--format", "html",
        "--output", str(output), *language, stdout=io.StringIO(),
    )  # fmt: skip
    return output.read_text(encoding="utf-8")


def test_the_command_writes_a_french_report(fleet, tmp_path):
    html = write_html(fleet, tmp_path, "--language", "fr")
    assert '<html lang="fr">' in html
    assert "Acme Corp : rapport des erreurs Windows" in html
    assert '<h2 id="summary">Synthèse</h2>' in html
    assert "Pics et leur issue" in html and "Nos recommandations" in html
    assert f"{FRENCH_MONTHS[fleet.period.first.month - 1]} {fleet.period.first.year}" in html
    assert "L&#x27;opération a été annulée" in html  # the curated French title
    assert "Summary" not in html and "Spikes and how they ended" not in html


def test_the_command_writes_english_by_default(fleet, tmp_path):
    html = write_html(fleet, tmp_path)
    assert '<html lang="en">' in html and '<h2 id="summary">Summary</h2>' in html
    assert "Synthèse" not in html


def test_the_page_is_in_the_readers_language(fleet, logged_in):
    url = f"/tenants/acme/report/?period={fleet.period.key}"
    french = logged_in.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Synthèse" in french and "Télécharger le PDF" in french
    english = logged_in.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Summary" in english and "Synthèse" not in english


def test_a_french_schedule_mails_a_french_report(fleet, monkeypatch, mailoutbox):
    pdf_of = []
    monkeypatch.setattr(deliveries, "html_to_pdf", lambda html: pdf_of.append(html) or b"%PDF")
    ReportSchedule.objects.create(tenant=fleet.tenant, recipients="ceo@acme.test", language="fr")
    with translation.override("en"):  # the worker's own language does not matter
        assert deliver_due().sent == 1
    [email] = mailoutbox
    assert email.subject.startswith("Acme Corp : rapport des erreurs Windows, ")
    assert FRENCH_MONTHS[fleet.period.first.month - 1] in email.subject
    assert "Le rapport complet est joint en PDF." in email.body
    assert "Synthèse" in pdf_of[0] and "Synthèse" in email.alternatives[0][0]


def test_periods_and_durations_read_in_french():
    with translation.override("fr"):
        assert month(2026, 8).label == "août 2026"
        assert iso_week(2026, 47).label == "semaine 47 de 2026 (16 novembre – 22 novembre 2026)"
        assert duration_text(timedelta(hours=74)) == "3 j 2 h"
        assert change_text(2500, 1000) == "+150 % par rapport à la période précédente"
        assert change_text(3, 0) == "contre 0 la période précédente"
    with translation.override("en"):
        assert iso_week(2026, 47).label == "week 47 of 2026 (16 Nov – 22 Nov 2026)"
        assert duration_text(timedelta(hours=74)) == "3 d 2 h"


@pytest.mark.parametrize(("language", "text"), [("en", "2,500"), ("fr", "2\xa0500")])
def test_the_chart_axis_groups_thousands_for_the_language(language, text):
    with translation.override(language):
        chart = daily_chart([DayRow(date(2026, 11, 2), 3000, 10)])  # the axis tops at 5000
    assert chart.y_ticks[1].text == text
