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
