"""What a device name and a KB number look like, for the API and the importer alike."""

from __future__ import annotations

import re

# Windows computer names, FQDNs, DOMAIN\NAME and IP addresses; no spaces or punctuation.
HOSTNAME = re.compile(r"^[\w][\w.\-\\$]*$")
MAX_HOSTNAME = 255  # a DNS name's bound; both callers hold names to it
# "KB5034441" inside an update title, with or without a space.
KB_IN_TITLE = re.compile(r"\bKB\s?(\d{6,8})\b", re.IGNORECASE)
# A KB number on its own, with or without the letters.
KB = re.compile(r"^(?:KB)?(\d{6,8})$", re.IGNORECASE)


def is_hostname(text: str) -> bool:
    """Whether the stripped `text` can be a device name."""
    return len(text) <= MAX_HOSTNAME and HOSTNAME.match(text) is not None


# An error code inside a state or alert text ("Install failed (0x80070002)"): a 0x number
# (with a setup extend code after a dash or underscore), eight bare hex digits with the failure
# bit set, or a ten-digit unsigned or nine- or ten-digit negative decimal. Stricter than
# `codes.parse.parse_code`, since the text also holds enum numbers, builds and dates: a bare
# "2" or "26100" is never a code here. Not inside a GUID or a word (the look-arounds).
CODE_IN_TEXT = re.compile(
    r"(?<![\w-])(?:"
    r"0x[0-9a-f]{1,8}(?:\s?[-_]\s?(?:0x)?[0-9a-f]{1,8})?"
    r"|[89a-f][0-9a-f]{7}"
    r"|-\d{9,10}|\d{10}"
    r")(?![\w-])",
    re.IGNORECASE,
)
