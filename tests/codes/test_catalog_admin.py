"""Admin for the catalog: find codes by any notation, edit what the import does not own."""

from io import StringIO

import pytest
from django.core.management import call_command

from codes.models import ErrorCode

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported():
    call_command("import_codes", stdout=StringIO())


def test_changelist_finds_a_code_by_signed_decimal(admin_client, imported):
    response = admin_client.get("/admin/codes/errorcode/", {"q": "-2145124341"})
    assert response.status_code == 200
    assert [row.value for row in response.context["cl"].result_list] == [0x8024000B]


def test_operator_override_sets_the_effective_severity_and_survives_import(admin_client, imported):
    code = ErrorCode.objects.get(value=0x80240010)
    url = f"/admin/codes/errorcode/{code.pk}/change/"
    form = admin_client.get(url).context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items() if k in form.fields}
    data.update(severity_override="warning", description="Proxy team knows this one.")
    data.update(faq="[]", sources="[]")
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    code.refresh_from_db()
    assert (code.severity_override, code.severity) == ("warning", "warning")
    call_command("import_codes", stdout=StringIO())
    code.refresh_from_db()
    assert (code.severity, code.description) == ("warning", "Proxy team knows this one.")


def test_curated_codes_are_read_only_in_admin(admin_client, imported):
    code = ErrorCode.objects.get(value=0x8024000B)
    form = admin_client.get(f"/admin/codes/errorcode/{code.pk}/change/").context["adminform"]
    assert "description" not in form.form.fields
    assert "severity_override" not in form.form.fields
