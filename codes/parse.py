"""Read error codes the way operators and exports write them.

`parse_code` is the strict reader every import and the API use: it returns the unsigned 32-bit
value and any setup extend code, or raises `CodeError` saying what was wrong. Windows Setup and
SetupDiag print a result–extend pair as `0xC1900101 - 0x4000D` (exports also write
`0xC1900101-0x4000D` and `0xC1900101_4000D`); all three read as value 0xC1900101 with
extension 4000D. It is a leaf:
it imports no other `codes` module, so anything (the knowledge files, the decoder, ingest) can
import it without a cycle.

Ambiguity rule: exactly eight digits with no sign and no 0x (`80070005`) is read as hex, the
way logs print codes; write `+80070005` to mean the decimal number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


class CodeError(ValueError):
    """The text is not an error code in any notation we accept."""


@dataclass(frozen=True)
class ParsedCode:
    value: int
    extension: str = ""
    # The name written next to the code, e.g. `0x8024000B (WU_E_CALL_CANCELLED)`. Not part of
    # equality: the same value with or without a name is the same code.
    given_name: str = field(default="", compare=False)

    @property
    def hex(self) -> str:
        return f"0x{self.value:08X}"

    @property
    def signed(self) -> int:
        return self.value - (1 << 32) if self.value & 0x80000000 else self.value

    @property
    def notation(self) -> str:
        """Canonical text: `0x8024000B`, or the pair `0xC1900101-0x4000D` (its page URL)."""
        return f"{self.hex}-0x{self.extension}" if self.extension else self.hex


_NAME = r"(?:\s*\((?P<name>[A-Za-z_][A-Za-z0-9_]*)\))?"
_HEX = re.compile(
    r"^0x(?P<hex>[0-9a-f]{1,8})"
    r"(?:(?P<sep>\s*_\s*|\s+-\s*|\s*-\s+|-)(?:0x)?(?P<ext>[0-9a-f]{1,8}))?" + _NAME + "$",
    re.IGNORECASE,
)
_BARE_HEX = re.compile(r"^(?P<hex>[0-9a-f]{8})" + _NAME + "$", re.IGNORECASE)
_DECIMAL = re.compile(r"^(?P<dec>[+-]?\d{1,10})" + _NAME + "$")


def parse_code(text: str | int) -> ParsedCode:
    """Parse `0x8024000B`, `8024000B`, `-2145124341`, `2149842955`, `1603`, `0xC1900101_C3FD`,
    `0xC1900101 - 0x30018`, `0xC1900101-0x4000D` or `0x8024000B (WU_E_CALL_CANCELLED)`; ints are
    taken as values. The extension is kept as upper-case hex without 0x or leading zeros."""
    if text is None:
        raise CodeError("no code given")
    if isinstance(text, bool):
        raise CodeError(f"{text!r} is not a code")
    if isinstance(text, int):
        if text < -(1 << 31) or text > 0xFFFFFFFF:
            raise CodeError(f"{text} is outside the 32-bit range")
        return ParsedCode(text & 0xFFFFFFFF)
    raw = str(text).strip()
    if not raw:
        raise CodeError("code is blank")
    if len(raw) > 80:
        raise CodeError("code is too long to be an error code")
    match = _HEX.match(raw)
    if match and match.group("sep") == "-" and len(match.group("hex")) != 8:
        # An unspaced dash joins a pair only after a full result code: 0x8024-000B is a typo.
        match = None
    if match:
        ext = match.group("ext")
        extension = f"{int(ext, 16):X}" if ext else ""
        return ParsedCode(int(match.group("hex"), 16), extension, match.group("name") or "")
    # Eight bare digits are hex (see module docstring), so try bare hex before decimal.
    if match := _BARE_HEX.match(raw):
        return ParsedCode(int(match.group("hex"), 16), "", match.group("name") or "")
    if match := _DECIMAL.match(raw):
        number = int(match.group("dec"))
        if number < -(1 << 31) or number > 0xFFFFFFFF:
            raise CodeError(f"{raw!r} is outside the 32-bit range")
        return ParsedCode(number & 0xFFFFFFFF, "", match.group("name") or "")
    if raw.lower().startswith("0x"):
        raise CodeError(f"{raw!r} is not valid hex: expected 0x and 1 to 8 hex digits")
    if raw.lstrip("+-").isdigit():
        raise CodeError(f"{raw!r} has too many digits for a 32-bit code")
    raise CodeError(f"{raw!r} is not a code: expected hex (0x8024000B) or a decimal number")
