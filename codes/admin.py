"""Back-office editing of the catalog.

`import_codes` owns the catalog fields (name, message, family, …) and, for curated codes, the
knowledge fields; those are read-only here so an edit is never silently undone by the next
import. Operators may add knowledge and a severity override to any code that has no curated
file, and manage the runbook notes of their tenants.
"""

from django.contrib import admin

from codes import catalog_import
from codes.families import severity_and_reason
from codes.models import CodeFamily, ErrorCode, RunbookNote
from codes.notes import note_access
from codes.parse import CodeError, parse_code
from fleet.access import visible_tenants

# The import owns these; the admin shows them read-only on curated rows.
CATALOG_FIELDS = ("value", *catalog_import.CATALOG_FIELDS)
KNOWLEDGE_FIELDS = ("title", "description", "causes", "steps", "faq", "sources")


@admin.register(ErrorCode)
class ErrorCodeAdmin(admin.ModelAdmin):
    list_display = ["hex", "name", "family", "severity", "curated"]
    list_filter = ["family", "severity", "curated"]
    search_fields = ["name", "message", "title"]
    list_select_related = ["family"]
    fieldsets = [
        (None, {"fields": CATALOG_FIELDS}),
        ("Operator severity", {"fields": ["severity_override"]}),
        ("Knowledge", {"fields": KNOWLEDGE_FIELDS}),
    ]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.curated:
            # Curated files in codes/knowledge/codes/ win on every import: edit them in git.
            return (*CATALOG_FIELDS, "severity_override", *KNOWLEDGE_FIELDS)
        return CATALOG_FIELDS

    def save_model(self, request, obj, form, change):
        # The effective severity follows the override at once, not only after the next import.
        obj.severity = (
            obj.severity_override
            or severity_and_reason(
                obj.value, obj.family.slug if obj.family else None, curated_codes={}
            )[0]
        )
        super().save_model(request, obj, form, change)

    def get_search_results(self, request, queryset, search_term):
        """Find codes by any notation too (0x8024000B, -2145124341, 1603)."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        try:
            value = parse_code(search_term).value
        except CodeError:
            return results, may_have_duplicates
        return results | queryset.filter(value=value), may_have_duplicates


@admin.register(CodeFamily)
class CodeFamilyAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "default_severity"]
    # Family texts come from codes/knowledge/families/*.md on every import.
    readonly_fields = [
        "slug",
        "name",
        "default_severity",
        "summary",
        "where_logged",
        "troubleshooting",
        "decode_snippet",
    ]


@admin.register(RunbookNote)
class RunbookNoteAdmin(admin.ModelAdmin):
    """Superusers see and assign every note (the unassigned old ones too); other staff see and
    edit only the notes the code pages would show them, for their own tenants."""

    list_display = ["code_hex", "tenant", "all_tenants", "author", "created_at"]
    list_filter = [("tenant", admin.RelatedOnlyFieldListFilter), "all_tenants"]
    list_select_related = ["tenant", "author"]
    search_fields = ["body"]
    raw_id_fields = ["author"]

    @admin.display(description="code", ordering="code")
    def code_hex(self, obj: RunbookNote) -> str:
        return f"0x{obj.code:08X}"

    def get_queryset(self, request):
        return note_access(request.user).visible(super().get_queryset(request))

    def get_readonly_fields(self, request, obj=None):
        # Only someone granted every tenant may write (or unmark) an all-tenants note.
        return () if note_access(request.user).every_tenant else ("all_tenants",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "tenant":
            kwargs["queryset"] = visible_tenants(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
