"""Explain an error code: everything an operator needs to read its value.

`decode` adds to the parsed value (`codes.parse`) the HRESULT and NTSTATUS fields, the Win32
error inside 0x8007xxxx, names and message from the committed catalog, family and operator
severity. It needs no database; `decode(..., use_db=True)` lets admin edits win.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from codes.catalog import load_catalog, lookup
from codes.extend import InstallerExit, SetupExtend, installer_exit, setup_extend
from codes.facilities import facility_name
from codes.families import classify, family_name, severity_and_reason
from codes.knowledge import CuratedCode, CuratedFamily, load_curated_codes
from codes.parse import parse_code

NT_SEVERITIES = ("success", "informational", "warning", "error")


@dataclass(frozen=True)
class HresultFields:
    severity_bit: int  # 1 = failure
    reserved_bit: int  # the R bit; set in NTSTATUS-style 0xC... values
    customer_bit: int
    nt_bit: int  # set by HRESULT_FROM_NT
    facility: int
    facility_name: str
    code: int


@dataclass(frozen=True)
class Win32Info:
    code: int
    name: str
    message: str
    hresult: str  # HRESULT_FROM_WIN32 of the code, as canonical hex


@dataclass(frozen=True)
class NtStatusInfo:
    value: str  # the NTSTATUS value as canonical hex (differs from ours for HRESULT_FROM_NT)
    name: str
    message: str
    severity: str  # success | informational | warning | error (top two bits)
    customer_bit: int
    facility: int
    code: int
    from_hresult: bool  # True when our value is HRESULT_FROM_NT(value)


@dataclass(frozen=True)
class DecodedCode:
    value: int
    extension: str
    given_name: str
    name: str
    other_names: list[str]
    message: str
    message_source: str
    title: str
    header: str
    component: str
    hresult: HresultFields
    win32: Win32Info | None
    ntstatus: NtStatusInfo | None
    family: str
    family_name: str
    severity: str
    severity_reason: str
    curated: bool
    in_catalog: bool
    sources: list[str]
    # A result–extend pair's extend code read as phase and operation (`codes.extend`).
    setup_extend: SetupExtend | None = None
    # How Intune reads the number as a Win32 app's exit code (1603, 3010, ...; and 0x80070643).
    installer_exit: InstallerExit | None = None

    @property
    def notation(self) -> str:
        """`0x8024000B`, or `0xC1900101-0x4000D` for a result–extend pair."""
        return f"{self.hex}-0x{self.extension}" if self.extension else self.hex

    @property
    def hex(self) -> str:
        return f"0x{self.value:08X}"

    @property
    def unsigned(self) -> int:
        return self.value

    @property
    def signed(self) -> int:
        return self.value - (1 << 32) if self.value & 0x80000000 else self.value

    @property
    def facility(self) -> int:
        return self.hresult.facility

    @property
    def facility_name(self) -> str:
        return self.hresult.facility_name

    @property
    def hresult_severity(self) -> str:
        return "failure" if self.hresult.severity_bit else "success"

    def as_dict(self) -> dict:
        """JSON-ready form used by `manage.py decode --json` and the API; `notation` and
        `setup_extend` appear only for a result–extend pair, `installer_exit` only for the exit
        codes Intune names, so a plain code keeps the same keys it always had. `name` is the
        symbolic name, else (Intune, Configuration Manager: Microsoft publishes none) the short
        documented title; `name_kind` says which, `symbolic_name` is the symbol alone."""
        data = {
            "hex": self.hex,
            "value": self.value,
            "unsigned": self.unsigned,
            "signed": self.signed,
            "extension": self.extension,
            "name": self.name or self.title,
            "name_kind": "symbolic" if self.name else "title" if self.title else "",
            "symbolic_name": self.name,
            "given_name": self.given_name,
            "other_names": list(self.other_names),
            "message": self.message,
            "message_source": self.message_source,
            "title": self.title,
            "header": self.header,
            "component": self.component,
            "facility": self.facility,
            "facility_name": self.facility_name,
            "hresult_severity": self.hresult_severity,
            "hresult": asdict(self.hresult),
            "severity": self.severity,
            "severity_reason": self.severity_reason,
            "family": self.family,
            "family_name": self.family_name,
            "win32": asdict(self.win32) if self.win32 else None,
            "ntstatus": asdict(self.ntstatus) if self.ntstatus else None,
            "curated": self.curated,
            "in_catalog": self.in_catalog,
            "sources": list(self.sources),
        }
        if self.extension:
            data["notation"] = self.notation
            data["setup_extend"] = self.setup_extend.as_dict() if self.setup_extend else None
        if self.installer_exit:
            data["installer_exit"] = self.installer_exit.as_dict()
        return data


def hresult_fields(value: int) -> HresultFields:
    # 12 bits, as the SDK numbers facilities (FACILITY_DXGI 2170 in 0x887Axxxx); bit 28 is the
    # NTSTATUS bit, not part of the facility.
    facility = (value >> 16) & 0xFFF
    return HresultFields(
        severity_bit=value >> 31,
        reserved_bit=(value >> 30) & 1,
        customer_bit=(value >> 29) & 1,
        nt_bit=(value >> 28) & 1,
        facility=facility,
        facility_name=facility_name(facility),
        code=value & 0xFFFF,
    )


def win32_code(value: int) -> int | None:
    """The Win32 error a value stands for: 0x8007xxxx -> xxxx; small values are Win32 already."""
    if value >> 16 == 0x8007:
        return value & 0xFFFF
    if value <= 0xFFFF:
        return value
    return None


def hresult_from_win32(code: int) -> int:
    return code if code == 0 else 0x80070000 | (code & 0xFFFF)


def _win32_info(value: int) -> Win32Info | None:
    code = win32_code(value)
    if code is None:
        return None
    entry = lookup(code)
    win32 = entry is not None and "win32" in entry.namespaces
    return Win32Info(
        code=code,
        name=entry.name if win32 else "",
        message=entry.message if win32 else "",
        hresult=f"0x{hresult_from_win32(code):08X}",
    )


def _ntstatus_info(value: int) -> NtStatusInfo | None:
    """NTSTATUS reading where it applies: NT names, HRESULT_FROM_NT, and 0xC/0xD values."""
    from_hresult = bool(value & 0x10000000) and bool(value >> 31)
    status = value & ~0x10000000 if from_hresult else value
    entry = lookup(status)
    nt_names = [n for n in entry.names if n.startswith("STATUS_")] if entry else []
    nt_known = entry is not None and "ntstatus" in entry.namespaces and value > 0xFFFF
    if not (nt_known or from_hresult or (value >> 28) == 0xC):
        return None
    return NtStatusInfo(
        value=f"0x{status:08X}",
        name=(nt_names[0] if nt_names else entry.name if nt_known else ""),
        message=entry.message if nt_known else "",
        severity=NT_SEVERITIES[status >> 30],
        customer_bit=(status >> 29) & 1,
        facility=(status >> 16) & 0xFFF,
        code=status & 0xFFFF,
        from_hresult=from_hresult,
    )


def decode(
    code: str | int,
    *,
    use_db: bool = False,
    curated_codes: dict[int, CuratedCode] | None = None,
    families: dict[str, CuratedFamily] | None = None,
) -> DecodedCode:
    """Explain a code in any accepted notation; raises CodeError for bad input.

    Reads the committed catalog and curated files (or the given ones: `import_codes` passes
    what it imports); with `use_db`, an `ErrorCode` row edited in admin overrides name,
    message, title, severity and family.
    """
    parsed = parse_code(code)
    value = parsed.value
    catalog = load_catalog()
    entry = catalog.get(value)
    win32 = _win32_info(value)
    ntstatus = _ntstatus_info(value)
    curated_codes = load_curated_codes() if curated_codes is None else curated_codes
    curated = curated_codes.get(value)

    # 0x8007xxxx reads best under its Win32 name; HRESULT aliases (E_ACCESSDENIED) stay listed.
    names: list[str] = []
    if win32 and win32.name and value > 0xFFFF:
        names.append(win32.name)
    if entry:
        names.extend(entry.names)
    if ntstatus and ntstatus.from_hresult and ntstatus.name:
        names.append(ntstatus.name)
    if curated and curated.name:
        names.insert(0, curated.name)
    if parsed.given_name:
        names.append(parsed.given_name)
    names = list(dict.fromkeys(n for n in names if n))
    name = names[0] if names else ""

    message, message_source = "", ""
    if entry and entry.message:
        message, message_source = entry.message, entry.message_source
    elif win32 and win32.message:
        message, message_source = win32.message, "MS-ERREF"
    elif ntstatus and ntstatus.message:
        message, message_source = ntstatus.message, "MS-ERREF"
    if win32 and win32.message and value >> 16 == 0x8007 and entry and entry.message:
        # Both exist (E_ACCESSDENIED): the Win32 text is what operators search for.
        message, message_source = win32.message, "MS-ERREF"

    family = curated.family if curated else classify(value)
    severity, reason = severity_and_reason(value, family, curated_codes, families)
    sources = [catalog.source_label(s) for s in entry.listed_in] if entry else []
    if entry and entry.header:
        sources.insert(0, f"{entry.header} (mingw-w64-common)")
    if message_source == "MS-ERREF":
        sources.append("[MS-ERREF] Windows Error Codes (via impacket)")
    decoded = DecodedCode(
        value=value,
        extension=parsed.extension,
        given_name=parsed.given_name,
        name=name,
        other_names=names[1:],
        message=message,
        message_source=message_source,
        title=(curated.title if curated and curated.title else entry.title if entry else ""),
        header=entry.header if entry else "",
        component=entry.component if entry else "",
        hresult=hresult_fields(value),
        win32=win32,
        ntstatus=ntstatus,
        family=family,
        family_name=family_name(family, families),
        severity=severity,
        severity_reason=reason,
        curated=curated is not None,
        in_catalog=entry is not None or curated is not None,
        sources=sources + (list(curated.sources) if curated else []),
        setup_extend=setup_extend(parsed.extension) if parsed.extension else None,
        installer_exit=installer_exit(value),
    )
    return _with_db_edits(decoded) if use_db else decoded


def _with_db_edits(decoded: DecodedCode) -> DecodedCode:
    """Let an admin-edited ErrorCode row win on the fields operators may change."""
    # Imported here, not at the top: importing a model needs configured Django settings and
    # the app registry, and `decode()` without `use_db` works in a bare Python process.
    from codes.models import ErrorCode

    row = ErrorCode.objects.select_related("family").filter(value=decoded.value).first()
    if row is None:
        return decoded
    return replace(decoded, **db_edits(row))


def db_edits(row) -> dict:
    """The decode fields an `ErrorCode` row (family selected) overrides: the one rule the
    knowledge page and `codes.facts` share, so both say the same about a code."""
    changes: dict = {"in_catalog": True}
    for attr in ("name", "message", "title"):
        if getattr(row, attr):
            changes[attr] = getattr(row, attr)
    if row.severity:
        changes["severity"] = row.severity
        if row.severity_reason:
            changes["severity_reason"] = row.severity_reason
    if row.family is not None:
        changes["family"] = row.family.slug
        changes["family_name"] = row.family.name
    return changes
