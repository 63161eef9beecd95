"""The operator's alert rule form: plain fields and a channel formset, turned into the
arguments of `fleet.alerts.rules.save_rule` (which checks everything the API checks too)."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from codes.models import CodeFamily, Severity
from codes.parse import CodeError, parse_code
from fleet.alerts.models import AlertChannel, AlertRule, split_recipients
from fleet.alerts.rules import ChannelSpec
from fleet.models import Tenant


class CodeField(forms.CharField):
    """An error code in any notation operators paste (0x8024000B, -2145124341, 8024000B)."""

    def prepare_value(self, value):
        return f"0x{value:08X}" if isinstance(value, int) else value

    def to_python(self, value):
        value = super().to_python(value).strip()
        if not value:
            return None
        try:
            return parse_code(value).value
        except CodeError as exc:
            raise forms.ValidationError(str(exc)) from None


class RuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    tenants = forms.MultipleChoiceField(
        label=_("Tenants"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "None ticked: every tenant you may act on (every tenant, present and future, "
            "if you may act on all of them)."
        ),
    )
    trigger = forms.ChoiceField(label=_("Trigger"), choices=AlertRule.Trigger.choices)
    code = CodeField(
        label=_("Code"),
        required=False,
        help_text=_("Empty: any code (narrow by family or severity)."),
    )
    family = forms.ModelChoiceField(
        label=_("Family"),
        queryset=CodeFamily.objects.order_by("name"),
        required=False,
        to_field_name="slug",
    )
    severity = forms.ChoiceField(
        label=_("Severity"),
        choices=[("", pgettext_lazy("severity", "Any"))] + list(Severity.choices),
        required=False,
    )
    min_occurrences = forms.IntegerField(
        label=_("At least this many occurrences"), min_value=1, required=False
    )
    min_devices = forms.IntegerField(
        label=_("At least this many devices"), min_value=1, required=False
    )
    window_hours = forms.IntegerField(
        label=_("Window (hours)"), min_value=1, max_value=24 * 90, initial=24
    )
    cooldown_hours = forms.DecimalField(
        label=_("Cooldown (hours)"),
        min_value=0.1,
        max_value=24 * 30,
        decimal_places=2,
        initial=6,
        help_text=_("No second notification for the same tenant and code within this time."),
    )
    quiet_from = forms.TimeField(
        label=_("Quiet from"),
        required=False,
        help_text=_("In each tenant's time zone, e.g. 22:00."),
    )
    quiet_until = forms.TimeField(
        label=_("Quiet until"),
        required=False,
        help_text=_("e.g. 07:00 (may be past midnight)."),
    )
    recipients = forms.CharField(
        label=_("Email recipients"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Email addresses, comma or newline separated."),
    )
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)

    def __init__(self, *args, tenants: list[Tenant], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tenants"].choices = [(t.slug, t.name) for t in tenants]

    @classmethod
    def initial_for(cls, rule: AlertRule) -> dict:
        return {
            "name": rule.name,
            "tenants": [t.slug for t in rule.tenants.all()],
            "trigger": rule.trigger,
            "code": rule.code,
            "family": rule.family.slug if rule.family_id else None,
            "severity": rule.severity,
            "min_occurrences": rule.min_occurrences,
            "min_devices": rule.min_devices,
            "window_hours": rule.window_hours,
            "cooldown_hours": round(rule.cooldown_minutes / 60, 2),
            "quiet_from": rule.quiet_from,
            "quiet_until": rule.quiet_until,
            "recipients": rule.recipients,
            "enabled": rule.enabled,
        }

    def apply(self, rule: AlertRule) -> None:
        """Copy the cleaned fields onto `rule` (tenants and channels go to save_rule)."""
        data = self.cleaned_data
        for name in (
            "name",
            "trigger",
            "code",
            "family",
            "min_occurrences",
            "min_devices",
            "window_hours",
            "quiet_from",
            "quiet_until",
            "enabled",
        ):
            setattr(rule, name, data[name])
        rule.severity = data["severity"] or ""
        rule.cooldown_minutes = max(1, round(float(data["cooldown_hours"]) * 60))


class ChannelForm(forms.Form):
    type = forms.ChoiceField(
        label=_("Channel"),
        choices=[("", "—")] + list(AlertChannel.Kind.choices),
        required=False,
    )
    url = forms.URLField(
        label=_("URL"),
        required=False,
        max_length=500,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"size": 50}),
    )
    secret = forms.CharField(
        label=_("Secret"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "Webhook signing secret, or the PSA private key / client secret. Not shown "
            "again; empty keeps the stored one."
        ),
    )
    config = forms.CharField(
        label=_("PSA settings"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
        help_text=_(
            'PSA settings as JSON, e.g. {"company_id": "msp", "public_key": "…", '
            '"client_id": "…", "companies": {"acme": "ACME"}, "board": "Alerts"}.'
        ),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        choices=AlertChannel._meta.get_field("language").choices,
        required=False,
        help_text=_("Of the Teams and Slack messages."),
    )
    enabled = forms.BooleanField(label=_("On"), required=False, initial=True)

    def clean_config(self) -> dict:
        text = self.cleaned_data["config"].strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(gettext("Not JSON: %(error)s") % {"error": exc}) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(gettext("Give an object, {…}."))
        return value

    def clean(self) -> dict:
        data = super().clean()
        if data.get("type") and not data.get("url"):
            self.add_error("url", gettext("Give the channel's URL."))
        return data

    def spec(self) -> ChannelSpec | None:
        data = self.cleaned_data
        if not data.get("type"):
            return None
        url, secret = data["url"], data["secret"]
        if data["type"] in AlertChannel.CHAT_KINDS:
            # The full URL is the secret; the host alone (as shown back) keeps the stored one.
            secret = url if urlsplit(url).path not in ("", "/") else ""
        return ChannelSpec(
            type=data["type"],
            url=url,
            secret=secret,
            config=data["config"],
            enabled=data["enabled"],
            language=data.get("language") or "",
        )


# absolute_max: a posted TOTAL_FORMS of two billion builds (and renders) ten forms, not Django's
# default max_num + 1000 — the page fuzz found one such request taking six seconds and 1 MB.
ChannelFormSet = formset_factory(
    ChannelForm, extra=2, max_num=10, absolute_max=10, validate_max=True
)


def channel_initial(rule: AlertRule) -> list[dict]:
    return [
        {
            "type": c.kind,
            "url": c.url,
            "config": json.dumps(c.config) if c.config else "",
            "enabled": c.enabled,
            "language": c.language,
        }
        for c in rule.channels.all()
    ]


def recipient_spec(text: str) -> list[ChannelSpec]:
    addresses = split_recipients(text)
    return [ChannelSpec(type="email", to=addresses)] if addresses else []
