"""The ingest API's contract, declared once: `fleet/ingest/api.py` validates posted items
against these Structs and `/api/v1/openapi.json` describes the API from them.

Types, lengths, patterns, defaults and which fields are required live here. What JSON Schema
cannot say (a code in any notation, a time's zone and bounds, a name with a host part, a KB
number's forms, no NUL characters) `api.py` checks next, as each field's description says.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from django.conf import settings
from msgspec import Meta, Struct

from fleet.api_schema import error_answer, json_content, ref, schemas
from fleet.ingest.patterns import MAX_HOSTNAME

SOURCE_PATTERN = r"^[a-z0-9][a-z0-9_.\-]{0,39}$"
MAX_TITLE = 500
MAX_MESSAGE = 4000
MAX_KB = 20
MAX_EVENT_ID = 200

DeviceId = Annotated[str, Meta(max_length=64)]
Hostname = Annotated[
    str,
    Meta(
        description=f"Hostname, FQDN or DOMAIN\\NAME, at most {MAX_HOSTNAME} characters once "
        "trimmed; it must have a host part.",
        examples=["PC-0042"],
    ),
]


class Device(Struct, gc=False):
    """The device as an object, with the ids that find it again after a rename."""

    hostname: Annotated[Hostname, Meta(examples=["PC-0042.contoso.local"])]
    intune_device_id: DeviceId | None = None
    entra_device_id: DeviceId | None = None


class Occurrence(Struct, gc=False):
    """One error code seen on one device at one moment."""

    device: Hostname | Device
    code: Annotated[
        str | int,
        Meta(
            description="Any notation: 0x8024000B, 0xC1900101_C3FD, -2145124341, 2149842955. "
            "0 (success) is counted, not stored.",
            examples=["0x8024000B"],
        ),
    ]
    occurred_at: Annotated[
        str,
        Meta(
            description="ISO 8601 with a time zone; the offset between -12:00 and +14:00, at "
            "most a day ahead of the server's clock.",
            examples=["2026-11-02T09:30:00Z"],
            extra_json_schema={"format": "date-time"},
        ),
    ]
    intune_device_id: DeviceId | None = None
    entra_device_id: DeviceId | None = None
    source: Annotated[str, Meta(pattern=SOURCE_PATTERN)] = "api"
    update_title: Annotated[str, Meta(max_length=MAX_TITLE)] | None = None
    kb: Annotated[
        Annotated[str, Meta(max_length=MAX_KB)] | None,
        Meta(
            description="KB5034441 or 5034441; when absent, read from update_title.",
            examples=["KB5034441"],
        ),
    ] = None
    message: Annotated[str, Meta(max_length=MAX_MESSAGE)] | None = None
    event_id: Annotated[
        Annotated[str, Meta(max_length=MAX_EVENT_ID)] | int | None,
        Meta(
            description="Dedupe key, unique per tenant and source. When absent, one is "
            "derived from device, code, time, title, KB and message.",
        ),
    ] = None


class Rejection(Struct):
    """An item that was not stored, by its index in the posted list, and why."""

    index: int
    field: str
    message: str


class BatchResult(Struct):
    """What became of a posted batch: every item is counted under exactly one of the four."""

    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    success: int = 0
    errors: list[Rejection] = []

    def as_dict(self) -> dict[str, Any]:
        return msgspec.to_builtins(self)


def paths() -> dict[str, Any]:
    """The ingest API's operations, for `/api/v1/openapi.json`."""
    return {
        "/api/v1/occurrences": {
            "post": {
                "summary": "Store a batch of occurrences",
                "requestBody": {
                    "required": True,
                    "content": json_content(
                        {
                            "type": "array",
                            "maxItems": settings.INGEST_MAX_BATCH,
                            "items": ref(Occurrence),
                        }
                    ),
                },
                "responses": {
                    "202": {
                        "description": "Stored and committed. Invalid items are listed in "
                        "errors; valid items of the same batch are stored.",
                        "content": json_content(ref(BatchResult)),
                    },
                    "400": error_answer("Body is not a JSON list of objects."),
                    "401": error_answer("Missing, unknown or revoked ingest key."),
                    "413": error_answer(
                        f"Body over {settings.INGEST_MAX_BODY_MB} MB or more than "
                        f"{settings.INGEST_MAX_BATCH} items; nothing stored."
                    ),
                },
            }
        }
    }


def components() -> dict[str, Any]:
    return {
        "securitySchemes": {
            "ingestKey": {
                "type": "http",
                "scheme": "bearer",
                "description": "A per-tenant ingest key (create_ingest_key TENANT).",
            }
        },
        "schemas": schemas(Occurrence, BatchResult),
    }
