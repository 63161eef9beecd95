"""Bearer secrets, shared by ingest keys and personal API tokens.

Only sha256(secret) is stored. Each secret carries 32 random bytes, far beyond guessing, so a
fast hash loses nothing against a slow password hash and lets each request be checked with one
indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets

# A longer header value is no secret we made; refuse it before hashing.
MAX_TOKEN_LENGTH = 200


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_secret(kind_prefix: str) -> tuple[str, str]:
    """(prefix, secret): a fresh `<kind_prefix><8 hex>_<43 random chars>` and its first part, kept
    in clear so an owner can tell their secrets apart."""
    prefix = f"{kind_prefix}{secrets.token_hex(4)}"
    return prefix, f"{prefix}_{secrets.token_urlsafe(32)}"


def bearer_token(authorization: str, kind_prefix: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` header value when it starts with
    `kind_prefix`, else None."""
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith(kind_prefix):
        return None
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    return token
