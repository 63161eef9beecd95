"""Which language a person reads: their own setting, else what their browser asks for.

Django's LocaleMiddleware has already picked a language from the switcher's cookie or the
`Accept-Language` header; for a signed-in person `PersonLanguageMiddleware` lets their setting
(`PersonSettings.language`) win. The setting is copied into the session at login and when it is
changed, so pages pay no query for it. Emails and notifications sent to someone outside a
request use `language_of(user)` under `translation.override` (fleet/alerts/email.py).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.auth.signals import user_logged_in
from django.db.models import Q
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from fleet.accounts.models import PersonSettings

LANGUAGE_CODES = frozenset(code for code, _ in settings.LANGUAGES)
SESSION_KEY = "fleet_language"


def chosen_language(user: AbstractBaseUser | AnonymousUser) -> str:
    """The person's own setting, or "" when they follow the browser (or are anonymous)."""
    if not getattr(user, "is_authenticated", False):
        return ""
    row = PersonSettings.objects.filter(user=user).only("language").first()
    return row.language if row is not None and row.language in LANGUAGE_CODES else ""


def language_of(user: AbstractBaseUser | None) -> str:
    """The language to write to this person in when no browser is there to ask: their
    setting, else the site's default."""
    return (chosen_language(user) if user is not None else "") or settings.LANGUAGE_CODE


def languages_of_addresses(addresses) -> dict[str, str]:
    """The language to write to each email address in: the setting of the person (an active
    account) with that address, case aside, else the site's default. One query."""
    addresses = list(addresses)
    if not addresses:
        return {}
    matches = Q()
    for address in addresses:
        matches |= Q(user__email__iexact=address)
    found: dict[str, str] = {}
    rows = (
        PersonSettings.objects.filter(matches, user__is_active=True)
        .exclude(language="")
        .order_by("user_id")
        .values_list("user__email", "language")
    )
    for email, language in rows:
        if language in LANGUAGE_CODES:
            found.setdefault(email.lower(), language)
    return {a: found.get(a.lower(), settings.LANGUAGE_CODE) for a in addresses}


def set_language(request: HttpRequest, language: str) -> None:
    """Save the signed-in person's choice and use it from this request on; "" follows the
    browser again."""
    if language and language not in LANGUAGE_CODES:
        raise ValueError(f"unknown language {language!r}")
    PersonSettings.objects.update_or_create(user=request.user, defaults={"language": language})
    remember(request, language)


def remember(request: HttpRequest, language: str) -> None:
    """Keep the setting in the session (read by the middleware on every request)."""
    if language:
        request.session[SESSION_KEY] = language
    else:
        request.session.pop(SESSION_KEY, None)


@receiver(user_logged_in)
def _copy_setting_at_login(sender, request: HttpRequest | None, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        remember(request, chosen_language(user))


class PersonLanguageMiddleware:
    """After authentication: a signed-in person's setting overrides the browser's choice."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        language = session.get(SESSION_KEY, "") if session is not None else ""
        if language in LANGUAGE_CODES:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        # Said here, before the language is let go: LocaleMiddleware (outside) keeps this one.
        response.headers.setdefault("Content-Language", translation.get_language())
        # Back to the default, so nothing after the request (the next test in the same thread,
        # a signal) runs in this person's language.
        translation.deactivate()
        return response
