"""The knowledge pages: every section, canonical redirects, unknown and malformed codes,
runbook notes, and login."""

from __future__ import annotations

import pytest
from django.urls import reverse

from codes.models import ErrorCode, RunbookNote
from tests.factories import UserFactory, client_for

CANCELLED = "/codes/0x8024000B/"


def text_of(response) -> str:
    return response.content.decode()


def test_cancelled_page_shows_every_section(catalog, logged_in):
    response = logged_in.get(CANCELLED)
    assert response.status_code == 200
    html = text_of(response)
    for expected in [
        "0x8024000B",
        "-2145124341",  # signed decimal
        "2149842955",  # unsigned decimal
        "WU_E_CALL_CANCELLED",
        "Operation was cancelled",  # title, shown as the message in our words
        'class="sev sev-warning"',  # operator severity …
        "1 (failure)",  # … and the HRESULT severity bit, both shown
        "36 (Windows Update)",  # facility number and name
        "Windows Update agent",  # family
        'id="description"',
        "asked it to stop",  # severity reason from the curated file
        'id="causes"',
        "Update Orchestrator",  # a curated cause
        'id="steps"',
        "UsoClient StartScan",  # a curated step
        'id="decode-snippet"',
        "$code = &#x27;0x8024000B&#x27;",  # the family snippet with this code filled in
        'id="where-logged"',
        "Microsoft-Windows-WindowsUpdateClient/Operational",
        'id="faq"',
        "Is 0x8024000B a failed update?",
        'id="sources"',
        "wuerror.h",
        'id="notes"',
        'action="/codes/0x8024000B/notes/"',
        'id="code-fleet-title"',  # the dashboards' fleet section is included
    ]:
        assert expected in html, expected


def test_win32_wrapped_code_shows_win32_name_and_message(catalog, logged_in):
    html = text_of(logged_in.get("/codes/0x80070005/"))
    assert "ERROR_ACCESS_DENIED" in html
    assert "Access is denied." in html
    assert "[MS-ERREF]" in html  # the message's source is named


def test_ntstatus_code_shows_nt_severity(catalog, logged_in):
    html = text_of(logged_in.get("/codes/0xC0000005/"))
    assert "STATUS_ACCESS_VIOLATION" in html
    assert "NT severity error" in html


@pytest.mark.parametrize(
    "notation",
    ["-2145124341", "2149842955", "0x8024000b", "8024000B", "0X8024000B", "0x8024000B (x)"],
)
def test_any_notation_redirects_to_the_canonical_url(logged_in, notation):
    response = logged_in.get(f"/codes/{notation}/")
    assert response.status_code == 302
    assert response["Location"] == CANCELLED


def test_decimals_quoted_in_the_issue_redirect_where_the_arithmetic_says(logged_in):
    # The issue pairs -2145107957 / 2149859339 with 0x8024000B; both are 0x8024400B.
    for notation in ["-2145107957", "2149859339"]:
        assert logged_in.get(f"/codes/{notation}/")["Location"] == "/codes/0x8024400B/"


def test_redirect_keeps_the_fleet_filter_and_the_extended_code(logged_in):
    response = logged_in.get("/codes/0xc1900101_30018/?range=7d")
    assert response.status_code == 302
    assert response["Location"] == "/codes/0xC1900101/?range=7d&ext=30018"


def test_extended_code_is_shown_on_the_page(catalog, logged_in):
    html = text_of(logged_in.get("/codes/0xC1900101/?ext=30018"))
    assert "Extended code" in html and "0x30018" in html
    assert "$text = &#x27;0xC1900101 - 0x30018&#x27;" in html


def test_well_formed_code_outside_the_catalog_still_gets_a_page(catalog, logged_in):
    assert not ErrorCode.objects.filter(value=0x8024EEEE).exists()
    response = logged_in.get("/codes/0x8024EEEE/")
    assert response.status_code == 200
    html = text_of(response)
    assert "not in our catalog" in html
    assert "Windows Update agent" in html  # family from facility 36
    assert "-2145063186" in html
    assert "Get-WindowsUpdateLog" in html  # family texts stand in for curated ones
    assert 'id="code-fleet-title"' in html


def test_page_works_before_the_catalog_is_imported(db, logged_in):
    """Falls back to the committed files when import_codes has not run."""
    html = text_of(logged_in.get(CANCELLED))
    assert "WU_E_CALL_CANCELLED" in html and "UsoClient StartScan" in html


@pytest.mark.parametrize("garbage", ["zzz", "0xGGGG", "99999999999", "0x123456789"])
def test_malformed_code_is_a_404_that_says_why(logged_in, garbage):
    response = logged_in.get(f"/codes/{garbage}/")
    assert response.status_code == 404
    html = text_of(response)
    assert "Not an error code" in html
    assert "cannot be read as an error code" in html


def test_runbook_note_is_saved_under_the_canonical_value_and_shown_escaped(catalog, logged_in):
    body = "Restart <script>alert('x')</script> the BITS service\nthen rescan"
    response = logged_in.post("/codes/-2145124341/notes/", {"body": body})
    assert response.status_code == 302
    assert response["Location"] == CANCELLED + "#notes"
    note = RunbookNote.objects.get()
    assert note.code == 0x8024000B and note.author.username == "olivia"
    assert note.tenant.slug == "acme" and not note.all_tenants  # her only tenant, by default
    html = text_of(logged_in.get(CANCELLED))
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "<script>alert" not in html
    assert "the BITS service<br>then rescan" in html  # line breaks kept
    assert "olivia" in html and note.created_at.strftime("%Y-%m-%d %H:%M") in html
    assert '<span class="note-tenant">Acme Corp</span>' in html  # each note names its tenant


def test_colleagues_of_the_same_tenant_see_each_others_notes(catalog, client, operator, tenant):
    RunbookNote.objects.create(
        code=0x8024000B, tenant=tenant, author=operator, body="Check the WSUS pool"
    )
    colleague = UserFactory(username="carlos")
    tenant.operators.add(colleague)
    client.force_login(colleague)
    assert "Check the WSUS pool" in text_of(client.get(CANCELLED))
    assert "Check the WSUS pool" not in text_of(client.get("/codes/0x80070005/"))


def test_authors_delete_their_own_notes_only(catalog, logged_in, operator, tenant):
    mine = RunbookNote.objects.create(code=0x8024000B, tenant=tenant, author=operator, body="mine")
    theirs = RunbookNote.objects.create(
        code=0x8024000B, tenant=tenant, author=UserFactory(username="carlos"), body="theirs"
    )
    html = text_of(logged_in.get(CANCELLED))
    assert "theirs" in html  # shown to her, yet not hers to delete
    assert f"/codes/0x8024000B/notes/{mine.pk}/delete/" in html
    assert f"/codes/0x8024000B/notes/{theirs.pk}/delete/" not in html

    assert logged_in.post(f"/codes/0x8024000B/notes/{theirs.pk}/delete/").status_code == 404
    assert logged_in.post(f"/codes/0x80070005/notes/{mine.pk}/delete/").status_code == 404
    assert logged_in.get(f"/codes/0x8024000B/notes/{mine.pk}/delete/").status_code == 405
    response = logged_in.post(f"/codes/-2145124341/notes/{mine.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == CANCELLED + "#notes"
    assert list(RunbookNote.objects.values_list("body", flat=True)) == ["theirs"]


def test_superuser_may_delete_any_note(catalog, client, operator, tenant):
    note = RunbookNote.objects.create(
        code=0x8024000B, tenant=tenant, author=operator, body="outdated"
    )
    client.force_login(UserFactory(username="root", is_superuser=True))
    assert client.post(f"/codes/0x8024000B/notes/{note.pk}/delete/").status_code == 302
    assert not RunbookNote.objects.exists()


def test_blank_note_is_refused_with_a_message(catalog, logged_in):
    response = logged_in.post("/codes/0x8024000B/notes/", {"body": "   "})
    assert response.status_code == 400
    assert "cannot be empty" in text_of(response) or "This field is required" in text_of(response)
    assert not RunbookNote.objects.exists()


def test_notes_need_post_and_csrf(catalog, operator):
    strict = client_for(operator, enforce_csrf_checks=True)
    assert strict.get("/codes/0x8024000B/notes/").status_code == 405
    assert strict.post("/codes/0x8024000B/notes/", {"body": "x"}).status_code == 403
    assert not RunbookNote.objects.exists()


@pytest.mark.parametrize(
    "method,url",
    [
        ("get", "/codes/"),
        ("get", "/codes/?q=timeout"),
        ("get", CANCELLED),
        ("get", "/codes/-2145124341/"),
        ("get", "/codes/zzz/"),
        ("post", "/codes/0x8024000B/notes/"),
        ("post", "/codes/0x8024000B/notes/1/delete/"),
    ],
)
def test_pages_require_login(db, client, method, url):
    response = getattr(client, method)(url, {"body": "sneaky"} if method == "post" else None)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not RunbookNote.objects.exists()


def test_detail_query_count_does_not_grow_with_notes(
    catalog, logged_in, operator, tenant, django_assert_max_num_queries
):
    RunbookNote.objects.bulk_create(
        [
            RunbookNote(code=0x8024000B, tenant=tenant, author=operator, body=f"note {n}")
            for n in range(30)
        ]
    )
    # Session and user 2, decode + curated row + family 3, fleet section 7, notes 3 (the
    # writer's tenants, whether that is every tenant, the notes with author and tenant).
    with django_assert_max_num_queries(15):
        response = logged_in.get(CANCELLED)
    assert text_of(response).count("note ") >= 30
