"""What real exports do, each in a small generated file: encodings, delimiters, quoting,
preambles, literals, date orders, code notations, bad and duplicate rows."""

import json
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from fleet.ingest.importer import ImportFailed, import_file
from fleet.ingest.models import ImportRecord
from fleet.models import Device, Occurrence
from tests.factories import DeviceFactory
from tests.fleet.ingest.exports import EXPECTED, EXPORTS, created

pytestmark = pytest.mark.django_db

CM_HEADER = (
    "MachineName,UserName,LastEnforcementTime,ErrorStatusID,ErrorCode,ErrorCodeInt,MessageName"
)


def cm_rows(*rows: str) -> str:
    return CM_HEADER + "\r\n" + "".join(row + "\r\n" for row in rows)


def run(path, tenant, **kwargs):
    _record, summary = import_file(path, tenant, **kwargs)
    return summary


def test_utf8_with_bom(tenant, write_file):
    path = write_file("\ufeff" + cm_rows("PC-1,u,2025-02-12 19:24:42,1,0x8024000b,,Failed"))

    summary = run(path, tenant)

    assert (summary.format, summary.encoding, summary.created) == (
        "configmgr_deployment_errors", "utf-8-sig", 1,
    )  # fmt: skip


def test_utf16_tab_separated_unicode_text(tenant, write_file):
    text = (
        "MachineName\tLastEnforcementTime\tErrorCode\tMessageName\r\n"
        "PC-Ü1\t2025-02-12 19:24:42\t0x80240022\tFehler, Installation\r\n"
        "PC-2\t2025-02-12 19:25:42\t0x8024402C\tFailed\r\n"
    )
    path = write_file(text, name="export.txt", encoding="utf-16")

    summary = run(path, tenant)

    assert summary.encoding == "utf-16"
    assert summary.created == 2
    assert Device.objects.filter(tenant=tenant, hostname="PC-Ü1").exists()
    assert Occurrence.objects.get(code=0x80240022).message == "Fehler, Installation"


def test_cp1252_is_detected(tenant, write_file):
    path = write_file(
        cm_rows("PC-1,Müller,2025-02-12 19:24:42,1,0x8024000B,,Échec"), encoding="cp1252"
    )

    summary = run(path, tenant)

    assert summary.encoding == "cp1252"
    assert Occurrence.objects.get().message == "Échec"


def test_semicolon_delimiter_and_german_dates(tenant, write_file):
    text = (
        "MachineName;LastEnforcementTime;ErrorCode\n"
        "PC-1;04.03.2025 09:15;0x8024000B\n"
        "PC-2;18.02.2025 23:05;0x80070002\n"
    )
    summary = run(write_file(text), tenant)

    assert summary.created == 2
    times = {o.device.hostname: o.occurred_at.isoformat() for o in Occurrence.objects.all()}
    assert times == {"PC-1": "2025-03-04T09:15:00+00:00", "PC-2": "2025-02-18T23:05:00+00:00"}


def test_quoted_fields_with_delimiters_and_newlines_keep_line_numbers(tenant, write_file):
    text = cm_rows(
        'PC-1,"CONTOSO\\a, b",2025-02-12 19:24:42,1,0x8024000B,,"line one\nline two, still"',
        "PC-2,u,2025-02-12 19:24:42,1,bogus,,Failed",
        '"PC-3","u","2025-02-12 19:24:42","1","","","multi\r\nline\r\nreason"',
        "PC-4,u,2025-02-12 19:24:42,1,0xZZ,,Failed",
    )
    summary = run(write_file(text), tenant)

    assert summary.rows == 4
    assert summary.created == 1
    # Row 1 spans lines 2-3, so row 2 is on line 4; row 3 spans 5-7, row 4 is line 8.
    assert [r["line"] for r in summary.rejected] == [4, 5, 8]
    assert Occurrence.objects.get().message == "line one\nline two, still"


def test_powershell_type_preamble_shifts_lines(tenant, write_file):
    text = "#TYPE System.Data.DataRow\r\n" + cm_rows(
        "PC-1,u,2025-02-12 19:24:42,1,0x8024000B,,Failed", "PC-2,u,2025-02-12 19:24:42,1,,,x"
    )
    summary = run(write_file(text), tenant)

    assert summary.format == "configmgr_deployment_errors"
    assert summary.rejected == [{"line": 4, "reason": "ErrorCode / ErrorCodeInt is blank"}]


def test_reordered_and_extra_columns_dedupe_with_the_original(tenant, write_file):
    run(write_file(cm_rows("PC-1,u,2025-02-12 19:24:42,1,0x8024000B,-2145124341,Failed")), tenant)
    reordered = (
        "Extra,ErrorCodeInt,MessageName,ErrorCode,MachineName,LastEnforcementTime,UserName,"
        "ErrorStatusID\nignored,-2145124341,Failed,0x8024000B,PC-1,2025-02-12 19:24:42,u,1\n"
    )
    summary = run(write_file(reordered, name="later.csv"), tenant)

    assert summary.format == "configmgr_deployment_errors"
    # The extra column makes it a different row; only that adds an occurrence.
    assert summary.created == 1


def test_same_rows_in_another_column_order_add_nothing(tenant, write_file):
    run(write_file(cm_rows("PC-1,u,2025-02-12 19:24:42,1,0x8024000B,-2145124341,Failed")), tenant)
    reordered = (
        "ErrorCodeInt,MessageName,ErrorCode,MachineName,LastEnforcementTime,UserName,"
        "ErrorStatusID\n-2145124341,Failed,0x8024000B,PC-1,2025-02-12 19:24:42,u,1\n"
    )
    summary = run(write_file(reordered, name="later.csv"), tenant)

    assert (summary.created, summary.duplicates) == (0, 1)


def test_loc_twin_columns_are_not_taken_for_the_code(tenant, write_file):
    text = (
        "PolicyId,DeviceName,Win32ErrorCode_loc,AlertMessage,AlertMessage_loc,Win32ErrorCode,"
        "ExpediteQUReleaseDate,DeviceId\n"
        "p,PC-1,Install failed,24,WUIssue,0x8024A105,2025-03-11,dev-1\n"
    )
    summary = run(write_file(text), tenant)

    assert summary.format == "intune_expedited_update_failures"
    assert summary.by_code == {0x8024A105: 1}
    assert Device.objects.get(tenant=tenant).intune_device_id == "dev-1"


@pytest.mark.parametrize("literal", ["NULL", "N/A", "#Error", "null", ""])
def test_null_literals_mean_no_code(literal, tenant, write_file):
    summary = run(
        write_file(cm_rows(f"PC-1,u,2025-02-12 19:24:42,1,{literal},{literal},x")), tenant
    )

    assert summary.rejected == [{"line": 2, "reason": "ErrorCode / ErrorCodeInt is blank"}]


def test_second_code_column_is_used_when_the_first_is_empty(tenant, write_file):
    summary = run(write_file(cm_rows("PC-1,u,2025-02-12 19:24:42,1,NULL,-2145124341,x")), tenant)

    assert summary.by_code == {0x8024000B: 1}


@pytest.mark.parametrize(
    ("code", "value", "extension"),
    [
        ("0xC1900101_C3FD", 0xC1900101, "C3FD"),
        # A result-extend pair stores the result code and keeps the extend code.
        ("0xC1900101-0x4000D", 0xC1900101, "4000D"),
        ('"0xC1900101 - 0x30018"', 0xC1900101, "30018"),
        ("-2145124341", 0x8024000B, ""),
        ("2149842955", 0x8024000B, ""),
        ("0x8024000b", 0x8024000B, ""),
        ("80070002", 0x80070002, ""),
    ],
)
def test_code_notations(code, value, extension, tenant, write_file):
    run(write_file(cm_rows(f"PC-1,u,2025-02-12 19:24:42,1,{code},,x")), tenant)

    stored = Occurrence.objects.get()
    assert (stored.code, stored.code_extension) == (value, extension)


@pytest.mark.parametrize("success", ["0", "0x00000000", "0x0"])
def test_success_rows_are_counted_not_stored(success, tenant, write_file):
    summary = run(
        write_file(cm_rows(f"PC-1,u,2025-02-12 19:24:42,0,{success},0,Succeeded")), tenant
    )

    assert (summary.success_rows, summary.created, summary.devices) == (1, 0, 1)
    assert not Occurrence.objects.exists()


def test_bad_devices_and_codes_are_rejected_with_reasons(tenant, write_file):
    text = cm_rows(
        ",u,2025-02-12 19:24:42,1,0x8024000B,,x",
        "PC ONE,u,2025-02-12 19:24:42,1,0x8024000B,,x",
        "PC-3,u,2025-02-12 19:24:42,1,0x8024-000B,,x",
        "PC-4,u,2025-02-12 19:24:42,1,0x123456789,,x",
        "PC-5,u,not a date,1,0x8024000B,,x",
    )
    summary = run(write_file(text), tenant)

    reasons = {r["line"]: r["reason"] for r in summary.rejected}
    assert sorted(reasons) == [2, 3, 4, 5, 6]
    assert reasons[2] == "MachineName is blank"
    assert "'PC ONE' is not a device name" in reasons[3]
    assert "0x8024-000B" in reasons[4]
    assert "0x123456789" in reasons[5]
    assert "LastEnforcementTime" in reasons[6] and "not a date" in reasons[6]
    assert not Occurrence.objects.exists()
    assert not Device.objects.exists()


# Names whose device key would be empty; two of them once became one device with key "".
NO_HOST_NAMES = ["CHC\\", "QQQ\\", "DOMAIN\\", "\\", ".", ".corp.local", "CHC\\.corp.local"]


def test_device_names_with_no_host_part_are_rejected_naming_the_column(tenant, write_file):
    rows = [f"{name},u,2025-02-12 19:24:42,1,0x8024000B,,x" for name in NO_HOST_NAMES]
    rows += [
        "   ,u,2025-02-12 19:24:42,1,0x8024000B,,x",
        "CHC\\PC-7,u,2025-02-12 19:24:42,1,0x8024000B,,x",
    ]
    summary = run(write_file(cm_rows(*rows)), tenant)

    reasons = {r["line"]: r["reason"] for r in summary.rejected}
    assert sorted(reasons) == list(range(2, 2 + len(NO_HOST_NAMES) + 1))
    assert all(reason.startswith("MachineName ") for reason in reasons.values())
    for line in (2, 3, 4):  # CHC\, QQQ\, DOMAIN\ pass the character check but name no host
        assert reasons[line].endswith(
            "has no host part (nothing before its first dot or after its backslash)"
        )
    assert summary.created == 1
    assert list(Device.objects.values_list("name_key", flat=True)) == ["pc-7"]


def test_times_beyond_the_apis_bounds_are_rejected_and_pin_no_last_seen(
    tenant, write_file, monkeypatch
):
    # A fixed "now" late in the day, so that "more than a day ahead" never depends on the clock.
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 3, 4, 23, 45, tzinfo=UTC))
    text = cm_rows(
        "PC-1,u,2026-03-04 10:00:00,1,0x8024000B,,x",
        "PC-1,u,2026-03-05 23:45:00,1,0x8024000C,,x",  # a day ahead: clock drift, accepted
        "PC-1,u,9999-12-31 23:59:59,1,0x8024000D,,x",
        "PC-1,u,2026-03-06 00:00:00,1,0x8024000E,,x",
        "PC-1,u,2026-03-04T10:00:00+99:00,1,0x8024000F,,x",
        "PC-2,u,73051.5,1,0x8024000B,,x",  # an Excel serial: 2099-12-31
    )
    summary = run(write_file(text), tenant)

    reasons = {r["line"]: r["reason"] for r in summary.rejected}
    assert sorted(reasons) == [4, 5, 6, 7]
    ahead = "is more than 24 hours ahead of now (2026-03-04 23:45 UTC)"
    assert reasons[4] == f"LastEnforcementTime: '9999-12-31 23:59:59' {ahead}"
    assert reasons[5] == f"LastEnforcementTime: '2026-03-06 00:00:00' {ahead}"
    assert reasons[6] == (
        "LastEnforcementTime: '2026-03-04T10:00:00+99:00' has UTC offset +99:00, "
        "outside -12:00 to +14:00"
    )
    assert reasons[7] == f"LastEnforcementTime: '73051.5' {ahead}"
    assert summary.created == 2
    device = Device.objects.get()
    assert device.last_seen_at == datetime(2026, 3, 5, 23, 45, tzinfo=UTC)


def test_exact_duplicate_rows_count_once(tenant, write_file):
    row = "PC-1,u,2025-02-12 19:24:42,1,0x8024000B,,x"
    ok = "PC-1,u,2025-02-12 19:24:42,0,0x00000000,0,Succeeded"
    summary = run(write_file(cm_rows(row, ok, row, ok, row)), tenant)

    assert (summary.rows, summary.created, summary.success_rows, summary.duplicates) == (5, 1, 1, 3)
    assert Occurrence.objects.count() == 1


def test_duplicates_across_batches_are_counted(tenant, write_file):
    rows = [f"PC-{n},u,2025-02-12 19:24:42,1,0x8024000B,,x" for n in range(7)]
    summary = run(write_file(cm_rows(*rows, *rows)), tenant, batch_size=3)

    assert (summary.rows, summary.created, summary.duplicates) == (14, 7, 7)
    assert summary.devices == 7 and summary.devices_created == 7


def test_excel_serial_dates(tenant, write_file):
    run(write_file(cm_rows("PC-1,u,43965.3930958102,1,0x8024000B,,x")), tenant)

    assert Occurrence.objects.get().occurred_at.isoformat().startswith("2020-05-14T09:26:03")


def test_ambiguous_slash_dates_are_us_unless_the_file_shows_day_first(tenant, write_file):
    us = run(write_file(cm_rows("PC-1,u,3/4/2025 10:00,1,0x8024000B,,x"), name="us.csv"), tenant)
    assert us.created == 1
    assert Occurrence.objects.get(device__hostname="PC-1").occurred_at.month == 3

    text = cm_rows(
        "PC-2,u,3/4/2025 10:00,1,0x8024000B,,x", "PC-3,u,25/4/2025 10:00,1,0x8024000B,,x"
    )
    day_first = run(write_file(text, name="dmy.csv"), tenant)
    assert day_first.created == 2
    assert Occurrence.objects.get(device__hostname="PC-2").occurred_at.month == 4


def test_semicolon_files_default_to_day_first(tenant, write_file):
    text = "MachineName;LastEnforcementTime;ErrorCode\nPC-1;03/04/2025 10:00;0x8024000B\n"
    run(write_file(text), tenant)

    assert Occurrence.objects.get().occurred_at.month == 4


def test_a_date_contradicting_the_file_order_is_rejected(tenant, write_file):
    text = cm_rows(
        "PC-1,u,2/18/2025 10:00,1,0x8024000B,,x", "PC-2,u,18/2/2025 10:00,1,0x8024000B,,x"
    )
    summary = run(write_file(text), tenant)

    assert summary.created == 1
    assert summary.rejected[0]["line"] == 3
    assert "contradicts" in summary.rejected[0]["reason"]


def test_wufb_portal_dates_with_am_pm(tenant, write_file):
    text = (
        "TimeGenerated [UTC],AlertSubtype,DeviceName,ErrorCode,StartTime [UTC],AlertId\n"
        '"2/18/2025, 9:06:43.009 PM",DiskFull,PC-1,0x80070070,"2/18/2025, 12:06:43.009 AM",a1\n'
    )
    summary = run(write_file(text), tenant)

    assert summary.format == "wufb_ucupdatealert"
    assert Occurrence.objects.get().occurred_at.isoformat() == "2025-02-18T00:06:43.009000+00:00"


def test_generic_format_with_column_map(tenant, write_file):
    text = "Computer,Error,When,Note\nPC-1,0x8024000B,2025-02-12T10:00:00Z,hello\n"
    out = StringIO()
    call_command(
        "import_report", str(write_file(text)), "--tenant", tenant.slug,
        "--map", "device=Computer,code=Error,time=When", "--json", stdout=out,
    )  # fmt: skip
    summary = json.loads(out.getvalue())

    assert summary["format"] == "generic"
    assert summary["by_code"] == {"0x8024000B": 1}


def test_generic_map_naming_a_missing_column_fails_clearly(tenant, write_file):
    path = write_file("Computer,Error,When\nPC-1,0x8024000B,2025-02-12T10:00:00Z\n")
    with pytest.raises(CommandError, match="no column 'Time'"):
        call_command(
            "import_report", str(path), "--tenant", tenant.slug,
            "--map", "device=Computer,code=Error,time=Time",
        )  # fmt: skip
    assert ImportRecord.objects.get().status == ImportRecord.Status.FAILED


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\r\n\r\n", "empty"),
        (b"Foo,Bar,Baz\n1,2,3\n", "unknown format"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(200), "not text"),
        (b"\xff\xfe" + "MachineName,ErrorCode\n".encode("utf-16-le")[:-1], "not valid utf-16"),
    ],
)
def test_unreadable_files_fail_with_a_message(content, message, tenant, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)

    with pytest.raises(CommandError, match=message):
        call_command("import_report", str(path), "--tenant", tenant.slug)
    record = ImportRecord.objects.get()
    assert record.status == ImportRecord.Status.FAILED
    assert message.lower() in record.error.lower()


def test_unknown_format_name_is_refused(tenant, write_file):
    path = write_file(cm_rows("PC-1,u,2025-02-12 19:24:42,1,0x8024000B,,x"))
    with pytest.raises(CommandError, match="unknown format 'sccm'"):
        call_command("import_report", str(path), "--tenant", tenant.slug, "--format", "sccm")


def test_devices_match_existing_by_short_name_and_intune_id(tenant, write_file):
    by_name = DeviceFactory(tenant=tenant, hostname="PC-1")
    renamed = DeviceFactory(tenant=tenant, hostname="OLD-NAME", intune_device_id="dev-2")
    text = (
        "PolicyId,DeviceName,AlertMessage,Win32ErrorCode,ExpediteQUReleaseDate,DeviceId\n"
        "p,pc-1.contoso.local,24,0x8024A105,2025-03-11,dev-1\n"
        "p,NEW-NAME,24,0x8024A105,2025-03-11,dev-2\n"
    )
    summary = run(write_file(text), tenant)

    assert (summary.created, summary.devices, summary.devices_created) == (2, 2, 0)
    assert set(Occurrence.objects.values_list("device_id", flat=True)) == {by_name.pk, renamed.pk}
    by_name.refresh_from_db()
    assert by_name.last_seen_at.isoformat() == "2025-03-11T00:00:00+00:00"


def test_other_tenants_devices_are_not_matched(tenant, other_tenant, write_file):
    DeviceFactory(tenant=other_tenant, hostname="PC-1")

    summary = run(write_file(cm_rows("PC-1,u,2025-02-12 19:24:42,1,0x8024000B,,x")), tenant)

    assert summary.devices_created == 1
    assert Occurrence.objects.get().device.tenant == tenant


def test_zip_holding_one_export_is_imported(tenant, tmp_path):
    import hashlib
    import zipfile

    name = "intune_feature_update_failures.csv"
    expected = EXPECTED[name]
    path = tmp_path / "DeviceFailuresByFeatureUpdatePolicy.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(EXPORTS / name, "export_123.csv")

    record, summary = import_file(path, tenant)

    assert (summary.format, summary.created, summary.success_rows) == (
        expected["format"], created(expected), expected["by_code"]["0x00000000"],
    )  # fmt: skip
    assert record.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_zip_with_several_files_is_refused(tenant, tmp_path):
    import zipfile

    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.csv", "x")
        archive.writestr("b.csv", "y")

    with pytest.raises(ImportFailed, match="holds 2 files"):
        import_file(path, tenant)
