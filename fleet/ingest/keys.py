"""Ingest keys: create one (the secret is returned once) and check a bearer token.

A key reads `fk_<prefix>_<secret>`; only sha256(key) is stored (`fleet/bearer.py` says why a
fast hash is enough).
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from fleet.bearer import bearer_token, hash_secret, new_secret
from fleet.ingest.models import IngestKey
from fleet.models import Tenant

KEY_PREFIX = "fk_"
# last_used_at is written at most this often per key, so busy agents do not write on every post.
LAST_USED_RESOLUTION = timedelta(minutes=1)


hash_key = hash_secret


def create_ingest_key(tenant: Tenant, name: str = "") -> tuple[IngestKey, str]:
    """Create a key for `tenant`; return the record and the full key, which is never stored."""
    prefix, key = new_secret(KEY_PREFIX)
    record = IngestKey.objects.create(
        tenant=tenant, name=name[:100], prefix=prefix, key_hash=hash_key(key)
    )
    return record, key


def authenticate(authorization: str) -> IngestKey | None:
    """The active key named by an `Authorization: Bearer …` header value, else None."""
    token = bearer_token(authorization, KEY_PREFIX)
    if token is None:
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
