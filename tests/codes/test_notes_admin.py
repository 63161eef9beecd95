"""The runbook-note admin: superusers see every note; other staff only their tenants' notes."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from codes.models import RunbookNote
from tests.factories import UserFactory, client_for

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/codes/runbooknote/"


@pytest.fixture
def notes(tenant, other_tenant) -> dict:
    return {
        "acme": RunbookNote.objects.create(code=1, tenant=tenant, body="acme secret"),
        "globex": RunbookNote.objects.create(code=1, tenant=other_tenant, body="globex note"),
        "all": RunbookNote.objects.create(code=1, all_tenants=True, body="msp note"),
        "none": RunbookNote.objects.create(code=1, body="old unassigned note"),
    }


@pytest.fixture
def globex_staff(other_tenant) -> Client:
    """A staff member granted Globex only, allowed to view and change notes."""
    sam = UserFactory(username="sam", is_staff=True)
    sam.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_runbooknote", "change_runbooknote"], content_type__app_label="codes"
        )
    )
    other_tenant.operators.add(sam)
    return client_for(sam)


def test_superusers_see_every_note_and_its_tenant(admin_client, notes):
    response = admin_client.get(CHANGELIST)
    assert set(response.context["cl"].result_list) == set(notes.values())
    html = response.content.decode()
    assert "Acme Corp" in html and "Globex" in html


def test_other_staff_see_and_assign_only_their_own_tenants_notes(globex_staff, notes, tenant):
    response = globex_staff.get(CHANGELIST)
    assert list(response.context["cl"].result_list) == [notes["globex"]]
    assert "Acme Corp" not in response.content.decode()  # not even in the tenant filter
    assert "acme secret" not in globex_staff.get(CHANGELIST, {"q": "acme"}).content.decode()

    acme_page = globex_staff.get(f"{CHANGELIST}{notes['acme'].pk}/change/", follow=True)
    assert "acme secret" not in acme_page.content.decode()  # "doesn't exist", as for no note

    change = f"{CHANGELIST}{notes['globex'].pk}/change/"
    form = globex_staff.get(change).context["adminform"].form
    assert "all_tenants" not in form.fields  # read-only: Sam is not granted every tenant
    assert [t.slug for t in form.fields["tenant"].queryset] == ["globex"]
    response = globex_staff.post(
        change, {"code": 1, "tenant": tenant.pk, "body": "moved", "created_at_0": "2026-01-01"}
    )
    assert response.status_code == 200  # the form again, with an error
    assert "tenant" in response.context["adminform"].form.errors
    notes["globex"].refresh_from_db()
    assert notes["globex"].tenant.slug == "globex" and notes["globex"].body == "globex note"
