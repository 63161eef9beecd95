"""The tenant report page and its PDF: `/tenants/<slug>/report/?period=2026-11` (or
`?period=2026-W47`, or `?from=…&to=…`). 404 for a tenant the person is not granted; 400 naming
the field for a period that cannot be read."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from fleet.access import visible_tenants
from fleet.models import Tenant
from fleet.reports.pdf import PdfError, html_to_pdf
from fleet.reports.periods import Period, PeriodError, period_from
from fleet.reports.report import build_report, render_html

log = logging.getLogger(__name__)


def _asked(request: HttpRequest, slug: str) -> tuple[Tenant, Period | HttpResponse]:
    tenant = get_object_or_404(visible_tenants(request.user), slug=slug)
    try:
        return tenant, period_from(request.GET, timezone.now().date())
    except PeriodError as exc:
        return tenant, HttpResponse(f"{exc}\n", status=400, content_type="text/plain")


@login_required
@require_GET
def report_page(request: HttpRequest, slug: str) -> HttpResponse:
    tenant, period = _asked(request, slug)
    if isinstance(period, HttpResponse):
        return period
    query = urlencode(period.query)
    links = {
        "tenant": reverse("dashboards:tenant", args=[tenant.slug]),
        "pdf": f"{reverse('reports:pdf', args=[tenant.slug])}?{query}",
    }
    return HttpResponse(render_html(build_report(tenant, period), page_links=links))


@login_required
@require_GET
def report_pdf(request: HttpRequest, slug: str) -> HttpResponse:
    tenant, period = _asked(request, slug)
    if isinstance(period, HttpResponse):
        return period
    report = build_report(tenant, period)
    try:
        pdf = html_to_pdf(render_html(report))
    except PdfError as exc:
        log.error("report PDF for %s %s: %s", tenant.slug, period.key, exc)
        return HttpResponse(
            "The PDF could not be made just now; the HTML report works.\n",
            status=503,
            content_type="text/plain",
        )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{report.file_name}.pdf"'
    return response
