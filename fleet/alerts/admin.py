from django import forms
from django.contrib import admin

from codes.parse import CodeError, parse_code
from fleet.alerts.models import AlertDelivery, AlertFiring, AlertRule, AlertRuleState


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


class AlertRuleForm(forms.ModelForm):
    code = CodeField(required=False, help_text="Empty: any code (narrow by family or severity).")

    class Meta:
        model = AlertRule
        fields = [
            "name",
            "enabled",
            "tenant",
            "code",
            "family",
            "severity",
            "metric",
            "threshold",
            "window_hours",
            "recipients",
            "cooldown_minutes",
        ]


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    form = AlertRuleForm
    list_display = [
        "name",
        "tenant",
        "code_hex",
        "family",
        "severity",
        "metric",
        "threshold",
        "window_hours",
        "cooldown_minutes",
        "enabled",
    ]
    list_filter = ["enabled", "metric", "severity", "tenant"]
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
    list_display = ["fired_at", "rule", "tenant", "hex", "occurrences", "devices"]
    list_filter = ["rule", "tenant"]
    readonly_fields = [f.name for f in AlertFiring._meta.fields]


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "recipient", "subject", "state", "attempts", "sent_at"]
    list_filter = ["state"]
    search_fields = ["recipient", "subject"]
    readonly_fields = [
        "recipient",
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
