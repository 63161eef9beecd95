"""PSA tickets for alerts: created when an alert fires, noted when it fires again, closed when
it resolves — one ticket per (channel, alert), recorded in AlertTicket.

A channel's `config` says where tickets go: `companies` maps tenant slugs to the PSA's company
(ConnectWise company identifier, HaloPSA client id), `default_company` catches the rest,
`board` (ConnectWise) or `tickettype_id` (HaloPSA) files them, `closed_status` names the
status a resolved alert closes its ticket with. Deliveries of one alert are sent in order: a
note or close whose ticket is still being created waits for it (WaitForTicket) rather than
opening a second one.
"""

from __future__ import annotations

import json
from datetime import datetime

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from fleet.alerts.models import AlertChannel, AlertDelivery, AlertTicket
from fleet.alerts.payloads import FIRED, RESOLVED, TEST
from fleet.alerts.psa import ConnectWise, HaloPSA, PsaError, client_for, ticket_body, ticket_summary


class WaitForTicket(Exception):
    """A note or close whose ticket is still being created: try again later."""


def secret_fields(kind: str, secret: str) -> str:
    """The stored secret of a PSA channel, from what an operator pastes: the private key
    (ConnectWise) or client secret (HaloPSA), or the JSON object of both names."""
    try:
        given = json.loads(secret)
    except ValueError:
        given = None
    if isinstance(given, dict):
        return json.dumps(given)
    name = "private_key" if kind == AlertChannel.Kind.CONNECTWISE else "client_secret"
    return json.dumps({name: secret})


def client(channel: AlertChannel) -> ConnectWise | HaloPSA:
    try:
        secret = json.loads(channel.secret)
    except ValueError:
        raise PsaError("the stored PSA credentials are not readable", retryable=False) from None
    return client_for(channel.kind, channel.config | {"base_url": channel.url}, secret)


def company_for(channel: AlertChannel, tenant: str) -> str:
    companies = channel.config.get("companies") or {}
    company = companies.get(tenant) or channel.config.get("default_company")
    if not company:
        raise PsaError(
            f"no {channel.get_kind_display()} company is mapped for tenant {tenant!r}: add it "
            "to the channel's companies",
            retryable=False,
        )
    return str(company)


def _create(api: ConnectWise | HaloPSA, channel: AlertChannel, payload: dict) -> str:
    company = company_for(channel, payload["tenant"])
    summary, body = ticket_summary(payload), ticket_body(payload)
    if isinstance(api, ConnectWise):
        return api.create_ticket(summary, body, company, channel.config.get("board") or None)
    return api.create_ticket(summary, body, company, channel.config.get("tickettype_id"))


def _close(api: ConnectWise | HaloPSA, channel: AlertChannel, ticket_id: str, text: str) -> None:
    status = channel.config.get("closed_status")
    if isinstance(api, ConnectWise):
        api.close_ticket(ticket_id, text, status or "Closed")
    elif status:
        api.close_ticket(ticket_id, text, int(status))
    else:
        api.close_ticket(ticket_id, text)


def send_ticket(delivery: AlertDelivery, now: datetime) -> None:
    """Create, note or close the ticket of this delivery's alert (a test opens and closes
    one), written in the channel's language. Runs in the transaction that marks the delivery
    sent."""
    with translation.override(delivery.channel.language or settings.LANGUAGE_CODE):
        _send_ticket(delivery, now)


def _send_ticket(delivery: AlertDelivery, now: datetime) -> None:
    channel = delivery.channel
    payload = json.loads(delivery.body_text)
    api = client(channel)
    if delivery.event == TEST:
        ticket_id = _create(api, channel, payload)
        _close(api, channel, ticket_id, gettext("Test notification from Fleet: closed."))
        return
    firing = delivery.firings.get()
    ticket = AlertTicket.objects.filter(channel=channel, firing=firing).first()
    earlier_pending = (
        AlertDelivery.objects.filter(channel=channel, firings=firing, pk__lt=delivery.pk)
        .exclude(state=AlertDelivery.State.SENT)
        .exists()
    )
    if ticket is None and earlier_pending:
        raise WaitForTicket("the alert's ticket is still being created")
    if delivery.event == FIRED:
        if ticket is None:
            AlertTicket.objects.create(
                channel=channel, firing=firing, ticket_id=_create(api, channel, payload)
            )
        else:
            api.add_note(ticket.ticket_id, ticket_body(payload))
    elif delivery.event == RESOLVED and ticket is not None and ticket.closed_at is None:
        _close(api, channel, ticket.ticket_id, ticket_body(payload))
        AlertTicket.objects.filter(pk=ticket.pk).update(closed_at=now)
