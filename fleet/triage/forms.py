"""The operator's state-change form, shared by the flag page, the queue's bulk form and the API."""

from __future__ import annotations

from datetime import UTC, datetime, time

from django import forms

from fleet.triage.flags import ACTIONS, MAX_MUTE_OCCURRENCES

NOTE_MAX_LENGTH = 2000


class FlagActionForm(forms.Form):
    action = forms.ChoiceField(choices=[(name, name.title()) for name in ACTIONS])
    note = forms.CharField(
        required=False, max_length=NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2})
    )
    muted_until = forms.DateField(
        required=False,
        help_text="Mute until this day (00:00 UTC).",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    mute_occurrences = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_MUTE_OCCURRENCES,
        help_text="…or until this many more occurrences.",
        error_messages={
            "max_value": f"at most {MAX_MUTE_OCCURRENCES:,} more occurrences; "
            "for longer, mute until a day."
        },
    )

    def mute_arguments(self) -> dict:
        """The mute parameters of a valid form, as `change_state` takes them."""
        day = self.cleaned_data["muted_until"]
        return {
            "muted_until": datetime.combine(day, time(), tzinfo=UTC) if day else None,
            "mute_occurrences": self.cleaned_data["mute_occurrences"],
        }
