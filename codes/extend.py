"""Read the extend code of a Windows Setup result–extend pair, and how Intune reads an exit code.

Windows Setup reports a failed upgrade as two codes, `0xC1900101 - 0x4000D`: the result code
(an HRESULT or NTSTATUS) and the extend code, which says in which phase setup was and what it was
doing. The extend code is the phase in the bits above the low 16 and the operation in the low 16
bits: 0x4000D is phase 4 (SP_EXECUTION_OOBE_BOOT), operation 0x0D (SP_EXECUTION_OP_MIGRATE_DATA).

Facts from Microsoft's "Upgrade error codes" page (MicrosoftDocs/windows-itpro-docs,
windows/deployment/upgrade/upgrade-error-codes.md, CC BY 4.0; see codes/data/README.md). The page
says "use the last two digits" for the operation but lists operations up to 0x20 and reads its own
example 0x4000D as operation "000D"; we read the whole low 16 bits, which agrees with both.
`SP_EXECUTION_OP_INSTALL_DRVIERS` is spelled as the page spells it.

A leaf like `codes.parse`: no other `codes` module is imported.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

SETUP_PHASES: dict[int, tuple[str, str]] = {
    0: ("SP_EXECUTION_UNKNOWN", "unknown phase"),
    1: ("SP_EXECUTION_DOWNLEVEL", "downlevel: still in the old Windows, preparing"),
    2: ("SP_EXECUTION_SAFE_OS", "safe OS: WinPE, applying the new image"),
    3: ("SP_EXECUTION_FIRST_BOOT", "first boot of the new Windows"),
    4: ("SP_EXECUTION_OOBE_BOOT", "second boot (OOBE), migrating settings and data"),
    5: ("SP_EXECUTION_UNINSTALL", "uninstall: rolling back to the old Windows"),
}

SETUP_OPERATIONS: dict[int, str] = {
    0x00: "SP_EXECUTION_OP_UNKNOWN",
    0x01: "SP_EXECUTION_OP_COPY_PAYLOAD",
    0x02: "SP_EXECUTION_OP_DOWNLOAD_UPDATES",
    0x03: "SP_EXECUTION_OP_INSTALL_UPDATES",
    0x04: "SP_EXECUTION_OP_INSTALL_RECOVERY_ENVIRONMENT",
    0x05: "SP_EXECUTION_OP_INSTALL_RECOVERY_IMAGE",
    0x06: "SP_EXECUTION_OP_REPLICATE_OC",
    0x07: "SP_EXECUTION_OP_INSTALL_DRVIERS",
    0x08: "SP_EXECUTION_OP_PREPARE_SAFE_OS",
    0x09: "SP_EXECUTION_OP_PREPARE_ROLLBACK",
    0x0A: "SP_EXECUTION_OP_PREPARE_FIRST_BOOT",
    0x0B: "SP_EXECUTION_OP_PREPARE_OOBE_BOOT",
    0x0C: "SP_EXECUTION_OP_APPLY_IMAGE",
    0x0D: "SP_EXECUTION_OP_MIGRATE_DATA",
    0x0E: "SP_EXECUTION_OP_SET_PRODUCT_KEY",
    0x0F: "SP_EXECUTION_OP_ADD_UNATTEND",
    0x10: "SP_EXECUTION_OP_ADD_DRIVER",
    0x11: "SP_EXECUTION_OP_ENABLE_FEATURE",
    0x12: "SP_EXECUTION_OP_DISABLE_FEATURE",
    0x13: "SP_EXECUTION_OP_REGISTER_ASYNC_PROCESS",
    0x14: "SP_EXECUTION_OP_REGISTER_SYNC_PROCESS",
    0x15: "SP_EXECUTION_OP_CREATE_FILE",
    0x16: "SP_EXECUTION_OP_CREATE_REGISTRY",
    0x17: "SP_EXECUTION_OP_BOOT",
    0x18: "SP_EXECUTION_OP_SYSPREP",
    0x19: "SP_EXECUTION_OP_OOBE",
    0x1A: "SP_EXECUTION_OP_BEGIN_FIRST_BOOT",
    0x1B: "SP_EXECUTION_OP_END_FIRST_BOOT",
    0x1C: "SP_EXECUTION_OP_BEGIN_OOBE_BOOT",
    0x1D: "SP_EXECUTION_OP_END_OOBE_BOOT",
    0x1E: "SP_EXECUTION_OP_PRE_OOBE",
    0x1F: "SP_EXECUTION_OP_POST_OOBE",
    0x20: "SP_EXECUTION_OP_ADD_PROVISIONING_PACKAGE",
}


@dataclass(frozen=True)
class SetupExtend:
    """An extend code split into phase and operation; names are blank when the table lacks one."""

    code: str  # as written after the result code, canonical: 0x4000D
    phase: int
    phase_name: str
    phase_label: str
    operation: int
    operation_name: str

    @property
    def known(self) -> bool:
        return bool(self.phase_name and self.operation_name)

    def as_dict(self) -> dict:
        return asdict(self) | {"known": self.known}


def setup_extend(extension: str) -> SetupExtend | None:
    """Phase and operation of an extend code given as hex digits (`4000D`); None if not hex."""
    try:
        value = int(extension, 16)
    except (TypeError, ValueError):
        return None
    phase, operation = value >> 16, value & 0xFFFF
    phase_name, phase_label = SETUP_PHASES.get(phase, ("", ""))
    return SetupExtend(
        code=f"0x{value:X}",
        phase=phase,
        phase_name=phase_name,
        phase_label=phase_label,
        operation=operation,
        operation_name=SETUP_OPERATIONS.get(operation, ""),
    )


# Intune's default return codes for a Win32 app (memdocs, intune/apps/apps-win32-add.md, CC BY
# 4.0): the exit code of the installer, and how Intune treats it. 1707 is Windows Installer's
# "installation completed successfully" message number; as a Win32 error the same number is
# RPC_S_INVALID_NET_ADDR, which is why both readings are shown. 1603 is not in Intune's list
# (any code not listed is a failure); it is MSI's ERROR_INSTALL_FAILURE, HRESULT 0x80070643.
INSTALLER_EXIT_CODES: dict[int, tuple[str, str]] = {
    0: ("success", "Success: the installer finished and nothing more is needed."),
    1707: ("success", "Success: Windows Installer's 'installation completed successfully'."),
    3010: ("soft reboot", "Success; a restart is needed to finish (soft reboot)."),
    1641: ("hard reboot", "Success; the installer started a restart (hard reboot)."),
    1618: ("retry", "Another installation was running; Intune retries later."),
    1603: ("failed", "Fatal error during installation; Intune reports the app as failed."),
}


@dataclass(frozen=True)
class InstallerExit:
    """How Intune reads a Win32 app's exit code, and the HRESULT the same number becomes."""

    exit_code: int
    intune_result: str
    meaning: str
    hresult: str

    def as_dict(self) -> dict:
        return asdict(self)


def installer_exit(value: int) -> InstallerExit | None:
    """For a bare exit code (1603) or its HRESULT form (0x80070643); None for other codes."""
    code = value & 0xFFFF if value >> 16 == 0x8007 else value
    if code not in INSTALLER_EXIT_CODES or (code == 0 and value != 0):
        return None
    result, meaning = INSTALLER_EXIT_CODES[code]
    return InstallerExit(
        exit_code=code,
        intune_result=result,
        meaning=meaning,
        hresult=f"0x{(0x80070000 | code) if code else 0:08X}",
    )
