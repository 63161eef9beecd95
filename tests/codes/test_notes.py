"""Runbook notes per tenant: who reads which note, on every page that could show one, and
who may write a note for which tenant (`codes.notes`, the note form and views)."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from codes.models import RunbookNote
from codes.notes import note_access
from fleet.models import Tenant
from tests.factories import TenantFactory, UserFactory, client_for

CANCELLED, ACCESS_DENIED, UNCATALOGUED = 0x8024000B, 0x80070005, 0x8024EEEE
NOTED_CODES = [CANCELLED, ACCESS_DENIED, UNCATALOGUED]
ACME_SECRET = "acme-only: the split-tunnel VPN profile fixes it"
MSP_SECRET = "msp-wide: escalate through the Contoso contract"
GLOBEX_NOTE = "globex: reboot twice after the servicing stack"
# What an operator granted only Globex must never read: the texts, the authors, the tenant.
NEVER_FOR_GLOBEX = [ACME_SECRET, MSP_SECRET, "Anna Acmeson", "anna.acme", "Acme Corp"]


def page(value: int) -> str:
    return f"/codes/0x{value:08X}/"


@pytest.fixture
def people(tenant, other_tenant) -> dict:
    """Anna (Acme only), Bert (Globex only), Max (granted both: every tenant), and notes."""
    anna = UserFactory(username="anna.acme", first_name="Anna", last_name="Acmeson")
    bert = UserFactory(username="bert.globex", first_name="Bert", last_name="Globexer")
    max_ = UserFactory(username="max.msp", first_name="Max", last_name="Widefield")
    tenant.operators.add(anna, max_)
    other_tenant.operators.add(bert, max_)
    for value in NOTED_CODES:
        RunbookNote.objects.create(code=value, tenant=tenant, author=anna, body=ACME_SECRET)
        RunbookNote.objects.create(code=value, all_tenants=True, author=max_, body=MSP_SECRET)
    RunbookNote.objects.create(code=CANCELLED, tenant=other_tenant, author=bert, body=GLOBEX_NOTE)
    return {"anna": anna, "bert": bert, "max": max_, "acme": tenant, "globex": other_tenant}


def test_an_operator_of_tenant_b_reads_no_note_of_tenant_a_on_any_page(catalog, people):
    bert = client_for(people["bert"])
    acme_note = RunbookNote.objects.filter(tenant=people["acme"], code=CANCELLED).get()
    get_pages = [
        *(page(value) for value in NOTED_CODES),
        f"{page(CANCELLED)}?tenant=acme&range=7d",  # asking the fleet filter for tenant A
        "/codes/0xC1900101_30018/?range=7d",  # a redirect, followed
        "/codes/-2145124341/",
        "/codes/",
        "/codes/?curated=on",
        *(f"/codes/?q={quote(text)}" for text in ["0x8024000B", "split-tunnel", "Acmeson"]),
        *(f"/api/v1/codes/0x{value:08X}" for value in NOTED_CODES),
        "/",
        "/triage/",
        "/imports/",
    ]
    for url in get_pages:
        response = bert.get(url, follow=True)
        assert response.status_code == 200, url
        html = response.content.decode()
        for secret in NEVER_FOR_GLOBEX:
            assert secret not in html, f"{url} shows {secret!r} to a Globex-only operator"
    assert GLOBEX_NOTE in bert.get(page(CANCELLED)).content.decode()  # his own tenant's note

    # A refused note re-renders the page: still nothing of Acme's.
    refused = bert.post(f"{page(CANCELLED)}notes/", {"body": "x", "tenant": people["acme"].pk})
    assert refused.status_code == 400
    for secret in NEVER_FOR_GLOBEX:
        assert secret not in refused.content.decode()
    # Nor can he delete Acme's note: a 404, as for a note that does not exist.
    assert bert.post(f"{page(CANCELLED)}notes/{acme_note.pk}/delete/").status_code == 404
    assert RunbookNote.objects.filter(pk=acme_note.pk).exists()


def test_operators_of_tenant_a_and_of_every_tenant_read_the_notes_meant_for_them(catalog, people):
    anna = client_for(people["anna"]).get(page(CANCELLED)).content.decode()
    assert ACME_SECRET in anna and "Anna Acmeson" in anna
    assert MSP_SECRET not in anna and GLOBEX_NOTE not in anna and "Bert Globexer" not in anna
    max_ = client_for(people["max"]).get(page(CANCELLED)).content.decode()
    for text in [ACME_SECRET, MSP_SECRET, GLOBEX_NOTE]:
        assert text in max_
    assert '<span class="note-tenant">All tenants</span>' in max_
    assert '<span class="note-tenant">Globex</span>' in max_


def test_an_all_tenants_note_hides_again_when_a_tenant_is_added_that_its_reader_lacks(people):
    assert note_access(people["max"]).every_tenant
    TenantFactory(slug="initech", name="Initech")
    access = note_access(people["max"])
    assert not access.every_tenant
    notes = access.visible(RunbookNote.objects.filter(code=CANCELLED))
    assert MSP_SECRET not in {note.body for note in notes}
    assert ACME_SECRET in {note.body for note in notes}


def test_only_superusers_read_a_note_with_no_tenant(people):
    orphan = RunbookNote.objects.create(code=CANCELLED, author=people["max"], body="old note")
    for name in ["anna", "bert", "max"]:
        notes = note_access(people[name]).visible(RunbookNote.objects.all())
        assert orphan not in notes, name
    root = UserFactory(username="root", is_superuser=True)
    assert orphan in note_access(root).visible(RunbookNote.objects.all())
    html = client_for(root).get(page(CANCELLED)).content.decode()
    assert "old note" in html and "No tenant (written before notes were per tenant" in html


def test_a_logged_out_or_deactivated_user_reads_no_note(people):
    from django.contrib.auth.models import AnonymousUser

    assert not note_access(AnonymousUser()).visible(RunbookNote.objects.all()).exists()
    people["max"].is_active = False
    assert not note_access(people["max"]).visible(RunbookNote.objects.all()).exists()


def test_a_post_naming_a_tenant_not_granted_is_refused_with_a_message(catalog, people):
    bert = client_for(people["bert"])
    before = RunbookNote.objects.count()
    for tenant in [people["acme"].pk, 999_999, "acme", "-1", "1 OR 1=1", "\x00"]:
        response = bert.post(f"{page(CANCELLED)}notes/", {"body": "leak", "tenant": tenant})
        assert response.status_code == 400, tenant
        html = response.content.decode()
        assert (
            "You are not granted that tenant: pick one of yours." in html
            or "Null characters are not allowed." in html
        ), tenant
    assert RunbookNote.objects.count() == before


def test_a_writer_with_several_tenants_must_pick_one(catalog, people):
    max_ = client_for(people["max"])
    html = max_.get(page(ACCESS_DENIED)).content.decode()
    assert '<option value="" selected>Pick a tenant…</option>' in html
    response = max_.post(f"{page(ACCESS_DENIED)}notes/", {"body": "which one?"})
    assert response.status_code == 400
    assert "Pick the tenant this note is for." in response.content.decode()
    assert not RunbookNote.objects.filter(body="which one?").exists()
    response = max_.post(
        f"{page(ACCESS_DENIED)}notes/", {"body": "for globex", "tenant": people["globex"].pk}
    )
    assert response.status_code == 302
    assert RunbookNote.objects.get(body="for globex").tenant == people["globex"]


def test_all_tenants_is_offered_and_allowed_only_to_someone_granted_every_tenant(catalog, people):
    assert '<option value="all">' in client_for(people["max"]).get(page(CANCELLED)).content.decode()
    people["acme"].operators.add(people["bert"])  # two tenants of three: not every one
    TenantFactory(slug="initech", name="Initech")
    people["globex"].operators.add(people["anna"])
    anna = client_for(people["anna"])
    assert '<option value="all">' not in anna.get(page(CANCELLED)).content.decode()
    response = anna.post(f"{page(CANCELLED)}notes/", {"body": "everyone", "tenant": "all"})
    assert response.status_code == 400
    assert "Only an operator granted every tenant" in response.content.decode()
    assert not RunbookNote.objects.filter(body="everyone").exists()

    people["max"].granted_tenants.add(*Tenant.objects.all())
    response = client_for(people["max"]).post(
        f"{page(CANCELLED)}notes/", {"body": "everyone", "tenant": "all"}
    )
    assert response.status_code == 302
    note = RunbookNote.objects.get(body="everyone")
    assert note.all_tenants and note.tenant is None


def test_an_operator_granted_no_tenant_cannot_add_a_note(catalog, people):
    nobody = client_for(UserFactory(username="nobody"))
    html = nobody.get(page(CANCELLED)).content.decode()
    assert "You are not granted any tenant, so you cannot add notes." in html
    assert 'action="/codes/0x8024000B/notes/"' not in html
    for secret in [ACME_SECRET, MSP_SECRET, GLOBEX_NOTE]:
        assert secret not in html
    response = nobody.post(f"{page(CANCELLED)}notes/", {"body": "hello"})
    assert response.status_code == 400
    assert "You are not granted any tenant" in response.content.decode()
    assert not RunbookNote.objects.filter(body="hello").exists()


def test_a_tenant_and_all_tenants_together_is_refused_by_the_database(people):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        RunbookNote.objects.create(
            code=CANCELLED, tenant=people["acme"], all_tenants=True, body="both"
        )


def test_an_author_whose_grant_is_withdrawn_no_longer_reads_or_deletes_the_note(catalog, people):
    people["acme"].operators.remove(people["anna"])
    note = RunbookNote.objects.filter(author=people["anna"], code=CANCELLED).get()
    anna = client_for(people["anna"])
    assert ACME_SECRET not in anna.get(page(CANCELLED)).content.decode()
    assert anna.post(f"{page(CANCELLED)}notes/{note.pk}/delete/").status_code == 404
