"""The connector page of a tenant: configure, test the connection, pull now, see the last run."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from fleet.access import administrable_tenants, visible_tenants
from fleet.connectors.forms import ConnectorForm
from fleet.connectors.models import Connector
from fleet.connectors.pulls import test_connection
from fleet.ingest.models import ImportRecord
from fleet.models import Tenant

log = logging.getLogger(__name__)


def _administered(request: HttpRequest, slug: str) -> Tenant:
    """The tenant: 404 unless granted (its existence stays hidden), 403 unless an admin's."""
    tenant = get_object_or_404(visible_tenants(request.user), slug=slug)
    if not administrable_tenants(request.user).filter(pk=tenant.pk).exists():
        raise PermissionDenied("connectors are configured by admins")
    return tenant


@login_required
@require_http_methods(["GET", "POST"])
def connector_page(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = _administered(request, slug)
    connector = Connector.objects.filter(tenant=tenant).first() or Connector(tenant=tenant)
    form = ConnectorForm(request.POST or None, request.FILES or None, instance=connector)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, gettext("Connector saved."))
        return redirect("connectors:page", slug=tenant.slug)
    imports = (
        ImportRecord.objects.filter(tenant=tenant, runner=ImportRecord.Runner.CONNECTOR).order_by(
            "-created_at", "-id"
        )[:20]
        if connector.pk
        else []
    )
    return render(
        request,
        "connectors/connector.html",
        {"tenant": tenant, "connector": connector, "form": form, "imports": imports},
    )


@login_required
@require_POST
def connector_test(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = _administered(request, slug)
    connector = get_object_or_404(Connector, tenant=tenant)
    ok, lines = test_connection(connector)
    (messages.success if ok else messages.error)(request, " ".join(lines))
    return redirect("connectors:page", slug=tenant.slug)


@login_required
@require_POST
def connector_pull(request: HttpRequest, slug: str) -> HttpResponse:
    """Queue a pull now: it runs on a worker (it may take minutes), the page shows its end."""
    from fleet.connectors.tasks import pull_connector

    tenant = _administered(request, slug)
    connector = get_object_or_404(Connector, tenant=tenant)
    try:
        pull_connector.apply_async((connector.pk,), expires=300, retry=False)
    except Exception as exc:  # noqa: BLE001 - the broker is down: say so, pull on schedule
        log.warning("could not queue a pull of %s: %s", connector, exc)
        messages.error(request, gettext("The pull could not be queued (the task queue is down)."))
    else:
        messages.success(request, gettext("Pull queued; reload this page to see it finish."))
    return redirect("connectors:page", slug=tenant.slug)
