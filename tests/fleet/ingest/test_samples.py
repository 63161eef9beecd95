"""The sample exports of ../shared/samples, when that folder is beside the repository: each
imports to exactly the counts in its EXPECTED.md. A clone without it skips these tests; the
repository's own exports (test_exports.py) cover the same ground."""

import json
import re
from io import StringIO

import pytest
from django.core.management import call_command

from fleet.ingest.importer import import_file
from fleet.models import Device, Occurrence
from tests.fleet.ingest.exports import SHARED_SAMPLES, assert_imported_as_expected

pytestmark = pytest.mark.skipif(
    not (SHARED_SAMPLES / "EXPECTED.md").is_file(),
    reason=f"no shared samples at {SHARED_SAMPLES} (optional; FLEET_SHARED_SAMPLES names another)",
)

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


def read_expected_md() -> dict[str, dict]:
    """The counts EXPECTED.md states for each file: rows, valid, devices, by_code, invalid rows."""
    counts: dict[str, dict] = {}
    current: dict = {}
    patterns = {
        "rows": r"^- Data rows in file: \*\*(\d+)\*\*",
        "valid": r"^- Valid occurrence rows: \*\*(\d+)\*\*",
        "devices": r"^- Distinct devices .*: \*\*(\d+)\*\*",
    }
    for line in (SHARED_SAMPLES / "EXPECTED.md").read_text(encoding="utf-8").splitlines():
        if match := re.match(r"^### `([^`]+)`", line):
            current = counts[match[1]] = {"by_code": {}, "invalid": []}
        elif match := re.match(r"^\| (0x[0-9A-F]{8}) \| (\d+) \|", line):
            current["by_code"][match[1]] = int(match[2])
        elif match := re.match(r"^\s+- data row (\d+):", line):
            current["invalid"].append(int(match[1]))
        else:
            for key, pattern in patterns.items():
                if match := re.match(pattern, line):
                    current[key] = int(match[1])
    return counts


def test_our_table_agrees_with_expected_md():
    stated = read_expected_md()

    assert sorted(stated) == sorted(EXPECTED)
    for name, expected in EXPECTED.items():
        ours = {key: expected[key] for key in ("rows", "valid", "devices", "by_code")}
        ours["invalid"] = [row for row, _words in expected["invalid"]]
        assert ours == stated[name], name


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_imports_to_expected_counts(name, tenant):
    summary = run_command(str(SHARED_SAMPLES / name), "--tenant", tenant.slug)

    assert_imported_as_expected(summary, EXPECTED[name], tenant)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reimporting_a_sample_creates_nothing(name, tenant):
    first = run_command(str(SHARED_SAMPLES / name), "--tenant", tenant.slug)
    second = run_command(str(SHARED_SAMPLES / name), "--tenant", tenant.slug)

    assert second["created"] == 0
    assert second["devices_created"] == 0
    assert second["duplicates"] == first["created"] + first["duplicates"]
    assert second["rows"] == first["rows"]
    assert Occurrence.objects.filter(tenant=tenant).count() == first["created"]


@pytest.mark.django_db
def test_sample_details_are_kept(tenant):
    import_file(SHARED_SAMPLES / "wsus_susdb_event_errors.csv", tenant)
    import_file(SHARED_SAMPLES / "wufb_ucupdatealert.csv", tenant)

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
