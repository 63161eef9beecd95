"""The triage API: the queue as JSON, and an operator's action on one flag.

Authenticated by session or personal API token (`fleet/api_auth.py`), with the caller's tenant
grants; every error is JSON naming the parameter at fault.
"""

from __future__ import annotations

import json

import msgspec
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from fleet.access import may_operate, visible_tenants
from fleet.api_auth import Caller, authenticate, csrf_refusal
from fleet.api_schema import FieldError, convert, iso_moment, json_answer
from fleet.triage import schema
from fleet.triage.filters import queue_filter
from fleet.triage.flags import TransitionError, change_state
from fleet.triage.forms import FlagActionForm
from fleet.triage.models import TriageFlag
from fleet.triage.queries import code_names, queue_flags, reason_text

DEFAULT_LIMIT, MAX_LIMIT = schema.DEFAULT_LIMIT, schema.MAX_LIMIT
MAX_BODY_BYTES = schema.MAX_BODY_BYTES


def _error(status: int, message: str, field: str | None = None) -> HttpResponse:
    response = json_answer(schema.TriageError(message, field or msgspec.UNSET), status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="fleet-api"'
    return response


def flag_answer(flag: TriageFlag, name: str) -> schema.TriageFlag:
    """One flag as the API answers it (docs/triage.md, "The triage API")."""
    return schema.TriageFlag(
        id=flag.pk,
        tenant=flag.tenant.slug,
        code=flag.hex,
        name=name,
        state=flag.state,
        kind=flag.kind,
        score=flag.score,
        reason=reason_text(flag),
        occurrences_24h=flag.occurrences_24h,
        devices_24h=flag.devices_24h,
        baseline_24h=flag.baseline_24h,
        occurrences=flag.occurrences,
        devices=flag.devices,
        first_seen=iso_moment(flag.first_seen_at),
        last_seen=iso_moment(flag.last_seen_at),
        signal_at=iso_moment(flag.signal_at),
        assignee=flag.assignee.get_username() if flag.assignee else None,
        url=f"{settings.SITE_URL}{reverse('triage:flag', args=[flag.pk])}",
    )


def _limit(raw: str) -> int | None:
    if not raw:
        return DEFAULT_LIMIT
    if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_LIMIT:
        return int(raw)
    return None


def _caller_or_401(request: HttpRequest) -> Caller | HttpResponse:
    caller = authenticate(request)
    if caller is None:
        return _error(401, "log in, or send Authorization: Bearer <personal API token>")
    return caller


def triage_list(request: HttpRequest) -> HttpResponse:
    """GET: the queue's flags in its order, with the page's filters."""
    if request.method not in ("GET", "HEAD"):
        return _error(405, "use GET")
    caller = _caller_or_401(request)
    if isinstance(caller, HttpResponse):
        return caller
    filters = queue_filter(request.GET, caller.user, default_view="now")
    if filters.errors:
        field, message = filters.errors[0]
        return _error(400, message, field)
    limit = _limit(request.GET.get("limit", "").strip())
    if limit is None:
        return _error(400, f"limit: a whole number from 1 to {MAX_LIMIT}", "limit")
    flags = list(queue_flags(filters, timezone.now())[:limit])
    names = code_names({flag.code for flag in flags})
    answers = [flag_answer(flag, names.get(flag.code, "")) for flag in flags]
    return json_answer(schema.TriageList(answers))


def _action_form(request: HttpRequest) -> FlagActionForm | HttpResponse:
    """The body as a bound action form, or the 400 saying what is wrong with it."""
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
        action = convert(data, schema.TriageAction)
    except FieldError as exc:
        return _error(400, exc.message, exc.field)
    form = FlagActionForm(action.form_data())
    if not form.is_valid():
        name, errors = next(iter(form.errors.items()))
        return _error(400, f"{name}: {errors[0]}", name)
    return form


@csrf_exempt  # token requests carry no cookie; session requests are checked below
def triage_flag(request: HttpRequest, pk: int) -> HttpResponse:
    """POST {"action": ...}: acknowledge, resolve or mute one flag, as the page's form does."""
    if request.method != "POST":
        return _error(405, "use POST")
    caller = _caller_or_401(request)
    if isinstance(caller, HttpResponse):
        return caller
    if not caller.by_token:
        refusal = csrf_refusal(request)
        if refusal:
            return _error(403, f"CSRF check failed: {refusal}. Send X-CSRFToken, or use a token.")
    flag = (
        TriageFlag.objects.select_related("tenant", "rule", "assignee")
        .filter(pk=pk, tenant__in=visible_tenants(caller.user))
        .first()
    )
    if flag is None:
        return _error(404, f"no flag {pk} in your tenants")
    if not may_operate(caller.user, flag.tenant):
        return _error(403, "triage actions need the operator or admin role on the tenant")
    form = _action_form(request)
    if isinstance(form, HttpResponse):
        return form
    try:
        change_state(
            flag,
            form.cleaned_data["action"],
            caller.user,
            form.cleaned_data["note"],
            **form.mute_arguments(),
        )
    except TransitionError as exc:
        return _error(400, str(exc), exc.field)
    name = code_names({flag.code}).get(flag.code, "")
    return json_answer(schema.TriageFlagAnswer(flag_answer(flag, name)))
