"""Triage queue and flag pages. Logic lives in fleet/triage.py; these parse, call, render."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Max, OuterRef, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, TruncDate
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from codes.facts import facts_for, facts_of
from codes.parse import CodeError, parse_code
from fleet.access import visible_tenants
from fleet.models import DailyDeviceCodeStat, HourlyCodeStat
from fleet.triage.flags import ACTIONS, MAX_MUTE_OCCURRENCES, TransitionError, change_state
from fleet.triage.models import TriageFlag

SPARK_DAYS = 14
SPARK_WIDTH, SPARK_HEIGHT = 112, 24
STATE_FILTERS = ["open", *TriageFlag.State.values, "all"]
# Regressions first: they were believed fixed.
_STATE_ORDER = Case(
    When(state=TriageFlag.State.REGRESSED, then=Value(0)),
    When(state=TriageFlag.State.NEW, then=Value(1)),
    When(state=TriageFlag.State.ACKNOWLEDGED, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


class FlagActionForm(forms.Form):
    action = forms.ChoiceField(choices=[(name, name.title()) for name in ACTIONS])
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    muted_until = forms.DateField(
        required=False,
        help_text="Mute until this day (00:00 UTC).",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    mute_occurrences = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_MUTE_OCCURRENCES,
        help_text="…or until this many more occurrences.",
        error_messages={
            "max_value": f"at most {MAX_MUTE_OCCURRENCES:,} more occurrences; "
            "for longer, mute until a day."
        },
    )


def sparkline_points(values: list[int]) -> str:
    """SVG polyline points for `values`, scaled to the sparkline box (numbers only)."""
    if not values:
        return ""
    top = max(values) or 1
    step = SPARK_WIDTH / max(len(values) - 1, 1)
    return " ".join(
        f"{i * step:.1f},{SPARK_HEIGHT - 1 - (v / top) * (SPARK_HEIGHT - 2):.1f}"
        for i, v in enumerate(values)
    )


def _daily_series(flags: list[TriageFlag], today) -> dict[int, list[int]]:
    """Occurrences per day over the last SPARK_DAYS days for each flag, in one query."""
    first_day = today - timedelta(days=SPARK_DAYS - 1)
    rows = (
        HourlyCodeStat.objects.filter(
            tenant_id__in={f.tenant_id for f in flags},
            code__in={f.code for f in flags},
            hour__gte=datetime.combine(first_day, time(), tzinfo=UTC),
        )
        .annotate(day=TruncDate("hour"))
        .values("tenant_id", "code", "day")
        .annotate(n=Sum("occurrences"))
    )
    counts = {(r["tenant_id"], r["code"], r["day"]): r["n"] for r in rows}
    days = [first_day + timedelta(days=i) for i in range(SPARK_DAYS)]
    return {f.pk: [counts.get((f.tenant_id, f.code, day), 0) for day in days] for f in flags}


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    flags = TriageFlag.objects.filter(tenant__in=visible_tenants(request.user)).select_related(
        "tenant", "rule"
    )
    errors = []
    state = request.GET.get("state", "open")
    if state not in STATE_FILTERS:
        errors.append(f"Unknown state {state!r}; showing open flags.")
        state = "open"
    if state == "open":
        flags = flags.filter(state__in=TriageFlag.OPEN_STATES)
    elif state != "all":
        flags = flags.filter(state=state)
    code_text = request.GET.get("code", "").strip()
    if code_text:
        try:
            flags = flags.filter(code=parse_code(code_text).value)
        except CodeError as exc:
            errors.append(f"code: {exc}")
    # Busiest first within a state, so today's storm is above a steady trickle.
    day_ago = timezone.now() - timedelta(hours=24)
    recent = (
        HourlyCodeStat.objects.filter(
            tenant_id=OuterRef("tenant_id"), code=OuterRef("code"), hour__gte=day_ago
        )
        .values("code")
        .annotate(n=Sum("occurrences"))
        .values("n")
    )
    flags = flags.annotate(
        recent=Coalesce(Subquery(recent), 0, output_field=IntegerField())
    ).order_by(_STATE_ORDER, "-recent", "-last_seen_at", "pk")
    page = Paginator(flags, 50).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    facts = facts_for({f.code for f in rows})
    series = _daily_series(rows, timezone.now().date()) if rows else {}
    for flag in rows:
        flag.facts = facts[flag.code]
        flag.spark_points = sparkline_points(series[flag.pk])
        flag.spark_total = sum(series[flag.pk])
    return render(
        request,
        "fleet/triage/queue.html",
        {
            "page": page,
            "flags": rows,
            "state": state,
            "code": code_text,
            "states": STATE_FILTERS,
            "errors": errors,
            "spark_width": SPARK_WIDTH,
            "spark_height": SPARK_HEIGHT,
            "spark_days": SPARK_DAYS,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def flag_detail(request: HttpRequest, pk: int) -> HttpResponse:
    flag = get_object_or_404(
        TriageFlag.objects.select_related("tenant", "rule"),
        pk=pk,
        tenant__in=visible_tenants(request.user),
    )
    form = FlagActionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            day = form.cleaned_data["muted_until"]
            try:
                change_state(
                    flag,
                    form.cleaned_data["action"],
                    request.user,
                    form.cleaned_data["note"],
                    muted_until=datetime.combine(day, time(), tzinfo=UTC) if day else None,
                    mute_occurrences=form.cleaned_data["mute_occurrences"],
                )
            except TransitionError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request, f"{flag.hex} at {flag.tenant}: {flag.get_state_display()}."
                )
                # Back to the queue when the action came from there; never off-site. Only a
                # path: redirect() would take any other word for a view name to reverse.
                target = request.POST.get("next", "")
                if target.startswith("/") and url_has_allowed_host_and_scheme(
                    target, {request.get_host()}, require_https=request.is_secure()
                ):
                    return HttpResponseRedirect(target)
                return redirect("triage:flag", pk=flag.pk)
        status = 400
    facts = facts_of(flag.code)
    since = timezone.now().date() - timedelta(days=29)
    devices = (
        DailyDeviceCodeStat.objects.filter(tenant=flag.tenant, code=flag.code, day__gte=since)
        .values("device_id", "device__hostname")
        .annotate(occurrences=Sum("occurrences"), last_day=Max("day"))
        .order_by("-occurrences", "device__hostname")[:50]
    )
    series = _daily_series([flag], timezone.now().date())[flag.pk]
    return render(
        request,
        "fleet/triage/flag.html",
        {
            "flag": flag,
            "facts": facts,
            "form": form,
            "events": flag.events.select_related("user"),
            "devices": devices,
            "spark_points": sparkline_points(series),
            "spark_total": sum(series),
            "spark_width": SPARK_WIDTH,
            "spark_height": SPARK_HEIGHT,
            "spark_days": SPARK_DAYS,
            "actions": ACTIONS,
        },
        status=status,
    )
