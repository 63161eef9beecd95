from django.contrib import admin, messages
from django.utils import timezone

from fleet.ingest.keys import create_ingest_key
from fleet.ingest.models import ImportRecord, IngestKey


@admin.register(IngestKey)
class IngestKeyAdmin(admin.ModelAdmin):
    """Keys are created here with just a tenant and name; the full key is shown once."""

    list_display = ["prefix", "name", "tenant", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["tenant", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["prefix", "name", "tenant__slug"]
    fields = ["tenant", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    actions = ["revoke_keys"]

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        record, key = create_ingest_key(obj.tenant, obj.name)
        obj.pk, obj.prefix, obj.key_hash = record.pk, record.prefix, record.key_hash
        obj.created_at = record.created_at
        self.message_user(
            request,
            f"Ingest key for {obj.tenant.slug} (copy it now, it is not shown again): {key}",
            messages.WARNING,
        )

    @admin.action(description="Revoke selected keys")
    def revoke_keys(self, request, queryset) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} key(s).")


@admin.register(ImportRecord)
class ImportRecordAdmin(admin.ModelAdmin):
    list_display = ["id", "file_name", "tenant", "user", "format", "status", "rows", "created",
                    "rejected_count", "created_at"]  # fmt: skip
    list_filter = ["status", "format", "tenant"]
    search_fields = ["file_name", "sha256"]
    readonly_fields = [f.name for f in ImportRecord._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
