"""PSA ticket clients (fleet/alerts/psa.py) against a fake ConnectWise and HaloPSA on loopback
(tests/fleet/psa_server.py) that checks credentials and request shapes as the real APIs do."""

import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import translation

from fleet.alerts.psa import ConnectWise, HaloPSA, PsaError, client_for, ticket_body, ticket_summary
from tests.fleet.alerts.test_chat import FIRED, RESOLVED
from tests.fleet.psa_server import CW, CW_CLIENT_ID, HALO


@pytest.fixture
def connectwise(psa_server) -> ConnectWise:
    return ConnectWise(psa_server.connectwise_url, client_id=CW_CLIENT_ID, **CW)


class Clock:
    """A monotonic clock the test moves by hand, for the token's lifetime."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def halo(psa_server, clock) -> HaloPSA:
    return HaloPSA(
        psa_server.url,
        client_id=HALO["client_id"],
        client_secret=HALO["client_secret"],
        tenant=HALO["tenant"],
        clock=clock,
    )


# ConnectWise ---------------------------------------------------------------------------


def test_connectwise_opens_notes_and_closes_a_ticket(psa_server, connectwise):
    ticket_id = connectwise.create_ticket(
        ticket_summary(FIRED), ticket_body(FIRED), company="AcmeCorp", board="Alerts"
    )
    connectwise.add_note(ticket_id, ticket_body(FIRED | {"occurrences": 30}))
    connectwise.close_ticket(ticket_id, ticket_body(RESOLVED))

    assert isinstance(ticket_id, str)
    ticket = psa_server.cw_tickets[int(ticket_id)]
    assert ticket["summary"] == "Fleet alert: 0x8024000B WU_E_CALL_CANCELLED on acme (Spike)"
    assert ticket["company"] == {"identifier": "AcmeCorp"}
    assert ticket["board"] == {"name": "Alerts"}
    assert ticket["initialDescription"] == ticket_body(FIRED)
    assert ticket["status"] == {"name": "Closed"}
    note, closing = psa_server.cw_notes
    assert note["detailDescriptionFlag"] is True
    assert "Seen: 30 occurrences on 7 devices in 24 h" in note["text"]
    assert closing["resolutionFlag"] is True
    assert closing["text"].startswith("Alert resolved: 0x8024000B WU_E_CALL_CANCELLED on acme")
    assert psa_server.paths() == [
        "POST /v4_6_release/apis/3.0/service/tickets",
        f"POST /v4_6_release/apis/3.0/service/tickets/{ticket_id}/notes",
        f"POST /v4_6_release/apis/3.0/service/tickets/{ticket_id}/notes",
        f"PATCH /v4_6_release/apis/3.0/service/tickets/{ticket_id}",
    ]


def test_connectwise_sends_the_member_keys_as_basic_auth_and_the_client_id(psa_server, connectwise):
    connectwise.create_ticket("Summary", "Details", company="Globex")

    [request] = psa_server.requests
    scheme, encoded = request.headers["Authorization"].split(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode() == "fleetmsp+pub-123:priv-456"
    headers = {name.lower(): value for name, value in request.headers.items()}
    assert headers["clientid"] == CW_CLIENT_ID  # header names are case-insensitive
    assert request.headers["Content-Type"] == "application/json"
    assert "board" not in json.loads(request.body)  # no board: the member's default board


def test_connectwise_close_patches_the_status_as_json_patch(psa_server, connectwise):
    ticket_id = connectwise.create_ticket("Summary", "Details", company="AcmeCorp")
    connectwise.close_ticket(ticket_id, "Cleared", status=">Closed")

    patch = psa_server.requests[-1]
    assert patch.method == "PATCH"
    assert patch.body == b'[{"op": "replace", "path": "status", "value": {"name": ">Closed"}}]'
    assert psa_server.cw_tickets[int(ticket_id)]["status"] == {"name": ">Closed"}


def test_a_connectwise_summary_is_cut_to_100_characters(psa_server, connectwise):
    long_name = FIRED | {"name": "E_" + "VERY_LONG_NAME_" * 10}
    ticket_id = connectwise.create_ticket(ticket_summary(long_name), "x", company="AcmeCorp")

    summary = psa_server.cw_tickets[int(ticket_id)]["summary"]
    assert len(ticket_summary(long_name)) > 100
    assert len(summary) == 100
    assert summary.endswith("…")
    assert summary[:99] == ticket_summary(long_name)[:99]


def test_connectwise_refusing_the_keys_is_not_retryable_and_says_what_to_check(psa_server):
    wrong = ConnectWise(
        psa_server.connectwise_url, client_id=CW_CLIENT_ID, **(CW | {"private_key": "old"})
    )
    with pytest.raises(PsaError) as refused:
        wrong.create_ticket("Summary", "Details", company="AcmeCorp")

    assert refused.value.retryable is False
    assert refused.value.status == 401
    assert str(refused.value).startswith("ConnectWise refused the credentials (401)")
    assert "public and private keys" in str(refused.value)
    assert psa_server.cw_tickets == {}


def test_an_unknown_company_is_a_permanent_error_in_connectwises_words(psa_server, connectwise):
    with pytest.raises(PsaError) as rejected:
        connectwise.create_ticket("Summary", "Details", company="Initech")

    assert rejected.value.retryable is False
    assert "rejected the request (400)" in str(rejected.value)
    assert "Company 'Initech' not found" in str(rejected.value)


def test_a_note_on_a_missing_ticket_is_a_permanent_404(connectwise):
    with pytest.raises(PsaError) as missing:
        connectwise.add_note("999999", "Still failing")
    assert (missing.value.status, missing.value.retryable) == (404, False)
    assert "found no such ticket" in str(missing.value)


@pytest.mark.parametrize(
    ("status", "retryable"), [(500, True), (502, True), (503, True), (429, True), (403, False)]
)
def test_connectwise_errors_are_classified_for_the_retry(
    psa_server, connectwise, status, retryable
):
    psa_server.fail(status)
    with pytest.raises(PsaError) as failed:
        connectwise.create_ticket("Summary", "Details", company="AcmeCorp")
    assert (failed.value.status, failed.value.retryable) == (status, retryable)
    assert psa_server.cw_tickets == {}


def test_a_connectwise_that_fails_twice_then_recovers_gets_exactly_one_ticket(
    psa_server, connectwise
):
    psa_server.fail(500, times=2)
    outcomes = []
    for _ in range(3):
        try:
            outcomes.append(connectwise.create_ticket("Summary", "Details", company="AcmeCorp"))
        except PsaError as exc:
            outcomes.append(exc.retryable)

    assert outcomes[:2] == [True, True]
    assert list(psa_server.cw_tickets) == [int(outcomes[2])]
    assert [r.status for r in psa_server.requests] == [500, 500, 201]


def test_an_unreachable_psa_is_retryable(refused_url):
    client = ConnectWise(refused_url, client_id=CW_CLIENT_ID, **CW)
    with pytest.raises(PsaError) as unreachable:
        client.add_note("1", "text")
    assert unreachable.value.retryable is True
    assert "could not be reached" in str(unreachable.value)
    assert "Connection refused" in str(unreachable.value)


def test_a_redirect_is_not_followed_so_the_keys_go_nowhere_else(chat_receiver):
    chat_receiver.fail_times, chat_receiver.fail_status = 1, 301
    client = ConnectWise(chat_receiver.url, client_id=CW_CLIENT_ID, **CW)
    with pytest.raises(PsaError) as redirected:
        client.create_ticket("Summary", "Details", company="AcmeCorp")
    assert (redirected.value.status, redirected.value.retryable) == (301, False)
    assert "redirected" in str(redirected.value)
    assert len(chat_receiver.requests) == 1


# HaloPSA ---------------------------------------------------------------------------------


def test_halo_opens_notes_and_closes_a_ticket_with_one_token(psa_server, halo):
    ticket_id = halo.create_ticket(ticket_summary(FIRED), ticket_body(FIRED), client_id=12)
    halo.add_note(ticket_id, ticket_body(FIRED))
    halo.close_ticket(ticket_id, ticket_body(RESOLVED))

    ticket = psa_server.halo_tickets[int(ticket_id)]
    assert ticket["summary"] == ticket_summary(FIRED)
    assert ticket["details"] == ticket_body(FIRED)
    assert (ticket["client_id"], ticket["status_id"]) == (12, 9)
    assert [
        (a["ticket_id"], a["outcome"], a["hiddenfromuser"]) for a in psa_server.halo_actions
    ] == [
        (int(ticket_id), "note", True),
        (int(ticket_id), "note", True),
    ]
    assert psa_server.halo_actions[1]["note"].startswith("Alert resolved:")
    assert psa_server.paths() == [
        "POST /auth/token",
        "POST /api/Tickets",
        "POST /api/Actions",
        "POST /api/Actions",
        "POST /api/Tickets",
    ]
    tokens = {r.headers["Authorization"] for r in psa_server.requests[1:]}
    assert len(tokens) == 1 and tokens.pop().startswith("Bearer token-")


def test_halo_asks_for_a_client_credentials_token_for_the_tenant(psa_server, halo):
    halo.create_ticket("Summary", "Details", client_id="34", tickettype_id=21)

    token_request = psa_server.requests[0]
    assert parse_qs(urlsplit(token_request.path).query) == {"tenant": ["fleetmsp"]}
    assert token_request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(token_request.body.decode()) == {
        "grant_type": ["client_credentials"],
        "client_id": ["halo-app"],
        "client_secret": ["halo-secret-789"],
        "scope": ["all"],
    }
    [ticket] = psa_server.halo_tickets.values()
    assert (ticket["client_id"], ticket["tickettype_id"]) == (34, 21)  # digits sent as numbers


def test_a_self_hosted_halo_without_a_tenant_sends_no_tenant(psa_server, clock):
    psa_server.tenant_required = False
    halo = HaloPSA(
        psa_server.url,
        client_id=HALO["client_id"],
        client_secret=HALO["client_secret"],
        auth_url=psa_server.url + "/auth/",
        clock=clock,
    )
    halo.create_ticket("Summary", "Details", client_id=12)
    assert psa_server.requests[0].path == "/auth/token"


def test_the_halo_token_is_reused_until_shortly_before_it_expires(psa_server, halo, clock):
    psa_server.token_lifetime = 600
    ticket_id = halo.create_ticket("Summary", "Details", client_id=12)
    clock.now += 539  # 600 s lifetime less the 60 s margin, not yet reached
    halo.add_note(ticket_id, "one")
    assert psa_server.paths().count("POST /auth/token") == 1

    clock.now += 1
    halo.add_note(ticket_id, "two")
    assert psa_server.paths().count("POST /auth/token") == 2
    api = [r.headers["Authorization"] for r in psa_server.requests if "/api/" in r.path]
    assert api[0] == api[1] != api[2]  # the third call carries the new token


def test_a_revoked_halo_token_is_renewed_once_and_the_call_repeated(psa_server, halo):
    ticket_id = halo.create_ticket("Summary", "Details", client_id=12)
    psa_server.revoke_tokens()
    halo.add_note(ticket_id, "after a restart")

    assert psa_server.paths() == [
        "POST /auth/token",
        "POST /api/Tickets",
        "POST /api/Actions",
        "POST /auth/token",
        "POST /api/Actions",
    ]
    assert [r.status for r in psa_server.requests] == [200, 201, 401, 200, 201]
    assert len(psa_server.halo_actions) == 1


def test_a_wrong_halo_secret_is_refused_credentials_not_retryable(psa_server, clock):
    halo = HaloPSA(
        psa_server.url,
        client_id=HALO["client_id"],
        client_secret="rotated",
        tenant=HALO["tenant"],
        clock=clock,
    )
    with pytest.raises(PsaError) as refused:
        halo.create_ticket("Summary", "Details", client_id=12)

    assert (refused.value.status, refused.value.retryable) == (400, False)
    assert str(refused.value).startswith("HaloPSA refused the credentials (400)")
    assert "invalid_client" in str(refused.value)
    assert psa_server.paths() == ["POST /auth/token"]


def test_an_unknown_halo_client_is_a_permanent_error(psa_server, halo):
    with pytest.raises(PsaError) as rejected:
        halo.create_ticket("Summary", "Details", client_id=99)
    assert rejected.value.retryable is False
    assert "Client 99 not found" in str(rejected.value)


def test_a_halo_that_fails_with_503_then_429_then_recovers_gets_one_ticket(psa_server, halo):
    psa_server.fail(503)
    psa_server.fail(429)
    outcomes = []
    for _ in range(3):
        try:
            outcomes.append(halo.create_ticket("Summary", "Details", client_id=12))
        except PsaError as exc:
            outcomes.append((exc.status, exc.retryable))

    assert outcomes[:2] == [(503, True), (429, True)]
    assert list(psa_server.halo_tickets) == [int(outcomes[2])]
    assert psa_server.paths().count("POST /auth/token") == 1


# Texts and construction ----------------------------------------------------------------------


def test_the_ticket_text_says_what_fired_the_counts_the_reason_and_where_to_look():
    assert ticket_body(FIRED) == (
        "Alert fired: 0x8024000B WU_E_CALL_CANCELLED on acme\n"
        "\n"
        "Rule: Update storm\n"
        "Kind: Spike\n"
        "Seen: 14 occurrences on 7 devices in 24 h\n"
        "Reason: 14 occurrences on 7 devices in 24 h: more than 5 devices\n"
        "Fired: 2026-12-02 06:40 UTC\n"
        "\n"
        "Flag: https://fleet.example.com/triage/17/\n"
        "About the code: https://fleet.example.com/codes/0x8024000B/\n"
        "\n"
        "Fleet alert id 42"
    )
    assert "Resolved: 2026-12-02 08:05 UTC" in ticket_body(RESOLVED)
    assert ticket_summary(RESOLVED) == "Resolved: 0x8024000B WU_E_CALL_CANCELLED on acme (Spike)"


def test_client_for_builds_each_client_from_config_and_its_secret(psa_server, halo):
    connectwise = client_for(
        "connectwise",
        {"base_url": psa_server.connectwise_url, "client_id": CW_CLIENT_ID}
        | {k: CW[k] for k in ("company_id", "public_key")},
        {"private_key": CW["private_key"]},
    )
    assert connectwise.create_ticket("Summary", "Details", company="AcmeCorp")

    built = client_for(
        "halopsa",
        {"base_url": psa_server.url, "client_id": HALO["client_id"], "tenant": HALO["tenant"]},
        {"client_secret": HALO["client_secret"]},
    )
    assert isinstance(built, HaloPSA)
    assert built.auth_url == psa_server.url + "/auth"
    assert built.create_ticket("Summary", "Details", client_id=12)


def test_client_for_names_what_a_channel_is_missing():
    with pytest.raises(PsaError, match="halopsa channel is missing client_secret") as missing:
        client_for("halopsa", {"base_url": "https://x.halopsa.com", "client_id": "a"}, {})
    assert missing.value.retryable is False
    with pytest.raises(PsaError, match="missing company_id, public_key"):
        client_for("connectwise", {"base_url": "https://x", "client_id": "c"}, {"private_key": "k"})
    with pytest.raises(ValueError, match="unknown PSA kind 'autotask'"):
        client_for("autotask", {}, {})


def test_a_base_url_that_is_not_http_is_a_permanent_error():
    client = ConnectWise("file:///etc", client_id=CW_CLIENT_ID, **CW)
    with pytest.raises(PsaError, match="not an http") as bad:
        client.add_note("1", "x")
    assert bad.value.retryable is False


def test_the_ticket_text_is_in_the_channels_language():
    with translation.override("fr"):
        body = ticket_body(FIRED | {"occurrences": 1400})
        summary = ticket_summary(RESOLVED)
    assert body.startswith("Alerte déclenchée : 0x8024000B WU_E_CALL_CANCELLED chez acme\n")
    assert "Type : Pic\n" in body
    assert "Vu : 1\xa0400 occurrences sur 7 appareils en 24 h\n" in body
    assert "Déclenchée : 02/12/2026 06:40 UTC" in body
    assert body.endswith("Identifiant d’alerte Fleet 42")
    assert summary == "Résolue : 0x8024000B WU_E_CALL_CANCELLED chez acme (Pic)"
