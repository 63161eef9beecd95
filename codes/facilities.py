"""HRESULT facility numbers and the names we show for them.

Our own readable names for the facilities MSPs meet come first (`FACILITIES`); numbers come
from the FACILITY_* macros in winerror.h where they exist; 24, 28, 259, 2000 and 2001 are named
for the products whose codes carry them (MDM enrollment, device registration, Autopilot,
Configuration Manager, Intune), never "Facility 2000". Every other facility the full Windows
SDK's winerror.h defines is named by its macro (the catalog's `facilities`, built from
scripts/sources/windows-sdk/facilities.tsv).
"""

from __future__ import annotations

from functools import cache

FACILITIES: dict[int, str] = {
    0: "Null (generic)",
    1: "RPC",
    2: "Dispatch (COM automation)",
    3: "Storage (structured storage)",
    4: "Interface-specific (COM ITF)",
    7: "Win32",
    8: "Windows",
    9: "Security (SSPI)",
    10: "ActiveX control",
    11: "Certificates",
    12: "Internet (WinINet / URL moniker)",
    13: "Media server",
    14: "Message queuing (MSMQ)",
    15: "Setup API and component servicing",
    16: "Smart card",
    17: "COM+",
    18: "AAF",
    19: ".NET runtime",
    20: "ACS",
    21: "DirectPlay",
    22: "UMI",
    23: "Side-by-side (SxS)",
    # winerror.h names 24 FACILITY_WINDOWSCE, but on Windows 10 and later the codes carrying it are
    # MDM enrollment's MENROLL_E_* (0x8018xxxx); nothing an MSP meets is a Windows CE error.
    24: "MDM enrollment",
    25: "HTTP",
    26: "Common log (CLFS)",
    27: "Windows Error Reporting",
    28: "Device registration (Microsoft Entra join)",
    31: "Filter manager",
    32: "Background Intelligent Transfer (BITS)",
    33: "Configuration / WIA",
    34: "State management",
    35: "Metadirectory",
    36: "Windows Update",
    37: "Directory service",
    38: "Graphics",
    39: "Shell",
    40: "TPM services",
    41: "TPM software",
    48: "Performance logs and alerts",
    49: "BitLocker (full-volume encryption)",
    50: "Windows Filtering Platform",
    51: "Windows Remote Management",
    52: "NDIS",
    53: "Hypervisor",
    54: "CMI",
    55: "Virtualization",
    56: "Volume manager",
    57: "Boot configuration data (BCD)",
    58: "Virtual hard disk",
    60: "Diagnostics (SDIAG)",
    61: "Web services",
    62: "Windows Defender",
    63: "Open packaging (OPC)",
    208: "Delivery Optimization",
    259: "Windows Autopilot",
    400: "Windows Setup (upgrade)",
    # The SDK names neither; Microsoft's Configuration Manager and Intune pages use them.
    2000: "Configuration Manager",
    2001: "Intune",
    2185: "Audio client",
}


def facility_name(number: int) -> str:
    """Our name for an HRESULT facility, else the SDK's macro, else a neutral label."""
    if number in FACILITIES:
        return FACILITIES[number]
    return sdk_facility_names().get(number, f"Facility {number}")


@cache
def sdk_facility_names() -> dict[int, str]:
    """Facility number -> the SDK's FACILITY_* macro(s), from the committed catalog."""
    from codes.catalog import load_catalog  # the catalog module reads a file; load it lazily

    return {row["n"]: " / ".join(row["names"]) for row in load_catalog().facilities if row["names"]}
