"""The triage API's contract, declared once: `fleet/triage/api_views.py` checks action bodies
against these Structs and serves its answers from them, and `/api/v1/openapi.json` describes
the API from them (`fleet/api_schema.py`).

Types, bounds and which fields are required live here. What the page's form and `change_state`
decide (a day's formats, a note's length once trimmed, which mute fits which action) stays
there, after these; each field's description says it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from msgspec import UNSET, Meta, Struct, UnsetType

from fleet.api_schema import json_content, ref, schemas, session_scheme
from fleet.triage.filters import STATE_FILTERS, VIEWS
from fleet.triage.flags import MAX_MUTE_OCCURRENCES
from fleet.triage.forms import NOTE_MAX_LENGTH

DEFAULT_LIMIT, MAX_LIMIT = 100, 500
MAX_BODY_BYTES = 64 * 1024

# The model's choices and flags.ACTIONS, spelled out (tests/fleet/triage/test_api_schema.py
# checks they agree).
ActionName = Literal["acknowledge", "resolve", "mute"]
State = Literal["new", "acknowledged", "resolved", "muted", "regressed"]
Kind = Literal["spike", "new", "regression", "threshold", "fleet_spike"]
URI = {"format": "uri"}
Moment = Annotated[str, Meta(extra_json_schema={"format": "date-time"})] | None


class TriageFlag(Struct):
    """One flag as the API serves it, in the list and after an action; every key is served."""

    id: int
    tenant: Annotated[str, Meta(description="Tenant slug.", examples=["contoso-health"])]
    code: Annotated[str, Meta(description="Canonical hex.", examples=["0x8024000B"])]
    name: Annotated[str, Meta(description="Catalog name, empty when the catalog has none.")]
    state: Annotated[State, Meta(description="Where the operators' work on it stands.")]
    kind: Annotated[Kind, Meta(description="Why it is in the queue now (docs/triage.md).")]
    score: Annotated[float, Meta(description="Queue rank: higher needs a look sooner.")]
    reason: Annotated[
        str,
        Meta(
            description="Why, in words: the signal's reason, else the rule's counts.",
            examples=["43 in the last 6 h, usually 2"],
        ),
    ]
    occurrences_24h: Annotated[int, Meta(description="In the last 24 h.")]
    devices_24h: Annotated[int, Meta(description="Devices in the last 24 h.")]
    baseline_24h: Annotated[float, Meta(description="Expected in 24 h from its history.")]
    first_seen: Annotated[Moment, Meta(description="First occurrence (UTC, ISO 8601).")]
    last_seen: Annotated[Moment, Meta(description="Latest occurrence (UTC, ISO 8601).")]
    url: Annotated[
        str,
        Meta(description="The flag's page, absolute (SITE_URL).", extra_json_schema=URI),
    ]
    # Served like the others; declared with defaults, so the document lists them as optional
    # (as it did before the declaration).
    occurrences: Annotated[int, Meta(description="All time.")] = 0
    devices: Annotated[int, Meta(description="Devices, all time.")] = 0
    signal_at: Annotated[Moment, Meta(description="Last abnormal at (UTC, ISO 8601).")] = None
    assignee: Annotated[str | None, Meta(description="Username, or null for nobody.")] = None


class TriageList(Struct):
    """The queue's flags, most urgent first."""

    flags: list[TriageFlag]


class TriageFlagAnswer(Struct):
    """The flag as it is after the action."""

    flag: TriageFlag


class TriageAction(Struct):
    """An operator's action on one flag, as the flag page's form takes it; null is absent."""

    action: ActionName
    note: Annotated[
        str | int | None,
        Meta(
            description=f"Recorded with the change; at most {NOTE_MAX_LENGTH} characters once "
            "trimmed. An integer is taken as its digits.",
            examples=["ticket 4711"],
        ),
    ] = None
    muted_until: Annotated[
        Annotated[str, Meta(extra_json_schema={"format": "date"})] | None,
        Meta(
            description="mute: until this day, 00:00 UTC, in the future (or mute_occurrences).",
            examples=["2027-01-15"],
        ),
    ] = None
    mute_occurrences: Annotated[
        Annotated[int, Meta(ge=1, le=MAX_MUTE_OCCURRENCES)] | str | None,
        Meta(
            description="mute: until this many more occurrences (or muted_until). A string is "
            "read as the page's form reads it, so it must hold such a whole number.",
            examples=[50],
        ),
    ] = None

    def form_data(self) -> dict[str, str]:
        """The fields given, as text: the way a browser posts the page's form."""
        values = {
            "action": self.action,
            "note": self.note,
            "muted_until": self.muted_until,
            "mute_occurrences": self.mute_occurrences,
        }
        return {name: str(value) for name, value in values.items() if value is not None}


class TriageError(Struct):
    """Every error answer of the triage API."""

    error: str
    field: Annotated[
        str | UnsetType,
        Meta(description="The parameter or body field at fault, when one is."),
    ] = UNSET


SECURITY = [{"apiToken": []}, {"session": []}]
NOT_LOGGED_IN = "Not logged in, and no valid personal API token."


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": json_content(ref(TriageError))}


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}  # fmt: skip


def _list_operation() -> dict[str, Any]:
    return {
        "summary": "The triage queue, in its order",
        "description": "The flags of the caller's tenants, with the queue page's filters. By "
        "default the needs-a-look set (view=now); view=all lists every flag of the chosen "
        "states, view=steady only the steady recurring ones. Another method answers 405.",
        "security": SECURITY,
        "parameters": [
            _query(
                "tenant",
                "Tenant slug; repeat for several. A slug not granted matches nothing. "
                "Default: every granted tenant.",
                {"type": "array", "items": {"type": "string"}},
            ),
            _query(
                "state",
                "open (new, acknowledged, regressed), all, or one state.",
                {"enum": list(STATE_FILTERS), "default": "open"},
            ),  # fmt: skip
            _query(
                "kind",
                "Repeat for several. Default: any.",
                {"type": "array", "items": {"enum": list(get_args(Kind))}},
            ),  # fmt: skip
            _query(
                "view", "Default: now for open states, all for the others.", {"enum": list(VIEWS)}
            ),  # fmt: skip
            _query("assigned", "me: only flags assigned to the caller.", {"enum": ["me"]}),
            _query("code", "Only this code, any notation.", {"type": "string"}),
            _query(
                "limit",
                f"At most this many flags (default {DEFAULT_LIMIT}).",
                {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            ),
        ],
        "responses": {
            "200": {
                "description": "The flags, most urgent first.",
                "content": json_content(ref(TriageList)),
            },
            "400": _error("A parameter's value is not valid; `field` names it."),
            "401": _error(NOT_LOGGED_IN),
        },
    }


def _action_operation() -> dict[str, Any]:
    return {
        "summary": "Acknowledge, resolve or mute one flag",
        "description": "Recorded in the flag's history as the caller. Session requests need "
        "the X-CSRFToken header; token requests do not. Another method answers 405.",
        "security": SECURITY,
        "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
        ],
        "requestBody": {"required": True, "content": json_content(ref(TriageAction))},
        "responses": {
            "200": {
                "description": "Changed; the flag as it is now.",
                "content": json_content(ref(TriageFlagAnswer)),
            },
            "400": _error(
                f"Not a JSON object (of at most {MAX_BODY_BYTES // 1024} KB), a field of the "
                "wrong type or value, or a change the flag cannot make; `field` names the field."
            ),
            "401": _error(NOT_LOGGED_IN),
            "403": _error("A session request without a valid CSRF token."),
            "404": _error("No such flag in the caller's tenants."),
        },
    }


def paths() -> dict[str, Any]:
    """The triage API's operations, for `/api/v1/openapi.json`."""
    return {
        "/api/v1/triage": {"get": _list_operation()},
        "/api/v1/triage/{id}": {"post": _action_operation()},
    }


def components() -> dict[str, Any]:
    return {
        "securitySchemes": {
            "apiToken": {
                "type": "http",
                "scheme": "bearer",
                "description": "A personal API token (create_api_token USERNAME --name NAME); "
                "acts as its owner, with the owner's tenant grants.",
            },
            "session": session_scheme(),
        },
        "schemas": schemas(TriageList, TriageFlagAnswer, TriageAction, TriageError),
    }
