from django.contrib import admin

from codes.models import ErrorCode


@admin.register(ErrorCode)
class ErrorCodeAdmin(admin.ModelAdmin):
    list_display = ["hex", "name", "family", "severity"]
    search_fields = ["name", "message"]
