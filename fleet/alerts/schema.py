"""The alerts API's contract, declared once: `fleet/alerts/api_views.py` reads rule bodies into
these Structs and serves its answers from them, and `/api/v1/openapi.json` describes the API
from them (`fleet/api_schema.py`).

Types and bounds live here; what a rule may be (a threshold needs a minimum, both ends of the
quiet hours, tenants the caller may act on, a channel's URL and secret) is checked by
`fleet.alerts.rules.save_rule`, the same path the `/alerts/` form takes.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from fleet.api_schema import json_content, ref, schemas

DEFAULT_LIMIT, MAX_LIMIT = 100, 500
MAX_BODY_BYTES = 64 * 1024

# AlertRule.Trigger and the channel types of fleet.alerts.rules.CHANNEL_TYPES, spelled out
# (tests/fleet/alerts/test_api.py checks they agree).
Trigger = Literal["threshold", "spike", "new", "regression", "fleet_spike"]
ChannelType = Literal["email", "webhook", "teams", "slack", "connectwise", "halopsa"]
Severity = Literal["error", "warning", "informational"]
Event = Literal["alert.fired", "alert.resolved", "alert.test"]
DeliveryState = Literal["pending", "sending", "sent"]
URI = {"format": "uri"}
Moment = Annotated[str, Meta(extra_json_schema={"format": "date-time"})] | None
Clock = Annotated[str, Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["22:00"])]
Count = Annotated[int, Meta(ge=1)]


class AlertChannelIn(Struct, forbid_unknown_fields=True):
    """Where the rule's alerts go. `email` takes `to`; the others take `url`, and `secret`:
    a webhook's signing secret, a PSA's API keys as a JSON object in a string (docs/alerts.md).
    Teams and Slack need no secret: their URL is the credential and is stored encrypted. When
    a rule is changed, a channel given again without its secret keeps the stored one (Teams
    and Slack: give the full URL again)."""

    type: ChannelType
    to: list[str] = []
    url: str = ""
    secret: Annotated[str, Meta(description="Write-only: never served back.")] = ""
    config: Annotated[
        dict[str, Any],
        Meta(description="PSA settings: companies by tenant slug, board, status (docs/alerts.md)."),
    ] = {}
    enabled: bool = True


class AlertChannelOut(Struct):
    """A channel as served: no secret, and only the host of a Teams or Slack URL."""

    type: ChannelType
    to: list[str]
    url: str
    has_secret: bool
    config: dict[str, Any]
    enabled: bool


class AlertRuleIn(Struct, forbid_unknown_fields=True):
    """A new rule. `tenants` empty: every tenant the caller may act on (every tenant, present
    and future, for someone who may act on all). `code`, `family` and `severity` narrow which
    codes it watches; none of them: any code."""

    name: Annotated[str, Meta(min_length=1, max_length=120)]
    tenants: list[str] = []
    trigger: Trigger = "threshold"
    code: Annotated[str | None, Meta(description="Any notation (0x8024000B, -2145124341).")] = None
    family: Annotated[str | None, Meta(description="A code family's slug.")] = None
    severity: Severity | None = None
    min_occurrences: Count | None = None
    min_devices: Count | None = None
    window_hours: Annotated[int, Meta(ge=1, le=24 * 90)] = 24
    cooldown_hours: Annotated[float, Meta(ge=0.1, le=24 * 30)] = 6.0
    quiet_from: Annotated[Clock | None, Meta(description="In each tenant's time zone.")] = None
    quiet_until: Clock | None = None
    enabled: bool = True
    channels: list[AlertChannelIn] = []


class AlertRulePatch(Struct, forbid_unknown_fields=True):
    """The fields to change; absent ones stay. `channels`, when given, replaces them all."""

    name: Annotated[str, Meta(min_length=1, max_length=120)] | UnsetType = UNSET
    tenants: list[str] | UnsetType = UNSET
    trigger: Trigger | UnsetType = UNSET
    code: str | None | UnsetType = UNSET
    family: str | None | UnsetType = UNSET
    severity: Severity | None | UnsetType = UNSET
    min_occurrences: Count | None | UnsetType = UNSET
    min_devices: Count | None | UnsetType = UNSET
    window_hours: Annotated[int, Meta(ge=1, le=24 * 90)] | UnsetType = UNSET
    cooldown_hours: Annotated[float, Meta(ge=0.1, le=24 * 30)] | UnsetType = UNSET
    quiet_from: Clock | None | UnsetType = UNSET
    quiet_until: Clock | None | UnsetType = UNSET
    enabled: bool | UnsetType = UNSET
    channels: list[AlertChannelIn] | UnsetType = UNSET


class AlertRule(Struct):
    """A rule as served."""

    id: int
    name: str
    all_tenants: Annotated[bool, Meta(description="Every tenant, present and future.")]
    tenants: Annotated[list[str], Meta(description="Slugs; empty when all_tenants.")]
    trigger: Trigger
    code: Annotated[str | None, Meta(description="Canonical hex, or null for any code.")]
    family: str | None
    severity: Severity | None
    min_occurrences: int | None
    min_devices: int | None
    window_hours: int
    cooldown_hours: float
    quiet_from: str | None
    quiet_until: str | None
    enabled: bool
    description: Annotated[str, Meta(description="What makes it fire, in words.")]
    channels: list[AlertChannelOut]
    editable: Annotated[bool, Meta(description="Whether the caller may change it.")]
    open_alerts: int
    created_at: Moment
    url: Annotated[str, Meta(description="Its edit page.", extra_json_schema=URI)]


class AlertRuleList(Struct):
    rules: list[AlertRule]


class AlertRuleAnswer(Struct):
    rule: AlertRule


class AlertDelivery(Struct):
    """One notification of an alert (or of a test) to one recipient or channel."""

    id: int
    event: Event
    channel: Annotated[ChannelType, Meta(description="email for a recipient.")]
    to: Annotated[str, Meta(description="The address, or the channel's served URL.")]
    state: DeliveryState
    attempts: int
    last_error: str
    sent_at: Moment
    created_at: Moment


class AlertTestAnswer(Struct):
    """The test notifications, each sent once before answering."""

    deliveries: list[AlertDelivery]


class AlertRuleRef(Struct):
    id: int
    name: str


class Alert(Struct):
    """One alert: a rule's condition holding for one code at one tenant, from when it fired
    until it resolved."""

    id: int
    rule: AlertRuleRef
    tenant: Annotated[str, Meta(description="Tenant slug.")]
    code: Annotated[str, Meta(description="Canonical hex.")]
    name: Annotated[str, Meta(description="Catalog name, empty when the catalog has none.")]
    kind: str
    state: Literal["open", "resolved"]
    fired_at: Moment
    last_fired_at: Moment
    notifications: int
    occurrences: int
    devices: int
    window_hours: int
    reason: str
    resolved_at: Moment
    resolve_reason: str
    url: Annotated[
        str, Meta(description="The flag's page (or the alerts page).", extra_json_schema=URI)
    ]
    deliveries: list[AlertDelivery]


class AlertList(Struct):
    alerts: list[Alert]


class AlertsError(Struct):
    """Every error answer of the alerts API."""

    error: str
    field: Annotated[
        str | UnsetType,
        Meta(description="The parameter or body field at fault, when one is."),
    ] = UNSET


SECURITY = [{"apiToken": []}, {"session": []}]
NOT_LOGGED_IN = "Not logged in, and no valid personal API token."
CSRF = "Session requests need the X-CSRFToken header; token requests do not. "


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": json_content(ref(AlertsError))}


def _ok(description: str, body: type) -> dict[str, Any]:
    return {"description": description, "content": json_content(ref(body))}


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}  # fmt: skip


ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]
BAD_BODY = (
    f"Not a JSON object (of at most {MAX_BODY_BYTES // 1024} KB), or a field that is not "
    "valid; `field` names it."
)


def paths() -> dict[str, Any]:
    """The alerts API's operations, for `/api/v1/openapi.json`."""
    return {
        "/api/v1/alert-rules": {
            "get": {
                "summary": "Alert rules watching the caller's tenants",
                "description": "Every-tenant rules are listed to anyone granted a tenant.",
                "security": SECURITY,
                "responses": {
                    "200": _ok("The rules, by name.", AlertRuleList),
                    "401": _error(NOT_LOGGED_IN),
                },
            },
            "post": {
                "summary": "Create an alert rule",
                "description": CSRF + "The caller must be able to act on every tenant named "
                "(every tenant for an every-tenant rule).",
                "security": SECURITY,
                "requestBody": {"required": True, "content": json_content(ref(AlertRuleIn))},
                "responses": {
                    "201": _ok("Created; the rule as saved.", AlertRuleAnswer),
                    "400": _error(BAD_BODY),
                    "401": _error(NOT_LOGGED_IN),
                    "403": _error("A tenant the caller may not act on, or no CSRF token."),
                },
            },
        },
        "/api/v1/alert-rules/{id}": {
            "get": {
                "summary": "One alert rule",
                "security": SECURITY,
                "parameters": ID,
                "responses": {
                    "200": _ok("The rule.", AlertRuleAnswer),
                    "401": _error(NOT_LOGGED_IN),
                    "404": _error("No such rule watching the caller's tenants."),
                },
            },
            "patch": {
                "summary": "Change an alert rule",
                "description": CSRF + "Absent fields stay as they are.",
                "security": SECURITY,
                "parameters": ID,
                "requestBody": {"required": True, "content": json_content(ref(AlertRulePatch))},
                "responses": {
                    "200": _ok("Changed; the rule as saved.", AlertRuleAnswer),
                    "400": _error(BAD_BODY),
                    "401": _error(NOT_LOGGED_IN),
                    "403": _error("The rule watches a tenant the caller may not act on."),
                    "404": _error("No such rule watching the caller's tenants."),
                },
            },
            "delete": {
                "summary": "Delete an alert rule",
                "description": CSRF + "Its open alerts resolve on the next evaluation: each "
                "channel is told and PSA tickets are closed.",
                "security": SECURITY,
                "parameters": ID,
                "responses": {
                    "204": {"description": "Deleted."},
                    "401": _error(NOT_LOGGED_IN),
                    "403": _error("The rule watches a tenant the caller may not act on."),
                    "404": _error("No such rule watching the caller's tenants."),
                },
            },
        },
        "/api/v1/alert-rules/{id}/test": {
            "post": {
                "summary": "Send a test notification to each of the rule's channels",
                "description": CSRF + "Sent before answering; quiet hours and cooldown do "
                "not apply.",
                "security": SECURITY,
                "parameters": ID,
                "responses": {
                    "200": _ok("Each delivery and how it went.", AlertTestAnswer),
                    "401": _error(NOT_LOGGED_IN),
                    "403": _error("The rule watches a tenant the caller may not act on."),
                    "404": _error("No such rule watching the caller's tenants."),
                },
            },
        },
        "/api/v1/alerts": {
            "get": {
                "summary": "Alerts at the caller's tenants, with their deliveries",
                "description": "Newest first.",
                "security": SECURITY,
                "parameters": [
                    _query(
                        "state",
                        "open, resolved or all.",
                        {"enum": ["open", "resolved", "all"], "default": "all"},
                    ),  # fmt: skip
                    _query(
                        "tenant",
                        "Tenant slug; repeat for several. A slug not granted matches nothing.",
                        {"type": "array", "items": {"type": "string"}},
                    ),
                    _query("code", "Only this code, any notation.", {"type": "string"}),
                    _query(
                        "limit",
                        f"At most this many alerts (default {DEFAULT_LIMIT}).",
                        {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": MAX_LIMIT,
                            "default": DEFAULT_LIMIT,
                        },
                    ),  # fmt: skip
                ],
                "responses": {
                    "200": _ok("The alerts, newest first.", AlertList),
                    "400": _error("A parameter's value is not valid; `field` names it."),
                    "401": _error(NOT_LOGGED_IN),
                },
            },
        },
    }


def components() -> dict[str, Any]:
    return {
        "schemas": schemas(
            AlertRuleList,
            AlertRuleAnswer,
            AlertRuleIn,
            AlertRulePatch,
            AlertTestAnswer,
            AlertList,
            AlertsError,
        ),
    }
