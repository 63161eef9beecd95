"""The alerts API: rules created, read, changed, tested and deleted, and the alerts with their
deliveries, as JSON (docs/alerts.md, "The alerts API").

Authenticated like the triage API (session or personal API token, `fleet/api_auth.py`); who
may change which rule and how one is saved is `fleet.alerts.rules`, shared with the pages.
"""

from __future__ import annotations

import json
from datetime import time

import msgspec
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from codes.models import CodeFamily, ErrorCode
from codes.parse import CodeError, parse_code
from fleet.access import visible_tenants
from fleet.alerts import schema
from fleet.alerts.models import AlertChannel, AlertDelivery, AlertFiring, AlertRule
from fleet.alerts.queries import visible_firings
from fleet.alerts.rules import (
    ChannelSpec,
    NotAllowed,
    RuleError,
    delete_rule,
    editable_rule_ids,
    open_alert_counts,
    save_rule,
    send_test,
    visible_rules,
)
from fleet.api_auth import Caller, authenticate, csrf_refusal
from fleet.api_schema import FieldError, convert, iso_moment, json_answer

MAX_BODY_BYTES = schema.MAX_BODY_BYTES


def _error(status: int, message: str, field: str | None = None) -> HttpResponse:
    response = json_answer(schema.AlertsError(message, field or msgspec.UNSET), status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="fleet-api"'
    return response


def _clock(value: time | None) -> str | None:
    return value.strftime("%H:%M") if value else None


def _caller(request: HttpRequest) -> Caller | HttpResponse:
    """The caller, or the 401/403 answer: a session request with any method but GET or HEAD
    needs its CSRF token, as a page's form does, whatever the method (checked first)."""
    caller = authenticate(request)
    if caller is None:
        return _error(401, "log in, or send Authorization: Bearer <personal API token>")
    if request.method not in ("GET", "HEAD", "OPTIONS") and not caller.by_token:
        refusal = csrf_refusal(request)
        if refusal:
            return _error(403, f"CSRF check failed: {refusal}. Send X-CSRFToken, or use a token.")
    return caller


def _channels_out(rule: AlertRule) -> list[schema.AlertChannelOut]:
    channels = []
    if rule.recipient_list:
        channels.append(schema.AlertChannelOut("email", rule.recipient_list, "", False, {}, True))
    for channel in rule.channels.all():
        channels.append(
            schema.AlertChannelOut(
                type=channel.kind,
                to=[],
                url=channel.url,
                has_secret=bool(channel.secret_encrypted),
                config=channel.config or {},
                enabled=channel.enabled,
            )
        )
    return channels


def rule_answer(rule: AlertRule, editable: bool, open_alerts: int) -> schema.AlertRule:
    return schema.AlertRule(
        id=rule.pk,
        name=rule.name,
        all_tenants=rule.all_tenants,
        tenants=[] if rule.all_tenants else sorted(t.slug for t in rule.tenants.all()),
        trigger=rule.trigger,
        code=rule.hex or None,
        family=rule.family.slug if rule.family_id else None,
        severity=rule.severity or None,
        min_occurrences=rule.min_occurrences,
        min_devices=rule.min_devices,
        window_hours=rule.window_hours,
        cooldown_hours=round(rule.cooldown_minutes / 60, 2),
        quiet_from=_clock(rule.quiet_from),
        quiet_until=_clock(rule.quiet_until),
        enabled=rule.enabled,
        description=rule.describe(),
        channels=_channels_out(rule),
        editable=editable,
        open_alerts=open_alerts,
        created_at=iso_moment(rule.created_at),
        url=f"{settings.SITE_URL}{reverse('alerts:rule_edit', args=[rule.pk])}",
    )


def _rules(user: AbstractBaseUser, pk: int | None = None) -> list[AlertRule]:
    rules = visible_rules(user).select_related("family").prefetch_related("tenants", "channels")
    if pk is not None:
        rules = rules.filter(pk=pk)
    return list(rules.order_by("name", "id"))


def _rule_answers(user: AbstractBaseUser, rules: list[AlertRule]) -> list[schema.AlertRule]:
    editable = editable_rule_ids(user, rules)
    counts = open_alert_counts([r.pk for r in rules])
    return [rule_answer(r, r.pk in editable, counts.get(r.pk, 0)) for r in rules]


def _body(request: HttpRequest, kind: type) -> msgspec.Struct | HttpResponse:
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return _error(400, f"body is over {MAX_BODY_BYTES // 1024} KB")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _error(400, "body is not a JSON object")
    if not isinstance(data, dict):
        return _error(400, "body is not a JSON object")
    try:
        return convert(data, kind)
    except FieldError as exc:
        return _error(400, exc.message, exc.field)


def _apply(rule: AlertRule, body: schema.AlertRuleIn | schema.AlertRulePatch) -> None:
    """Copy the body's given fields onto `rule`; RuleError names one that cannot be read."""
    given = {
        name: getattr(body, name)
        for name in body.__struct_fields__
        if getattr(body, name) is not msgspec.UNSET
    }
    for name in ("name", "trigger", "min_occurrences", "min_devices", "window_hours", "enabled"):
        if name in given:
            setattr(rule, name, given[name])
    if "severity" in given:
        rule.severity = given["severity"] or ""
    if "cooldown_hours" in given:
        rule.cooldown_minutes = max(1, round(given["cooldown_hours"] * 60))
    for name in ("quiet_from", "quiet_until"):
        if name in given:
            value = given[name]
            setattr(rule, name, time.fromisoformat(value) if value else None)
    if "code" in given:
        try:
            rule.code = parse_code(given["code"]).value if given["code"] else None
        except CodeError as exc:
            raise RuleError("code", str(exc)) from None
    if "family" in given:
        slug = given["family"]
        family = CodeFamily.objects.filter(slug=slug).first() if slug else None
        if slug and family is None:
            raise RuleError("family", f"{slug!r} is not a code family.")
        rule.family = family


def _specs(channels: list[schema.AlertChannelIn]) -> list[ChannelSpec]:
    specs = []
    for channel in channels:
        secret = channel.url if channel.type in AlertChannel.CHAT_KINDS else channel.secret
        specs.append(
            ChannelSpec(
                type=channel.type,
                url=channel.url,
                secret=secret,
                to=list(channel.to),
                config=dict(channel.config),
                enabled=channel.enabled,
            )
        )
    return specs


def _save(
    caller: Caller, rule: AlertRule, body: schema.AlertRuleIn | schema.AlertRulePatch
) -> AlertRule | HttpResponse:
    tenants = None if body.tenants is msgspec.UNSET else list(body.tenants)
    channels = None if body.channels is msgspec.UNSET else _specs(body.channels)
    try:
        _apply(rule, body)
        return save_rule(caller.user, rule, tenants, channels)
    except NotAllowed as exc:
        return _error(403, str(exc))
    except RuleError as exc:
        return _error(400, exc.message, exc.field)


@csrf_exempt  # token requests carry no cookie; session requests are checked in _caller
def rule_list(request: HttpRequest) -> HttpResponse:
    """GET: the rules watching the caller's tenants. POST: create one."""
    caller = _caller(request)
    if isinstance(caller, HttpResponse):
        return caller
    if request.method not in ("GET", "HEAD", "POST"):
        return _error(405, "use GET or POST")
    if request.method != "POST":
        return json_answer(schema.AlertRuleList(_rule_answers(caller.user, _rules(caller.user))))
    body = _body(request, schema.AlertRuleIn)
    if isinstance(body, HttpResponse):
        return body
    saved = _save(caller, AlertRule(), body)
    if isinstance(saved, HttpResponse):
        return saved
    rule = _rules(caller.user, saved.pk)[0]
    return json_answer(schema.AlertRuleAnswer(_rule_answers(caller.user, [rule])[0]), status=201)


@csrf_exempt
def rule_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """GET, PATCH or DELETE one rule: 404 for one the caller cannot see, 403 for one they see
    but may not change."""
    caller = _caller(request)
    if isinstance(caller, HttpResponse):
        return caller
    if request.method not in ("GET", "HEAD", "PATCH", "DELETE"):
        return _error(405, "use GET, PATCH or DELETE")
    found = _rules(caller.user, pk)
    if not found:
        return _error(404, f"no alert rule {pk} watching your tenants")
    rule = found[0]
    if request.method == "DELETE":
        try:
            delete_rule(caller.user, rule)
        except NotAllowed as exc:
            return _error(403, str(exc))
        return HttpResponse(status=204)
    if request.method == "PATCH":
        body = _body(request, schema.AlertRulePatch)
        if isinstance(body, HttpResponse):
            return body
        saved = _save(caller, rule, body)
        if isinstance(saved, HttpResponse):
            return saved
        rule = _rules(caller.user, pk)[0]
    return json_answer(schema.AlertRuleAnswer(_rule_answers(caller.user, [rule])[0]))


def delivery_answer(delivery: AlertDelivery) -> schema.AlertDelivery:
    channel = delivery.channel
    return schema.AlertDelivery(
        id=delivery.pk,
        event=delivery.event,
        channel=channel.kind if channel else "email",
        to=channel.url if channel else delivery.recipient,
        state=delivery.state,
        attempts=delivery.attempts,
        last_error=delivery.last_error,
        sent_at=iso_moment(delivery.sent_at),
        created_at=iso_moment(delivery.created_at),
    )


@csrf_exempt
def rule_test(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: send a test notification to each of the rule's channels now."""
    caller = _caller(request)
    if isinstance(caller, HttpResponse):
        return caller
    if request.method != "POST":
        return _error(405, "use POST")
    found = _rules(caller.user, pk)
    if not found:
        return _error(404, f"no alert rule {pk} watching your tenants")
    try:
        deliveries = send_test(caller.user, found[0])
    except NotAllowed as exc:
        return _error(403, str(exc))
    return json_answer(schema.AlertTestAnswer([delivery_answer(d) for d in deliveries]))


def _limit(raw: str) -> int | None:
    if not raw:
        return schema.DEFAULT_LIMIT
    if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= schema.MAX_LIMIT:
        return int(raw)
    return None


def alert_answer(firing: AlertFiring, name: str) -> schema.Alert:
    if firing.flag_id:
        url = f"{settings.SITE_URL}{reverse('triage:flag', args=[firing.flag_id])}"
    else:
        url = f"{settings.SITE_URL}{reverse('alerts:list')}"
    return schema.Alert(
        id=firing.pk,
        rule=schema.AlertRuleRef(firing.rule_id, firing.rule.name),
        tenant=firing.tenant.slug,
        code=f"0x{firing.code:08X}",
        name=name,
        kind=firing.kind,
        state="resolved" if firing.resolved_at else "open",
        fired_at=iso_moment(firing.fired_at),
        last_fired_at=iso_moment(firing.last_fired_at),
        notifications=firing.notifications,
        occurrences=firing.occurrences,
        devices=firing.devices,
        window_hours=firing.window_hours,
        reason=firing.reason,
        resolved_at=iso_moment(firing.resolved_at),
        resolve_reason=firing.resolve_reason,
        url=url,
        deliveries=[delivery_answer(d) for d in firing.deliveries.all()],
    )


def alert_list(request: HttpRequest) -> HttpResponse:
    """GET: alerts at the caller's tenants, newest first, each with its deliveries."""
    if request.method not in ("GET", "HEAD"):
        return _error(405, "use GET")
    caller = _caller(request)
    if isinstance(caller, HttpResponse):
        return caller
    firings = visible_firings(caller.user)
    state = request.GET.get("state", "all").strip()
    if state == "open":
        firings = firings.filter(resolved_at__isnull=True)
    elif state == "resolved":
        firings = firings.filter(resolved_at__isnull=False)
    elif state != "all":
        return _error(400, "state: one of open, resolved, all", "state")
    slugs = [s for s in request.GET.getlist("tenant") if s]
    if slugs:
        firings = firings.filter(tenant__in=visible_tenants(caller.user).filter(slug__in=slugs))
    if code := request.GET.get("code", "").strip():
        try:
            firings = firings.filter(code=parse_code(code).value)
        except CodeError as exc:
            return _error(400, f"code: {exc}", "code")
    limit = _limit(request.GET.get("limit", "").strip())
    if limit is None:
        return _error(400, f"limit: a whole number from 1 to {schema.MAX_LIMIT}", "limit")
    found = list(firings[:limit])
    names = dict(
        ErrorCode.objects.filter(value__in={f.code for f in found}).values_list("value", "name")
    )
    return json_answer(schema.AlertList([alert_answer(f, names.get(f.code, "")) for f in found]))
