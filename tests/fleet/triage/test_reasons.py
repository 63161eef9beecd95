"""Stored reasons read in the reader's language (fleet/triage/reasons.py): every shape our
producers write is recognised (in English it reads exactly as stored), French says it in French
with French numbers, and text of no known shape is shown as stored."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import translation

from fleet.alerts.models import AlertRule
from fleet.triage.flags import _ago
from fleet.triage.models import TriageRule
from fleet.triage.reasons import in_reader_language
from fleet.triage.signals import usual


def said_again(reason: str) -> str:
    """The French of a reason our code wrote; fails when the reason has no known shape. In
    English it reads as stored, its numbers grouped (1,234)."""
    with translation.override("en"):
        assert in_reader_language(reason) == re.sub(r"\d+", lambda m: f"{int(m[0]):,}", reason)
    with translation.override("fr"):
        french = in_reader_language(reason)
    assert french != reason, f"no shape of fleet/triage/reasons.py matches {reason!r}"
    return french


def test_rules_and_helpers_as_their_producers_write_them():
    by_device = TriageRule(severity="warning", metric=TriageRule.Metric.SAME_DEVICE, threshold=3,
                           window_hours=24)  # fmt: skip
    by_devices = TriageRule(severity="error", metric=TriageRule.Metric.DEVICES, threshold=1200,
                            window_hours=6)  # fmt: skip
    sentences = [
        f"{by_device.describe()}: 40 in the last 24 h, {usual(0.2)}",
        f"{by_devices.describe()}: nothing in the last 24 h",
        f"steady: 1500 in the last 24 h, {usual(1234.4)}",
        f"back {_ago(timedelta(hours=5))} after resolved",
        f"back {_ago(timedelta(days=9))} after resolved",
    ]
    french = [said_again(s) for s in sentences]
    assert french[0].startswith("code d’avertissement, 3+ fois sur un même appareil en 24 h")
    assert "1\xa0200+ appareils" in french[1] and "rien dans les dernières 24 h" in french[1]
    assert "1\xa0500" in french[2] and "1\xa0234" in french[2]
    assert french[3] == "revenu 5 h après sa résolution"


@pytest.mark.parametrize(
    "fields",
    [
        {"min_occurrences": 10, "window_hours": 24},
        {"min_devices": 5, "window_hours": 6},
        {"min_occurrences": 10, "min_devices": 5, "window_hours": 24},
    ],
)
def test_alert_threshold_reasons_as_firing_writes_them(fields):
    rule = AlertRule(trigger=AlertRule.Trigger.THRESHOLD, **fields)
    french = said_again(
        f"1234 occurrences on 56 devices in {rule.window_hours} h: {rule.describe()}"
    )
    assert french.startswith("1\xa0234 occurrences sur 56 appareils en")


@pytest.mark.parametrize("trigger", [t for t in AlertRule.Trigger if t != "threshold"])
def test_alert_signal_rules_describe_themselves_in_french_too(trigger):
    with translation.override("en"):
        described = AlertRule(trigger=trigger, min_occurrences=10).describe()
    assert said_again(described).endswith("avec 10+ occurrences en 24 h")


def test_text_of_no_known_shape_is_shown_as_stored():
    with translation.override("fr"):
        assert in_reader_language("an operator's own words") == "an operator's own words"
        assert in_reader_language("") == ""
        # Known outside, unknown inside: shown whole as stored, never half translated.
        mixed = "14 occurrences on 7 devices in 24 h: more than 5 devices"
        assert in_reader_language(mixed) == mixed
        assert in_reader_language("steady: something else") == "steady: something else"
