"""The export files the ingest tests import, and the check that an import matched its counts.

`EXPORTS` holds our synthetic exports (scripts/make_test_exports.py writes them and their
EXPECTED.json); they are in the repository, so every test can rely on them. `SHARED_SAMPLES`
is the optional folder of sample exports beside the repository (`<repo>/../shared/samples`, or
the folder named by FLEET_SHARED_SAMPLES): tests of it skip when it is not there.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from fleet.ingest.models import ImportRecord
from fleet.models import Device, Occurrence, Tenant

REPO = Path(__file__).resolve().parents[3]
EXPORTS = REPO / "tests" / "data" / "exports"
EXPECTED: dict[str, dict] = json.loads((EXPORTS / "EXPECTED.json").read_text())["exports"]
SHARED_SAMPLES = Path(
    os.environ.get("FLEET_SHARED_SAMPLES") or REPO.parent / "shared" / "samples"
).resolve()
SUCCESS = "0x00000000"


def failures(expected: dict) -> dict[str, int]:
    """The per-code counts of the occurrences an import stores (success rows are not)."""
    return {code: n for code, n in expected["by_code"].items() if code != SUCCESS}


def rejected_lines(expected: dict) -> list[int]:
    """File lines of the invalid rows: data row N is line N + 1, under the header."""
    return [row + 1 for row, _words in expected["invalid"]]


def created(expected: dict) -> int:
    return sum(failures(expected).values())


def assert_imported_as_expected(summary: dict, expected: dict, tenant: Tenant) -> None:
    """`summary` (import_report --json) and the database hold exactly the expected counts."""
    success = expected["by_code"].get(SUCCESS, 0)
    assert summary["format"] == expected["format"]
    assert summary["encoding"] == expected.get("encoding", "utf-8")
    assert summary["rows"] == expected["rows"]
    assert summary["created"] == expected["valid"] - success == created(expected)
    assert summary["success_rows"] == success
    assert summary["duplicates"] == expected.get("duplicates", 0)
    assert summary["by_code"] == failures(expected)
    assert summary["devices"] == expected["devices"]
    assert summary["devices_created"] == expected["devices"]
    assert [r["line"] for r in summary["rejected"]] == rejected_lines(expected)
    for reject, (_row, words) in zip(summary["rejected"], expected["invalid"], strict=True):
        for word in words:
            assert word in reject["reason"], (word, reject)
    stored = Occurrence.objects.filter(tenant=tenant)
    assert stored.count() == summary["created"]
    assert {f"0x{c:08X}" for c in stored.values_list("code", flat=True)} == set(failures(expected))
    assert Device.objects.filter(tenant=tenant).count() == expected["devices"]
    record = ImportRecord.objects.get(pk=summary["import_id"])
    assert record.status == ImportRecord.Status.DONE
    assert record.created == summary["created"]
    assert len(record.sha256) == 64


def stored_occurrences(tenant: Tenant) -> list[dict]:
    """The tenant's occurrences in EXPECTED.json's `occurrences` shape and order."""
    rows = [
        {
            "device": occurrence.device.name_key,
            "code": f"0x{occurrence.code:08X}",
            "extension": occurrence.code_extension,
            "occurred_at": occurrence.occurred_at.isoformat(),
            "kb": occurrence.kb,
        }
        for occurrence in Occurrence.objects.filter(tenant=tenant).select_related("device")
    ]
    return sorted(rows, key=lambda row: tuple(row.values()))


def report_csv(path: Path, rows: int, pad_to: int = 0) -> Path:
    """A ConfigMgr-style export of `rows` distinct failures on 30 devices; `pad_to` widens a
    free-text column until the file is about that big."""
    padding = "x" * max(0, pad_to // max(rows, 1))
    lines = ["MachineName,LastEnforcementTime,ErrorCode,Notes"]
    lines += [
        f"CSV-{n % 30:03d},2026-11-20 {n % 24:02d}:{n % 60:02d}:00,0x8024{n % 16:04X},{n}{padding}"
        for n in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path
