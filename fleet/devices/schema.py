"""The devices API's contract, declared once: `fleet/devices/api_views.py` serves its answers
from these Structs and `/api/v1/openapi.json` describes them (`fleet/api_schema.py`)."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta, Struct

from fleet.api_schema import json_content, ref, schemas
from fleet.devices.queries import PAGE_SIZE
from fleet.triage.schema import NOT_LOGGED_IN, SECURITY, TriageError

Moment = Annotated[str, Meta(extra_json_schema={"format": "date-time"})] | None


class DeviceItem(Struct):
    """One device as the API serves it."""

    id: int
    hostname: Annotated[str, Meta(description="Name as first reported.")]
    tenant: Annotated[str, Meta(description="Tenant slug.", examples=["contoso-health"])]
    last_seen_at: Annotated[Moment, Meta(description="Latest occurrence (UTC, ISO 8601).")]
    open_flags: Annotated[int, Meta(description="Open triage flags for codes it has had.")]
    codes: Annotated[int, Meta(description="Distinct codes it has had.")]
    os_build: Annotated[str, Meta(description="OS build, as an import said; empty if none.")]
    update_policy: Annotated[
        str, Meta(description="Update ring or policy name, as an import said; empty if none.")
    ]
    intune_device_id: str
    entra_device_id: str


class DeviceList(Struct):
    """One page of the caller's devices, sorted like the page's `sort`."""

    items: list[DeviceItem]
    count: Annotated[int, Meta(description="Devices matching, over every page.")]
    page: int
    pages: int


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}  # fmt: skip


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": json_content(ref(TriageError))}


def paths() -> dict[str, Any]:
    """The devices API's operations, for `/api/v1/openapi.json`."""
    listing = {
        "summary": "The caller's devices, searched",
        "description": f"Devices of the caller's granted tenants, {PAGE_SIZE} a page. "
        "Another method answers 405.",
        "security": SECURITY,
        "parameters": [
            _query(
                "q",
                "Hostname prefix (case-insensitive, domain ignored), or an exact Intune or "
                "Entra device id.",
                {"type": "string"},
            ),
            _query(
                "tenant",
                "Tenant slug; repeat for several. A slug not granted matches nothing.",
                {"type": "array", "items": {"type": "string"}},
            ),
            _query(
                "sort",
                "name, last_seen, flags or codes; a leading - sorts descending.",
                {"type": "string", "default": "name"},
            ),
            _query("page", "Page number (from 1).", {"type": "integer", "minimum": 1}),
        ],
        "responses": {
            "200": {"description": "A page of devices.", "content": json_content(ref(DeviceList))},
            "401": _error(NOT_LOGGED_IN),
        },
    }
    detail = {
        "summary": "One device",
        "security": SECURITY,
        "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
        ],
        "responses": {
            "200": {"description": "The device.", "content": json_content(ref(DeviceItem))},
            "401": _error(NOT_LOGGED_IN),
            "404": _error("No such device in the caller's tenants."),
        },
    }
    return {"/api/v1/devices": {"get": listing}, "/api/v1/devices/{id}": {"get": detail}}


def components() -> dict[str, Any]:
    return {"schemas": schemas(DeviceList, DeviceItem)}
