"""Which language a person reads: their setting, else the browser's Accept-Language; the
switcher; the setting copied into the session at login."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from fleet.accounts.language import SESSION_KEY, languages_of_addresses
from fleet.accounts.models import PersonSettings
from tests.factories import UserFactory, client_for

pytestmark = pytest.mark.django_db


def lang_of(response) -> str:
    html = response.content.decode()
    start = html.index("<html lang=") + len('<html lang="')
    return html[start : html.index('"', start)]


def test_the_browser_language_picks_the_page_language(logged_in):
    assert lang_of(logged_in.get("/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")) == "fr"
    assert "Vue d'ensemble" in logged_in.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert lang_of(logged_in.get("/", HTTP_ACCEPT_LANGUAGE="en-US")) == "en"
    assert lang_of(logged_in.get("/", HTTP_ACCEPT_LANGUAGE="de")) == "en"  # not offered


def test_the_login_page_follows_the_browser_too():
    response = Client().get("/login/", HTTP_ACCEPT_LANGUAGE="fr")
    assert lang_of(response) == "fr"
    assert "Connexion" in response.content.decode()


def test_the_persons_setting_wins_over_the_browser(operator):
    PersonSettings.objects.create(user=operator, language="en")
    client = client_for(operator)  # the login copies the setting into the session
    assert client.session[SESSION_KEY] == "en"
    assert lang_of(client.get("/", HTTP_ACCEPT_LANGUAGE="fr")) == "en"


def test_switching_saves_the_setting_and_applies_it_at_once(logged_in, operator):
    response = logged_in.post("/account/language/", {"language": "fr", "next": "/codes/?q=timeout"})
    assert response.status_code == 302
    assert response["Location"] == "/codes/?q=timeout"
    assert PersonSettings.objects.get(user=operator).language == "fr"
    assert lang_of(logged_in.get("/", HTTP_ACCEPT_LANGUAGE="en")) == "fr"
    # Another browser of the same person reads it at their next login.
    assert lang_of(client_for(operator).get("/", HTTP_ACCEPT_LANGUAGE="en")) == "fr"


def test_following_the_browser_again(logged_in, operator):
    logged_in.post("/account/language/", {"language": "fr"})
    response = logged_in.post("/account/language/", {"language": ""})
    assert response["Location"] == "/"
    assert PersonSettings.objects.get(user=operator).language == ""
    assert settings.LANGUAGE_COOKIE_NAME not in logged_in.cookies or not (
        logged_in.cookies[settings.LANGUAGE_COOKIE_NAME].value
    )
    assert lang_of(logged_in.get("/", HTTP_ACCEPT_LANGUAGE="en")) == "en"


def test_anyone_may_switch_with_the_cookie():
    client = Client()
    response = client.post("/account/language/", {"language": "fr", "next": "/login/"})
    assert response["Location"] == "/login/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    assert lang_of(client.get("/login/", HTTP_ACCEPT_LANGUAGE="en")) == "fr"
    assert PersonSettings.objects.count() == 0


def test_the_switcher_refuses_other_sites_and_unknown_languages(logged_in):
    away = logged_in.post("/account/language/", {"language": "fr", "next": "https://evil.example/"})
    assert away["Location"] == "/"
    for odd in ("a\x00b", "settings", "/codes/\x00", "//evil.example/"):
        response = logged_in.post("/account/language/", {"language": "fr", "next": odd})
        assert response.status_code == 302 and response["Location"] == "/", odd
    assert logged_in.post("/account/language/", {"language": "xx"}).status_code == 400
    assert logged_in.get("/account/language/").status_code == 405


def test_the_switcher_is_on_every_page_and_the_setting_on_the_settings_page(logged_in):
    html = logged_in.get("/").content.decode()
    assert 'action="/account/language/"' in html
    assert '<option value="fr" lang="fr">Français</option>' in html
    settings_page = logged_in.get("/settings/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "la langue de mon navigateur" in settings_page


def test_an_address_reads_in_the_language_of_its_person():
    french = UserFactory(username="fanny", email="Fanny@Example.test")
    PersonSettings.objects.create(user=french, language="fr")
    browser = UserFactory(username="bob", email="bob@example.test")
    PersonSettings.objects.create(user=browser, language="")
    gone = UserFactory(username="gone", email="gone@example.test", is_active=False)
    PersonSettings.objects.create(user=gone, language="fr")
    assert languages_of_addresses(
        ["fanny@example.test", "bob@example.test", "gone@example.test", "noc@example.test"]
    ) == {
        "fanny@example.test": "fr",
        "bob@example.test": "en",
        "gone@example.test": "en",
        "noc@example.test": "en",
    }
    assert languages_of_addresses([]) == {}
