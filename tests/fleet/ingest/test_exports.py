"""Our committed synthetic exports (tests/data/exports) import to exactly the counts their
generator worked out, and the generator still writes exactly those files."""

import json
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import call_command

from fleet.ingest.csv_formats import FORMATS
from fleet.models import Device, Occurrence
from tests.fleet.ingest.exports import (
    EXPECTED,
    EXPORTS,
    REPO,
    SUCCESS,
    assert_imported_as_expected,
    stored_occurrences,
)


def run_command(*args: str) -> dict:
    out = StringIO()
    call_command("import_report", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_generator_rewrites_the_committed_exports_byte_for_byte(tmp_path):
    result = subprocess.run(
        [sys.executable, "scripts/make_test_exports.py", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    written = sorted(path.name for path in tmp_path.iterdir())
    assert written == sorted(path.name for path in EXPORTS.iterdir())
    for name in written:
        assert (tmp_path / name).read_bytes() == (EXPORTS / name).read_bytes(), (
            f"tests/data/exports/{name} differs from what scripts/make_test_exports.py writes; "
            "run it and commit the result"
        )


def test_every_named_format_has_a_committed_export():
    assert sorted(e["format"] for e in EXPECTED.values()) == sorted(FORMATS)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_expected_counts_add_up(name):
    expected = EXPECTED[name]
    lines = (EXPORTS / name).read_bytes().splitlines()

    # No field of ours spans lines, so data rows are the lines under the header.
    assert len(lines) - 1 == expected["rows"]
    assert expected["rows"] == expected["valid"] + expected["duplicates"] + len(expected["invalid"])
    assert sum(expected["by_code"].values()) == expected["valid"]
    successes = expected["by_code"].get(SUCCESS, 0)
    assert len(expected["occurrences"]) == expected["valid"] - successes
    assert len({o["device"] for o in expected["occurrences"]}) <= expected["devices"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_export_imports_to_expected_counts(name, tenant):
    expected = EXPECTED[name]

    summary = run_command(str(EXPORTS / name), "--tenant", tenant.slug)

    assert_imported_as_expected(summary, expected, tenant)
    # Each failure is stored on its device, code, extended code, time and KB.
    assert stored_occurrences(tenant) == expected["occurrences"]
    # A device written several ways (case, FQDN) is one device.
    for name_key, spellings in expected["aliases"].items():
        assert len(spellings) > 1
        assert Device.objects.filter(tenant=tenant, name_key=name_key).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reimporting_an_export_creates_nothing(name, tenant):
    first = run_command(str(EXPORTS / name), "--tenant", tenant.slug)
    second = run_command(str(EXPORTS / name), "--tenant", tenant.slug)

    assert second["created"] == 0
    assert second["devices_created"] == 0
    # Every stored row is found again, and the file's own repeats are repeats again.
    assert second["duplicates"] == first["created"] + first["duplicates"]
    assert second["success_rows"] == first["success_rows"]
    assert second["rows"] == first["rows"]
    assert second["already_imported_as"] == first["import_id"]
    assert Occurrence.objects.filter(tenant=tenant).count() == first["created"]


# What each file must keep showing, as written in it: dropping one from the generator would
# quietly weaken the tests above.
QUIRKS = {
    "intune_feature_update_failures.csv": [
        '"0x8024G00B"',  # malformed hex
        '"Win32ErrorCode"',
        '"0"',  # success row
        '"0x8024a105"',  # lower-case hex
        '.0000000"',  # Intune's seven fraction digits
        '"",""',  # blank fields, all quoted
        "\r\n",
    ],
    "intune_expedited_update_failures.csv": ['"N/A"', '"AlertMessage_loc"', '"2025-03-11"'],
    "wufb_ucupdatealert.csv": [
        "0xC1900101_C3FD",  # extended setup code
        "0x8024-000B",  # malformed hex
        "TimeGenerated [UTC]",
        ' PM"',  # 12-hour portal times, quoted for their comma
        ", 12:",  # noon and midnight
        '""ErrorCode""',  # JSON with quotes inside a field
    ],
    "wsus_susdb_event_errors.csv": [
        '"-2145',  # signed decimal HRESULT
        ".CORP.WOODGROVE.LOCAL",  # FQDN, upper case
        "(KB",  # KB number in the title
        '","0","',  # success row
    ],
    "intune_feature_update_state.csv": [
        '"AggregateState"',
        " Error -2",  # a signed decimal code inside the alert's text
        "-0x4000D.",  # a setup extend pair inside the text
        '"SafeguardHold"',  # an alert without a code: a state, not a failure
        '"Installed"',  # healthy devices
    ],
    "intune_quality_update_state.csv": [
        '"LatestAlertMessage_loc"',
        '"Error","7","',  # a numeric alert number that must not be read as a code
        " (21",  # an unsigned decimal code in the alert's text
        '"0",""',  # a healthy device: no alert
    ],
    "wufb_ucclientupdatestatus.csv": [
        "TimeGenerated [UTC]",
        '""ErrorCode""',  # the code inside EventData's JSON
        "UpdateInstalled,3000",  # healthy devices
    ],
    "configmgr_update_deployment_status.csv": [
        ",NULL,NULL,",  # both code columns NULL
        ",0x,#Error,",
        ",NULL,21",  # unsigned decimal ErrorCodeInt beside a NULL ErrorCode
        ",NULL,-",  # signed decimal ErrorCodeInt beside a NULL ErrorCode
        ",0x00000000,0,",
    ],
}


@pytest.mark.parametrize("name", sorted(QUIRKS))
def test_export_carries_its_quirks(name):
    text = (EXPORTS / name).read_bytes().decode("utf-8")  # line ends as written

    for quirk in QUIRKS[name]:
        assert quirk in text, quirk
    if name == "wufb_ucupdatealert.csv":
        assert "\r\n" not in text  # LF line ends
    if name == "configmgr_update_deployment_status.csv":
        assert '"' not in text  # nothing quoted, as SSMS saves results
