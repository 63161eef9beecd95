from django.contrib import admin
from django.db import transaction

from fleet.triage.models import TriageEvent, TriageFlag, TriageRule
from fleet.triage.tasks import request_triage


@admin.register(TriageRule)
class TriageRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "severity", "metric", "threshold", "window_hours", "enabled"]
    list_editable = ["threshold", "window_hours", "enabled"]
    list_filter = ["severity", "metric", "enabled"]

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        # A changed rule applies now rather than at the next pipeline round.
        transaction.on_commit(request_triage)


class TriageEventInline(admin.TabularInline):
    model = TriageEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "user", "from_state", "to_state", "note"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # history is written by the pipeline and the triage pages only


@admin.register(TriageFlag)
class TriageFlagAdmin(admin.ModelAdmin):
    list_display = ["code_hex", "tenant", "state", "occurrences", "devices", "last_seen_at"]
    list_filter = ["state", "tenant"]
    # State changes go through the triage pages so each one is recorded with its note.
    readonly_fields = [
        "tenant",
        "code",
        "state",
        "rule",
        "occurrences",
        "devices",
        "first_seen_at",
        "last_seen_at",
        "raised_at",
        "state_changed_at",
        "resolved_at",
        "muted_until",
        "mute_occurrences",
        "mute_baseline",
    ]
    inlines = [TriageEventInline]

    @admin.display(description="code", ordering="code")
    def code_hex(self, obj: TriageFlag) -> str:
        return obj.hex

    def has_add_permission(self, request) -> bool:
        return False
