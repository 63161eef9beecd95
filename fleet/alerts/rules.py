"""Who may change which alert rule, and the one way rules and their channels are saved, shared
by the `/alerts/` forms and `/api/v1/alert-rules`.

A rule may be changed by someone who may act (`fleet.access.operable_tenants`) on every tenant
it watches; a rule for every tenant needs every tenant. Channels are given as plain specs
(`{"type": "webhook", "url": ..., "secret": ...}`); secrets are stored encrypted and never
returned, and a spec without a secret keeps the one stored for the same type and URL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.db.models import Count, Exists, Q, QuerySet
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext

from fleet.access import operable_tenants, visible_tenants
from fleet.alerts.channels import deliver_channels, render_body
from fleet.alerts.email import deliver_pending
from fleet.alerts.models import AlertChannel, AlertDelivery, AlertFiring, AlertRule
from fleet.alerts.payloads import TEST, test_payload
from fleet.alerts.tickets import secret_fields
from fleet.models import Tenant

CHANNEL_TYPES = ("email", *AlertChannel.Kind.values)
SECRET_REQUIRED = (AlertChannel.Kind.WEBHOOK, *AlertChannel.CHAT_KINDS, *AlertChannel.PSA_KINDS)


class RuleError(Exception):
    """A rule or channel that cannot be saved: `field` names what to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class NotAllowed(Exception):
    """The user may not change this rule, or create one for these tenants."""


@dataclass
class ChannelSpec:
    type: str
    url: str = ""
    secret: str = ""
    to: list[str] = field(default_factory=list)
    config: dict = field(default_factory=dict)
    enabled: bool = True
    language: str | None = None  # None (the API, which has no such field): keep the stored one


def visible_rules(user: AbstractBaseUser | AnonymousUser) -> QuerySet[AlertRule]:
    """Rules watching at least one of the user's tenants, and the every-tenant rules if they
    may see any tenant; deleted rules never."""
    tenants = visible_tenants(user)
    return (
        AlertRule.objects.filter(deleted_at__isnull=True)
        .alias(any_tenant=Exists(tenants))
        .filter(Q(tenants__in=tenants) | Q(all_tenants=True, any_tenant=True))
        .distinct()
    )


def operates_everything(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the user may act on every tenant (and so on every-tenant rules)."""
    if not user.is_authenticated:
        return False
    if user.is_superuser and user.is_active:
        return True
    return operable_tenants(user).count() == Tenant.objects.count() > 0


def editable_rule_ids(user: AbstractBaseUser | AnonymousUser, rules: list[AlertRule]) -> set[int]:
    """Which of `rules` the user may change: two queries whatever their number."""
    if not rules:
        return set()
    everything = operates_everything(user)
    if everything:
        return {r.pk for r in rules}
    allowed = operable_tenants(user)
    outside = dict(
        AlertRule.objects.filter(pk__in=[r.pk for r in rules], all_tenants=False)
        .annotate(
            outside=Count("tenants", filter=~Q(tenants__in=allowed)),
            watched=Count("tenants"),
        )
        .values_list("pk", "outside")
    )
    return {pk for pk, n in outside.items() if n == 0}


def may_edit(user: AbstractBaseUser | AnonymousUser, rule: AlertRule) -> bool:
    return rule.pk in editable_rule_ids(user, [rule])


def may_create(user: AbstractBaseUser | AnonymousUser) -> bool:
    return operable_tenants(user).exists()


def resolve_tenants(
    user: AbstractBaseUser | AnonymousUser, slugs: list[str]
) -> tuple[bool, list[Tenant]]:
    """(all_tenants, tenants) for a rule naming `slugs`. None named: every tenant for someone
    who may act on all of them, else exactly the tenants they may act on. A slug the user may
    not act on raises NotAllowed, whether or not it exists."""
    allowed = {t.slug: t for t in operable_tenants(user)}
    if not allowed:
        raise NotAllowed("You may not create alert rules for any tenant.")
    wanted = [s for s in dict.fromkeys(slugs) if s]
    if not wanted:
        if operates_everything(user):
            return True, []
        return False, sorted(allowed.values(), key=lambda t: t.name)
    refused = [s for s in wanted if s not in allowed]
    if refused:
        raise NotAllowed(f"You may not create alert rules for tenant {refused[0]!r}.")
    return False, [allowed[s] for s in wanted]


def _check_url(field_name: str, url: str) -> str:
    url = url.strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise RuleError(
            field_name, gettext("%(url)s is not an http(s) URL.") % {"url": repr(url)}
        ) from None
    return url


def _display_url(spec: ChannelSpec) -> str:
    """What is stored in clear: the whole URL for a webhook or PSA, only the host for Teams
    and Slack, whose URL is itself the credential."""
    if spec.type in AlertChannel.CHAT_KINDS:
        parts = urlsplit(spec.url)
        return f"{parts.scheme}://{parts.netloc}/"
    return spec.url


def check_channels(specs: list[ChannelSpec]) -> tuple[list[str], list[ChannelSpec]]:
    """(email recipients, other channels), each checked; RuleError names the bad one."""
    recipients: list[str] = []
    others = []
    for n, spec in enumerate(specs):
        where = f"channels[{n}]"
        if spec.type not in CHANNEL_TYPES:
            raise RuleError(
                f"{where}.type",
                gettext("%(type)s is not one of %(types)s.")
                % {"type": repr(spec.type), "types": ", ".join(CHANNEL_TYPES)},
            )
        if spec.type == "email":
            if not spec.to:
                raise RuleError(f"{where}.to", gettext("Name at least one email address."))
            for address in spec.to:
                try:
                    validate_email(address)
                except ValidationError:
                    raise RuleError(
                        f"{where}.to",
                        gettext("%(address)s is not an email address.")
                        % {"address": repr(address)},
                    ) from None
                if address not in recipients:
                    recipients.append(address)
            continue
        spec.url = _check_url(f"{where}.url", spec.url)
        if spec.type in AlertChannel.PSA_KINDS and not isinstance(spec.config, dict):
            raise RuleError(f"{where}.config", gettext("Give the PSA settings as an object."))
        others.append(spec)
    return recipients, others


def _save_channels(rule: AlertRule, specs: list[ChannelSpec]) -> None:
    """Replace the rule's channels by `specs`, keeping stored secrets where none is given."""
    existing = {(c.kind, c.url): c for c in rule.channels.all()}
    kept = []
    for n, spec in enumerate(specs):
        display = _display_url(spec)
        channel = existing.pop((spec.type, display), None)
        if channel is None and spec.type in AlertChannel.CHAT_KINDS and not spec.secret:
            raise RuleError(f"channels[{n}].url", gettext("Give the full webhook URL again."))
        channel = channel or AlertChannel(rule=rule, kind=spec.type, url=display)
        if spec.type in AlertChannel.PSA_KINDS and spec.secret:
            channel.set_secret(secret_fields(spec.type, spec.secret))
        elif spec.secret:  # a chat channel's secret is its full URL
            channel.set_secret(spec.secret)
        elif not channel.secret_encrypted and spec.type in SECRET_REQUIRED:
            raise RuleError(f"channels[{n}].secret", gettext("A new channel needs its secret."))
        channel.config = spec.config or {}
        channel.enabled = spec.enabled
        if spec.language is not None:
            channel.language = spec.language
        channel.save()
        kept.append(channel.pk)
    rule.channels.exclude(pk__in=kept).delete()


def chat_spec(kind: str, url: str, enabled: bool = True) -> ChannelSpec:
    """A Teams or Slack channel: the URL is kept encrypted as the secret."""
    return ChannelSpec(type=kind, url=url, secret=url, enabled=enabled)


def save_rule(
    user: AbstractBaseUser,
    rule: AlertRule,
    tenant_slugs: list[str] | None,
    channels: list[ChannelSpec] | None,
) -> AlertRule:
    """Check and save `rule` (new or changed fields already set) with its tenants and
    channels (None: unchanged). NotAllowed when the user may not; RuleError when invalid."""
    if rule.pk is not None and not may_edit(user, rule):
        raise NotAllowed("You may not change this rule.")
    if tenant_slugs is not None or rule.pk is None:
        all_tenants, tenants = resolve_tenants(user, tenant_slugs or [])
        rule.all_tenants = all_tenants
    else:
        tenants = None
    if channels is not None:
        recipients, others = check_channels(channels)
        rule.recipients = ", ".join(recipients)
    try:
        rule.full_clean(exclude=["tenants", "created_by"])
    except ValidationError as exc:
        name, messages = next(iter(exc.message_dict.items()))
        raise RuleError(name if name != "__all__" else "rule", " ".join(messages)) from None
    with transaction.atomic():
        if rule.pk is None:
            rule.created_by = user
        rule.save()
        if tenants is not None:
            rule.tenants.set(tenants)
        if channels is not None:
            _save_channels(rule, others)
    return rule


def delete_rule(user: AbstractBaseUser, rule: AlertRule, now: datetime | None = None) -> None:
    """Hide the rule; its open alerts resolve on the next evaluation (channels told, tickets
    closed), which is why it is not deleted outright."""
    if not may_edit(user, rule):
        raise NotAllowed("You may not delete this rule.")
    AlertRule.objects.filter(pk=rule.pk, deleted_at__isnull=True).update(
        deleted_at=now or timezone.now(), enabled=False
    )


def set_enabled(user: AbstractBaseUser, rule: AlertRule, enabled: bool) -> None:
    if not may_edit(user, rule):
        raise NotAllowed("You may not change this rule.")
    AlertRule.objects.filter(pk=rule.pk).update(enabled=enabled)
    rule.enabled = enabled


def open_alert_counts(rule_ids: list[int]) -> dict[int, int]:
    return dict(
        AlertFiring.objects.filter(rule_id__in=rule_ids, resolved_at__isnull=True)
        .values("rule_id")
        .annotate(n=Count("id"))
        .values_list("rule_id", "n")
    )


def send_test(
    user: AbstractBaseUser, rule: AlertRule, now: datetime | None = None
) -> list[AlertDelivery]:
    """Queue an `alert.test` to each of the rule's recipients and enabled channels, and send
    them now, in process: the operator sees at once whether each one arrived. Quiet hours and
    cooldown do not apply. Returns the deliveries, refreshed after sending."""
    if not may_edit(user, rule):
        raise NotAllowed("You may not test this rule.")
    now = now or timezone.now()
    tenant = rule.tenants.order_by("name").first()
    slug, name = (tenant.slug, tenant.name) if tenant else ("all-tenants", "All tenants")
    payload = test_payload(rule, slug, name, now)
    text = (
        f"This is a test notification for the alert rule {rule.name!r} ({rule.describe()}).\n"
        f"When it fires, this address gets the alert with its counts and links.\n\n"
        f"Rules: {payload['url']}\n"
    )
    subject = f"[Fleet errors] Test: {rule.name}"[:300]
    deliveries = [
        AlertDelivery(
            rule=rule,
            recipient=address,
            event=TEST,
            subject=subject,
            body_text=text,
            body_html=f"<p>{escape(text).replace(chr(10), '<br>')}</p>",
            created_at=now,
            next_attempt_at=now,
        )
        for address in rule.recipient_list
    ] + [
        AlertDelivery(
            rule=rule,
            channel=channel,
            event=TEST,
            subject=f"{TEST} {slug} {payload['code']}",
            body_text=render_body(channel, payload),
            body_html="",
            created_at=now,
            next_attempt_at=now,
        )
        for channel in rule.channels.filter(enabled=True)
    ]
    made = AlertDelivery.objects.bulk_create(deliveries)
    ids = [d.pk for d in made]
    deliver_pending(now, ids=[d.pk for d in made if d.channel_id is None])
    deliver_channels(now, ids=[d.pk for d in made if d.channel_id is not None])
    return list(AlertDelivery.objects.filter(pk__in=ids).select_related("channel").order_by("id"))
