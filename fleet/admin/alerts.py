from django.contrib import admin

from fleet.models import AlertDelivery, AlertFiring, AlertRule, AlertRuleState


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
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
