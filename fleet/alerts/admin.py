from django import forms
from django.contrib import admin

from fleet.alerts.forms import CodeField
from fleet.alerts.models import (
    AlertChannel,
    AlertDelivery,
    AlertFiring,
    AlertRule,
    AlertRuleState,
    AlertTicket,
)


class AlertRuleForm(forms.ModelForm):
    code = CodeField(required=False, help_text="Empty: any code (narrow by family or severity).")

    class Meta:
        model = AlertRule
        fields = [
            "name",
            "enabled",
            "all_tenants",
            "tenants",
            "trigger",
            "code",
            "family",
            "severity",
            "min_occurrences",
            "min_devices",
            "window_hours",
            "recipients",
            "cooldown_minutes",
            "quiet_from",
            "quiet_until",
        ]


class AlertChannelForm(forms.ModelForm):
    """The secret is write-only: entered once, stored encrypted, never rendered back. Left
    empty on an existing channel, the stored one stays."""

    url = forms.URLField(max_length=500, assume_scheme="https")
    secret = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Signs each POST (X-Fleet-Signature). Not shown again; empty keeps it.",
    )

    class Meta:
        model = AlertChannel
        fields = ["kind", "url", "secret", "config", "language", "enabled"]

    def clean_secret(self) -> str:
        secret = self.cleaned_data["secret"]
        if not secret and not self.instance.secret_encrypted:
            raise forms.ValidationError("A new channel needs a secret.")
        return secret

    def save(self, commit: bool = True) -> AlertChannel:
        if self.cleaned_data.get("secret"):
            self.instance.set_secret(self.cleaned_data["secret"])
        return super().save(commit)


class AlertChannelInline(admin.TabularInline):
    model = AlertChannel
    form = AlertChannelForm
    extra = 0


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    form = AlertRuleForm
    inlines = [AlertChannelInline]
    list_display = [
        "name",
        "all_tenants",
        "trigger",
        "code_hex",
        "family",
        "severity",
        "min_occurrences",
        "min_devices",
        "window_hours",
        "cooldown_minutes",
        "enabled",
        "deleted_at",
    ]
    list_filter = ["enabled", "trigger", "severity", "all_tenants"]
    filter_horizontal = ["tenants"]
    search_fields = ["name", "recipients"]

    @admin.display(description="code")
    def code_hex(self, obj: AlertRule) -> str:
        return "" if obj.code is None else f"0x{obj.code:08X}"


@admin.register(AlertRuleState)
class AlertRuleStateAdmin(admin.ModelAdmin):
    list_display = ["rule", "tenant", "code", "last_fired_at"]
    list_filter = ["rule"]


@admin.register(AlertFiring)
class AlertFiringAdmin(admin.ModelAdmin):
    list_display = [
        "fired_at",
        "rule",
        "tenant",
        "hex",
        "kind",
        "occurrences",
        "devices",
        "notifications",
        "resolved_at",
    ]
    list_filter = ["rule", "tenant"]
    readonly_fields = [f.name for f in AlertFiring._meta.fields]


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "recipient", "channel", "subject", "state", "attempts", "sent_at"]
    list_filter = ["state", "event"]
    search_fields = ["recipient", "subject", "channel__url"]
    readonly_fields = [
        "recipient",
        "channel",
        "event",
        "rule",
        "firings",
        "subject",
        "body_text",
        "body_html",
        "state",
        "attempts",
        "next_attempt_at",
        "claimed_at",
        "sent_at",
        "last_error",
        "created_at",
    ]


@admin.register(AlertTicket)
class AlertTicketAdmin(admin.ModelAdmin):
    list_display = ["ticket_id", "channel", "firing", "created_at", "closed_at"]
    readonly_fields = ["channel", "firing", "ticket_id", "created_at", "closed_at"]
