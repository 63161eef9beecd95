"""Knowledge pages: the searchable catalog and one page per code, with operators' runbook notes.

Views parse the request and render; the page's facts come from `codes.knowledge_page`, the
search from `codes.search`, and the sections other apps add (the fleet panel) from the callables
in `KNOWLEDGE_PAGE_SECTIONS` (`codes.page_sections`).
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from codes.facts import facts_from_rows
from codes.forms import CodeSearchForm, RunbookNoteForm
from codes.knowledge import translated_title
from codes.knowledge_page import knowledge_page
from codes.notes import NoteAccess, note_access, notes_on_code
from codes.page_sections import page_sections
from codes.parse import CodeError, ParsedCode, parse_code
from codes.search import fleet_codes, search_codes

PAGE_SIZE = 50
_EXTENSION = re.compile(r"^(?:0x)?([0-9A-Fa-f]{1,8})$")


@login_required
def code_list(request: HttpRequest) -> HttpResponse:
    form = CodeSearchForm(request.GET or None)
    query, curated_only = "", False
    if form.is_valid():
        query, curated_only = form.cleaned_data["q"], form.cleaned_data["curated"]
    result = search_codes(query, curated_only=curated_only)
    codes, in_fleet = result.codes, False
    if not query and request.GET.get("all") != "1":
        seen = fleet_codes(request.user, result.codes)
        if seen.exists():
            codes, in_fleet = seen, True
    page = Paginator(codes, PAGE_SIZE).get_page(request.GET.get("page"))
    facts = facts_from_rows(page)  # family and severity as every other page reads them
    language = get_language()
    for row in page:
        row.facts = facts[row.value]
        row.shown_title = translated_title(row.value, row.title, language)
    keep = request.GET.copy()
    keep.pop("page", None)
    return render(
        request,
        "codes/code_list.html",
        {
            "form": form,
            "result": result,
            "page": page,
            "in_fleet": in_fleet,
            "keep_query": keep.urlencode(),
        },
    )


@login_required
def code_detail(request: HttpRequest, code: str) -> HttpResponse:
    try:
        parsed = parse_code(code)
    except CodeError as exc:
        return _invalid_code(request, code, exc)
    access = note_access(request.user)
    form = RunbookNoteForm(access=access)
    if parsed.extension and "_" not in code:
        # A result–extend pair is a page of its own: /codes/0xC1900101-0x4000D/.
        if code != parsed.notation:
            return redirect(_pair_url(request, parsed))
        return _render_detail(request, parsed.value, parsed.extension, access, form)
    if code != parsed.hex:
        return redirect(_canonical_url(request, parsed))
    return _render_detail(request, parsed.value, _extension(request), access, form)


@login_required
@require_POST
def add_note(request: HttpRequest, code: str) -> HttpResponse:
    try:
        parsed = parse_code(code)
    except CodeError as exc:
        return _invalid_code(request, code, exc)
    access = note_access(request.user)
    if access.tenants and not access.writable:
        raise PermissionDenied(_("Viewers read runbook notes; an operator or admin adds them."))
    form = RunbookNoteForm(request.POST, access=access)
    if not form.is_valid():
        return _render_detail(request, parsed.value, "", access, form, status=400)
    note = form.save(commit=False)
    note.code = parsed.value
    note.author = request.user
    note.save()
    if note.all_tenants:
        added = _("Your note on %(code)s for every tenant was added.") % {"code": parsed.hex}
    else:
        added = _("Your note on %(code)s for %(tenant)s was added.") % {
            "code": parsed.hex,
            "tenant": note.tenant.name,
        }
    messages.success(request, added)
    return redirect(reverse("codes:detail", kwargs={"code": parsed.hex}) + "#notes")


@login_required
@require_POST
def delete_note(request: HttpRequest, code: str, note_id: int) -> HttpResponse:
    """Authors remove their own notes (a superuser any note); someone else's note, or one no
    longer shown to its author (a tenant grant withdrawn), is a 404."""
    try:
        parsed = parse_code(code)
    except CodeError as exc:
        return _invalid_code(request, code, exc)
    notes = notes_on_code(note_access(request.user), parsed.value).filter(pk=note_id)
    if not request.user.is_superuser:
        notes = notes.filter(author=request.user)
    deleted, _kinds = notes.delete()
    if not deleted:
        raise Http404(_("No such note of yours on this code."))
    messages.success(request, _("Your note on %(code)s was deleted.") % {"code": parsed.hex})
    return redirect(reverse("codes:detail", kwargs={"code": parsed.hex}) + "#notes")


def _render_detail(
    request: HttpRequest,
    value: int,
    extension: str,
    access: NoteAccess,
    form: RunbookNoteForm,
    status: int = 200,
) -> HttpResponse:
    page = knowledge_page(value, extension)
    notes = notes_on_code(access, value)
    section_templates, section_context = page_sections(request, value)
    context = {
        **section_context,
        "page": page,
        "d": page.decoded,
        "notes": notes,
        "note_form": form,
        "section_templates": section_templates,
    }
    return render(request, "codes/code_detail.html", context, status=status)


def _canonical_url(request: HttpRequest, parsed: ParsedCode) -> str:
    """The canonical page URL, keeping the filter in the query string and any extended code."""
    query = request.GET.copy()
    if parsed.extension:
        query["ext"] = parsed.extension
    url = reverse("codes:detail", kwargs={"code": parsed.hex})
    return f"{url}?{query.urlencode()}" if query else url


def _pair_url(request: HttpRequest, parsed: ParsedCode) -> str:
    """The pair's own page, `0xC1900101-0x4000D`, keeping the query string."""
    url = reverse("codes:detail", kwargs={"code": parsed.notation})
    query = request.GET.urlencode()
    return f"{url}?{query}" if query else url


def _extension(request: HttpRequest) -> str:
    match = _EXTENSION.match(request.GET.get("ext", "").strip())
    return match.group(1).upper() if match else ""


def _invalid_code(request: HttpRequest, code: str, error: CodeError) -> HttpResponse:
    return render(
        request, "codes/code_invalid.html", {"code": code, "error": str(error)}, status=404
    )
