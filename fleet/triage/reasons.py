"""A stored reason, read in the reader's language.

Triage signals, flags and alert firings store why they were raised as one English sentence
(`TriageFlag.reason`, `FleetSignal.reason`, `AlertFiring.reason`), written by a worker that has
no reader. The sentence is also an interface: the APIs and webhooks return it as written. Pages,
emails and chat messages show it through `in_reader_language`, which recognises the shapes our
own code writes (fleet/triage/signals.py, flags.py, models.py; fleet/alerts/firing.py, models.py)
and says them again with gettext and the locale's numbers. Text of any other shape (an older
wording, a future one) is shown as stored. tests/fleet/triage/test_reasons.py checks each shape
round-trips in English, so a changed sentence in the producers fails there.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.translation import gettext, gettext_noop, pgettext

_N = r"\d+"


def _number(value: str) -> str:
    return intcomma(int(value))


def _severity(value: str) -> str | None:
    # codes.models.Severity's values; their labels are capitalised, the sentence wants lowercase.
    labels = {
        "error": pgettext("severity in a sentence", "error"),
        "warning": pgettext("severity in a sentence", "warning"),
        "informational": pgettext("severity in a sentence", "informational"),
    }
    return labels.get(value)


def _trigger(value: str) -> str | None:
    # fleet.alerts.models.AlertRule.Trigger's labels, lowercased, before " (".
    labels = {
        "spike": pgettext("alert trigger in a sentence", "spike"),
        "new in tenant": pgettext("alert trigger in a sentence", "new in tenant"),
        "regression": pgettext("alert trigger in a sentence", "regression"),
        "fleet-wide spike": pgettext("alert trigger in a sentence", "fleet-wide spike"),
    }
    return labels.get(value)


# (pattern with named groups, message with the same names, how each group is said again).
# Groups not named in the third item are numbers. Ordered: the first full match wins.
Shape = tuple[re.Pattern[str], str, dict[str, Callable[[str], str | None]]]


def _shapes() -> list[Shape]:
    nested = _said_again
    raw: list[tuple[str, str, dict[str, Callable[[str], str | None]]]] = [
        # Suffixes added to a pair's sentence (signals.py: _link_fleet).
        (r"(?P<head>.+); also spiking in (?P<n>\d+) other tenants",
         gettext_noop("%(head)s; also spiking in %(n)s other tenants"), {"head": nested}),
        (r"(?P<head>.+); rising with the fleet",
         gettext_noop("%(head)s; rising with the fleet"), {"head": nested}),
        # A flag's reason around a pair's sentence (flags.py: write_signals).
        (r"steady: (?P<head>.+)", gettext_noop("steady: %(head)s"), {"head": nested}),
        (r"(?P<rule>\w+ code, \d+\+ (?:times on one device|devices) within \d+ h): (?P<head>.+)",
         gettext_noop("%(rule)s: %(head)s"), {"rule": nested, "head": nested}),
        (r"(?P<severity>\w+) code, (?P<n>\d+)\+ times on one device within (?P<h>\d+) h",
         gettext_noop("%(severity)s code, %(n)s+ times on one device within %(h)s h"),
         {"severity": _severity}),
        (r"(?P<severity>\w+) code, (?P<n>\d+)\+ devices within (?P<h>\d+) h",
         gettext_noop("%(severity)s code, %(n)s+ devices within %(h)s h"),
         {"severity": _severity}),
        (r"back (?P<n>\d+) h after resolved", gettext_noop("back %(n)s h after resolved"), {}),
        (r"back (?P<n>\d+) days after resolved",
         gettext_noop("back %(n)s days after resolved"), {}),
        (r"nothing in the last 24 h", gettext_noop("nothing in the last 24 h"), {}),
        # A pair's own sentence (signals.py: detect).
        (r"first time in this tenant \((?P<n>\d+) on 1 device in 24 h\)",
         gettext_noop("first time in this tenant (%(n)s on 1 device in 24 h)"), {}),
        (r"first time in this tenant \((?P<n>\d+) on (?P<d>\d+) devices in 24 h\)",
         gettext_noop("first time in this tenant (%(n)s on %(d)s devices in 24 h)"), {}),
        (r"(?P<x>\d+) in the last (?P<h>\d+) h, usually under 1",
         gettext_noop("%(x)s in the last %(h)s h, usually under 1"), {}),
        (r"(?P<x>\d+) in the last (?P<h>\d+) h, usually (?P<m>\d+)",
         gettext_noop("%(x)s in the last %(h)s h, usually %(m)s"), {}),
        (r"(?P<n>\d+) devices newly failing in the latest export, (?P<b>\d+) failing the week "
         r"before",
         gettext_noop("%(n)s devices newly failing in the latest export, %(b)s failing the "
                      "week before"), {}),
        # A fleet-wide signal (signals.py: record_fleet_signals).
        (r"spiking in (?P<n>\d+) tenants at once, rising in (?P<k>\d+) more",
         gettext_noop("spiking in %(n)s tenants at once, rising in %(k)s more"), {}),
        (r"spiking in (?P<n>\d+) tenants at once",
         gettext_noop("spiking in %(n)s tenants at once"), {}),
        # An alert firing on a threshold rule (fleet/alerts/firing.py, AlertRule.describe).
        (r"(?P<o>\d+) occurrences on (?P<d>\d+) devices in (?P<h>\d+) h: (?P<rule>.+)",
         gettext_noop("%(o)s occurrences on %(d)s devices in %(h)s h: %(rule)s"),
         {"rule": nested}),
        (r"(?P<o>\d+)\+ occurrences and (?P<d>\d+)\+ devices in (?P<h>\d+) h",
         gettext_noop("%(o)s+ occurrences and %(d)s+ devices in %(h)s h"), {}),
        (r"(?P<o>\d+)\+ occurrences in (?P<h>\d+) h",
         gettext_noop("%(o)s+ occurrences in %(h)s h"), {}),
        (r"(?P<d>\d+)\+ devices in (?P<h>\d+) h", gettext_noop("%(d)s+ devices in %(h)s h"), {}),
        (r"(?P<trigger>[a-z -]+) with (?P<o>\d+)\+ occurrences and (?P<d>\d+)\+ devices in 24 h",
         gettext_noop("%(trigger)s with %(o)s+ occurrences and %(d)s+ devices in 24 h"),
         {"trigger": _trigger}),
        (r"(?P<trigger>[a-z -]+) with (?P<o>\d+)\+ occurrences in 24 h",
         gettext_noop("%(trigger)s with %(o)s+ occurrences in 24 h"), {"trigger": _trigger}),
        (r"(?P<trigger>[a-z -]+) with (?P<d>\d+)\+ devices in 24 h",
         gettext_noop("%(trigger)s with %(d)s+ devices in 24 h"), {"trigger": _trigger}),
    ]  # fmt: skip
    return [(re.compile(pattern), message, how) for pattern, message, how in raw]


def in_reader_language(text: str) -> str:
    """`text` said again in the active language when it has one of our shapes, else as is."""
    return _said_again(text) or text


def _said_again(text: str) -> str | None:
    """None when `text`, or a part of it, has no known shape: a sentence is said again whole
    or not at all, never half in one language and half in another."""
    for pattern, message, how in _SHAPES:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        values = {}
        for name, value in match.groupdict().items():
            said = how[name](value) if name in how else _number(value)
            if said is None:
                return None
            values[name] = said
        return gettext(message) % values
    return None


_SHAPES: list[Shape] = _shapes()
