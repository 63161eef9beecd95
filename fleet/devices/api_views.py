"""The devices API: the inventory as JSON. Authenticated like the triage API (session or
personal API token, `fleet/api_auth.py`), with the caller's tenant grants."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from fleet.api_auth import Caller, authenticate
from fleet.api_schema import iso_moment, json_answer
from fleet.devices import schema
from fleet.devices.queries import DeviceSearch, device_page, visible_device
from fleet.models import Device
from fleet.triage.schema import TriageError


def _error(status: int, message: str) -> HttpResponse:
    response = json_answer(TriageError(message), status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="fleet-api"'
    return response


def _caller(request: HttpRequest) -> Caller | HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return _error(405, "use GET")
    caller = authenticate(request)
    if caller is None:
        return _error(401, "log in, or send Authorization: Bearer <personal API token>")
    return caller


def device_item(device: Device) -> schema.DeviceItem:
    """A device annotated by `fleet.devices.queries.with_counts`, as the API serves it."""
    seen = device.last_seen_at
    return schema.DeviceItem(
        id=device.pk,
        hostname=device.hostname,
        tenant=device.tenant.slug,
        last_seen_at=iso_moment(seen),
        open_flags=device.open_flags,
        codes=device.codes,
        os_build=device.os_build,
        update_policy=device.update_policy,
        intune_device_id=device.intune_device_id,
        entra_device_id=device.entra_device_id,
    )


def device_list(request: HttpRequest) -> HttpResponse:
    """GET: one page of the caller's devices matching `q` and `tenant`."""
    caller = _caller(request)
    if isinstance(caller, HttpResponse):
        return caller
    page = device_page(caller.user, DeviceSearch.from_query(request.GET))
    return json_answer(
        schema.DeviceList(
            items=[device_item(device) for device in page],
            count=page.paginator.count,
            page=page.number,
            pages=page.paginator.num_pages,
        )
    )


def device_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: one device; 404 unless a tenant granted to the caller owns it."""
    caller = _caller(request)
    if isinstance(caller, HttpResponse):
        return caller
    device = visible_device(caller.user, pk)
    if device is None:
        return _error(404, "no such device")
    return json_answer(device_item(device))
