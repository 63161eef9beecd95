#!/usr/bin/env python3
"""Write the synthetic exports the ingest tests import, and the counts each must import to.

    python3 scripts/make_test_exports.py            # rewrites tests/data/exports/
    python3 scripts/make_test_exports.py --out DIR  # somewhere else (the test compares)

One file per export format the importer knows (Intune feature update failures, Intune expedited
update failures, WUfB reports UCUpdateAlert, WSUS SUSDB events, ConfigMgr deployment status),
with the header layout each export is documented to have (docs/ingest.md, Formats) and the
quirks real exports show: success rows, blank and no-value codes, malformed codes, signed and
unsigned decimal codes, setup extended codes, FQDN and mixed-case device names, KB numbers in
update titles, all-quoted, minimally quoted and unquoted CSV, CRLF and LF, an exact repeat of a
row, and each format's own date notation. Tenants, devices and GUIDs are invented.

Every row is built from what it is meant to be (its device, its code value, its time, or why it
must be rejected), and EXPECTED.json is counted from those intentions, never by reading the
files back, so it checks the importer instead of repeating it. Standard library only; all
randomness comes from one seeded `random.Random` through `random()` alone, whose sequence Python
keeps stable across versions, so a run writes the same bytes every time
(tests/fleet/ingest/test_exports.py holds the committed files to that).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import random
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "tests" / "data" / "exports"
SEED = 12

T = TypeVar("T")

# Code value: (alert name as Intune and WUfB reports label it, symbolic name, what happened in
# our words).
FAILURES: dict[int, tuple[str, str, str]] = {
    0x8024000B: ("InstallCancelled", "WU_E_CALL_CANCELLED", "The installation was cancelled."),
    0x80240022: ("InstallIssue", "WU_E_ALL_UPDATES_FAILED", "No update of the set installed."),
    0x8024402C: (
        "DownloadConnectionIssue",
        "WU_E_PT_WINHTTP_NAME_NOT_RESOLVED",
        "The update service's name did not resolve, so nothing was downloaded.",
    ),
    0x80244022: (
        "DownloadTimeout",
        "WU_E_PT_HTTP_STATUS_SERVICE_UNAVAIL",
        "The update service kept answering 503 (busy) and the download gave up.",
    ),
    0x80070002: ("FileNotFound", "ERROR_FILE_NOT_FOUND", "A file the update needs is missing."),
    0x80070005: ("InstallIssue", "ERROR_ACCESS_DENIED", "Writing a file of the update was denied."),
    0x800F0922: (
        "InstallSetupError",
        "CBS_E_INSTALLERS_FAILED",
        "Servicing could not finish, for example with a full system reserved partition.",
    ),
    0x80073712: (
        "WUComponentMissing",
        "ERROR_SXS_COMPONENT_STORE_CORRUPT",
        "The component store is damaged.",
    ),
    0x8024A105: ("WUIssue", "", "The automatic updates component reported an error."),
    0x80246007: ("DownloadIssue", "WU_E_DM_NOTDOWNLOADED", "The update was never downloaded."),
    0xC1900101: ("RollbackInitiated", "", "A driver failed during setup and Windows rolled back."),
}
COMMON_CODES = [0x8024000B, 0x80240022, 0x8024402C, 0x80244022, 0x800F0922, 0x80073712]
OTHER_CODES = [0x80070002, 0x80070005, 0x8024A105, 0x80246007, 0xC1900101]
# Intune's numeric AlertMessage values in the expedited report; the numbers are our own.
ALERT_NUMBERS = {
    name: str(n) for n, name in enumerate(sorted({a for a, _s, _d in FAILURES.values()}), 2)
}


class Dice:
    """Seeded choices made with `random()` only, the one method whose sequence Python keeps."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)

    def below(self, n: int) -> int:
        return int(self._random.random() * n)

    def between(self, low: int, high: int) -> int:
        return low + self.below(high - low + 1)

    def pick(self, items: Sequence[T]) -> T:
        return items[self.below(len(items))]

    def failure_code(self) -> int:
        # Three in four rows carry one of the common codes, as storms of one code do.
        return self.pick(COMMON_CODES) if self.below(4) else self.pick(OTHER_CODES)


def guid(*parts: object) -> uuid.UUID:
    """A stable version-4 GUID named by `parts` (the same device keeps its id in every row)."""
    digest = hashlib.sha256("|".join(map(str, (SEED, *parts))).encode()).digest()
    return uuid.UUID(bytes=digest[:16], version=4)


def signed(value: int) -> int:
    return value - (1 << 32) if value & 0x80000000 else value


def name_key(hostname: str) -> str:
    """The device a name stands for: its host part, case-insensitive (no IP names here)."""
    return hostname.split("\\")[-1].split(".", 1)[0].lower()


def iso_millis(moment: datetime) -> str:
    """SQL Server `datetime` as Invoke-Sqlcmd and SSMS print it: `2025-01-15 02:16:00.870`."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def iso_7(moment: datetime) -> str:
    """Intune's `2025-03-04 09:26:03.0000000` (seven fraction digits, here whole microseconds)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond:06d}0"


def portal_time(moment: datetime) -> str:
    """The Azure portal's US notation, `2/18/2025, 9:06:43.009 AM` (no leading zeros)."""
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    return (
        f"{moment.month}/{moment.day}/{moment.year}, {hour}:{moment.minute:02d}:"
        f"{moment.second:02d}.{moment.microsecond // 1000:03d} {half}"
    )


@dataclass
class Row:
    """One data row as written, and what it is meant to be."""

    fields: dict[str, str]
    device: str = ""  # the device's name key
    code: int | None = None  # the value the code text stands for
    extension: str = ""
    occurred_at: datetime | None = None  # the failure's time; None for success rows
    kb: str = ""
    reject: list[str] | None = None  # words the rejection reason must contain
    duplicate: bool = False  # an exact repeat of an earlier row


@dataclass
class Export:
    file_name: str
    format: str
    header: list[str]
    device_column: str
    quoting: int
    line_end: str
    rows: list[Row] = field(default_factory=list)

    def text(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, quoting=self.quoting, lineterminator=self.line_end)
        writer.writerow(self.header)
        for row in self.rows:
            assert set(row.fields) == set(self.header), sorted(set(row.fields) ^ set(self.header))
            writer.writerow([row.fields[name] for name in self.header])
        return buffer.getvalue()

    def expected(self) -> dict:
        """The counts of docs/ingest.md's Summary, from the rows' intentions."""
        invalid, occurrences, aliases = [], [], {}
        by_code: Counter[str] = Counter()
        devices: set[str] = set()
        duplicates = 0
        seen: list[list[str]] = []
        for number, row in enumerate(self.rows, 1):
            values = [row.fields[name] for name in self.header]
            if row.duplicate:
                assert values in seen, f"{self.file_name} row {number} repeats no earlier row"
                duplicates += 1
                continue
            assert values not in seen, f"{self.file_name} row {number} is an unplanned repeat"
            seen.append(values)
            if row.reject is not None:
                invalid.append([number, row.reject])
                continue
            assert row.device and row.code is not None
            devices.add(row.device)
            by_code[f"0x{row.code:08X}"] += 1
            assert name_key(row.fields[self.device_column]) == row.device
            aliases.setdefault(row.device, set()).add(row.fields[self.device_column])
            if row.code:
                assert row.occurred_at is not None
                occurrences.append(
                    {
                        "device": row.device,
                        "code": f"0x{row.code:08X}",
                        "extension": row.extension,
                        "occurred_at": row.occurred_at.isoformat(),
                        "kb": row.kb,
                    }
                )
        return {
            "format": self.format,
            "encoding": "utf-8",
            "rows": len(self.rows),
            "valid": sum(by_code.values()),
            "duplicates": duplicates,
            "devices": len(devices),
            "by_code": dict(sorted(by_code.items())),
            "invalid": invalid,
            # Devices written more than one way: every spelling must land on one device.
            "aliases": {
                key: sorted(names) for key, names in sorted(aliases.items()) if len(names) > 1
            },
            "occurrences": sorted(occurrences, key=lambda o: tuple(o.values())),
        }


def plan(total: int, quirks: dict[int, str]) -> list[str]:
    """Row kinds by data row number (1-based): the quirk rows where given, failures elsewhere."""
    return [quirks.get(number, "failure") for number in range(1, total + 1)]


def intune_feature(dice: Dice) -> Export:
    """DeviceFailuresByFeatureUpdatePolicy: all-quoted, CRLF, seven-digit fractions."""
    export = Export(
        "intune_feature_update_failures.csv",
        "intune_feature_update_failures",
        [
            "PolicyId",
            "PolicyName",
            "FeatureUpdateVersion",
            "DeviceId",
            "AADDeviceId",
            "AlertId",
            "EventDateTimeUTC",
            "LastUpdatedAlertStatusDateTimeUTC",
            "AlertType",
            "AlertStatus",
            "AlertClassification",
            "WindowsUpdateVersion",
            "Build",
            "AlertMessage",
            "AlertMessageDescription",
            "AlertMessageData",
            "Win32ErrorCode",
            "RecommendedAction",
            "ExtendedRecommendedAction",
            "StartDateTimeUTC",
            "ResolvedDateTimeUTC",
            "DeviceName",
            "UPN",
        ],
        "DeviceName",
        csv.QUOTE_ALL,
        "\r\n",
    )
    devices = [f"ADATUM-{('LT', 'DT', 'WS')[n % 3]}-{n:04d}" for n in range(101, 116)]
    policy = guid("feature-policy")
    moment = datetime(2025, 3, 4, 6, 12, 40, tzinfo=UTC)
    kinds = plan(
        32,
        {
            4: "success",
            9: "blank",
            14: "lowercase",
            17: "start-only",
            21: "malformed",
            26: "success",
            29: "other-case",
        },
    )
    for number, kind in enumerate(kinds, 1):
        moment += timedelta(minutes=dice.between(9, 55), seconds=dice.between(0, 59))
        hostname = devices[number - 1] if number <= len(devices) else dice.pick(devices)
        if kind == "other-case":
            hostname = hostname.lower()
        # Lower-case hex needs a code with letters in it.
        fixed = {"success": 0, "lowercase": 0x8024A105}
        code = fixed[kind] if kind in fixed else dice.failure_code()
        alert, _symbol, text = FAILURES.get(code, ("SafeguardHold", "", ""))
        # Whole seconds as Intune mostly writes them, and now and then a fraction.
        event = moment.replace(microsecond=dice.below(1000) * 1000 if number % 3 == 0 else 0)
        start = event - timedelta(minutes=5)
        written = {
            "success": "0",
            "blank": "",
            "lowercase": f"0x{code:08x}",
            "malformed": "0x8024G00B",
        }.get(kind, f"0x{code:08X}")
        row = Row(
            {
                "PolicyId": str(policy),
                "PolicyName": "Windows 11 24H2 - pilot ring",
                "FeatureUpdateVersion": "Windows 11, version 24H2",
                "DeviceId": str(guid("intune", name_key(hostname))),
                "AADDeviceId": str(guid("entra", name_key(hostname))),
                "AlertId": guid("feature-alert", number).hex,
                "EventDateTimeUTC": "" if kind == "start-only" else iso_7(event),
                "LastUpdatedAlertStatusDateTimeUTC": iso_7(event + timedelta(hours=2)),
                "AlertType": "ClientUpdateAlert",
                "AlertStatus": "Active",
                "AlertClassification": "Informational" if kind == "success" else "Error",
                "WindowsUpdateVersion": "Windows 10, version 22H2",
                "Build": f"10.0.19045.{dice.pick(['4291', '4412', '4529'])}",
                "AlertMessage": alert,
                "AlertMessageDescription": text or "The update is held back on this device.",
                "AlertMessageData": "",
                "Win32ErrorCode": written,
                "RecommendedAction": "Retry the update; if it fails again, collect the logs.",
                "ExtendedRecommendedAction": "",
                "StartDateTimeUTC": iso_7(start),
                "ResolvedDateTimeUTC": "",
                "DeviceName": hostname,
                "UPN": f"{name_key(hostname).replace('-', '.')}@adatum.example",
            },
            device=name_key(hostname),
            code=code,
            # The event time, or the start time when the export left the event time blank.
            occurred_at=None if code == 0 else (start if kind == "start-only" else event),
        )
        if kind == "blank":
            row.reject = ["Win32ErrorCode", "blank"]
        elif kind == "malformed":
            row.reject = ["0x8024G00B"]
        export.rows.append(row)
    return export


def intune_expedited(dice: Dice) -> Export:
    """QualityUpdateDeviceErrorsByPolicy: numeric AlertMessage with its `_loc` text, a release
    date as the only time, one row per device and policy."""
    export = Export(
        "intune_expedited_update_failures.csv",
        "intune_expedited_update_failures",
        [
            "PolicyId",
            "DeviceName",
            "AlertMessage",
            "AlertMessage_loc",
            "Win32ErrorCode",
            "UPN",
            "ExpediteQUReleaseDate",
            "DeviceId",
        ],
        "DeviceName",
        csv.QUOTE_ALL,
        "\r\n",
    )
    devices = [f"PROSEWARE-{('LT', 'DT')[n % 2]}-{n:04d}" for n in range(401, 415)]
    policies = [
        (guid("expedite", "march"), date(2025, 3, 11)),
        (guid("expedite", "april"), date(2025, 4, 8)),
    ]
    pairs = [(policy, device) for policy in policies for device in devices]
    kinds = plan(26, {3: "success", 11: "blank", 19: "not-applicable"})
    for kind in kinds:
        (policy, released), hostname = pairs.pop(dice.below(len(pairs)))
        code = 0 if kind == "success" else dice.failure_code()
        alert = FAILURES[code][0] if code else "WUIssue"
        written = {"success": "0", "blank": "", "not-applicable": "N/A"}.get(kind, f"0x{code:08X}")
        row = Row(
            {
                "PolicyId": str(policy),
                "DeviceName": hostname,
                "AlertMessage": ALERT_NUMBERS[alert],
                "AlertMessage_loc": alert,
                "Win32ErrorCode": written,
                "UPN": f"{name_key(hostname).replace('-', '.')}@proseware.example",
                "ExpediteQUReleaseDate": released.isoformat(),
                "DeviceId": str(guid("intune", name_key(hostname))),
            },
            device=name_key(hostname),
            code=code,
            # The export has no event time: the release date, at midnight UTC, stands for it.
            occurred_at=None if code == 0 else datetime.combine(released, datetime.min.time(), UTC),
        )
        if kind in ("blank", "not-applicable"):  # N/A is a no-value literal, not a bad code
            row.reject = ["Win32ErrorCode", "blank"]
        export.rows.append(row)
    return export


def wufb_alerts(dice: Dice) -> Export:
    """UCUpdateAlert from Log Analytics: minimal quoting (dates and texts with commas, JSON with
    quotes), LF, ` [UTC]` headers, the portal's 12-hour US times, setup extended codes."""
    export = Export(
        "wufb_ucupdatealert.csv",
        "wufb_ucupdatealert",
        [
            "TenantId",
            "TimeGenerated [UTC]",
            "AlertClassification",
            "AlertData",
            "AlertId",
            "AlertRank",
            "AlertStatus",
            "AlertSubtype",
            "AlertType",
            "AzureADDeviceId",
            "AzureADTenantId",
            "CatalogId",
            "ClientSubstate",
            "ClientSubstateRank",
            "DeploymentId",
            "Description",
            "DeviceName",
            "ErrorCode",
            "ErrorSymName",
            "GlobalDeviceId",
            "Recommendation",
            "ResolvedTime [UTC]",
            "SCCMClientId",
            "ServiceSubstate",
            "ServiceSubstateRank",
            "SourceSystem",
            "StartTime [UTC]",
            "TargetBuild",
            "TargetVersion",
            "UpdateCategory",
            "UpdateClassification",
            "UpdateId",
            "URL",
            "Type",
        ],
        "DeviceName",
        csv.QUOTE_MINIMAL,
        "\n",
    )
    tenant = guid("wufb-tenant")
    devices = [f"WINGTIP-{('DT', 'LT')[n % 2]}-{n:04d}" for n in range(201, 214)]
    # Times cross noon and midnight, where 12-hour clocks go wrong.
    moment = datetime(2025, 2, 18, 8, 41, 7, tzinfo=UTC)
    kinds = plan(
        34,
        {
            5: "extended",
            8: "informational",
            13: "noon",
            19: "informational",
            23: "extended-hex",
            27: "malformed",
            30: "midnight",
        },
    )
    for number, kind in enumerate(kinds, 1):
        moment += timedelta(minutes=dice.between(11, 47), seconds=dice.between(0, 59))
        if kind == "noon":
            moment = moment.replace(hour=12)
        elif kind == "midnight":
            moment = (moment + timedelta(days=1)).replace(hour=0)
        generated = moment.replace(microsecond=dice.below(1000) * 1000)
        started = generated - timedelta(hours=3) if kind not in ("noon", "midnight") else generated
        hostname = devices[number - 1] if number <= len(devices) else dice.pick(devices)
        code = 0xC1900101 if kind.startswith("extended") else dice.failure_code()
        extension = {"extended": "30018", "extended-hex": "C3FD"}.get(kind, "")
        alert, symbol, text = FAILURES[code]
        if kind == "informational":
            alert, symbol, text = (
                "EndOfServiceApproaching",
                "",
                "This Windows version leaves servicing soon, plan the upgrade.",
            )
        written = {
            "informational": "",
            "malformed": "0x8024-000B",
        }.get(kind, f"0x{code:08X}" + (f"_{extension}" if extension else ""))
        data = (
            ""
            if kind == "informational"
            else json.dumps(
                {"ErrorCode": written, "Attempt": dice.between(1, 3)}, separators=(",", ":")
            )
        )
        row = Row(
            {
                "TenantId": str(tenant),
                "TimeGenerated [UTC]": portal_time(generated),
                "AlertClassification": "Informational" if kind == "informational" else "Error",
                "AlertData": data,
                "AlertId": guid("wufb-alert", number).hex,
                "AlertRank": "1000" if kind == "informational" else "1500",
                "AlertStatus": "Active",
                "AlertSubtype": alert,
                "AlertType": "ClientUpdateAlert",
                "AzureADDeviceId": str(guid("entra", name_key(hostname))),
                "AzureADTenantId": str(tenant),
                "CatalogId": "",
                "ClientSubstate": "" if kind == "informational" else "InstallStart",
                "ClientSubstateRank": "" if kind == "informational" else "2600",
                "DeploymentId": str(guid("wufb-deployment", number % 3)),
                "Description": text,
                "DeviceName": hostname,
                "ErrorCode": written,
                "ErrorSymName": symbol,
                "GlobalDeviceId": f"g:{int(guid('global', hostname).hex[:13], 16)}",
                "Recommendation": "Retry the installation, then check the setup logs.",
                "ResolvedTime [UTC]": "",
                "SCCMClientId": str(guid("sccm", hostname)).upper(),
                "ServiceSubstate": "",
                "ServiceSubstateRank": "",
                "SourceSystem": "Azure",
                "StartTime [UTC]": portal_time(started),
                "TargetBuild": "10.0.26100.3194",
                "TargetVersion": "24H2",
                "UpdateCategory": "WindowsFeatureUpdate",
                "UpdateClassification": "Upgrade",
                "UpdateId": "",
                "URL": "aka.ms/errordetail",
                "Type": "UCUpdateAlert",
            },
            device=name_key(hostname),
            code=code,
            extension=extension,
            occurred_at=started,  # the alert's start, not when Log Analytics logged it
        )
        if kind == "informational":
            row.reject = ["ErrorCode", "blank"]
        elif kind == "malformed":
            row.reject = ["0x8024-000B"]
        export.rows.append(row)
    return export


WSUS_TITLES = [
    (
        "2025-01 Cumulative Update for Windows Server 2022 for x64-based Systems (KB5049983)",
        "KB5049983",
    ),
    (
        "2025-01 Servicing Stack Update for Windows Server 2019 for x64-based Systems (KB5050110)",
        "KB5050110",
    ),
    (
        "Security Intelligence Update for Microsoft Defender Antivirus - KB2267602"
        " (Version 1.421.1.0)",
        "KB2267602",
    ),
    ("Windows Malicious Software Removal Tool x64 - v5.130 (KB890830)", "KB890830"),
    (
        "Microsoft Edge-Stable Channel Version 132 Update for x64 based Editions"
        " (Build 132.0.2957.115)",
        "",
    ),
]


FAILED_TEMPLATE = (
    "Installation Failure: Windows failed to install the following update with error %1: %2."
)
INSTALLED_TEMPLATE = (
    "Installation Successful: Windows successfully installed the following update: %1"
)


def wsus_events(dice: Dice) -> Export:
    """SUSDB tbEventInstance through Invoke-Sqlcmd | Export-Csv: all-quoted, CRLF, signed
    decimal Win32HResult, FQDN clients in mixed case, NULL written as an empty field."""
    export = Export(
        "wsus_susdb_event_errors.csv",
        "wsus_susdb_events",
        [
            "EventInstanceID",
            "EventID",
            "MessageTemplate",
            "DefaultTitle",
            "Client",
            "WSUSServer",
            "Source",
            "TimeAtTarget",
            "TimeAtServer",
            "Win32HResult",
            "AppName",
            "MiscData",
            "ReplacementStrings",
            "RevisionNumber",
            "EventOrdinalNumber",
            "StateID",
            "SeverityID",
            "LogLevel",
            "EventNameSpace",
            "ComputerID",
            "UpdateID",
            "State",
        ],
        "Client",
        csv.QUOTE_ALL,
        "\r\n",
    )
    hosts = [f"woodgrove-srv-{n:02d}" for n in range(1, 14)]
    moment = datetime(2025, 1, 15, 1, 50, 12, tzinfo=UTC)
    kinds = plan(
        36,
        {
            3: "success",
            9: "other-case",
            16: "success",
            22: "null",
            27: "upper-domain",
            33: "success",
        },
    )
    for number, kind in enumerate(kinds, 1):
        moment += timedelta(minutes=dice.between(14, 61), seconds=dice.between(0, 59))
        at_target = moment.replace(microsecond=dice.below(1000) * 1000)
        host = hosts[number - 1] if number <= len(hosts) else dice.pick(hosts)
        client = {
            "other-case": f"{host.upper()}.corp.woodgrove.local",
            "upper-domain": f"{host.upper()}.CORP.WOODGROVE.LOCAL",
        }.get(kind, f"{host}.corp.woodgrove.local")
        title, kb = dice.pick(WSUS_TITLES)
        code = 0 if kind == "success" else dice.failure_code()
        failed = code != 0
        written = "" if kind == "null" else str(signed(code))
        row = Row(
            {
                "EventInstanceID": str(3_000_000 + number * 7919 + dice.below(5000)),
                "EventID": "182" if failed else "183",
                "MessageTemplate": FAILED_TEMPLATE if failed else INSTALLED_TEMPLATE,
                "DefaultTitle": title,
                "Client": client,
                "WSUSServer": "WSUS-HQ",
                "Source": "Windows Update Agent",
                "TimeAtTarget": iso_millis(at_target),
                "TimeAtServer": iso_millis(at_target + timedelta(minutes=dice.between(1, 20))),
                "Win32HResult": written,
                "AppName": "AutomaticUpdates",
                "MiscData": "",
                "ReplacementStrings": f"0x{code:08x}|{title}" if failed else title,
                "RevisionNumber": str(200 + dice.below(9)),
                "EventOrdinalNumber": "0",
                "StateID": "1" if failed else "0",
                "SeverityID": "3" if failed else "1",
                "LogLevel": "1",
                "EventNameSpace": "Client",
                "ComputerID": str(guid("wsus-computer", host)),
                "UpdateID": str(guid("wsus-update", title)),
                "State": "Failed" if failed else "Installed",
            },
            device=host,
            code=code,
            occurred_at=at_target if failed else None,
            kb=kb,
        )
        if kind == "null":
            row.reject = ["Win32HResult", "blank"]
        export.rows.append(row)
    return export


def configmgr_status(dice: Dice) -> Export:
    """A ConfigMgr deployment-error query saved from SSMS: unquoted, CRLF, `NULL` literals,
    lowercase hex ErrorCode beside the signed ErrorCodeInt, one exact repeat of a row."""
    export = Export(
        "configmgr_update_deployment_status.csv",
        "configmgr_deployment_errors",
        [
            "MachineName",
            "UserName",
            "LastEnforcementTime",
            "ErrorStatusID",
            "ErrorCode",
            "ErrorCodeInt",
            "MessageName",
        ],
        "MachineName",
        csv.QUOTE_MINIMAL,
        "\r\n",
    )
    machines = [f"LITWARE-{('SRV', 'WKS')[n % 2]}-{n:04d}" for n in range(301, 317)]
    users = ["LITWARE\\jdoe", "LITWARE\\svc_patch", "LITWARE\\akumar", "NULL"]
    moment = datetime(2025, 2, 12, 18, 3, 26, tzinfo=UTC)
    kinds = plan(
        38,
        {
            2: "success",
            7: "int-only",
            12: "both-null",
            15: "success",
            18: "unsigned-only",
            20: "no-machine",
            24: "repeat",
            29: "hex-broken",
            33: "success",
        },
    )
    for number, kind in enumerate(kinds, 1):
        if kind == "repeat":
            earlier = next(r for r in export.rows if r.code and r.reject is None)
            export.rows.append(Row(dict(earlier.fields), duplicate=True))
            continue
        moment += timedelta(minutes=dice.between(12, 58), seconds=dice.between(0, 59))
        enforced = moment.replace(microsecond=dice.below(1000) * 1000)
        machine = machines[number - 1] if number <= len(machines) else dice.pick(machines)
        code = 0 if kind == "success" else dice.failure_code()
        hex_text, int_text = {
            "int-only": ("NULL", str(signed(code))),
            "unsigned-only": ("NULL", str(code)),  # WMI's UInt32 properties print this way
            "both-null": ("NULL", "NULL"),
            "hex-broken": ("0x", "#Error"),
        }.get(kind, (f"0x{code:08x}", str(signed(code))))
        row = Row(
            {
                "MachineName": "NULL" if kind == "no-machine" else machine,
                "UserName": dice.pick(users),
                "LastEnforcementTime": iso_millis(enforced),
                "ErrorStatusID": "0" if code == 0 else "11756",
                "ErrorCode": hex_text,
                "ErrorCodeInt": int_text,
                "MessageName": "Succeeded" if code == 0 else "Failed to install update(s)",
            },
            device=name_key(machine),
            code=code,
            occurred_at=enforced if code else None,
        )
        row.reject = {
            "both-null": ["ErrorCode", "ErrorCodeInt", "blank"],
            "no-machine": ["MachineName", "blank"],
            "hex-broken": ["ErrorCode", "'0x'"],
        }.get(kind)
        # SSMS quotes nothing, so no value may hold the delimiter or a quote.
        assert not any("," in v or '"' in v for v in row.fields.values()), row.fields
        export.rows.append(row)
    return export


def intune_feature_state(dice: Dice) -> Export:
    """FeatureUpdateDeviceState: every device of a feature update profile with its state, all
    quoted, CRLF. No error code column: a failing device's code is in its latest alert's text
    (hex or signed decimal), healthy devices and alerts without a code are success rows."""
    export = Export(
        "intune_feature_update_state.csv",
        "intune_feature_update_state",
        [
            "PolicyId",
            "PolicyName",
            "FeatureUpdateVersion",
            "DeviceId",
            "AADDeviceId",
            "PartnerPolicyId",
            "EventDateTimeUTC",
            "LastSuccessfulDeviceUpdateStatus",
            "LastSuccessfulDeviceUpdateSubstatus",
            "LastSuccessfulDeviceUpdateStatusEventDateTimeUTC",
            "CurrentDeviceUpdateStatus",
            "CurrentDeviceUpdateSubstatus",
            "CurrentDeviceUpdateStatusEventDateTimeUTC",
            "LatestAlertMessage",
            "LatestAlertMessageDescription",
            "LatestAlertRecommendedAction",
            "LatestAlertExtendedRecommendedAction",
            "UpdateCategory",
            "WindowsUpdateVersion",
            "LastWUScanTimeUTC",
            "Build",
            "DeviceName",
            "OwnerType",
            "UPN",
            "AggregateState",
        ],
        "DeviceName",
        csv.QUOTE_ALL,
        "\r\n",
    )
    devices = [f"FABRIKAM-{('LT', 'DT')[n % 2]}-{n:04d}" for n in range(601, 624)]
    policy = guid("feature-state-policy")
    moment = datetime(2025, 3, 9, 7, 5, 11, tzinfo=UTC)
    kinds = plan(
        24,
        {
            2: "installed",
            5: "offering",
            7: "decimal",
            9: "installed",
            11: "no-device",
            13: "hold",
            16: "installed",
            18: "extended",
            20: "repeat",
            22: "offering",
        },
    )
    for kind in kinds:
        if kind == "repeat":
            earlier = next(r for r in export.rows if r.code and r.reject is None)
            export.rows.append(Row(dict(earlier.fields), duplicate=True))
            continue
        moment += timedelta(minutes=dice.between(7, 50), seconds=dice.between(0, 59))
        hostname = devices.pop(0)
        healthy = kind in ("installed", "offering", "hold")
        code = 0 if healthy else (0xC1900101 if kind == "extended" else dice.failure_code())
        extension = "4000D" if kind == "extended" else ""
        alert, _symbol, text = FAILURES.get(code, ("", "", ""))
        written = {
            "decimal": str(signed(code)),
            "extended": f"0x{code:08X}-0x{extension}",
        }.get(kind, f"0x{code:08X}")
        status, substatus, aggregate = {
            "installed": ("Installed", "UpdateInstalled", "Success"),
            "offering": ("Offering", "OfferReady", "In progress"),
            "hold": ("Offering", "OnHold", "In progress"),
        }.get(kind, ("Installing", "InstallFailed", "Error"))
        if kind == "hold":  # an alert, but no error code in it: a state, not a failure
            alert, text = "SafeguardHold", "A known issue holds the update back on this device."
        description = f"{text} Error {written}." if code else text
        changed = moment - timedelta(hours=dice.between(1, 9))
        row = Row(
            {
                "PolicyId": str(policy),
                "PolicyName": "Windows 11 24H2 - broad",
                "FeatureUpdateVersion": "Windows 11, version 24H2",
                "DeviceId": str(guid("intune", name_key(hostname))),
                "AADDeviceId": str(guid("entra", name_key(hostname))),
                "PartnerPolicyId": str(guid("partner", policy)),
                "EventDateTimeUTC": iso_7(moment),
                "LastSuccessfulDeviceUpdateStatus": "Installed" if kind == "installed" else "",
                "LastSuccessfulDeviceUpdateSubstatus": "",
                "LastSuccessfulDeviceUpdateStatusEventDateTimeUTC": "",
                "CurrentDeviceUpdateStatus": status,
                "CurrentDeviceUpdateSubstatus": substatus,
                "CurrentDeviceUpdateStatusEventDateTimeUTC": iso_7(changed),
                "LatestAlertMessage": alert,
                "LatestAlertMessageDescription": description,
                "LatestAlertRecommendedAction": "Collect the setup logs." if code else "",
                "LatestAlertExtendedRecommendedAction": "",
                "UpdateCategory": "Feature",
                "WindowsUpdateVersion": "Windows 10, version 22H2",
                "LastWUScanTimeUTC": iso_7(moment - timedelta(minutes=30)),
                "Build": f"10.0.19045.{dice.pick(['4291', '4412', '4529'])}",
                "DeviceName": "" if kind == "no-device" else hostname,
                "OwnerType": "Corporate",
                "UPN": f"{name_key(hostname).replace('-', '.')}@fabrikam.example",
                "AggregateState": aggregate,
            },
            device=name_key(hostname),
            code=code,
            extension=extension,
            occurred_at=changed if code else None,  # when the device entered its state
        )
        if kind == "no-device":
            row.reject = ["DeviceName", "blank"]
        export.rows.append(row)
    return export


def intune_quality_state(dice: Dice) -> Export:
    """QualityUpdateDeviceStatusByPolicy: numeric states with their `_loc` texts; the numeric
    LatestAlertMessage must never be read as a code, its `_loc` text carries it (hex or
    unsigned decimal) when the device failed."""
    export = Export(
        "intune_quality_update_state.csv",
        "intune_quality_update_state",
        [
            "PolicyId",
            "DeviceName",
            "UPN",
            "DeviceId",
            "AADDeviceId",
            "EventDateTimeUTC",
            "CurrentDeviceUpdateStatus",
            "CurrentDeviceUpdateStatus_loc",
            "CurrentDeviceUpdateSubstatus",
            "CurrentDeviceUpdateSubstatus_loc",
            "AggregateState",
            "AggregateState_loc",
            "LatestAlertMessage",
            "LatestAlertMessage_loc",
            "LastWUScanTimeUTC",
            "OwnerType",
        ],
        "DeviceName",
        csv.QUOTE_ALL,
        "\r\n",
    )
    devices = [f"TAILSPIN-{('LT', 'DT')[n % 2]}-{n:04d}" for n in range(701, 720)]
    policy = guid("quality-state-policy")
    moment = datetime(2025, 4, 9, 9, 14, 2, tzinfo=UTC)
    kinds = plan(
        18, {1: "installed", 4: "unsigned", 6: "installed", 10: "pending", 15: "no-device"}
    )
    for kind in kinds:
        moment += timedelta(minutes=dice.between(5, 40), seconds=dice.between(0, 59))
        hostname = devices.pop(0)
        code = 0 if kind in ("installed", "pending") else dice.failure_code()
        alert = FAILURES[code][0] if code else ""
        written = str(code) if kind == "unsigned" else f"0x{code:08X}"
        status, substatus, aggregate = {
            "installed": (("4", "Installed"), ("40", "UpdateInstalled"), ("1", "Success")),
            "pending": (("2", "Pending"), ("20", "DownloadStart"), ("2", "In progress")),
        }.get(kind, (("3", "Error"), ("31", "InstallFailed"), ("3", "Error")))
        row = Row(
            {
                "PolicyId": str(policy),
                "DeviceName": "" if kind == "no-device" else hostname,
                "UPN": f"{name_key(hostname).replace('-', '.')}@tailspin.example",
                "DeviceId": str(guid("intune", name_key(hostname))),
                "AADDeviceId": str(guid("entra", name_key(hostname))),
                "EventDateTimeUTC": iso_7(moment),
                "CurrentDeviceUpdateStatus": status[0],
                "CurrentDeviceUpdateStatus_loc": status[1],
                "CurrentDeviceUpdateSubstatus": substatus[0],
                "CurrentDeviceUpdateSubstatus_loc": substatus[1],
                "AggregateState": aggregate[0],
                "AggregateState_loc": aggregate[1],
                "LatestAlertMessage": ALERT_NUMBERS[alert] if code else "0",
                "LatestAlertMessage_loc": f"{alert} ({written})" if code else "",
                "LastWUScanTimeUTC": iso_7(moment + timedelta(minutes=20)),
                "OwnerType": "Corporate",
            },
            device=name_key(hostname),
            code=code,
            occurred_at=moment if code else None,
        )
        if kind == "no-device":
            row.reject = ["DeviceName", "blank"]
        export.rows.append(row)
    return export


def wufb_client_status(dice: Dice) -> Export:
    """UCClientUpdateStatus from Log Analytics: one row per device and update, a new
    TimeGenerated every daily snapshot, ` [UTC]` headers, portal times, LF. The table has no
    error code column; a row whose EventData JSON names one is a failure."""
    export = Export(
        "wufb_ucclientupdatestatus.csv",
        "wufb_ucclientupdatestatus",
        [
            "TenantId",
            "TimeGenerated [UTC]",
            "AzureADDeviceId",
            "AzureADTenantId",
            "ClientState",
            "ClientSubstate",
            "ClientSubstateRank",
            "ClientSubstateTime [UTC]",
            "DeploymentId",
            "DeviceName",
            "EventData",
            "FurthestClientSubstate",
            "GlobalDeviceId",
            "SourceSystem",
            "TargetBuild",
            "TargetKBNumber",
            "TargetVersion",
            "UpdateCategory",
            "UpdateClassification",
            "UpdateDisplayName",
            "Type",
        ],
        "DeviceName",
        csv.QUOTE_MINIMAL,
        "\n",
    )
    tenant = guid("wufb-tenant")
    devices = [f"WINGTIP-{('DT', 'LT')[n % 2]}-{n:04d}" for n in range(801, 822)]
    generated = datetime(2025, 2, 19, 2, 0, 0, tzinfo=UTC)  # one snapshot, one time
    moment = datetime(2025, 2, 18, 6, 20, 9, tzinfo=UTC)
    kinds = plan(20, {2: "installed", 3: "downloading", 8: "installed", 12: "no-device",
                      14: "downloading", 17: "installed"})  # fmt: skip
    for kind in kinds:
        moment += timedelta(minutes=dice.between(10, 45), seconds=dice.between(0, 59))
        hostname = devices.pop(0)
        code = 0 if kind in ("installed", "downloading") else dice.failure_code()
        state, substate = {
            "installed": ("Installed", "UpdateInstalled"),
            "downloading": ("Downloading", "DownloadStart"),
        }.get(kind, ("Failed", "InstallFailed"))
        data = json.dumps({"ErrorCode": f"0x{code:08X}"}, separators=(",", ":")) if code else ""
        row = Row(
            {
                "TenantId": str(tenant),
                "TimeGenerated [UTC]": portal_time(generated),
                "AzureADDeviceId": str(guid("entra", name_key(hostname))),
                "AzureADTenantId": str(tenant),
                "ClientState": state,
                "ClientSubstate": substate,
                "ClientSubstateRank": {"UpdateInstalled": "3000", "DownloadStart": "2300"}.get(
                    substate, "2650"
                ),
                "ClientSubstateTime [UTC]": portal_time(moment),
                "DeploymentId": str(guid("wufb-deployment", 7)),
                "DeviceName": "" if kind == "no-device" else hostname,
                "EventData": data,
                "FurthestClientSubstate": substate,
                "GlobalDeviceId": f"g:{int(guid('global', hostname).hex[:13], 16)}",
                "SourceSystem": "Azure",
                "TargetBuild": "10.0.26100.3194",
                "TargetKBNumber": "KB5051987",
                "TargetVersion": "24H2",
                "UpdateCategory": "WindowsQualityUpdate",
                "UpdateClassification": "Security",
                "UpdateDisplayName": "2025-02 Cumulative Update for Windows 11 (KB5051987)",
                "Type": "UCClientUpdateStatus",
            },
            device=name_key(hostname),
            code=code,
            occurred_at=moment if code else None,  # the client's state change, not the snapshot
            kb="KB5051987" if code else "",
        )
        if kind == "no-device":
            row.reject = ["DeviceName", "blank"]
        export.rows.append(row)
    return export


BUILDERS: list[Callable[[Dice], Export]] = [
    intune_feature,
    intune_expedited,
    wufb_alerts,
    wsus_events,
    configmgr_status,
    # New builders go last: the shared dice keep the earlier files byte for byte.
    intune_feature_state,
    intune_quality_state,
    wufb_client_status,
]


def build(seed: int = SEED) -> dict[str, bytes]:
    """Every file this script writes, by name, as bytes."""
    dice = Dice(seed)
    files: dict[str, bytes] = {}
    expected: dict[str, dict] = {}
    for builder in BUILDERS:
        export = builder(dice)
        files[export.file_name] = export.text().encode("utf-8")
        expected[export.file_name] = export.expected()
    document = {
        "about": (
            "Written by scripts/make_test_exports.py from what each row was meant to be. "
            "Row numbers are 1-based data rows (file line = row + 1). 'valid' counts distinct "
            "valid rows, success (0x00000000) rows included; 'occurrences' lists the failures "
            "that must be stored."
        ),
        "seed": seed,
        "exports": dict(sorted(expected.items())),
    }
    files["EXPECTED.json"] = (json.dumps(document, indent=2) + "\n").encode("utf-8")
    return files


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder to write into")
    parser.add_argument("--seed", type=int, default=SEED, help="change only to explore")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, content in build(args.seed).items():
        (args.out / name).write_bytes(content)
        print(f"wrote {args.out / name} ({len(content):,} bytes)")


if __name__ == "__main__":
    main()
