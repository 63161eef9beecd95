"""Import pages: list, upload form, result with progress, rejected rows as CSV."""

from __future__ import annotations

import csv

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fleet.access import operable_tenants, visible_tenants
from fleet.ingest.csv_formats import FORMATS, GENERIC, FormatError, parse_column_map
from fleet.ingest.models import ImportRecord
from fleet.ingest.span import dashboard_links
from fleet.ingest.undo import UndoRefused, undo_import
from fleet.ingest.uploads import save_upload, start_import
from fleet.spreadsheet import spreadsheet_safe

REJECTS_SHOWN = 500


class UploadForm(forms.Form):
    # No silent default: the operator picks the tenant (pre-selected only when there is one).
    tenant = forms.ModelChoiceField(
        label=gettext_lazy("Tenant"),
        queryset=None,
        empty_label=gettext_lazy("Choose the tenant this export belongs to"),
        error_messages={"required": gettext_lazy("Choose the tenant this export belongs to.")},
    )
    file = forms.FileField(
        label=gettext_lazy("File"), help_text=gettext_lazy("CSV or Excel 'Unicode text' export.")
    )
    # The formats' own names (WSUS, Configuration Manager…) are product names, kept as is.
    format = forms.ChoiceField(
        label=gettext_lazy("Format"),
        choices=[("auto", gettext_lazy("Detect from the header"))]
        + [(fmt.name, fmt.label) for fmt in FORMATS.values()]
        + [(GENERIC, gettext_lazy("Generic: name the columns below"))],
        initial="auto",
    )
    column_map = forms.CharField(
        required=False,
        max_length=500,
        label=gettext_lazy("Columns (generic format)"),
        help_text="device=Computer,code=Error,time=When",
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        tenants = operable_tenants(user)
        self.fields["tenant"].queryset = tenants
        only = list(tenants[:2])
        if len(only) == 1:
            self.fields["tenant"].initial = only[0].pk

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.MAX_UPLOAD_MB * 1024 * 1024:
            raise forms.ValidationError(
                gettext("The file is over the %(limit)s MB limit.")
                % {"limit": settings.MAX_UPLOAD_MB}
            )
        return upload

    def clean_column_map(self) -> dict[str, str]:
        try:
            return parse_column_map(self.cleaned_data["column_map"])
        except FormatError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self):
        data = super().clean()
        if data.get("format") == GENERIC and not data.get("column_map"):
            self.add_error(
                "column_map", gettext("The generic format needs device=, code= and time=.")
            )
        return data


def _record_for(request: HttpRequest, pk: int) -> ImportRecord:
    """The import, if the operator may see its tenant; 404 otherwise (not 403: no hint)."""
    return get_object_or_404(
        ImportRecord.objects.select_related("tenant", "user"),
        pk=pk,
        tenant__in=visible_tenants(request.user),
    )


@login_required
@require_GET
def import_list(request: HttpRequest) -> HttpResponse:
    records = ImportRecord.objects.filter(tenant__in=visible_tenants(request.user)).select_related(
        "tenant", "user"
    )
    page = Paginator(records, 50).get_page(request.GET.get("page"))
    return render(request, "fleet/imports/list.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
@csrf_exempt  # CSRF is checked by `_import_new`, after the size check below
def import_new(request: HttpRequest) -> HttpResponse:
    """Refuse an oversized upload from its Content-Length, before anything reads the body
    (the CSRF check would otherwise spool the whole upload to disk first)."""
    if not operable_tenants(request.user).exists():
        raise PermissionDenied("Importing needs the operator or admin role on a tenant.")
    if request.method == "POST":
        try:
            declared = int(request.headers.get("Content-Length") or 0)
        except ValueError:
            declared = 0
        # A little room for the multipart envelope and the other form fields.
        if declared > settings.MAX_UPLOAD_MB * 1024 * 1024 + 64 * 1024:
            context = {
                "form": UploadForm(user=request.user),
                "max_mb": settings.MAX_UPLOAD_MB,
                "upload_error": gettext("The file is over the %(limit)s MB limit.")
                % {"limit": settings.MAX_UPLOAD_MB},
            }
            return render(request, "fleet/imports/new.html", context, status=413)
    return _import_new(request)


@csrf_protect
def _import_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            requested = GENERIC if data["column_map"] else data["format"]
            record = save_upload(
                data["file"], data["tenant"], request.user, requested, data["column_map"]
            )
            start_import(record)
            return redirect("ingest:detail", pk=record.pk)
    else:
        form = UploadForm(user=request.user)
    return render(
        request, "fleet/imports/new.html", {"form": form, "max_mb": settings.MAX_UPLOAD_MB}
    )


@login_required
@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = _record_for(request, pk)
    by_code = sorted(record.by_code.items(), key=lambda item: (-item[1], item[0]))
    return render(
        request,
        "fleet/imports/detail.html",
        {
            "record": record,
            "by_code": by_code,
            "rejects": record.rejected[:REJECTS_SHOWN],
            "rejects_hidden": max(0, record.rejected_count - REJECTS_SHOWN),
            "in_progress": record.status
            in (ImportRecord.Status.QUEUED, ImportRecord.Status.RUNNING),
            "links": dashboard_links(record),
            "can_undo": record.status in (ImportRecord.Status.DONE, ImportRecord.Status.FAILED)
            and operable_tenants(request.user).filter(pk=record.tenant_id).exists(),
        },
    )


@login_required
@require_POST
def import_undo(request: HttpRequest, pk: int) -> HttpResponse:
    """Undo the import: 404 if its tenant is not visible, 403 if the user may only look."""
    record = _record_for(request, pk)
    if not operable_tenants(request.user).filter(pk=record.tenant_id).exists():
        raise PermissionDenied("Only an operator of this tenant can undo its imports.")
    try:
        result = undo_import(record.pk, request.user)
    except UndoRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(
            request,
            gettext(
                "Import %(number)s is undone: %(count)s occurrences deleted and the "
                "dashboards corrected. The same file can be imported again."
            )
            % {"number": record.pk, "count": result.deleted},
        )
    return redirect("ingest:detail", pk=record.pk)


@login_required
@require_GET
def import_status(request: HttpRequest, pk: int) -> JsonResponse:
    record = _record_for(request, pk)
    return JsonResponse(
        {
            "status": record.status,
            "progress": record.progress_percent,
            "rows": record.rows,
            "created": record.created,
            "rejected_count": record.rejected_count,
            "error": record.error,
        }
    )


@login_required
@require_GET
def import_rejected_csv(request: HttpRequest, pk: int) -> HttpResponse:
    record = _record_for(request, pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{record.pk}-rejected.csv"'
    writer = csv.writer(response)
    writer.writerow(["line", "reason"])
    for reject in record.rejected:
        writer.writerow(
            [spreadsheet_safe(reject.get("line", "")), spreadsheet_safe(reject.get("reason", ""))]
        )
    return response
