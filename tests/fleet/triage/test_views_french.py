"""The flag page's refusals in French: the form's label, the number and the sentence."""

from __future__ import annotations

import html

import pytest

from fleet.triage.flags import MAX_MUTE_OCCURRENCES
from fleet.triage.views import SPARK_DAYS
from tests.fleet.triage.test_views import flags  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def test_a_mute_count_past_the_limit_is_refused_in_french(logged_in, flags):  # noqa: F811
    mine, _ = flags
    response = logged_in.post(
        f"/triage/{mine.pk}/",
        {"action": "mute", "mute_occurrences": str(MAX_MUTE_OCCURRENCES + 1)},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 400
    body = html.unescape(response.content.decode())
    assert "Sourdine (occurrences) : au plus 1\u00a0000\u00a0000 occurrences de plus" in body


def test_the_queue_sparkline_is_labelled_in_french(logged_in, flags):  # noqa: F811
    page = logged_in.get("/triage/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert f"occurrences sur les {SPARK_DAYS} derniers jours" in page
    assert "occurrences in the last" not in page


def test_a_stored_reason_reads_in_french_on_the_queue_and_the_flag_page(logged_in, flags):  # noqa: F811
    mine, _ = flags
    mine.reason = "1500 in the last 6 h, usually 12; also spiking in 2 other tenants"
    mine.save(update_fields=["reason"])
    french = (
        "1\u00a0500 dans les dernières 6 h, d’habitude 12 ; aussi en hausse chez 2 autres clients"
    )
    queue = html.unescape(logged_in.get("/triage/", HTTP_ACCEPT_LANGUAGE="fr").content.decode())
    page = html.unescape(
        logged_in.get(f"/triage/{mine.pk}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    )
    english = html.unescape(logged_in.get("/triage/", HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert french in queue and french in page
    assert "1,500 in the last 6 h, usually 12; also spiking in 2 other tenants" in english
    # The API keeps the stored sentence: scripts read it.
    api = logged_in.get("/api/v1/triage", HTTP_ACCEPT_LANGUAGE="fr").json()
    assert mine.reason in [item["reason"] for item in api["flags"]]
