"""Teams and Slack messages (fleet/alerts/chat.py), posted to a real receiver on loopback
(tests/fleet/receiver.py) that answers as Teams (202) and Slack (200 "ok") do."""

import errno
import json
import socket
from contextlib import contextmanager

import pytest

from fleet.alerts.chat import post_json, slack_message, teams_message
from fleet.alerts.webhooks import ReceiverError
from tests.fleet.receiver import CHAT_PORTS

FIRED = {
    "event": "alert.fired",
    "alert_id": 42,
    "rule": "Update storm",
    "rule_id": 3,
    "tenant": "acme",
    "code": "0x8024000B",
    "name": "WU_E_CALL_CANCELLED",
    "kind": "spike",
    "occurrences": 14,
    "devices": 7,
    "window_hours": 24,
    "reason": "14 occurrences on 7 devices in 24 h: more than 5 devices",
    "url": "https://fleet.example.com/triage/17/",
    "knowledge_url": "https://fleet.example.com/codes/0x8024000B/",
    "fired_at": "2026-12-02T06:40:00+00:00",
}
RESOLVED = FIRED | {"event": "alert.resolved", "resolved_at": "2026-12-02T09:05:30+01:00"}


@contextmanager
def listening_socket():
    for port in CHAT_PORTS:
        try:
            sock = socket.create_server(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            continue
        with sock:
            yield sock
        return
    raise RuntimeError(f"no free port in {CHAT_PORTS}")


def card(message: dict) -> dict:
    [attachment] = message["attachments"]
    return attachment["content"]


def test_the_teams_message_is_one_adaptive_card_with_title_facts_and_a_link():
    message = teams_message(FIRED)

    assert message["type"] == "message"
    [attachment] = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["contentUrl"] is None
    content = attachment["content"]
    assert (content["type"], content["version"]) == ("AdaptiveCard", "1.4")
    assert content["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    heading, rule, factset = content["body"]
    assert heading["type"] == "TextBlock"
    assert heading["text"] == "Fired: 0x8024000B WU_E_CALL_CANCELLED on acme"
    assert (heading["weight"], heading["color"], heading["wrap"]) == ("Bolder", "Attention", True)
    assert rule["text"] == "Rule: Update storm"
    assert factset["type"] == "FactSet"
    assert factset["facts"] == [
        {"title": "Kind", "value": "Spike"},
        {"title": "Occurrences", "value": "14"},
        {"title": "Devices", "value": "7"},
        {"title": "Window", "value": "24 h"},
        {"title": "Reason", "value": FIRED["reason"]},
        {"title": "Fired", "value": "2026-12-02 06:40 UTC"},
    ]
    assert content["actions"] == [
        {"type": "Action.OpenUrl", "title": "Open in Fleet", "url": FIRED["url"]},
        {
            "type": "Action.OpenUrl",
            "title": "About 0x8024000B",
            "url": "https://fleet.example.com/codes/0x8024000B/",
        },
    ]
    json.dumps(message)  # serialisable as it stands: no dates, no lazy strings


def test_a_resolved_teams_card_is_green_and_shows_when_it_resolved_in_utc():
    content = card(teams_message(RESOLVED))

    heading = content["body"][0]
    assert heading["text"] == "Resolved: 0x8024000B WU_E_CALL_CANCELLED on acme"
    assert heading["color"] == "Good"
    facts = {fact["title"]: fact["value"] for fact in content["body"][-1]["facts"]}
    assert facts["Resolved"] == "2026-12-02 08:05 UTC"
    assert facts["Fired"] == "2026-12-02 06:40 UTC"


def test_a_test_notification_says_so_and_leaves_out_what_it_lacks():
    payload = {"event": "alert.test", "rule": "Update storm", "tenant": "acme", "url": FIRED["url"]}
    content = card(teams_message(payload))

    assert content["body"][0]["text"] == "Test on acme"
    assert content["body"][0]["color"] == "Accent"
    assert content["body"][-1]["facts"] == []
    assert [action["title"] for action in content["actions"]] == ["Open in Fleet"]


def test_the_slack_message_has_a_fallback_text_and_header_section_context_and_buttons():
    message = slack_message(FIRED)

    assert message["text"] == (
        "Fired: 0x8024000B WU_E_CALL_CANCELLED on acme: "
        "14 occurrences on 7 devices in 24 h: more than 5 devices"
    )
    header, section, context, actions = message["blocks"]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Fired: 0x8024000B WU_E_CALL_CANCELLED on acme"},
    }
    assert section["type"] == "section"
    assert section["text"] == {"type": "mrkdwn", "text": FIRED["reason"]}
    assert [field["text"] for field in section["fields"]] == [
        "*Kind*\nSpike",
        "*Occurrences*\n14",
        "*Devices*\n7",
        "*Window*\n24 h",
        "*Fired*\n2026-12-02 06:40 UTC",
    ]
    assert all(field["type"] == "mrkdwn" for field in section["fields"])
    assert context == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "Rule: Update storm · alert 42"}],
    }
    assert actions["type"] == "actions"
    assert [(b["type"], b["text"]["text"], b["url"]) for b in actions["elements"]] == [
        ("button", "Open in Fleet", FIRED["url"]),
        ("button", "About 0x8024000B", FIRED["knowledge_url"]),
    ]
    assert len({b["action_id"] for b in actions["elements"]}) == 2  # Slack wants them unique


def test_slack_text_is_escaped_and_cut_to_block_kit_limits():
    payload = FIRED | {"rule": "<!channel> & <https://evil.example|click>", "name": "X" * 200}
    message = slack_message(payload)

    header, _, context, _ = message["blocks"]
    assert len(header["text"]["text"]) == 150
    assert header["text"]["text"].endswith("…")
    assert context["elements"][0]["text"] == (
        "Rule: &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt; · alert 42"
    )
    assert "<" not in message["text"]


def test_a_teams_card_posts_as_json_and_the_workflows_202_counts_as_delivered(chat_receiver):
    chat_receiver.ok_status = 202
    assert post_json(chat_receiver.url, teams_message(FIRED)) == 202

    [request] = chat_receiver.requests
    assert (request.method, request.path) == ("POST", "/services/T000/B000/XXXX")
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == teams_message(FIRED)


def test_a_slack_message_posts_once_and_slacks_200_ok_counts_as_delivered(chat_receiver):
    assert post_json(chat_receiver.url, slack_message(RESOLVED)) == 200
    [request] = chat_receiver.requests
    assert json.loads(request.body) == slack_message(RESOLVED)


def test_a_refusing_receiver_raises_receiver_error_with_status_and_its_words(chat_receiver):
    chat_receiver.fail_times, chat_receiver.fail_status = 1, 400
    with pytest.raises(ReceiverError, match=r"^HTTP 400 Bad Request: no$"):
        post_json(chat_receiver.url, slack_message(FIRED))

    chat_receiver.fail_times, chat_receiver.fail_status = 1, 500
    with pytest.raises(ReceiverError, match=r"^HTTP 500 Internal Server Error"):
        post_json(chat_receiver.url, slack_message(FIRED))
    assert post_json(chat_receiver.url, slack_message(FIRED)) == 200
    assert [r.status for r in chat_receiver.requests] == [400, 500, 200]  # one post per call


def test_a_redirect_is_not_followed_so_a_post_cannot_turn_into_a_get(chat_receiver):
    chat_receiver.fail_times, chat_receiver.fail_status = 1, 302
    with pytest.raises(ReceiverError, match=r"^HTTP 302"):
        post_json(chat_receiver.url, teams_message(FIRED))
    assert len(chat_receiver.requests) == 1


def test_an_unreachable_receiver_raises_os_error(refused_url):
    with pytest.raises(OSError, match="Connection refused"):
        post_json(refused_url, slack_message(FIRED))


def test_a_receiver_that_never_answers_times_out_after_webhook_timeout(settings):
    settings.WEBHOOK_TIMEOUT = 1
    with listening_socket() as silent:  # the kernel accepts; nothing ever answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/hook"
        with pytest.raises(TimeoutError):
            post_json(url, slack_message(FIRED))


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "hooks.slack.com"])
def test_only_http_urls_are_posted_to(url):
    with pytest.raises(ValueError, match="not an http"):
        post_json(url, slack_message(FIRED))
