from django.contrib import admin

from fleet.reports.models import ReportDelivery, ReportSchedule


class ReportDeliveryInline(admin.TabularInline):
    model = ReportDelivery
    extra = 0
    can_delete = False
    fields = ["period", "state", "attempts", "sent_at", "next_attempt_at", "last_error"]
    readonly_fields = fields
    ordering = ["-created_at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ReportSchedule)
class ReportScheduleAdmin(admin.ModelAdmin):
    list_display = ["tenant", "frequency", "recipients", "language", "enabled", "last_sent_period"]
    list_filter = ["frequency", "enabled", "language"]
    search_fields = ["tenant__name", "tenant__slug", "recipients"]
    readonly_fields = ["last_sent_period", "created_at"]
    inlines = [ReportDeliveryInline]


@admin.register(ReportDelivery)
class ReportDeliveryAdmin(admin.ModelAdmin):
    """Read-only: deliveries are the record of what was sent. Delete one to have its period
    mailed again at the next tick; untick the schedule's enabled to stop its mail."""

    list_display = ["schedule", "period", "state", "attempts", "sent_at", "last_error"]
    list_filter = ["state"]
    readonly_fields = [
        "schedule",
        "period",
        "recipients",
        "state",
        "attempts",
        "next_attempt_at",
        "claimed_at",
        "sent_at",
        "last_error",
        "created_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False
