"""Read error codes the way operators and exports write them.

`parse_code` is the strict reader every import and the API use: it returns the unsigned 32-bit
value and any setup extended code, or raises `CodeError` saying what was wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class CodeError(ValueError):
    """The text is not an error code in any notation we accept."""


@dataclass(frozen=True)
class ParsedCode:
    value: int
    extension: str = ""

    @property
    def hex(self) -> str:
        return f"0x{self.value:08X}"

    @property
    def signed(self) -> int:
        return self.value - (1 << 32) if self.value & 0x80000000 else self.value


_HEX = re.compile(
    r"^0x(?P<hex>[0-9a-f]{1,8})"
    r"(?:\s*(?:_|\s-\s)\s*(?:0x)?(?P<ext>[0-9a-f]{1,8}))?"
    r"(?:\s*\((?P<name>[A-Za-z_][A-Za-z0-9_]*)\))?$",
    re.IGNORECASE,
)
_BARE_HEX = re.compile(r"^(?P<hex>[0-9a-f]{8})(?:\s*\((?P<name>[A-Za-z_][A-Za-z0-9_]*)\))?$", re.I)
_DECIMAL = re.compile(r"^(?P<dec>[+-]?\d{1,10})(?:\s*\((?P<name>[A-Za-z_][A-Za-z0-9_]*)\))?$")


def parse_code(text: str) -> ParsedCode:
    """Parse `0x8024000B`, `8024000B`, `-2145107957`, `2149859339`, `1603`, `0xC1900101_C3FD`,
    `0xC1900101 - 0x30018` or `0x8024000B (WU_E_CALL_CANCELLED)`."""
    if text is None:
        raise CodeError("no code given")
    raw = str(text).strip()
    if not raw:
        raise CodeError("code is blank")
    if len(raw) > 80:
        raise CodeError("code is too long to be an error code")
    if match := _HEX.match(raw):
        ext = match.group("ext") or ""
        return ParsedCode(int(match.group("hex"), 16), ext.upper())
    if match := _DECIMAL.match(raw):
        number = int(match.group("dec"))
        if number < -(1 << 31) or number > 0xFFFFFFFF:
            raise CodeError(f"{raw!r} is outside the 32-bit range")
        return ParsedCode(number & 0xFFFFFFFF)
    if match := _BARE_HEX.match(raw):
        return ParsedCode(int(match.group("hex"), 16))
    if raw.lower().startswith("0x"):
        raise CodeError(f"{raw!r} is not valid hex: expected 0x and 1 to 8 hex digits")
    raise CodeError(f"{raw!r} is not a code: expected hex (0x8024000B) or a decimal number")
