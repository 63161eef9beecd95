"""Triage queue and flag pages: parse the request, call fleet/triage/queries.py or flags.py,
render."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from fleet.access import may_operate, operable_tenants, visible_tenants
from fleet.triage.filters import OPEN_FILTERS, STATE_FILTERS, VIEWS, queue_filter
from fleet.triage.flags import (
    ACTIONS,
    TransitionError,
    assign,
    change_state,
    change_states,
)
from fleet.triage.forms import FlagActionForm
from fleet.triage.models import TriageFlag
from fleet.triage.queries import (
    SPARK_DAYS,
    SPARK_HEIGHT,
    SPARK_WIDTH,
    flag_detail,
    queue_flags,
    queue_rows,
    steady_count,
)

# Database ids are 64-bit; a larger number in a form names nothing.
MAX_ID = 2**63 - 1


def _safe_next(request: HttpRequest, default: str) -> HttpResponseRedirect:
    """Back where the action came from; never off-site. Only a path: redirect() would take any
    other word for a view name to reverse."""
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(default)


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    filters = queue_filter(request.GET, request.user)
    page = Paginator(queue_flags(filters, now), 50).get_page(request.GET.get("page"))
    rows = queue_rows(list(page.object_list), now)
    return render(
        request,
        "fleet/triage/queue.html",
        {
            "page": page,
            "flags": rows,
            "filters": filters,
            "state": filters.state,
            "code": filters.code_text,
            "states": STATE_FILTERS,
            "kinds": TriageFlag.Kind.choices,
            "views": VIEWS,
            "querystring": urlencode(filters.params()),
            "steady": steady_count(filters, now) if filters.view == "now" else 0,
            # Headings between the needs-a-look flags and the steady ones below them.
            "grouped": filters.view == "all" and filters.state in OPEN_FILTERS,
            "errors": [message for _, message in filters.errors],
            "spark_width": SPARK_WIDTH,
            "spark_height": SPARK_HEIGHT,
            "spark_days": SPARK_DAYS,
        },
    )


@login_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """One action on the ticked flags of the queue; each change is recorded on its own."""
    form = FlagActionForm(request.POST)
    if not form.is_valid():
        for field_name, field_errors in form.errors.items():
            label = form.fields[field_name].label if field_name in form.fields else ""
            for error in field_errors:
                messages.error(
                    request,
                    gettext("%(field)s: %(error)s")
                    % {"field": label or field_name, "error": error},
                )
        return _safe_next(request, reverse("triage:queue"))
    ids = {int(raw) for raw in request.POST.getlist("flag") if raw.isascii() and raw.isdigit()}
    flags = list(
        TriageFlag.objects.filter(
            pk__in={pk for pk in ids if 0 < pk <= MAX_ID},
            tenant__in=visible_tenants(request.user),
        ).select_related("tenant")
    )
    operable = set(operable_tenants(request.user).values_list("pk", flat=True))
    if any(flag.tenant_id not in operable for flag in flags):
        raise PermissionDenied("Triage actions need the operator or admin role on the tenant.")
    result = change_states(
        flags,
        form.cleaned_data["action"],
        request.user,
        form.cleaned_data["note"],
        **form.mute_arguments(),
    )
    if not ids:
        messages.error(request, gettext("Tick at least one flag."))
    if result.changed:
        done = {
            "acknowledge": gettext("%(count)s flags: acknowledged."),
            "resolve": gettext("%(count)s flags: resolved."),
            "mute": gettext("%(count)s flags: muted."),
        }[form.cleaned_data["action"]]
        messages.success(request, done % {"count": len(result.changed)})
    for flag, why in result.refused:
        messages.error(
            request,
            gettext("%(code)s at %(tenant)s: %(why)s")
            % {"code": flag.hex, "tenant": flag.tenant, "why": why},
        )
    if len(flags) < len(ids):
        messages.error(
            request, gettext("%(count)s flags not found.") % {"count": len(ids) - len(flags)}
        )
    return _safe_next(request, reverse("triage:queue"))


def _visible_flag(request: HttpRequest, pk: int) -> TriageFlag:
    return get_object_or_404(
        TriageFlag.objects.select_related("tenant", "rule", "assignee"),
        pk=pk,
        tenant__in=visible_tenants(request.user),
    )


def _check_may_operate(request: HttpRequest, flag: TriageFlag) -> None:
    if not may_operate(request.user, flag.tenant):
        raise PermissionDenied("Triage actions need the operator or admin role on the tenant.")


def _render_flag(
    request: HttpRequest, flag: TriageFlag, form: FlagActionForm, status: int = 200, **extra
) -> HttpResponse:
    detail = flag_detail(flag, timezone.now())
    return render(
        request,
        "fleet/triage/flag.html",
        {
            "flag": flag,
            "detail": detail,
            "facts": detail.facts,
            "form": form,
            "events": detail.events,
            "devices": detail.devices,
            "spark_points": detail.spark_points,
            "spark_total": detail.spark_total,
            "spark_width": SPARK_WIDTH,
            "spark_height": SPARK_HEIGHT,
            "spark_days": SPARK_DAYS,
            "actions": ACTIONS,
            **extra,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def flag_page(request: HttpRequest, pk: int) -> HttpResponse:
    flag = _visible_flag(request, pk)
    form = FlagActionForm(request.POST or None)
    if request.method == "POST":
        _check_may_operate(request, flag)
        if form.is_valid():
            try:
                change_state(
                    flag,
                    form.cleaned_data["action"],
                    request.user,
                    form.cleaned_data["note"],
                    **form.mute_arguments(),
                )
            except TransitionError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    gettext("%(code)s at %(tenant)s: %(state)s.")
                    % {"code": flag.hex, "tenant": flag.tenant, "state": flag.get_state_display()},
                )
                return _safe_next(request, reverse("triage:flag", args=[flag.pk]))
        return _render_flag(request, flag, form, status=400)
    return _render_flag(request, flag, form)


@login_required
@require_POST
def assign_flag(request: HttpRequest, pk: int) -> HttpResponse:
    """Set the flag's assignee to one of the users its tenant is granted to (empty: nobody)."""
    flag = _visible_flag(request, pk)
    _check_may_operate(request, flag)
    raw = request.POST.get("assignee", "").strip()
    assignee = None
    error = ""
    if raw:
        if raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ID:
            assignee = get_user_model().objects.filter(pk=int(raw)).first()
        if assignee is None:
            error = "Assignee: choose one of the operators granted this tenant."
    if not error:
        try:
            assign(flag, assignee, request.user)
        except TransitionError as exc:
            error = f"Assignee: {exc}"
    if error:
        return _render_flag(request, flag, FlagActionForm(), status=400, assign_error=error)
    messages.success(
        request,
        gettext("%(code)s: assigned to %(name)s.")
        % {"code": flag.hex, "name": assignee.get_username()}
        if assignee
        else gettext("Unassigned."),
    )
    return _safe_next(request, reverse("triage:flag", args=[flag.pk]))
