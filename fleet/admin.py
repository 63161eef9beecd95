from django.contrib import admin
from django.utils import timezone

from fleet.models import ApiToken, Device, Occurrence, Tenant, TenantGrant


class TenantGrantInline(admin.TabularInline):
    model = TenantGrant
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "entra_tenant_id", "created_at"]
    search_fields = ["slug", "name", "entra_tenant_id"]
    inlines = [TenantGrantInline]


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


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created with `create_api_token USERNAME` (shown once); here they are revoked."""

    list_display = ["prefix", "name", "owner", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["prefix", "name", "owner__username"]
    fields = ["owner", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["owner", "prefix", "created_at", "last_used_at"]
    actions = ["revoke_tokens"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Revoke selected tokens")
    def revoke_tokens(self, request, queryset) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} tokens.")
