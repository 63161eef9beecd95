"""Teams and Slack messages in the channel's language: the words a person reads change, the
JSON Teams and Slack read does not; the webhook payload stays as it is whatever the channel."""

from __future__ import annotations

import json

import pytest
from django.utils import translation

from fleet.alerts.channels import render_body
from fleet.alerts.models import AlertChannel
from tests.factories import alert_rule
from tests.fleet.alerts.test_chat import FIRED, RESOLVED, card

pytestmark = pytest.mark.django_db


def channel(tenant, kind: str, language: str) -> AlertChannel:
    return AlertChannel.objects.create(
        rule=alert_rule(tenant), kind=kind, url="https://chat.example.test/", language=language
    )


def test_a_french_teams_channel_gets_a_french_card(tenant):
    with translation.override("en"):  # whatever the worker's language
        content = card(json.loads(render_body(channel(tenant, "teams", "fr"), RESOLVED)))
    heading, rule, factset = content["body"]
    assert heading["text"] == "Résolue : 0x8024000B WU_E_CALL_CANCELLED chez acme"
    assert rule["text"] == "Règle : Update storm"
    facts = {fact["title"]: fact["value"] for fact in factset["facts"]}
    assert facts["Type"] == "Pic"
    assert facts["Appareils"] == "7" and facts["Fenêtre"] == "24 h"
    assert facts["Déclenchée"] == "02/12/2026 06:40 UTC"
    assert facts["Résolue"] == "02/12/2026 08:05 UTC"
    assert [a["title"] for a in content["actions"]] == [
        "Ouvrir dans Fleet",
        "À propos de 0x8024000B",
    ]
    # The card's own vocabulary is Teams', not ours.
    assert (content["type"], heading["color"]) == ("AdaptiveCard", "Good")


def test_a_french_slack_channel_gets_french_text_and_english_block_kit(tenant):
    with translation.override("en"):
        message = json.loads(render_body(channel(tenant, "slack", "fr"), FIRED))
    assert message["text"].startswith("Déclenchée : 0x8024000B WU_E_CALL_CANCELLED chez acme : ")
    header, section, context, actions = message["blocks"]
    assert [b["type"] for b in message["blocks"]] == ["header", "section", "context", "actions"]
    assert "*Occurrences*\n14" in [field["text"] for field in section["fields"]]
    assert context["elements"][0]["text"] == "Règle : Update storm · alerte 42"


def test_a_channel_without_a_language_speaks_the_sites_default(tenant, settings):
    with translation.override("fr"):  # a French operator's request tests the channel
        content = card(json.loads(render_body(channel(tenant, "teams", ""), FIRED)))
    assert content["body"][0]["text"] == "Fired: 0x8024000B WU_E_CALL_CANCELLED on acme"


def test_a_webhook_payload_is_the_same_in_any_language(tenant):
    english = render_body(channel(tenant, "webhook", "en"), FIRED)
    assert render_body(channel(tenant, "webhook", "fr"), FIRED) == english
    assert json.loads(english) == FIRED


def test_the_rule_form_keeps_a_channels_language(logged_in, tenant):
    from tests.fleet.alerts.test_rule_pages import form

    response = logged_in.post(
        "/alerts/rules/new/",
        form(
            tenants=[tenant.slug],
            **{
                "channels-0-type": "slack",
                "channels-0-url": "https://hooks.slack.example/services/T0/B0/secret",
                "channels-0-language": "fr",
                "channels-0-enabled": "on",
            },
        ),
    )
    assert response.status_code == 302
    assert AlertChannel.objects.get().language == "fr"
