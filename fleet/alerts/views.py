"""Alert pages: the list of rules and alerts, and the operator's rule form and actions. The
queries live in `fleet.alerts.queries`, the rules' checks and saving in `fleet.alerts.rules`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fleet.access import operable_tenants
from fleet.alerts.forms import ChannelFormSet, RuleForm, channel_initial, recipient_spec
from fleet.alerts.models import AlertRule
from fleet.alerts.queries import alerts_page
from fleet.alerts.rules import (
    NotAllowed,
    RuleError,
    delete_rule,
    may_create,
    may_edit,
    save_rule,
    send_test,
    set_enabled,
    visible_rules,
)
from fleet.models import Tenant


@login_required
@require_GET
def alert_list(request: HttpRequest) -> HttpResponse:
    page = alerts_page(request.user, request.GET.get("page"))
    return render(
        request,
        "fleet/alerts/list.html",
        {"rules": page.rules, "page": page.firings, "may_create": may_create(request.user)},
    )


def _visible_rule(request: HttpRequest, rule_id: int) -> AlertRule:
    """The rule, 404 when the user may not see it, 403 when they may see but not change it."""
    rule = get_object_or_404(visible_rules(request.user), pk=rule_id)
    if not may_edit(request.user, rule):
        raise PermissionDenied("You may not change this rule.")
    return rule


def _form_errors(form: RuleForm, error: RuleError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message if field else f"{error.field}: {error.message}")


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, rule_id: int | None = None) -> HttpResponse:
    rule = _visible_rule(request, rule_id) if rule_id is not None else AlertRule()
    if rule_id is None and not may_create(request.user):
        raise PermissionDenied("You may not create alert rules for any tenant.")
    tenants: list[Tenant] = list(operable_tenants(request.user).order_by("name"))
    if request.method == "POST":
        allowed = {t.slug for t in tenants}
        if any(slug not in allowed for slug in request.POST.getlist("tenants")):
            # Never a form error: that would tell which tenants exist.
            raise PermissionDenied("You may not create alert rules for that tenant.")
        form = RuleForm(request.POST, tenants=tenants)
        channels = ChannelFormSet(request.POST, prefix="channels")
        if form.is_valid() and channels.is_valid():
            form.apply(rule)
            specs = recipient_spec(form.cleaned_data["recipients"]) + [
                spec for f in channels.forms if (spec := f.spec()) is not None
            ]
            try:
                save_rule(request.user, rule, form.cleaned_data["tenants"], specs)
            except NotAllowed as exc:
                raise PermissionDenied(str(exc)) from None
            except RuleError as exc:
                _form_errors(form, exc)
            else:
                messages.success(
                    request, gettext("Rule %(name)s saved.") % {"name": repr(rule.name)}
                )
                return redirect("alerts:list")
    else:
        form = RuleForm(initial=RuleForm.initial_for(rule) if rule.pk else None, tenants=tenants)
        channels = ChannelFormSet(
            initial=channel_initial(rule) if rule.pk else None, prefix="channels"
        )
    return render(
        request,
        "fleet/alerts/rule_form.html",
        {"form": form, "channels": channels, "rule": rule},
    )


@login_required
@require_POST
def rule_test(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = _visible_rule(request, rule_id)
    deliveries = send_test(request.user, rule)
    if not deliveries:
        messages.error(
            request, gettext("%(name)s: no recipient or channel to test.") % {"name": rule.name}
        )
    for delivery in deliveries:
        target = delivery.recipient or str(delivery.channel)
        if delivery.state == delivery.State.SENT:
            messages.success(request, gettext("Test sent to %(target)s.") % {"target": target})
        else:
            messages.error(
                request,
                gettext("Test to %(target)s failed: %(error)s (retried later).")
                % {"target": target, "error": delivery.last_error},
            )
    return redirect("alerts:list")


@login_required
@require_POST
def rule_pause(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = _visible_rule(request, rule_id)
    enabled = request.POST.get("enabled") == "1"
    try:
        set_enabled(request.user, rule, enabled)
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from None
    done = gettext("Rule %(name)s resumed.") if enabled else gettext("Rule %(name)s paused.")
    messages.success(request, done % {"name": repr(rule.name)})
    return redirect("alerts:list")


@login_required
@require_POST
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = _visible_rule(request, rule_id)
    try:
        delete_rule(request.user, rule)
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from None
    messages.success(
        request,
        gettext("Rule %(name)s deleted; its open alerts resolve on the next round.")
        % {"name": repr(rule.name)},
    )
    return redirect("alerts:list")
