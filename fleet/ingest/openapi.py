"""The OpenAPI 3.1 description of the ingest API, served at /api/v1/openapi.json."""

from __future__ import annotations

from django.conf import settings


def schema() -> dict:
    error = {
        "type": "object",
        "properties": {"error": {"type": "string"}},
        "required": ["error"],
    }
    device = {
        "oneOf": [
            {"type": "string", "description": "Hostname or FQDN", "example": "PC-0042"},
            {
                "type": "object",
                "properties": {
                    "hostname": {"type": "string", "example": "PC-0042.contoso.local"},
                    "intune_device_id": {"type": "string", "maxLength": 64},
                    "entra_device_id": {"type": "string", "maxLength": 64},
                },
                "required": ["hostname"],
            },
        ]
    }
    occurrence = {
        "type": "object",
        "required": ["device", "code", "occurred_at"],
        "properties": {
            "device": device,
            "intune_device_id": {"type": "string", "maxLength": 64},
            "entra_device_id": {"type": "string", "maxLength": 64},
            "code": {
                "oneOf": [{"type": "string"}, {"type": "integer"}],
                "description": "Any notation: 0x8024000B, 0xC1900101_C3FD, -2145124341, "
                "2149842955. 0 (success) is counted, not stored.",
                "example": "0x8024000B",
            },
            "occurred_at": {
                "type": "string",
                "format": "date-time",
                "description": "ISO 8601 with a time zone.",
                "example": "2026-11-02T09:30:00Z",
            },
            "source": {
                "type": "string",
                "pattern": "^[a-z0-9][a-z0-9_.-]{0,39}$",
                "default": "api",
            },
            "update_title": {"type": "string", "maxLength": 500},
            "kb": {"type": "string", "example": "KB5034441"},
            "message": {"type": "string", "maxLength": 4000},
            "event_id": {
                "type": "string",
                "maxLength": 200,
                "description": "Dedupe key, unique per tenant and source. When absent, one is "
                "derived from device, code, time, title, KB and message.",
            },
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Fleet errors ingest API",
            "version": "1",
            "description": "Endpoints post Windows error-code occurrences. See docs/ingest.md.",
        },
        "servers": [{"url": settings.SITE_URL}],
        "components": {
            "securitySchemes": {
                "ingestKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A per-tenant ingest key (create_ingest_key TENANT).",
                }
            },
            "schemas": {"Occurrence": occurrence, "Error": error},
        },
        "security": [{"ingestKey": []}],
        "paths": {
            "/api/v1/occurrences": {
                "post": {
                    "summary": "Store a batch of occurrences",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "array",
                                    "maxItems": settings.INGEST_MAX_BATCH,
                                    "items": {"$ref": "#/components/schemas/Occurrence"},
                                }
                            }
                        },
                    },
                    "responses": {
                        "202": {
                            "description": "Stored and committed. Invalid items are listed in "
                            "errors; valid items of the same batch are stored.",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "accepted": {"type": "integer"},
                                            "duplicates": {"type": "integer"},
                                            "rejected": {"type": "integer"},
                                            "success": {"type": "integer"},
                                            "errors": {
                                                "type": "array",
                                                "items": {
                                                    "type": "object",
                                                    "properties": {
                                                        "index": {"type": "integer"},
                                                        "field": {"type": "string"},
                                                        "message": {"type": "string"},
                                                    },
                                                },
                                            },
                                        },
                                    }
                                }
                            },
                        },
                        "400": _error_response("Body is not a JSON list of objects."),
                        "401": _error_response("Missing, unknown or revoked ingest key."),
                        "413": _error_response(
                            f"Body over {settings.INGEST_MAX_BODY_MB} MB or more than "
                            f"{settings.INGEST_MAX_BATCH} items; nothing stored."
                        ),
                    },
                }
            },
            "/healthz": {"get": _health_operation(LIVENESS)},
            "/readyz": {"get": _health_operation(READINESS)},
        },
    }


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


def _error_response(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
