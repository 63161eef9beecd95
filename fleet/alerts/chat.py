"""Microsoft Teams and Slack messages for an alert, and the one POST that delivers either.

Why not Apprise (checked against apprise 2.3.0, which covers both): its `notify()` answers only
True/False and logs the HTTP status, so a delivery could not record "HTTP 400: invalid_payload"
as its last error nor tell a receiver that is down from a URL that is wrong. Its Workflows
plugin rebuilds the URL from host, workflow id and signature and always posts to https://,
and its Slack plugin posts to the fixed hooks.slack.com host, so neither can be pointed at a
loopback receiver in tests; its Teams card is a title and one text block (1000 characters)
unless a template file is kept on disk, and its Slack blocks go inside legacy attachments. It
brings requests, requests-oauthlib, oauthlib, click and 190-odd plugins (about 15 MB) for two
JSON bodies. The two bodies are short, documented formats, so they are written here with the
standard library and delivered through the same ReceiverError / back-off path as the signed
webhooks, which keeps "2xx or failed, exactly once per attempt" in our hands.

Formats, as documented by the vendors:
- Teams: a Workflows flow started by "When a Teams webhook request is received" (the template
  "Post to a channel when a webhook request is received") takes a message with one Adaptive
  Card attachment (contentType application/vnd.microsoft.card.adaptive, contentUrl null)
  (Microsoft Learn, "Create and send messages", connectors-using; Microsoft Support, "Create
  incoming webhooks with Workflows for Microsoft Teams"). Workflows accept Adaptive Cards only;
  the Office 365 connector MessageCard format is retired. The flow's HTTP trigger answers 202
  Accepted, not 200 (clients that expected 200 reported false failures and re-sends: Jenkins
  office-365-connector-plugin #356, shoutrrr #900). Card 1.4 is the newest version every Teams
  client renders.
- Slack: an incoming webhook (api.slack.com/messaging/webhooks) takes `text` (the notification
  fallback when `blocks` are given) and Block Kit `blocks`; it answers 200 "ok", or 400/403/
  404/410 with a short error string (Slack changelog 2016-05-17, errors for incoming webhooks).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils import formats
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from fleet.alerts.outbound import USER_AGENT, check_http_url, error_text, send
from fleet.alerts.webhooks import ReceiverError
from fleet.triage.models import TriageFlag
from fleet.triage.reasons import in_reader_language

# The words a person reads are translated (the channel's language, `channels.render_body`);
# the JSON keys and values Teams and Slack read are not.
EVENT_TITLES = {
    "alert.fired": pgettext_lazy("alert event", "Fired"),
    "alert.resolved": pgettext_lazy("alert event", "Resolved"),
    "alert.test": pgettext_lazy("alert event", "Test"),
}
# Adaptive Card TextBlock colours: red for a firing, green for a resolve, blue for a test.
TEAMS_COLORS = {"alert.fired": "Attention", "alert.resolved": "Good", "alert.test": "Accent"}
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
# Block Kit limits: header text 150 characters, section text 3000, a field 2000, 10 fields.
SLACK_HEADER_MAX = 150
SLACK_TEXT_MAX = 3000
SLACK_FIELD_MAX = 2000


def title(payload: dict, event: str | None = None) -> str:
    """ "Fired: 0x8024000B WU_E_CALL_CANCELLED on acme" - the event (or the word given),
    code, name and tenant."""
    if event is None:
        event = str(EVENT_TITLES.get(payload.get("event", ""), payload.get("event", "Alert")))
    what = " ".join(str(payload[key]) for key in ("code", "name") if payload.get(key))
    head = gettext("%(event)s: %(what)s") % {"event": event, "what": what} if what else event
    tenant = payload.get("tenant")
    return gettext("%(head)s on %(tenant)s") % {"head": head, "tenant": tenant} if tenant else head


def when(value: str | None) -> str:
    """An ISO 8601 moment as "2026-12-02 06:40 UTC" ("02/12/2026 06:40 UTC" in French; as
    given when it does not parse)."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        return value
    return f"{formats.date_format(moment.astimezone(UTC), 'SHORT_DATETIME_FORMAT')} UTC"


FACT_LABELS = {
    "kind": gettext_lazy("Kind"),
    "occurrences": gettext_lazy("Occurrences"),
    "devices": gettext_lazy("Devices"),
    "window": gettext_lazy("Window"),
    "reason": gettext_lazy("Reason"),
    "fired": pgettext_lazy("alert event", "Fired"),
    "resolved": pgettext_lazy("alert event", "Resolved"),
}
KINDS = dict(TriageFlag.Kind.choices)  # an alert's kind is its flag's, or threshold


def number_text(value) -> str | None:
    """A count in the locale's digits (1 234 in French); anything else as given."""
    return intcomma(value) if isinstance(value, int) else value


def facts(payload: dict, *, leave_out: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """The (label, value) lines both cards show, in the active language; absent values and
    the facts named in `leave_out` are left out."""
    window = payload.get("window_hours")
    kind = payload.get("kind")
    lines = [
        ("kind", KINDS.get(kind, kind)),
        ("occurrences", number_text(payload.get("occurrences"))),
        ("devices", number_text(payload.get("devices"))),
        (
            "window",
            gettext("%(hours)s h") % {"hours": window} if window not in (None, "") else None,
        ),
        ("reason", in_reader_language(str(payload.get("reason") or ""))),
        ("fired", when(payload.get("fired_at"))),
        ("resolved", when(payload.get("resolved_at"))),
    ]
    return [
        (str(FACT_LABELS[key]), str(value))
        for key, value in lines
        if value not in (None, "") and key not in leave_out
    ]


def _links(payload: dict) -> list[tuple[str, str]]:
    links = []
    if payload.get("url"):
        links.append((gettext("Open in Fleet"), payload["url"]))
    if payload.get("knowledge_url"):
        about = (
            gettext("About %(code)s") % {"code": payload["code"]}
            if payload.get("code")
            else gettext("About the code")
        )
        links.append((about, payload["knowledge_url"]))
    return links


def teams_message(payload: dict) -> dict:
    """The body a Teams Workflows webhook posts to its channel: one Adaptive Card 1.4 with the
    title, the rule, the facts and a button to the flag (and one to the code's page)."""
    body: list[dict] = [
        {
            "type": "TextBlock",
            "text": title(payload),
            "size": "Medium",
            "weight": "Bolder",
            "color": TEAMS_COLORS.get(payload.get("event", ""), "Default"),
            "wrap": True,
        }
    ]
    if payload.get("rule"):
        body.append(
            {
                "type": "TextBlock",
                "text": gettext("Rule: %(rule)s") % {"rule": payload["rule"]},
                "isSubtle": True,
                "spacing": "None",
                "wrap": True,
            }
        )
    body.append(
        {
            "type": "FactSet",
            "facts": [{"title": label, "value": value} for label, value in facts(payload)],
        }
    )
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "actions": [
            {"type": "Action.OpenUrl", "title": label, "url": url} for label, url in _links(payload)
        ],
        "msteams": {"width": "Full"},
    }
    return {
        "type": "message",
        "attachments": [{"contentType": ADAPTIVE_CARD, "contentUrl": None, "content": card}],
    }


def _mrkdwn(text: str) -> str:
    """Slack's three control characters escaped, so a rule name cannot become a link or a
    mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_message(payload: dict) -> dict:
    """The body of a Slack incoming webhook: `text` for notifications and clients without
    blocks, then header, section (reason and facts), context (rule, alert id) and link
    buttons."""
    heading = title(payload)
    reason = in_reader_language(str(payload.get("reason") or ""))
    fields = facts(payload, leave_out=("reason",))
    blocks: list[dict] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _cut(heading, SLACK_HEADER_MAX)},
        }
    ]
    section: dict = {"type": "section"}
    if reason:
        section["text"] = {"type": "mrkdwn", "text": _cut(_mrkdwn(reason), SLACK_TEXT_MAX)}
    if fields:
        section["fields"] = [
            {"type": "mrkdwn", "text": _cut(f"*{label}*\n{_mrkdwn(value)}", SLACK_FIELD_MAX)}
            for label, value in fields[:10]
        ]
    if len(section) > 1:  # Slack rejects a section with neither text nor fields
        blocks.append(section)
    context = [gettext("Rule: %(rule)s") % {"rule": payload["rule"]} if payload.get("rule") else ""]
    if payload.get("alert_id") is not None:
        context.append(gettext("alert %(id)s") % {"id": payload["alert_id"]})
    context = [part for part in context if part]
    if context:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": _mrkdwn(" · ".join(context))}],
            }
        )
    links = _links(payload)
    if links:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": label},
                        "url": url,
                        "action_id": f"fleet_link_{n}",
                    }
                    for n, (label, url) in enumerate(links)
                ],
            }
        )
    fallback = (
        gettext("%(heading)s: %(reason)s") % {"heading": heading, "reason": reason}
        if reason
        else heading
    )
    return {"text": _mrkdwn(fallback), "blocks": blocks}


def post_json(url: str, body: dict) -> int:
    """POST `body` as JSON; the 2xx status. ReceiverError for any other answer (its status and
    the start of its body), OSError when the receiver cannot be reached or times out
    (settings.WEBHOOK_TIMEOUT), ValueError for a URL that is not http(s)."""
    check_http_url(url)
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        data=json.dumps(body, separators=(",", ":")).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
    )
    try:
        status, _ = send(request, timeout=settings.WEBHOOK_TIMEOUT)
    except urllib.error.HTTPError as exc:  # every status urllib does not call a success
        detail = error_text(exc, 200)
        message = f"HTTP {exc.code} {exc.reason}"
        raise ReceiverError(f"{message}: {detail}" if detail else message) from None
    return status
