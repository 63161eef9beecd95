"""Import pages: upload flow, result page, status JSON, rejected CSV, tenant isolation."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from fleet.ingest.models import ImportRecord
from fleet.models import Occurrence
from tests.factories import UserFactory, client_for
from tests.fleet.ingest.exports import EXPECTED, EXPORTS, created, rejected_lines

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dead_broker")]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def upload(client, tenant, path, **extra):
    data = {
        "tenant": tenant.pk,
        "format": "auto",
        "file": SimpleUploadedFile(path.name, path.read_bytes(), content_type="text/csv"),
    }
    data.update(extra)
    return client.post("/imports/new/", data)


def test_pages_need_login(tenant):
    for url in ["/imports/", "/imports/new/"]:
        response = Client().get(url)
        assert response.status_code == 302
        assert "/login/" in response["Location"]


def test_upload_imports_and_shows_the_summary(logged_in, tenant, operator):
    name = "intune_feature_update_failures.csv"
    expected = EXPECTED[name]
    response = upload(logged_in, tenant, EXPORTS / name)

    record = ImportRecord.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/imports/{record.pk}/"
    assert record.status == ImportRecord.Status.DONE
    assert (record.user, record.tenant) == (operator, tenant)
    assert (record.rows, record.created, record.success_rows, record.rejected_count) == (
        expected["rows"],
        created(expected),
        expected["by_code"]["0x00000000"],
        len(expected["invalid"]),
    )
    assert record.stored_path and record.size == (EXPORTS / name).stat().st_size
    assert Occurrence.objects.filter(tenant=tenant, import_record=record).count() == created(
        expected
    )

    page = logged_in.get(response["Location"]).content.decode()
    assert "intune_feature_update_failures" in page
    assert f"<dt>Occurrences created</dt><dd>{created(expected)}</dd>" in page
    for line in rejected_lines(expected):
        assert f"<td>{line}</td>" in page
    assert "0x8024G00B" in page  # the malformed code, named in its row's reason
    assert f"/imports/{record.pk}/rejected.csv" in page

    listing = logged_in.get("/imports/").content.decode()
    assert "intune_feature_update_failures.csv" in listing


def test_rejected_csv_lists_lines_and_escapes_formulas(logged_in, tenant, tmp_path):
    path = tmp_path / "evil.csv"
    path.write_text(
        "MachineName,LastEnforcementTime,ErrorCode\n"
        'PC-1,2025-02-12 10:00:00,=HYPERLINK("x")\n'
        "@SUM(1),2025-02-12 10:00:00,0x8024000B\n"
    )
    upload(logged_in, tenant, path)
    record = ImportRecord.objects.get()

    response = logged_in.get(f"/imports/{record.pk}/rejected.csv")

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["line", "reason"]
    assert [row[0] for row in rows[1:]] == ["2", "3"]
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert "=HYPERLINK" in rows[1][1] and "@SUM(1)" in rows[2][1]


@pytest.mark.parametrize(
    ("value", "cell"),
    [("=1+1", "'=1+1"), ("+A1", "'+A1"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"), ("ok", "ok")],
)
def test_csv_cells_starting_a_formula_are_neutralised(value, cell):
    from fleet.spreadsheet import spreadsheet_safe

    assert spreadsheet_safe(value) == cell


def test_page_escapes_file_content(logged_in, tenant, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text(
        "MachineName,LastEnforcementTime,ErrorCode\nPC-1,2025-02-12 10:00:00,<script>x</script>\n"
    )
    upload(logged_in, tenant, path)
    record = ImportRecord.objects.get()

    page = logged_in.get(f"/imports/{record.pk}/").content.decode()

    assert "<script>x</script>" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page


def test_tenant_choice_is_limited_to_visible_tenants(logged_in, tenant, other_tenant):
    page = logged_in.get("/imports/new/").content.decode()
    assert tenant.name in page
    assert other_tenant.name not in page

    response = upload(logged_in, other_tenant, EXPORTS / "wsus_susdb_event_errors.csv")

    assert response.status_code == 200  # the form again, with an error
    assert not ImportRecord.objects.exists()
    assert not Occurrence.objects.exists()


def test_another_tenants_import_is_404(logged_in, other_tenant):
    record = ImportRecord.objects.create(tenant=other_tenant, file_name="secret-globex.csv")

    for suffix in ["", "status.json", "rejected.csv"]:
        assert logged_in.get(f"/imports/{record.pk}/{suffix}").status_code == 404
    assert "secret-globex.csv" not in logged_in.get("/imports/").content.decode()


def test_oversized_upload_is_refused_with_a_message(logged_in, tenant, settings, tmp_path):
    settings.MAX_UPLOAD_MB = 1
    path = tmp_path / "big.csv"
    path.write_text(
        "MachineName,LastEnforcementTime,ErrorCode\n" + "PC-1,2025-02-12 10:00:00,0x1\n" * 60000
    )

    response = upload(logged_in, tenant, path)

    assert response.status_code == 413
    assert "over the 1 MB limit" in response.content.decode()
    assert not ImportRecord.objects.exists()


def test_unreadable_upload_shows_why(logged_in, tenant, tmp_path):
    path = tmp_path / "foo.csv"
    path.write_text("Foo,Bar\n1,2\n")
    response = upload(logged_in, tenant, path)

    record = ImportRecord.objects.get()
    assert record.status == ImportRecord.Status.FAILED
    assert "unknown format" in logged_in.get(response["Location"]).content.decode()


def test_large_upload_with_broker_down_is_imported_inline(logged_in, tenant, settings):
    settings.INLINE_IMPORT_MAX_MB = 0  # every file counts as large

    expected = EXPECTED["wsus_susdb_event_errors.csv"]
    response = upload(logged_in, tenant, EXPORTS / "wsus_susdb_event_errors.csv")

    record = ImportRecord.objects.get()
    assert record.status == ImportRecord.Status.DONE
    assert record.created == created(expected)
    status = logged_in.get(f"/imports/{record.pk}/status.json").json()
    assert status == {
        "status": "done", "progress": 100, "rows": expected["rows"], "created": created(expected),
        "rejected_count": len(expected["invalid"]), "error": "",
    }  # fmt: skip
    assert response.status_code == 302


def test_superuser_sees_every_tenant(tenant, other_tenant):
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    client = client_for(admin)
    record = ImportRecord.objects.create(tenant=other_tenant, file_name="globex.csv")

    assert client.get(f"/imports/{record.pk}/").status_code == 200


def test_upload_needs_the_csrf_token(operator, tenant):
    client = client_for(operator, enforce_csrf_checks=True)

    response = upload(client, tenant, EXPORTS / "wsus_susdb_event_errors.csv")

    assert response.status_code == 403
    assert not ImportRecord.objects.exists()
