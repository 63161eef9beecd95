"""`/api/v1/openapi.json`: the OpenAPI 3.1 document of every JSON API, put together from
each one's declaration (`fleet/api_schema.py`; ingest in `fleet/ingest/schema.py`, codes in
`codes/schema.py`, triage in `fleet/triage/schema.py`, devices in
`fleet/devices/schema.py`) and the health endpoints described here."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from codes import schema as codes_schema
from fleet.alerts import schema as alerts_schema
from fleet.api_schema import Error, schemas
from fleet.devices import schema as devices_schema
from fleet.ingest import schema as ingest_schema
from fleet.triage import schema as triage_schema

# Each has paths() and components().
API_SLICES = (ingest_schema, codes_schema, triage_schema, alerts_schema, devices_schema)
DESCRIPTION = (
    "Endpoints post Windows error-code occurrences. See docs/ingest.md. "
    "Operators, in a browser session or with a personal API token, decode a code and read its "
    "knowledge (/api/v1/codes/{code}), read and act on the triage queue (/api/v1/triage, "
    "docs/triage.md), manage alert rules and read alerts with their deliveries "
    "(/api/v1/alert-rules, /api/v1/alerts, docs/alerts.md) and search the device inventory "
    "(/api/v1/devices). /healthz and /readyz report the service's health (docs/reliability.md)."
)


def document() -> dict[str, Any]:
    components: dict[str, dict[str, Any]] = {
        "securitySchemes": {},
        "schemas": schemas(Error),
    }
    paths: dict[str, Any] = {}
    for api in API_SLICES:
        for section, entries in api.components().items():
            _merge(components.setdefault(section, {}), entries, f"components.{section}")
        _merge(paths, api.paths(), "paths")
    paths["/healthz"] = {"get": _health_operation(LIVENESS)}
    paths["/readyz"] = {"get": _health_operation(READINESS)}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Fleet errors API: ingest, codes, triage, alerts, health",
            "version": "1",
            "description": DESCRIPTION,
        },
        "servers": [{"url": settings.SITE_URL}],
        "components": components,
        "security": [{"ingestKey": []}],
        "paths": paths,
    }


def _merge(into: dict[str, Any], entries: dict[str, Any], where: str) -> None:
    """Add one slice's entries; two slices may share an entry only if they declare it alike."""
    for name, value in entries.items():
        if into.setdefault(name, value) != value:
            raise ValueError(f"{where}.{name} is declared differently by two APIs")


@require_GET
def openapi_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(document(), json_dumps_params={"indent": 2})


LIVENESS = (
    "Liveness: the web process and its database answer. Load balancers route on this one.",
    {"status": {"const": "ok"}},
    {},
)
READINESS = (
    "Readiness: the database and the Celery broker, each reported on its own. Answers 503 "
    "when either is down (the broker check gives up after about a second). Pages and ingest "
    "keep answering while only the broker is down; queued work waits for it.",
    {
        "status": {"enum": ["ok", "down"]},
        "database": {"enum": ["ok", "down"]},
        "broker": {"enum": ["ok", "down"]},
    },
    {"503": "The database or the broker (or both) is down; the body says which."},
)


def _health_operation(spec: tuple[str, dict, dict]) -> dict:
    description, properties, other_answers = spec
    body = {
        "application/json": {
            "schema": {"type": "object", "properties": properties, "required": list(properties)}
        }
    }
    return {
        "summary": description.split(":", 1)[0],
        "description": description,
        "security": [],
        "responses": {
            "200": {"description": "Every check answers.", "content": body},
            **{
                code: {"description": text, "content": body} for code, text in other_answers.items()
            },
        },
    }
