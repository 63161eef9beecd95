"""Imports you can find and undo: the span and its dashboard links, undo through the page and
the command, the aggregates exactly as before, the same file imported again, who may undo."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from dashboards.filters import MAX_CUSTOM_DAYS
from fleet.aggregate import STAT_MODELS, aggregate_chunk, aggregate_pending, rebuild_all
from fleet.ingest.importer import import_file
from fleet.ingest.models import ImportRecord
from fleet.ingest.span import DASHBOARD_MAX_DAYS, dashboard_links
from fleet.ingest.undo import UndoRefused, undo_import
from fleet.models import Occurrence, SnapshotDeviceCodeStat, Tenant
from tests.factories import TenantFactory, UserFactory, client_for
from tests.threads import run_at_once

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dead_broker")]

WUFB_HEADER = "TenantId,TimeGenerated [UTC],AlertId,AlertSubtype,DeviceName,ErrorCode\n"
ENTRA = "32cff0eb-19c7-4b6a-b97f-c9e5f1237d75"
OTHER_ENTRA = "0b5c9d1e-1111-4222-8333-944455556666"
EVERY_TABLE = (*STAT_MODELS, SnapshotDeviceCodeStat)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def base_hour() -> datetime:
    """A whole UTC hour some weeks before the test's now, so every row is in the past."""
    return (timezone.now() - timedelta(days=40)).replace(minute=0, second=0, microsecond=0)


def wufb(rows: list[tuple[str, str, str, int]], tenant_id: str = ENTRA) -> str:
    """A WUfB UCUpdateAlert export of (alert id, device, code, minutes after base_hour())."""
    start = base_hour()
    lines = [
        f"{tenant_id},{(start + timedelta(minutes=m)):%Y-%m-%dT%H:%M:%SZ},{alert},"
        f"InstallFailure,{device},{code}\n"
        for alert, device, code, m in rows
    ]
    return WUFB_HEADER + "".join(lines)


# The file that is undone: pc-1 shares (code, hour) buckets with the other imports, pc-2 and
# pc-3 do not, so the undo must lower distinct devices by exactly the devices that leave.
def file_a() -> str:
    return wufb(
        [
            ("a1", "PC-1", "0x80070002", 5),
            ("a2", "PC-1", "0x80070002", 20),
            ("a3", "PC-2", "0x80070002", 30),
            ("a4", "PC-3", "0xC1900101", 70),
            ("a5", "PC-2", "0xC1900101", 60 * 30),  # the next day
            ("a6", "PC-4", "0x80070002", 50),
        ]
    )


# Other data, imported and aggregated before and after: the same devices and buckets in part.
def file_b() -> str:
    return wufb(
        [
            ("b1", "PC-1", "0x80070002", 10),
            ("b2", "PC-4", "0x80070002", 40),
            ("b3", "PC-4", "0xC1900101", 60 * 30 + 5),
        ]
    )


def generic_file() -> str:
    """An event-source (not state-snapshot) export sharing a device and an hour with file_a()."""
    start = base_hour()
    return (
        "DeviceName,ErrorCode,Timestamp\n"
        f"PC-1,0x80070002,{start + timedelta(minutes=15):%Y-%m-%dT%H:%M:%SZ}\n"
        f"PC-9,0x80240022,{start + timedelta(minutes=75):%Y-%m-%dT%H:%M:%SZ}\n"
    )


def tables() -> dict[str, set[tuple]]:
    """Every aggregate table's rows (without ids) and the raw occurrences, to compare whole."""
    state = {
        model._meta.db_table: {
            tuple(row) for row in model.objects.values_list(*_fields(model)).order_by()
        }
        for model in EVERY_TABLE
    }
    state["occurrences"] = set(
        Occurrence.objects.values_list("device_id", "code", "occurred_at", "source", "dedupe_key")
    )
    return state


def _fields(model) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields if f.name != "id"]


def upload(client, tenant: Tenant, text: str, name: str = "export.csv"):
    return client.post(
        "/imports/new/",
        {
            "tenant": tenant.pk,
            "format": "auto",
            "file": SimpleUploadedFile(name, text.encode(), content_type="text/csv"),
        },
    )


def latest() -> ImportRecord:
    return ImportRecord.objects.order_by("-pk").first()


def import_text(tmp_path, tenant: Tenant, text: str, name: str, **options) -> ImportRecord:
    path = tmp_path / name
    path.write_text(text)
    record, _summary = import_file(path, tenant, **options)
    return record


def test_undo_leaves_occurrences_and_every_aggregate_as_before_and_the_file_imports_again(
    logged_in, tenant, operator, tmp_path
):
    import_text(tmp_path, tenant, file_b(), "b.csv")
    import_text(tmp_path, tenant, generic_file(), "generic.csv")
    aggregate_pending()
    before = tables()

    upload(logged_in, tenant, file_a(), "a.csv")
    first = latest()
    assert first.status == ImportRecord.Status.DONE
    assert first.created == 6
    aggregate_pending()
    with_a = tables()
    assert with_a != before
    # The shared bucket really has a device that leaves and one that stays.
    hourly = with_a["fleet_hourlycodestat"]
    assert any(row[-1] == 3 for row in hourly), hourly  # PC-1, PC-2 and PC-4 in the first hour

    asked = timezone.now()
    response = logged_in.post(f"/imports/{first.pk}/undo/", follow=True)
    assert response.status_code == 200
    assert "6 occurrences deleted" in response.content.decode()
    assert tables() == before
    first.refresh_from_db()
    assert first.status == ImportRecord.Status.UNDONE
    assert first.undone_by == operator
    assert asked <= first.undone_at <= timezone.now()
    assert first.undone_occurrences == 6
    # What the undo left is what a recount from the raw rows gives.
    rebuild_all()
    assert tables() == before

    upload(logged_in, tenant, file_a(), "a.csv")
    again = latest()
    assert again.pk != first.pk
    assert again.status == ImportRecord.Status.DONE
    assert (again.created, again.duplicates) == (6, 0)
    assert again.by_code == first.by_code
    page = logged_in.get(f"/imports/{again.pk}/").content.decode()
    assert "already" not in page.lower()
    aggregate_pending()
    assert tables() == with_a


def test_undo_of_an_import_not_yet_aggregated_takes_nothing_from_the_aggregates(tenant, tmp_path):
    import_text(tmp_path, tenant, file_b(), "b.csv")
    aggregate_pending()
    before = tables()
    record = import_text(tmp_path, tenant, file_a(), "a.csv")
    result = undo_import(record.pk)
    assert (result.deleted, result.aggregated) == (6, 0)
    assert tables() == before
    aggregate_pending()
    assert tables() == before


def test_undo_of_a_partly_aggregated_import_is_exact(tenant, tmp_path):
    import_text(tmp_path, tenant, file_b(), "b.csv")
    aggregate_pending()
    before = tables()
    # Stored in batches of four: one run counts the first batch, the second stays pending.
    record = import_text(tmp_path, tenant, file_a(), "a.csv", batch_size=4)
    assert aggregate_chunk(chunk_size=4) == 4
    result = undo_import(record.pk)
    assert (result.deleted, result.aggregated) == (6, 4)
    assert tables() == before
    aggregate_pending()
    assert tables() == before


def test_result_page_links_to_the_dashboards_filtered_to_its_span(logged_in, tenant):
    upload(logged_in, tenant, file_a(), "a.csv")
    record = latest()
    start = base_hour()
    assert record.first_occurred_at == start + timedelta(minutes=5)
    assert record.last_occurred_at == start + timedelta(minutes=60 * 30)
    page = logged_in.get(f"/imports/{record.pk}/").content.decode()
    first_day, last_day = start.date(), (start + timedelta(minutes=60 * 30)).date()
    assert f"{record.first_occurred_at:%Y-%m-%d %H:%M}" in page
    links = {
        name: unescape(href)
        for name, href in re.findall(r'id="span-(tenant|overview)-link" href="([^"]+)"', page)
    }
    assert set(links) == {"tenant", "overview"}
    for name, href in links.items():
        url = urlsplit(href)
        query = parse_qs(url.query)
        assert query["range"] == ["custom"]
        assert query["from"] == [first_day.isoformat()]
        assert query["to"] == [last_day.isoformat()]
        if name == "overview":
            assert url.path == "/" and query["tenant"] == [tenant.slug]
        else:
            assert url.path == f"/tenants/{tenant.slug}/"
        response = logged_in.get(href)
        assert response.status_code == 200
        scope = response.context["scope"]
        assert scope.errors == []
        assert [t.slug for t in scope.tenants] == [tenant.slug]
        assert scope.start == datetime.combine(first_day, datetime.min.time(), tzinfo=UTC)
        assert scope.end == datetime.combine(
            last_day + timedelta(days=1), datetime.min.time(), tzinfo=UTC
        )


def test_a_span_longer_than_a_dashboard_range_links_its_last_days(tenant):
    assert DASHBOARD_MAX_DAYS == MAX_CUSTOM_DAYS
    last = datetime(2026, 6, 30, 12, tzinfo=UTC)
    record = ImportRecord(
        tenant=tenant, first_occurred_at=last - timedelta(days=900), last_occurred_at=last
    )
    links = dashboard_links(record)
    assert links.shortened
    query = parse_qs(urlsplit(links.tenant).query)
    assert query["from"] == ["2025-05-27"] and query["to"] == ["2026-06-30"]
    assert dashboard_links(ImportRecord(tenant=tenant)) is None


def test_undo_twice_says_so_and_changes_nothing(logged_in, tenant, tmp_path):
    record = import_text(tmp_path, tenant, file_a(), "a.csv")
    aggregate_pending()
    logged_in.post(f"/imports/{record.pk}/undo/")
    after_first = tables()
    record.refresh_from_db()
    undone_at = record.undone_at
    response = logged_in.post(f"/imports/{record.pk}/undo/", follow=True)
    assert "was already undone on" in response.content.decode()
    assert tables() == after_first
    record.refresh_from_db()
    assert record.undone_at == undone_at and record.undone_by is not None
    with pytest.raises(UndoRefused, match="already undone"):
        undo_import(record.pk)


def test_undo_by_a_user_not_granted_the_tenant_is_404(tenant, other_tenant, tmp_path):
    record = import_text(tmp_path, tenant, file_a(), "a.csv")
    stranger = UserFactory()
    other_tenant.operators.add(stranger)
    response = client_for(stranger).post(f"/imports/{record.pk}/undo/")
    assert response.status_code == 404
    record.refresh_from_db()
    assert record.status == ImportRecord.Status.DONE
    assert Occurrence.objects.filter(import_record=record).count() == 6


def test_undo_by_a_viewer_is_refused(logged_in, tenant, tmp_path, monkeypatch):
    """A user who may see the tenant but not act on it (a viewer: `operable_tenants` leaves it
    out) gets 403 and no undo button."""
    record = import_text(tmp_path, tenant, file_a(), "a.csv")
    monkeypatch.setattr("fleet.ingest.views.operable_tenants", lambda user: Tenant.objects.none())
    page = logged_in.get(f"/imports/{record.pk}/").content.decode()
    assert "undo-form" not in page
    assert logged_in.post(f"/imports/{record.pk}/undo/").status_code == 403
    record.refresh_from_db()
    assert record.status == ImportRecord.Status.DONE


def test_undo_needs_a_post_with_the_csrf_token(operator, tenant, tmp_path):
    record = import_text(tmp_path, tenant, file_a(), "a.csv")
    client = client_for(operator, enforce_csrf_checks=True)
    assert client.get(f"/imports/{record.pk}/undo/").status_code == 405
    assert client.post(f"/imports/{record.pk}/undo/").status_code == 403
    page = client.get(f"/imports/{record.pk}/").content.decode()
    assert 'id="undo-form"' in page
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(f"/imports/{record.pk}/undo/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.status == ImportRecord.Status.UNDONE


def test_an_import_still_running_cannot_be_undone(tenant, tmp_path):
    record = import_text(tmp_path, tenant, file_a(), "a.csv")
    ImportRecord.objects.filter(pk=record.pk).update(status=ImportRecord.Status.RUNNING)
    with pytest.raises(UndoRefused, match="once it has finished"):
        undo_import(record.pk)
    assert Occurrence.objects.filter(import_record=record).count() == 6


def test_undo_import_command(tenant, tmp_path, capsys):
    record = import_text(tmp_path, tenant, file_a(), "a.csv")
    aggregate_pending()
    call_command("undo_import", str(record.pk))
    assert f"import {record.pk} (a.csv) undone: 6 occurrences deleted, 6 of them" in (
        capsys.readouterr().out
    )
    record.refresh_from_db()
    assert record.status == ImportRecord.Status.UNDONE and record.undone_by is None
    assert not Occurrence.objects.exists()
    with pytest.raises(CommandError, match="already undone"):
        call_command("undo_import", str(record.pk))
    with pytest.raises(CommandError, match="There is no import 999999"):
        call_command("undo_import", "999999")


def test_an_undone_file_is_not_already_imported(tenant, tmp_path):
    first = import_text(tmp_path, tenant, file_a(), "a.csv")
    duplicate = import_text(tmp_path, tenant, file_a(), "a.csv")
    assert duplicate.created == 0 and duplicate.duplicates == 6
    undo_import(first.pk)
    again = import_text(tmp_path, tenant, file_a(), "a.csv")
    assert (again.created, again.duplicates) == (6, 0)
    assert again.sha256 == first.sha256


# The tenant of an upload is chosen, never assumed.


def test_upload_form_has_no_default_tenant_when_there_is_a_choice(logged_in, operator):
    second = TenantFactory(slug="initech", name="Initech")
    second.operators.add(operator)
    form = logged_in.get("/imports/new/").context["form"]
    assert form["tenant"].value() is None
    assert form.fields["tenant"].required
    page = logged_in.get("/imports/new/").content.decode()
    assert "Choose the tenant this export belongs to" in page
    response = logged_in.post(
        "/imports/new/",
        {"format": "auto", "file": SimpleUploadedFile("a.csv", file_a().encode())},
    )
    assert response.status_code == 200
    assert "Choose the tenant this export belongs to." in response.content.decode()
    assert not ImportRecord.objects.exists()


def test_upload_form_preselects_the_only_tenant(logged_in, tenant, other_tenant):
    form = logged_in.get("/imports/new/").context["form"]
    assert form["tenant"].value() == tenant.pk
    assert list(form.fields["tenant"].queryset) == [tenant]


def test_upload_into_a_tenant_not_granted_is_refused(logged_in, other_tenant):
    response = upload(logged_in, other_tenant, file_a())
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not ImportRecord.objects.exists()


# A WUfB export of another Entra tenant warns.


def test_wufb_export_of_another_entra_tenant_warns_naming_both_ids(logged_in, tenant):
    tenant.entra_tenant_id = OTHER_ENTRA
    tenant.save()
    upload(logged_in, tenant, file_a(), "a.csv")
    record = latest()
    assert record.status == ImportRecord.Status.DONE and record.created == 6
    assert len(record.warnings) == 1
    assert ENTRA in record.warnings[0] and OTHER_ENTRA in record.warnings[0]
    page = logged_in.get(f"/imports/{record.pk}/").content.decode()
    assert 'id="import-warning"' in page
    assert ENTRA in page and OTHER_ENTRA in page


@pytest.mark.parametrize("configured", [ENTRA, ""])
def test_wufb_export_of_the_tenant_or_without_a_configured_id_does_not_warn(
    logged_in, tenant, configured
):
    tenant.entra_tenant_id = configured
    tenant.save()
    upload(logged_in, tenant, file_a().replace(ENTRA, ENTRA.upper()), "a.csv")
    record = latest()
    assert record.warnings == []
    assert 'id="import-warning"' not in logged_in.get(f"/imports/{record.pk}/").content.decode()


def test_entra_tenant_id_must_be_a_guid(tenant):
    from django.core.exceptions import ValidationError

    tenant.entra_tenant_id = "{" + ENTRA.upper() + "}"
    tenant.full_clean()
    assert tenant.entra_tenant_id == ENTRA
    tenant.entra_tenant_id = "contoso.onmicrosoft.com"
    with pytest.raises(ValidationError, match="Enter a GUID"):
        tenant.full_clean()


def test_entra_tenant_id_is_editable_in_the_admin(admin_client, tenant):
    page = admin_client.get(f"/admin/fleet/tenant/{tenant.pk}/change/").content.decode()
    assert 'name="entra_tenant_id"' in page


# Undo racing the aggregation and another undo (each in its own connection).


def big_wufb(prefix: str, count: int) -> str:
    """`count` rows over 40 devices, 3 codes and a few days, so buckets are shared."""
    codes = ["0x80070002", "0xC1900101", "0x80240022"]
    return wufb([(f"{prefix}{n}", f"PC-{n % 40}", codes[n % 3], n * 7) for n in range(count)])


@pytest.mark.django_db(transaction=True)
def test_undo_while_the_aggregation_runs_leaves_what_a_recount_gives(tenant, tmp_path):
    undone = import_text(tmp_path, tenant, big_wufb("a", 3000), "a.csv")
    aggregate_pending()
    import_text(tmp_path, tenant, big_wufb("b", 3000), "b.csv")  # pending while the undo runs

    writers = run_at_once(lambda: undo_import(undone.pk), lambda: aggregate_pending(chunk_size=300))

    assert writers.errors == []
    aggregate_pending()
    after = tables()
    assert len(after["occurrences"]) == 3000
    rebuild_all()
    assert tables() == after


@pytest.mark.django_db(transaction=True)
def test_two_undos_at_once_undo_once(tenant, tmp_path):
    record = import_text(tmp_path, tenant, big_wufb("a", 500), "a.csv")
    import_text(tmp_path, tenant, big_wufb("b", 500), "b.csv")
    aggregate_pending()

    writers = run_at_once(lambda: undo_import(record.pk), lambda: undo_import(record.pk))

    assert [type(e) for e in writers.errors] == [UndoRefused]
    assert [r.deleted for r in writers.results] == [500]
    after = tables()
    rebuild_all()
    assert tables() == after


def test_import_report_prints_the_span_and_the_warning(tenant, tmp_path, capsys):
    tenant.entra_tenant_id = OTHER_ENTRA
    tenant.save()
    path = tmp_path / "a.csv"
    path.write_text(file_a())
    call_command("import_report", str(path), "--tenant", tenant.slug)
    out = capsys.readouterr().out
    first = base_hour() + timedelta(minutes=5)
    assert f"occurred         {first:%Y-%m-%d %H:%M} to " in out
    assert f"warning: The file's TenantId {ENTRA} is not" in out
