"""Put every 32-bit value in exactly one family, and give it an operator severity.

Operator severity is not the HRESULT severity bit: 0x8024000B is a failure HRESULT, but for an
operator a cancelled call is a warning. Order: curated per-code override
(codes/knowledge/codes/*.md), then success codes are informational, then the family default
(codes/knowledge/families/*.md).
"""

from __future__ import annotations

from codes.catalog import lookup
from codes.knowledge import CuratedCode, CuratedFamily, load_curated_codes, load_families

# Used when a family file is missing (e.g. in a bare checkout before part of the KB lands).
FALLBACK_NAMES = {
    "windows-update": "Windows Update agent",
    "windows-update-network": "Windows Update transport and network",
    "cbs": "Component-based servicing (CBS)",
    "setup": "Setup and feature upgrade",
    "win32": "Win32 errors",
    "ntstatus": "NTSTATUS",
    "bits": "Background Intelligent Transfer Service (BITS)",
    "mdm-enrollment": "MDM enrollment",
    "device-registration": "Autopilot and device registration",
    "intune": "Intune apps and management",
    "configmgr": "Configuration Manager client",
    "delivery-optimization": "Delivery Optimization",
    "bitlocker": "BitLocker drive encryption",
    "hresult": "COM and other HRESULT codes",
}

FACILITY_WINDOWS_UPDATE = 36
FACILITY_BITS = 32
NT_BIT = 0x10000000
# Facilities that are a family of their own, whatever the severity bits (Intune's Android codes
# are 0xC7D1xxxx, its Windows ones 0x87D1xxxx).
FACILITY_FAMILIES = {
    24: "mdm-enrollment",  # MENROLL_E_* 0x8018xxxx (winerror.h's FACILITY_WINDOWSCE)
    28: "device-registration",  # DSREG_E_* 0x801Cxxxx
    259: "device-registration",  # Autopilot TPM attestation 0x8103xxxx
    2001: "intune",
    2000: "configmgr",
    208: "delivery-optimization",  # DO_E_* 0x80D0xxxx
    49: "bitlocker",  # FVE_E_* 0x8031xxxx
}


def _facility(value: int) -> int:
    return (value >> 16) & 0x1FFF


def _names(value: int) -> tuple[str, ...]:
    entry = lookup(value)
    return entry.names if entry else ()


def _win32_name(code: int) -> str:
    entry = lookup(code)
    return entry.name if entry and "win32" in entry.namespaces else ""


def classify(value: int) -> str:
    """The family slug for an unsigned 32-bit value (one of `knowledge.FAMILY_SLUGS`)."""
    if not 0 <= value <= 0xFFFFFFFF:
        raise ValueError(f"{value} is not an unsigned 32-bit value")
    high = value >> 16
    # Network first: WinHTTP/WinINet errors wrapped as HRESULTs would otherwise read as Win32.
    if (value >> 12) == 0x80244 or high == 0x8019 or 0x80072E00 <= value <= 0x80072FFF:
        return "windows-update-network"
    if _facility(value) == FACILITY_WINDOWS_UPDATE and not value & 0x40000000:
        return "windows-update"
    if 0x800F0800 <= value <= 0x800F09FF or any(
        n.startswith(("CBS_E_", "CBS_S_", "PSFX_E_")) for n in _names(value)
    ):
        return "cbs"
    win32 = value & 0xFFFF if high == 0x8007 else value if value <= 0xFFFF else None
    if win32 is not None and (
        0x80073600 <= value <= 0x800736FF or _win32_name(win32).startswith("ERROR_SXS_")
    ):
        return "cbs"
    if (value >> 20) == 0xC19:
        return "setup"
    family = FACILITY_FAMILIES.get(_facility(value))
    # HRESULT failures only (0x8...); an NTSTATUS 0xC... with the same facility number is not
    # theirs, except Intune's Android codes, which Intune writes as 0xC7D1xxxx.
    if family and ((value >> 28) == 0x8 or family == "intune" and (value >> 28) == 0xC):
        return family
    if win32 is not None:
        return "win32"
    if _facility(value) == FACILITY_BITS and not value & 0x40000000:
        return "bits"
    entry = lookup(value)
    if (
        (value >> 28) in (0xC, 0xD)
        or value & NT_BIT
        and value >> 31
        or (entry is not None and entry.namespaces == ("ntstatus",))
    ):
        return "ntstatus"
    return "hresult"


def _is_success(value: int, family: str) -> bool:
    if value == 0:
        return True
    if family == "win32":
        return False  # small Win32 codes are errors whatever their top bit says
    if family == "ntstatus":
        return (value >> 30) in (0, 1)  # NT success and informational
    return not value & 0x80000000


def severity_and_reason(
    value: int,
    family: str | None = None,
    curated_codes: dict[int, CuratedCode] | None = None,
    families: dict[str, CuratedFamily] | None = None,
) -> tuple[str, str]:
    """(operator severity, why) for a value, from curated files and family defaults.

    The committed knowledge files are used unless `curated_codes` / `families` are given.
    """
    family = family or classify(value)
    curated_codes = load_curated_codes() if curated_codes is None else curated_codes
    curated = curated_codes.get(value)
    if curated is not None:
        return curated.severity, curated.severity_reason
    if _is_success(value, family):
        return "informational", "A success or informational code: nothing failed."
    if family == "ntstatus" and (value >> 30) == 2:
        return "warning", "NTSTATUS warning severity: the operation went ahead with a caveat."
    families = load_families() if families is None else families
    default = families.get(family)
    severity = default.default_severity if default else "error"
    return severity, f"Default for the {family_name(family, families)} family."


def operator_severity(value: int) -> str:
    """error | warning | informational, as an operator should read the code."""
    return severity_and_reason(value)[0]


def family_name(slug: str, families: dict[str, CuratedFamily] | None = None) -> str:
    families = load_families() if families is None else families
    family = families.get(slug)
    return family.name if family else FALLBACK_NAMES.get(slug, slug)
