"""The rule form in French: its labels, help texts, choices and refusals come from the
catalog, not from English literals in `fleet/alerts/forms.py`."""

from __future__ import annotations

import html

import pytest

from tests.fleet.alerts.test_rule_pages import form

pytestmark = pytest.mark.django_db


def test_the_new_rule_form_is_labelled_in_french(logged_in):
    page = html.unescape(
        logged_in.get("/alerts/rules/new/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    )
    assert "Délai de silence (heures)" in page
    assert "Déclencheur" in page
    assert "Seuil (occurrences ou appareils sur une fenêtre)" in page
    assert "Pas de deuxième notification pour le même client" in page
    assert "Cooldown (hours)" not in page and "Quiet from" not in page


def test_a_refused_rule_says_why_in_french(logged_in, tenant):
    response = logged_in.post(
        "/alerts/rules/new/",
        form(tenants=[tenant.slug], recipients="nobody, noc@example.test"),
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 200  # the form again, with its errors
    assert "'nobody' n'est pas une adresse e-mail." in html.unescape(response.content.decode())


def test_the_same_form_stays_english_for_an_english_browser(logged_in):
    page = logged_in.get("/alerts/rules/new/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Cooldown (hours)" in page and "Délai" not in page
