"""Every sample export in ../shared/samples imports to exactly the counts in its EXPECTED.md."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from fleet.ingest.importer import import_file
from fleet.models import Device, ImportRecord, Occurrence
from tests.fleet.ingest.conftest import SAMPLES

# From ../shared/samples/EXPECTED.md. "valid" includes the 0x00000000 success rows; we count
# those as success_rows and store only failures. Invalid rows: (data row, words in the reason).
EXPECTED = {
    "intune_feature_update_failures.csv": {
        "format": "intune_feature_update_failures",
        "rows": 30,
        "valid": 28,
        "devices": 14,
        "by_code": {
            "0x00000000": 2, "0x80070002": 2, "0x80073712": 2, "0x800F0922": 5,
            "0x8024000B": 4, "0x80240022": 2, "0x80244022": 4, "0x8024402C": 3,
            "0x8024A105": 2, "0xC1900101": 2,
        },
        "invalid": [(18, ["Win32ErrorCode", "blank"]), (25, ["0x8024G00B"])],
    },
    "intune_expedited_update_failures.csv": {
        "format": "intune_expedited_update_failures",
        "rows": 24,
        "valid": 22,
        "devices": 10,
        "by_code": {
            "0x00000000": 1, "0x80070002": 3, "0x80073712": 4, "0x800F0922": 1,
            "0x8024000B": 2, "0x80244022": 2, "0x8024402C": 3, "0x8024A105": 3,
            "0xC1900101": 3,
        },
        # 'N/A' is a "no value" literal, so the row reads as having no code.
        "invalid": [(15, ["Win32ErrorCode", "blank"]), (21, ["Win32ErrorCode", "blank"])],
    },
    "wufb_ucupdatealert.csv": {
        "format": "wufb_ucupdatealert",
        "rows": 32,
        "valid": 29,
        "devices": 12,
        "by_code": {
            "0x80070002": 1, "0x80073712": 3, "0x800F0922": 3, "0x8024000B": 5,
            "0x80240022": 7, "0x80244022": 3, "0x8024402C": 3, "0x8024A105": 2,
            "0xC1900101": 2,
        },
        "invalid": [
            (7, ["ErrorCode", "blank"]),
            (20, ["ErrorCode", "blank"]),
            (28, ["0x8024-000B"]),
        ],
    },
    "wsus_susdb_event_errors.csv": {
        "format": "wsus_susdb_events",
        "rows": 34,
        "valid": 33,
        "devices": 12,
        "by_code": {
            "0x00000000": 3, "0x80073712": 2, "0x800F0922": 5, "0x8024000B": 3,
            "0x80240022": 4, "0x80244022": 3, "0x8024402C": 10, "0x8024A105": 2,
            "0xC1900101": 1,
        },
        "invalid": [(22, ["Win32HResult", "blank"])],
    },
    "configmgr_update_deployment_status.csv": {
        "format": "configmgr_deployment_errors",
        "rows": 36,
        "valid": 34,
        "devices": 15,
        "by_code": {
            "0x00000000": 3, "0x80070002": 2, "0x80073712": 2, "0x800F0922": 5,
            "0x8024000B": 1, "0x80240022": 6, "0x80244022": 1, "0x8024402C": 4,
            "0x8024A105": 6, "0xC1900101": 4,
        },
        "invalid": [(23, ["ErrorCode", "ErrorCodeInt", "blank"]), (31, ["ErrorCode", "'0x'"])],
    },
}  # fmt: skip


def run_command(*args: str) -> dict:
    out = StringIO()
    call_command("import_report", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_imports_to_expected_counts(name, tenant):
    expected = EXPECTED[name]
    failures = {code: n for code, n in expected["by_code"].items() if code != "0x00000000"}
    success = expected["by_code"].get("0x00000000", 0)

    summary = run_command(str(SAMPLES / name), "--tenant", tenant.slug)

    assert summary["format"] == expected["format"]
    assert summary["encoding"] == "utf-8"
    assert summary["rows"] == expected["rows"]
    assert summary["created"] == expected["valid"] - success
    assert summary["success_rows"] == success
    assert summary["duplicates"] == 0
    assert summary["by_code"] == failures
    assert summary["devices"] == expected["devices"]
    assert summary["devices_created"] == expected["devices"]
    # Data row N is file line N + 1: the header is line 1.
    assert [r["line"] for r in summary["rejected"]] == [row + 1 for row, _ in expected["invalid"]]
    for reject, (_row, words) in zip(summary["rejected"], expected["invalid"], strict=True):
        for word in words:
            assert word in reject["reason"]
    # The database holds exactly what the summary reports.
    stored = Occurrence.objects.filter(tenant=tenant)
    assert stored.count() == summary["created"]
    assert {f"0x{c:08X}" for c in stored.values_list("code", flat=True)} == set(failures)
    assert Device.objects.filter(tenant=tenant).count() == expected["devices"]
    record = ImportRecord.objects.get(pk=summary["import_id"])
    assert record.status == ImportRecord.Status.DONE
    assert record.created == summary["created"]
    assert len(record.sha256) == 64


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reimporting_a_sample_creates_nothing(name, tenant):
    first = run_command(str(SAMPLES / name), "--tenant", tenant.slug)
    second = run_command(str(SAMPLES / name), "--tenant", tenant.slug)

    assert second["created"] == 0
    assert second["devices_created"] == 0
    assert second["duplicates"] == first["created"] + first["success_rows"] - second["success_rows"]
    assert second["rows"] == first["rows"]
    assert Occurrence.objects.filter(tenant=tenant).count() == first["created"]


@pytest.mark.django_db
def test_sample_details_are_kept(tenant):
    import_file(SAMPLES / "wsus_susdb_event_errors.csv", tenant)
    import_file(SAMPLES / "wufb_ucupdatealert.csv", tenant)

    wsus = Occurrence.objects.filter(source="wsus_susdb_events").exclude(kb="").first()
    assert wsus.kb.startswith("KB") and wsus.kb[2:] in wsus.update_title
    # 0xC1900101_C3FD keeps its extended code.
    rollback = Occurrence.objects.get(
        source="wufb_ucupdatealert", device__name_key="nwtraders-lt-0009", code=0xC1900101
    )
    assert rollback.code_extension == "C3FD"
    assert rollback.occurred_at.isoformat() == "2025-02-18T07:25:28.979000+00:00"
    # FQDN clients are matched on their short name.
    assert Device.objects.filter(tenant=tenant, name_key="contoso-srv-01").exists()
