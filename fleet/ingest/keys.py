"""Ingest keys: create one (the secret is returned once) and check a bearer token.

A key reads `fk_<prefix>_<secret>`; only sha256(key) is stored. The secret is 32 random bytes,
far beyond guessing, so a fast hash loses nothing against a slow password hash and lets each
request be checked with one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone

from fleet.ingest.models import IngestKey
from fleet.models import Tenant

KEY_PREFIX = "fk_"
# last_used_at is written at most this often per key, so busy agents do not write on every post.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_ingest_key(tenant: Tenant, name: str = "") -> tuple[IngestKey, str]:
    """Create a key for `tenant`; return the record and the full key, which is never stored."""
    prefix = secrets.token_hex(4)
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    record = IngestKey.objects.create(
        tenant=tenant, name=name[:100], prefix=f"{KEY_PREFIX}{prefix}", key_hash=hash_key(key)
    )
    return record, key


def authenticate(authorization: str) -> IngestKey | None:
    """The active key named by an `Authorization: Bearer …` header value, else None."""
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith(KEY_PREFIX) or len(token) > 200:
        return None
    key = (
        IngestKey.objects.select_related("tenant")
        .filter(key_hash=hash_key(token), revoked_at__isnull=True)
        .first()
    )
    if key is None:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        IngestKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def revoke(key: IngestKey) -> None:
    IngestKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
