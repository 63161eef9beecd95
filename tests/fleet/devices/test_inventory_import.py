"""OS build and update policy come from the Intune feature-update export, set per batch."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from codes.parse import CodeError, parse_code
from fleet.ingest.importer import import_file
from fleet.models import Device, device_name_key

pytestmark = pytest.mark.django_db
EXPORTS = Path(__file__).resolve().parents[2] / "data" / "exports"
FEATURE = EXPORTS / "intune_feature_update_failures.csv"


def newest_facts(path: Path) -> dict[str, tuple[str, str]]:
    """What the file says of each device on its newest row: (Build, PolicyName). A row's time is
    its first filled time column, in the order the format reads them; rows whose code does not
    parse are rejected by the import, so they say nothing."""
    newest: dict[str, tuple[str, str, str]] = {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            try:
                parse_code(row["Win32ErrorCode"])
            except CodeError:
                continue
            times = ("EventDateTimeUTC", "StartDateTimeUTC", "LastUpdatedAlertStatusDateTimeUTC")
            when = next(row[name] for name in times if row[name])
            key = device_name_key(row["DeviceName"])
            if key not in newest or when >= newest[key][0]:
                newest[key] = (when, row["Build"], row["PolicyName"])
    return {key: (build, policy) for key, (_, build, policy) in newest.items()}


def test_feature_update_import_records_each_devices_build_and_policy(tenant):
    import_file(FEATURE, tenant, batch_size=7)  # several batches, a device in more than one
    expected = newest_facts(FEATURE)
    stored = {d.name_key: (d.os_build, d.update_policy) for d in Device.objects.all()}
    assert stored == expected
    assert any(build for build, _ in expected.values())


def test_an_import_without_those_columns_keeps_the_facts(tenant):
    import_file(FEATURE, tenant)
    before = dict(Device.objects.values_list("name_key", "os_build"))
    import_file(EXPORTS / "wufb_ucupdatealert.csv", tenant)
    after = dict(Device.objects.values_list("name_key", "os_build"))
    assert {key: after[key] for key in before} == before
