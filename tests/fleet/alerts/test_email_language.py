"""Each recipient's alert digest in their own language, dates and numbers as they read them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import translation

from codes.models import CodeFamily, ErrorCode
from fleet.accounts.models import PersonSettings
from fleet.alerts.models import AlertDelivery
from fleet.pipeline import run_round
from tests.factories import DeviceFactory, UserFactory, alert_rule, emit

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
CANCELLED = 0x8024000B


@pytest.fixture
def fired(tenant):
    family = CodeFamily.objects.create(slug="wu", name="Windows Update", default_severity="error")
    ErrorCode.objects.create(
        value=CANCELLED, name="WU_E_CALL_CANCELLED", severity="warning", family=family
    )
    french = UserFactory(username="fanny", email="fanny@example.test")
    PersonSettings.objects.create(user=french, language="fr")
    alert_rule(
        tenant=tenant,
        name="Cancelled storm",
        code=CANCELLED,
        min_occurrences=2,
        window_hours=1,
        recipients="fanny@example.test, noc@example.test",
        cooldown_minutes=60,
    )
    emit(DeviceFactory(tenant=tenant), CANCELLED, [NOW - timedelta(minutes=m) for m in (1, 2, 3)])
    run_round(NOW)
    return {d.recipient: d for d in AlertDelivery.objects.filter(channel__isnull=True)}


def test_the_french_recipient_reads_french_and_the_other_english(fired):
    french, english = fired["fanny@example.test"], fired["noc@example.test"]
    assert french.subject == (
        "[Erreurs du parc] Acme Corp: 0x8024000B WU_E_CALL_CANCELLED, "
        "3 occurrences sur 1 appareil en 1 h"
    )
    assert english.subject == (
        "[Fleet errors] Acme Corp: 0x8024000B WU_E_CALL_CANCELLED, 3 occurrences on 1 device in 1 h"
    )
    assert "Une règle d'alerte s'est déclenchée." in french.body_text
    assert "Ce que signifie le code :" in french.body_text
    assert "Les chiffres viennent des agrégats du 20/11/2026 12:30 UTC." in french.body_text
    assert '<html lang="fr">' in french.body_html
    assert "An alert rule fired." in english.body_text
    assert "Counts come from the aggregates at 2026-11-20 12:30 UTC." in english.body_text
    assert '<html lang="en">' in english.body_html


def test_rendering_leaves_the_active_language_alone(fired):
    assert translation.get_language() == "en"
