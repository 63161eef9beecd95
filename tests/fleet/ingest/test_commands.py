"""create_ingest_key prints a working key once; import_report's plain output."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from fleet.ingest.keys import authenticate, hash_key
from fleet.ingest.models import IngestKey
from tests.fleet.ingest.exports import EXPECTED, EXPORTS, created, rejected_lines

pytestmark = pytest.mark.django_db


def test_create_ingest_key_prints_a_key_that_authenticates(tenant):
    out = StringIO()
    call_command(
        "create_ingest_key", tenant.slug, "--name", "agents", stdout=out, stderr=StringIO()
    )
    key = out.getvalue().strip()

    record = IngestKey.objects.get(tenant=tenant)
    assert record.name == "agents"
    assert record.key_hash == hash_key(key)
    assert authenticate(f"Bearer {key}") == record


def test_create_ingest_key_for_unknown_tenant_fails(tenant):
    with pytest.raises(CommandError, match="no tenant"):
        call_command("create_ingest_key", "nope")


def test_authenticate_refuses_other_schemes_and_junk(tenant):
    call_command("create_ingest_key", tenant.slug, stdout=StringIO(), stderr=StringIO())

    assert authenticate("") is None
    assert authenticate("Basic abc") is None
    assert authenticate("Bearer fk_deadbeef_nothing") is None


def test_import_report_plain_output(tenant):
    name = "wsus_susdb_event_errors.csv"
    expected = EXPECTED[name]
    out = StringIO()
    call_command("import_report", str(EXPORTS / name), "--tenant", tenant.slug, stdout=out)
    text = out.getvalue()

    assert "format wsus_susdb_events, encoding utf-8" in text
    assert f"created          {created(expected)}\n" in text
    assert f"line {rejected_lines(expected)[0]}:" in text


def test_import_report_unknown_tenant_or_file(tenant, tmp_path):
    with pytest.raises(CommandError, match="no tenant"):
        call_command("import_report", str(EXPORTS / "wsus_susdb_event_errors.csv"), "--tenant", "x")
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_report", str(tmp_path / "missing.csv"), "--tenant", tenant.slug)
