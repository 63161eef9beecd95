"""Operator pages. Views parse the request, call one query module, render."""

from django.contrib.auth.decorators import login_required
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from fleet.access import visible_tenants
from fleet.models import HourlyCodeStat


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    tenants = visible_tenants(request.user)
    top_codes = (
        HourlyCodeStat.objects.filter(tenant__in=tenants)
        .values("code")
        .annotate(total=Sum("occurrences"))
        .order_by("-total")[:10]
    )
    rows = [{"hex": f"0x{r['code']:08X}", "total": r["total"]} for r in top_codes]
    return render(request, "dashboards/overview.html", {"tenants": tenants, "top_codes": rows})
