"""The demo shows alerting working: `seed_demo` makes rules, `run_pipeline` fires today's storm
and delivers it to the demo's sinks, and the alerts API lists it."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from fleet.alerts.demo import DEMO_RECIPIENT, DEMO_WEBHOOK_SECRET
from fleet.alerts.models import AlertFiring, AlertRule
from fleet.api_auth import create_api_token
from fleet.demo import STORM_CODE
from tests.factories import client_for

REPO = Path(__file__).resolve().parents[3]
# fleet/demo.py: the tenants whose 0x8024000B storm is today.
STORM_TODAY = {"contoso-health", "fabrikam-legal", "northwind-retail"}


@pytest.mark.django_db
def test_after_seed_demo_and_run_pipeline_the_storm_alert_is_fired_and_delivered(
    webhook_receiver, smtp_server
):
    call_command("seed_demo", "--webhook-url", webhook_receiver.url, stdout=StringIO())
    call_command("demo_login", stdout=StringIO())
    call_command("run_pipeline", stdout=StringIO())

    names = set(AlertRule.objects.values_list("name", flat=True))
    assert names == {"Spike in any tenant", "0x8024000B on 10+ devices"}
    operator = get_user_model().objects.get(username="operator")
    headers = {"Authorization": f"Bearer {create_api_token(operator, 'demo')[1]}"}
    alerts = client_for(operator).get("/api/v1/alerts", headers=headers).json()["alerts"]
    storm = [a for a in alerts if a["code"] == f"0x{STORM_CODE:08X}" and a["state"] == "open"]
    assert {a["tenant"] for a in storm} >= STORM_TODAY
    spikes = {a["tenant"] for a in storm if a["rule"]["name"] == "Spike in any tenant"}
    assert spikes == STORM_TODAY
    assert all(d["state"] == "sent" for a in storm for d in a["deliveries"])
    assert {d["channel"] for a in storm for d in a["deliveries"]} == {"email", "webhook"}

    fired = [r for r in webhook_receiver.requests if r.headers["X-Fleet-Event"] == "alert.fired"]
    assert len(fired) == AlertFiring.objects.count() >= len(STORM_TODAY)
    for request in fired:
        expected = hmac.new(DEMO_WEBHOOK_SECRET.encode(), request.body, hashlib.sha256)
        assert request.headers["X-Fleet-Signature"] == "sha256=" + expected.hexdigest()
    [email] = smtp_server.messages()  # one digest for every alert of the round
    assert email.recipients == [DEMO_RECIPIENT] and "0x8024000B" in email.body("plain")

    # Loaded again (make demo run twice): no second set of rules, nothing sent again.
    call_command("seed_demo", "--webhook-url", webhook_receiver.url, stdout=StringIO())
    call_command("run_pipeline", stdout=StringIO())
    assert AlertRule.objects.count() == 2
    assert len(webhook_receiver.requests) == len(fired)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_demo_sink_checks_signatures_and_logs_each_alert(tmp_path):
    port, log = _free_port(), tmp_path / "sink.log"
    sink = subprocess.Popen(
        [sys.executable, str(REPO / "scripts" / "demo_sink.py"), str(port), "k3y", str(log)]
    )
    try:
        url = f"http://127.0.0.1:{port}/hooks/demo"
        body = json.dumps({"tenant": "acme", "code": "0x8024000B", "rule": "R"}).encode()
        good = "sha256=" + hmac.new(b"k3y", body, hashlib.sha256).hexdigest()
        for _ in range(100):
            try:
                answer = _post(url, body, good)
                break
            except (ConnectionError, urllib.error.URLError):
                time.sleep(0.05)
        assert answer == 200
        assert _post(url, body, "sha256=" + "0" * 64) == 401
    finally:
        sink.terminate()
        sink.wait(5)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(x["signature_valid"], x["tenant"], x["code"]) for x in lines] == [
        (True, "acme", "0x8024000B"),
        (False, "acme", "0x8024000B"),
    ]


def _post(url: str, body: bytes, signature: str) -> int:
    request = urllib.request.Request(
        url, data=body, headers={"X-Fleet-Signature": signature, "X-Fleet-Event": "alert.fired"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_make_demo_starts_both_sinks_before_the_pipeline_with_the_rules_secret():
    script = (REPO / "scripts" / "demo.sh").read_text()
    assert f'demo_sink.py "$HOOK_SINK_PORT" {DEMO_WEBHOOK_SECRET} ' in script
    assert script.index("aiosmtpd") < script.index("run_pipeline")
    assert script.index("demo_sink.py") < script.index("run_pipeline")
    assert 'seed_demo --webhook-url "http://127.0.0.1:$HOOK_SINK_PORT/hooks/demo"' in script
