"""Alert pages. Read-only for now; the queries live in `fleet.alerts.queries`."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from fleet.alerts.queries import alerts_page


@login_required
@require_GET
def alert_list(request: HttpRequest) -> HttpResponse:
    page = alerts_page(request.user, request.GET.get("page"))
    return render(
        request,
        "fleet/alerts/list.html",
        {"rules": page.rules, "page": page.firings},
    )
