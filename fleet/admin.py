from django.contrib import admin

from fleet.models import Device, Occurrence, Tenant


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "created_at"]
    search_fields = ["slug", "name"]
    filter_horizontal = ["operators"]


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["hostname", "tenant", "intune_device_id", "last_seen_at"]
    list_filter = ["tenant"]
    search_fields = ["hostname", "name_key", "intune_device_id", "entra_device_id"]


@admin.register(Occurrence)
class OccurrenceAdmin(admin.ModelAdmin):
    list_display = ["id", "tenant", "device", "code_hex", "occurred_at", "source"]
    list_filter = ["tenant", "source"]
    raw_id_fields = ["device"]
    show_full_result_count = False

    @admin.display(description="code")
    def code_hex(self, obj: Occurrence) -> str:
        return f"0x{obj.code:08X}"
