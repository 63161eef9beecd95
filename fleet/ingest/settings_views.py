"""Ingest keys in settings: tenant admins create (shown once, with the endpoint-script
command) and revoke them."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from fleet.access import administrable_tenants
from fleet.accounts.people import audit
from fleet.ingest.keys import create_ingest_key
from fleet.ingest.models import IngestKey


class KeyForm(forms.Form):
    tenant = forms.ModelChoiceField(label=_("Tenant"), queryset=None, to_field_name="slug")
    name = forms.CharField(label=_("Name"), max_length=100, required=False)

    def __init__(self, *args, tenants, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tenant"].queryset = tenants


def _administrable_or_403(request: HttpRequest):
    tenants = administrable_tenants(request.user)
    if not tenants.exists():
        raise PermissionDenied("Ingest keys need the admin role on a tenant.")
    return tenants


@login_required
@require_http_methods(["GET", "POST"])
def keys_page(request: HttpRequest) -> HttpResponse:
    tenants = _administrable_or_403(request)
    form = KeyForm(request.POST or None, tenants=tenants)
    created = None
    if request.method == "POST" and form.is_valid():
        record, key = create_ingest_key(form.cleaned_data["tenant"], form.cleaned_data["name"])
        audit(request.user, "ingest_key.create", str(record), record.tenant, prefix=record.prefix)
        base = request.build_absolute_uri("/").rstrip("/")
        created = {
            "record": record,
            "key": key,
            "command": f'$env:FLEET_INGEST_KEY = "{key}"; .\\Send-FleetErrors.ps1 -Url {base}',
        }
        form = KeyForm(tenants=tenants)
    keys = IngestKey.objects.filter(tenant__in=tenants).select_related("tenant")
    return render(
        request,
        "settings/keys.html",
        {"form": form, "keys": keys, "created": created},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@login_required
@require_POST
def key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    tenants = _administrable_or_403(request)
    key = get_object_or_404(IngestKey, pk=pk, tenant__in=tenants)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit(request.user, "ingest_key.revoke", str(key), key.tenant, prefix=key.prefix)
    return redirect("ingest:settings-keys")
