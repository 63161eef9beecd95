"""The export formats we import: which columns hold the device, code and time, and how each
format is recognised from its header row.

Headers are compared after `normalize_header`: case, spaces, punctuation and a trailing unit
such as ` [UTC]` are ignored, so `TimeGenerated [UTC]`, `timegenerated` and `Time Generated`
are one column. `X_loc` columns (Intune's localized twins) never stand in for `X`.

State reports (Intune's device state reports, WUfB's UCClientUpdateStatus) have no error code
column: their code columns are alert and state texts (`code_in_text`), a row whose text carries
no error code is a healthy state (counted like a success row, never an occurrence), and their
dedupe key is built from the columns that name the state (`identity`), never from the scan or
snapshot times that change on every export of the same state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


def normalize_header(name: str) -> str:
    name = re.sub(r"\s*[\[(][^\])]*[\])]\s*$", "", name.strip().lstrip("\ufeff"))
    localized = name.lower().endswith("_loc")
    if localized:
        name = name[:-4]
    key = re.sub(r"[^0-9a-z]", "", name.lower())
    return key + "_loc" if localized else key


@dataclass(frozen=True)
class ReportFormat:
    """Where one export keeps what an occurrence needs. Column lists are in preference order."""

    name: str
    label: str
    detect: frozenset[str]  # normalized headers that must all be present
    device: tuple[str, ...]
    code: tuple[str, ...]
    time: tuple[str, ...]
    event_id: tuple[str, ...] = ()
    intune_id: tuple[str, ...] = ()
    entra_id: tuple[str, ...] = ()
    wsus_id: tuple[str, ...] = ()
    title: tuple[str, ...] = ()
    message: tuple[str, ...] = ()
    extra: tuple[str, ...] = field(default=())
    # Whose export this is (an Entra tenant id), checked against the chosen tenant's.
    tenant_id: tuple[str, ...] = ()
    # The code columns are free text; an error code written in them is the code, and a row
    # without one is healthy (fleet/ingest/importer.py, `code_in_text`).
    code_in_text: bool = False
    # The columns whose values key a row (with its device and code) when it has no event id;
    # empty: every column.
    identity: tuple[str, ...] = ()


FORMATS: dict[str, ReportFormat] = {
    fmt.name: fmt
    for fmt in [
        ReportFormat(
            name="intune_feature_update_failures",
            label="Intune feature update failures (DeviceFailuresByFeatureUpdatePolicy)",
            detect=frozenset({"win32errorcode", "devicename", "eventdatetimeutc", "alertid"}),
            device=("devicename",),
            code=("win32errorcode",),
            time=("eventdatetimeutc", "startdatetimeutc", "lastupdatedalertstatusdatetimeutc"),
            event_id=("alertid",),
            intune_id=("deviceid",),
            entra_id=("aaddeviceid",),
            title=("featureupdateversion",),
            message=("alertmessagedescription",),
            extra=("alertmessage", "policyname", "alertstatus", "build"),
        ),
        ReportFormat(
            name="intune_expedited_update_failures",
            label="Intune expedited update failures (QualityUpdateDeviceErrorsByPolicy)",
            detect=frozenset({"win32errorcode", "devicename", "expeditequreleasedate"}),
            device=("devicename",),
            code=("win32errorcode",),
            time=("expeditequreleasedate",),
            intune_id=("deviceid",),
            entra_id=("aaddeviceid",),
            message=("alertmessage_loc",),
            extra=("alertmessage", "alertmessage_loc", "policyid"),
        ),
        ReportFormat(
            name="wufb_ucupdatealert",
            label="Windows Update for Business reports, UCUpdateAlert",
            detect=frozenset({"errorcode", "devicename", "timegenerated", "alertsubtype"}),
            device=("devicename",),
            code=("errorcode",),
            time=("starttime", "timegenerated"),
            event_id=("alertid",),
            entra_id=("azureaddeviceid",),
            title=("targetversion",),
            message=("description",),
            extra=("alertsubtype", "errorsymname", "alertstatus", "targetbuild"),
            tenant_id=("tenantid",),
        ),
        ReportFormat(
            name="intune_feature_update_state",
            label="Intune Windows feature update device state (FeatureUpdateDeviceState)",
            detect=frozenset(
                {
                    "devicename",
                    "aggregatestate",
                    "latestalertmessage",
                    "currentdeviceupdatestatus",
                    "featureupdateversion",
                }
            ),
            device=("devicename",),
            code=(
                "latestalertmessagedescription",
                "latestalertmessage",
                "currentdeviceupdatesubstatus",
            ),
            time=("currentdeviceupdatestatuseventdatetimeutc", "eventdatetimeutc"),
            intune_id=("deviceid",),
            entra_id=("aaddeviceid",),
            title=("featureupdateversion",),
            message=("latestalertmessagedescription",),
            extra=(
                "latestalertmessage",
                "currentdeviceupdatestatus",
                "currentdeviceupdatesubstatus",
                "aggregatestate",
                "policyname",
                "build",
            ),
            code_in_text=True,
            # Not EventDateTimeUTC nor LastWUScanTimeUTC: they move with every scan and export.
            identity=(
                "policyid",
                "featureupdateversion",
                "aggregatestate",
                "currentdeviceupdatestatus",
                "currentdeviceupdatesubstatus",
                "currentdeviceupdatestatuseventdatetimeutc",
                "latestalertmessage",
                "latestalertmessagedescription",
            ),
        ),
        ReportFormat(
            name="intune_quality_update_state",
            label="Intune Windows expedited quality update device status "
            "(QualityUpdateDeviceStatusByPolicy)",
            detect=frozenset(
                {"devicename", "aggregatestate", "latestalertmessage", "currentdeviceupdatestatus"}
            ),
            device=("devicename",),
            code=(
                "latestalertmessage_loc",
                "latestalertmessage",
                "currentdeviceupdatesubstatus_loc",
                "currentdeviceupdatesubstatus",
            ),
            time=("eventdatetimeutc",),
            intune_id=("deviceid",),
            entra_id=("aaddeviceid",),
            message=("latestalertmessage_loc",),
            extra=(
                "latestalertmessage",
                "latestalertmessage_loc",
                "currentdeviceupdatestatus",
                "currentdeviceupdatesubstatus",
                "aggregatestate",
                "policyid",
            ),
            code_in_text=True,
            # Not LastWUScanTimeUTC: it moves with every scan.
            identity=(
                "policyid",
                "aggregatestate",
                "currentdeviceupdatestatus",
                "currentdeviceupdatesubstatus",
                "latestalertmessage",
                "eventdatetimeutc",
            ),
        ),
        ReportFormat(
            name="wufb_ucclientupdatestatus",
            label="Windows Update for Business reports, UCClientUpdateStatus",
            detect=frozenset({"devicename", "timegenerated", "clientsubstate", "updatecategory"}),
            device=("devicename",),
            code=("eventdata", "clientsubstate"),
            time=("clientsubstatetime", "timegenerated"),
            entra_id=("azureaddeviceid",),
            title=("updatedisplayname",),
            extra=(
                "clientstate",
                "clientsubstate",
                "updatecategory",
                "targetbuild",
                "targetkbnumber",
            ),
            tenant_id=("tenantid",),
            code_in_text=True,
            # Not TimeGenerated: every daily snapshot restamps it.
            identity=(
                "azureaddeviceid",
                "updatecategory",
                "targetbuild",
                "targetkbnumber",
                "clientstate",
                "clientsubstate",
                "clientsubstatetime",
                "eventdata",
            ),
        ),
        ReportFormat(
            name="wsus_susdb_events",
            label="WSUS SUSDB event errors (tbEventInstance)",
            detect=frozenset({"win32hresult", "client", "timeattarget"}),
            device=("client",),
            code=("win32hresult",),
            time=("timeattarget", "timeatserver"),
            event_id=("eventinstanceid",),
            wsus_id=("computerid",),
            title=("defaulttitle",),
            extra=("eventid", "wsusserver", "state"),
        ),
        ReportFormat(
            name="configmgr_deployment_errors",
            label="Configuration Manager software update deployment errors",
            detect=frozenset({"machinename", "errorcode", "lastenforcementtime"}),
            device=("machinename",),
            code=("errorcode", "errorcodeint"),
            time=("lastenforcementtime",),
            message=("messagename",),
            extra=("errorstatusid", "username"),
        ),
    ]
}

GENERIC = "generic"
MAP_ROLES = ("device", "code", "time", "title", "kb", "message", "id", "intune_id", "entra_id")
# Used when no named format matches and the user gave no --map.
GENERIC_GUESSES = {
    "device": ("devicename", "computername", "hostname", "machinename", "device", "computer",
               "client", "machine", "host"),
    "code": ("errorcode", "hresult", "win32errorcode", "win32hresult", "code", "error",
             "resultcode", "lasterrorcode"),
    "time": ("occurredat", "timestamp", "eventtime", "datetime", "time", "date", "timegenerated",
             "lastseen"),
}  # fmt: skip


class FormatError(ValueError):
    """No format fits the header, or the requested one does not."""


def parse_column_map(text: str) -> dict[str, str]:
    """`device=Computer,code=Error,time=When` -> {"device": "Computer", ...}."""
    mapping: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        role, sep, column = part.partition("=")
        role = role.strip().lower()
        if not sep or not column.strip():
            raise FormatError(f"--map entry {part!r} is not ROLE=COLUMN")
        if role not in MAP_ROLES:
            raise FormatError(f"--map role {role!r} is not one of {', '.join(MAP_ROLES)}")
        mapping[role] = column.strip()
    return mapping


def generic_format(mapping: dict[str, str], header_keys: set[str]) -> ReportFormat:
    missing = [role for role in ("device", "code", "time") if role not in mapping]
    if missing:
        raise FormatError(f"the generic format needs --map with {', '.join(missing)}=COLUMN")
    for role, column in mapping.items():
        if normalize_header(column) not in header_keys:
            raise FormatError(f"--map {role}={column}: the file has no column {column!r}")

    def cols(role: str) -> tuple[str, ...]:
        return (normalize_header(mapping[role]),) if role in mapping else ()

    return ReportFormat(
        name=GENERIC,
        label="Generic (columns named by the user)",
        detect=frozenset(),
        device=cols("device"),
        code=cols("code"),
        time=cols("time"),
        event_id=cols("id"),
        intune_id=cols("intune_id"),
        entra_id=cols("entra_id"),
        title=cols("title"),
        message=cols("message"),
    )


def detect_format(
    header: list[str], requested: str = "auto", mapping: dict[str, str] | None = None
) -> ReportFormat:
    """The format for this header: the one requested, or the most specific one that fits."""
    keys = {normalize_header(name) for name in header}
    if mapping or requested == GENERIC:
        if requested not in ("auto", GENERIC):
            raise FormatError("--map only applies to --format generic")
        if not mapping:
            mapping = _guess_generic(keys)
            if not mapping:
                raise FormatError("--format generic needs --map device=COL,code=COL,time=COL")
        return generic_format(mapping, keys)
    if requested != "auto":
        fmt = FORMATS.get(requested)
        if fmt is None:
            names = ", ".join([*FORMATS, GENERIC])
            raise FormatError(f"unknown format {requested!r}; known formats: {names}")
        missing = sorted(fmt.detect - keys)
        if missing:
            raise FormatError(f"the file lacks the {fmt.name} columns: {', '.join(missing)}")
        return fmt
    fitting = [fmt for fmt in FORMATS.values() if fmt.detect <= keys]
    if fitting:
        return max(fitting, key=lambda fmt: len(fmt.detect))
    mapping = _guess_generic(keys)
    if mapping:
        return generic_format(mapping, keys)
    shown = ", ".join(header[:12])
    raise FormatError(
        f"unknown format: no known export has these columns ({shown}); "
        "use --format generic --map device=COL,code=COL,time=COL"
    )


def _guess_generic(keys: set[str]) -> dict[str, str]:
    mapping = {}
    for role, candidates in GENERIC_GUESSES.items():
        for candidate in candidates:
            if candidate in keys:
                mapping[role] = candidate
                break
        else:
            return {}
    return mapping
