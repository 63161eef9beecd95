"""The OpenAPI 3.1 description of the API (ingest, triage, health): /api/v1/openapi.json."""

from __future__ import annotations

from django.conf import settings


def schema() -> dict:
    error = {
        "type": "object",
        "properties": {
            "error": {"type": "string"},
            "field": {"type": "string", "description": "The parameter at fault, when one is."},
        },
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
            "description": "Endpoints post Windows error-code occurrences (docs/ingest.md); "
            "operators' scripts read and act on the triage queue (docs/triage.md).",
        },
        "servers": [{"url": settings.SITE_URL}],
        "components": {
            "securitySchemes": {
                "ingestKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A per-tenant ingest key (create_ingest_key TENANT).",
                },
                "apiToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal API token (create_api_token USERNAME --name "
                    "NAME); acts as its owner, with the owner's tenant grants.",
                },
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": settings.SESSION_COOKIE_NAME,
                    "description": "A logged-in browser session; a POST also needs the "
                    "X-CSRFToken header.",
                },
            },
            "schemas": {
                "Occurrence": occurrence,
                "Error": error,
                "TriageFlag": TRIAGE_FLAG,
                "TriageAction": TRIAGE_ACTION,
            },
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
            "/api/v1/triage": {"get": _triage_list_operation()},
            "/api/v1/triage/{id}": {"post": _triage_action_operation()},
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


# --- triage ---------------------------------------------------------------------------------

_MOMENT = {"type": ["string", "null"], "format": "date-time"}
TRIAGE_FLAG = {
    "type": "object",
    "required": [
        "id",
        "tenant",
        "code",
        "name",
        "state",
        "kind",
        "score",
        "reason",
        "occurrences_24h",
        "devices_24h",
        "baseline_24h",
        "first_seen",
        "last_seen",
        "url",
    ],  # fmt: skip
    "properties": {
        "id": {"type": "integer"},
        "tenant": {"type": "string", "description": "Tenant slug.", "example": "contoso-health"},
        "code": {"type": "string", "description": "Canonical hex.", "example": "0x8024000B"},
        "name": {"type": "string", "description": "Catalog name, empty when unknown."},
        "state": {"enum": ["new", "acknowledged", "resolved", "muted", "regressed"]},
        "kind": {"enum": ["spike", "new", "regression", "threshold", "fleet_spike"]},
        "score": {"type": "number", "description": "Queue rank: higher needs a look sooner."},
        "reason": {"type": "string", "example": "43 in the last 6 h, usually 2"},
        "occurrences_24h": {"type": "integer"},
        "devices_24h": {"type": "integer"},
        "baseline_24h": {"type": "number", "description": "Expected in 24 h from its history."},
        "occurrences": {"type": "integer", "description": "All time."},
        "devices": {"type": "integer", "description": "All time."},
        "first_seen": _MOMENT,
        "last_seen": _MOMENT,
        "signal_at": _MOMENT,
        "assignee": {"type": ["string", "null"], "description": "Username."},
        "url": {"type": "string", "format": "uri", "description": "The flag's page."},
    },
}
TRIAGE_ACTION = {
    "type": "object",
    "required": ["action"],
    "properties": {
        "action": {"enum": ["acknowledge", "resolve", "mute"]},
        "note": {"type": "string", "maxLength": 2000},
        "muted_until": {
            "type": "string",
            "format": "date",
            "description": "mute: until this day, 00:00 UTC (or mute_occurrences).",
        },
        "mute_occurrences": {
            "type": "integer",
            "minimum": 1,
            "maximum": 1_000_000,
            "description": "mute: until this many more occurrences (or muted_until).",
        },
    },
}
_TRIAGE_SECURITY = [{"apiToken": []}, {"session": []}]


def _query(name: str, description: str, schema: dict) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def _triage_list_operation() -> dict:
    many = {"type": "array", "items": {"type": "string"}}
    return {
        "summary": "The triage queue, in its order",
        "description": "The flags of the caller's tenants. By default the needs-a-look set "
        "(view=now); view=all lists every flag of the chosen states, view=steady only the "
        "steady recurring ones.",
        "security": _TRIAGE_SECURITY,
        "parameters": [
            _query(
                "tenant", "Tenant slug; repeat for several. Default: every granted tenant.", many
            ),
            _query("state", "open (default), all, or one state.", {"type": "string"}),
            _query("kind", "Repeat for several.", many),
            _query(
                "view",
                "now (default for open states), steady, all.",
                {"enum": ["now", "steady", "all"]},
            ),
            _query("assigned", "me: only flags assigned to the caller.", {"enum": ["me"]}),
            _query("code", "Only this code, any notation.", {"type": "string"}),
            _query(
                "limit",
                "At most this many flags (default 100).",
                {"type": "integer", "minimum": 1, "maximum": 500},
            ),
        ],
        "responses": {
            "200": {
                "description": "The flags, most urgent first.",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["flags"],
                            "properties": {
                                "flags": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/TriageFlag"},
                                }
                            },
                        }
                    }
                },
            },
            "400": _error_response("A filter value is not valid; `field` names it."),
            "401": _error_response("Not logged in, and no valid personal API token."),
        },
    }


def _triage_action_operation() -> dict:
    return {
        "summary": "Acknowledge, resolve or mute one flag",
        "description": "Recorded in the flag's history as the caller. Session requests need "
        "the X-CSRFToken header; token requests do not.",
        "security": _TRIAGE_SECURITY,
        "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/TriageAction"}}
            },
        },
        "responses": {
            "200": {
                "description": "Changed; the flag as it is now.",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {"flag": {"$ref": "#/components/schemas/TriageFlag"}},
                        }
                    }
                },
            },
            "400": _error_response(
                "Not a JSON object, a bad field, or a change the flag cannot make; `field` "
                "names the field."
            ),
            "401": _error_response("Not logged in, and no valid personal API token."),
            "403": _error_response("A session request without a valid CSRF token."),
            "404": _error_response("No such flag in the caller's tenants."),
        },
    }
