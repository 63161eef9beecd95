"""State reports (csv_formats.py `code_in_text`, `identity`): the code comes from the alert
text, healthy rows are never occurrences, and a re-export of the same state stores nothing."""

import pytest

from fleet.ingest.importer import import_file
from fleet.models import Occurrence

pytestmark = pytest.mark.django_db

FEATURE_STATE = (
    '"PolicyId","FeatureUpdateVersion","DeviceId","EventDateTimeUTC","CurrentDeviceUpdateStatus",'
    '"CurrentDeviceUpdateSubstatus","CurrentDeviceUpdateStatusEventDateTimeUTC",'
    '"LatestAlertMessage","LatestAlertMessageDescription","LastWUScanTimeUTC","DeviceName",'
    '"AggregateState"'
)


def _feature_state(path, scanned: str, rows: list[tuple[str, str, str]]):
    lines = [FEATURE_STATE]
    for device, alert, description in rows:
        lines.append(
            f'"p-1","Windows 11, version 24H2","id-{device}","{scanned}","Installing",'
            f'"InstallFailed","2026-12-29 22:00:00","{alert}","{description}","{scanned}",'
            f'"{device}","Error"'
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


ROWS = [
    ("PC-1", "RollbackInitiated", "Setup rolled back (0xC1900101)."),
    ("PC-2", "InstallIssue", "Install failed, error -2145124329."),
    ("PC-3", "", ""),  # healthy: no alert
    ("PC-4", "SafeguardHold", "Held back by a known issue."),  # an alert without a code
    ("PC-5", "3", "Alert 3 raised for build 26100"),  # numbers that are not codes
]


def test_only_rows_whose_alert_carries_a_code_are_occurrences(tenant, tmp_path):
    path = _feature_state(tmp_path / "state.csv", "2026-12-30 06:00:00", ROWS)
    record, summary = import_file(path, tenant)
    assert record.format == "intune_feature_update_state"
    assert (summary.created, summary.success_rows, summary.rejected_count) == (2, 3, 0)
    assert sorted(Occurrence.objects.values_list("code", flat=True)) == [
        0x80240017,  # -2145124329
        0xC1900101,
    ]


def test_the_same_state_scanned_again_stores_nothing(tenant, tmp_path):
    import_file(_feature_state(tmp_path / "a.csv", "2026-12-30 06:00:00", ROWS), tenant)
    # The next day's export: every device scanned again, nothing else changed.
    _record, again = import_file(
        _feature_state(tmp_path / "b.csv", "2026-12-31 06:00:00", ROWS), tenant
    )
    assert (again.created, again.duplicates) == (0, 2)
    assert Occurrence.objects.count() == 2
    # A device whose state changed (another code) is stored.
    changed = [("PC-3", "InstallIssue", "Install failed (0x80070002)."), *ROWS[:2]]
    _record, third = import_file(
        _feature_state(tmp_path / "c.csv", "2027-01-01 06:00:00", changed), tenant
    )
    assert third.created == 1


FAILURES_HEADER = (
    '"PolicyId","DeviceId","AlertId","EventDateTimeUTC","AlertMessage","Win32ErrorCode",'
    '"DeviceName"'
)
# Win32ErrorCode's notation is undocumented: every form we have seen or can imagine.
FORMS = {
    "0xC1900101": 0xC1900101,
    "0XC1900101": 0xC1900101,
    "0xc1900101": 0xC1900101,
    "C1900101": 0xC1900101,
    "c1900101": 0xC1900101,
    "-1047527167": 0xC1900101,  # signed decimal
    "3247440129": 0xC1900101,  # unsigned decimal
    "0x80070002": 0x80070002,
    "80070002": 0x80070002,  # eight bare digits are hex
    "-2147024894": 0x80070002,
    "2147942402": 0x80070002,
    "0x8024402C": 0x8024402C,
    "1603": 1603,  # a plain Win32 error
    "0x643": 1603,
}


def test_win32errorcode_is_read_in_every_notation(tenant, tmp_path):
    lines = [FAILURES_HEADER]
    for n, written in enumerate(FORMS):
        lines.append(
            f'"p","d-{n}","alert-{n}","2026-12-30 08:00:00","InstallFailed","{written}","PC-{n}"'
        )
    path = tmp_path / "forms.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    record, summary = import_file(path, tenant)
    assert record.format == "intune_feature_update_failures"
    assert summary.rejected == []
    stored = dict(Occurrence.objects.values_list("device__hostname", "code"))
    assert stored == {f"PC-{n}": value for n, value in enumerate(FORMS.values())}
