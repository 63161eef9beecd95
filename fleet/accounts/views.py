"""Operator login and logout, the admin's login (both through the throttle), and the account's
second-factor page."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fleet.accounts import language as language_module
from fleet.accounts import oidc, two_factor
from fleet.accounts.login_throttle import ThrottledAuthenticationForm, refused_as_429


class LoginView(auth_views.LoginView):
    """The password form, and the single sign-on button when a provider is configured."""

    authentication_form = ThrottledAuthenticationForm

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        context["sign_on_name"] = oidc.provider_name() if oidc.enabled() else ""
        return context


login = refused_as_429(LoginView.as_view())
logout = auth_views.LogoutView.as_view()
# The admin checks its form (`admin.site.login_form`, set in `fleet/accounts/admin.py`); this
# only turns its refusal into a 429.
admin_login = refused_as_429(admin.site.login)


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code from the app"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


@login_required
def two_factor_page(request: HttpRequest) -> HttpResponse:
    """GET shows the state (and, while setting up, the QR code and secret); POST `confirm`
    turns the second factor on, POST `turn_off` removes it; both need a current code."""
    user = request.user
    local = user.has_usable_password()
    form = CodeForm(request.POST or None)
    if request.method == "POST":
        if not local:
            return HttpResponse("Accounts without a password here sign in through SSO.", status=403)
        action = request.POST.get("action")
        if form.is_valid() and action in {"confirm", "turn_off"}:
            done = (two_factor.confirm if action == "confirm" else two_factor.turn_off)(
                user, form.cleaned_data["code"]
            )
            if done:
                messages.success(
                    request,
                    _("Two-factor sign-in is on: the login form will ask for a code.")
                    if action == "confirm"
                    else _("Two-factor sign-in is off."),
                )
                return redirect("two_factor")
            form.add_error("code", _("That code is wrong or already used; enter the current one."))
    enrolled = local and two_factor.enrolled(user)
    device = two_factor.pending_device(user) if local and not enrolled else None
    return render(
        request,
        "registration/two_factor.html",
        {
            "local": local,
            "enrolled": enrolled,
            "form": form,
            "secret": two_factor.secret(device) if device else "",
            "qr_svg": two_factor.qr_svg(device) if device else "",
        },
        status=400 if form.errors else 200,
    )


@require_POST
def choose_language(request: HttpRequest) -> HttpResponse:
    """The language switcher: a signed-in person's setting (kept for every session and
    email), and for anyone the cookie LocaleMiddleware reads; "" follows the browser. Then
    back to the page it was posted from."""
    language = request.POST.get("language", "")
    if language and language not in language_module.LANGUAGE_CODES:
        return HttpResponse(_("Unknown language."), status=400)
    target = request.POST.get("next", "")
    # A path of this site only (never a view name for redirect() to reverse), printable.
    if not (
        target.startswith("/")
        and target.isprintable()
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        target = "/"
    if request.user.is_authenticated:
        language_module.set_language(request, language)
    response = HttpResponseRedirect(target)
    if language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=True,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
    return response
