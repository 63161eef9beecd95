"""The operator's state-change form, shared by the flag page, the queue's bulk form and the API."""

from __future__ import annotations

from datetime import UTC, datetime, time

from django import forms
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from fleet.triage.flags import ACTIONS, MAX_MUTE_OCCURRENCES

NOTE_MAX_LENGTH = 2000
# The action names are the API's words; these are what a person reads.
ACTION_CHOICES = [
    ("acknowledge", _("Acknowledge")),
    ("resolve", _("Resolve")),
    ("mute", _("Mute")),
]
assert [name for name, _label in ACTION_CHOICES] == list(ACTIONS)


def _max_mute_message() -> str:
    """Made when shown, so the number and the sentence follow the reader's language."""
    return gettext("at most %(limit)s more occurrences; for longer, mute until a day.") % {
        "limit": intcomma(MAX_MUTE_OCCURRENCES)
    }


class FlagActionForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), choices=ACTION_CHOICES)
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    muted_until = forms.DateField(
        label=_("Mute until day"),
        required=False,
        help_text=_("Mute until this day (00:00 UTC)."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    mute_occurrences = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_MUTE_OCCURRENCES,
        label=_("Mute occurrences"),
        help_text=_("…or until this many more occurrences."),
        error_messages={"max_value": lazy(_max_mute_message, str)()},
    )

    def mute_arguments(self) -> dict:
        """The mute parameters of a valid form, as `change_state` takes them."""
        day = self.cleaned_data["muted_until"]
        return {
            "muted_until": datetime.combine(day, time(), tzinfo=UTC) if day else None,
            "mute_occurrences": self.cleaned_data["mute_occurrences"],
        }
