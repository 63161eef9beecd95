"""Back-office editing of the catalog.

`import_codes` owns the catalog fields (name, message, family, …) and, for curated codes, the
knowledge fields; those are read-only here so an edit is never silently undone by the next
import. Operators may add knowledge and a severity override to any code that has no curated
file, and manage runbook notes.
"""

from django.contrib import admin

from codes import catalog_import
from codes.decode import CodeError, parse_code
from codes.families import severity_and_reason
from codes.models import CodeFamily, ErrorCode, RunbookNote

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
    list_display = ["code_hex", "author", "created_at"]
    search_fields = ["body"]
    raw_id_fields = ["author"]

    @admin.display(description="code", ordering="code")
    def code_hex(self, obj: RunbookNote) -> str:
        return f"0x{obj.code:08X}"
