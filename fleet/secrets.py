"""Secrets encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256, `cryptography`).

A webhook secret signs every payload and a connector's client secret asks Microsoft for a
token, so both have to be recoverable: they cannot be hashed like an ingest key. The key is
FIELD_ENCRYPTION_KEY (a Fernet key) when set, else one derived from SECRET_KEY, so a
development setup needs nothing and a database dump alone reveals nothing.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


class SecretUnreadable(Exception):
    """The stored secret was encrypted with another key (FIELD_ENCRYPTION_KEY or SECRET_KEY
    changed)."""


def _fernet() -> Fernet:
    key = settings.FIELD_ENCRYPTION_KEY
    if not key:
        # The salt keeps the module's first name, so secrets stored before it moved still read.
        digest = hashlib.sha256(b"fleet.alerts.secrets:" + settings.SECRET_KEY.encode()).digest()
        key = base64.urlsafe_b64encode(digest).decode()
    return Fernet(key)


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("the stored secret cannot be decrypted with this key") from None
