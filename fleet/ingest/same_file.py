"""One import at a time per tenant and file content.

Rows are deduplicated by key whatever happens, but two imports of the same file running at
once would each store part of it and both summaries would be half right. Holding this lock
while reading the rows makes the second one wait, find every row already stored, and say so.
The lock dies with its holder: a PostgreSQL advisory lock goes with the session, an OS file
lock (SQLite, which lives on one host) with the process.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.db import connection

# SQLite: lock files are shared by bucket, so there are never more than this many.
_BUCKETS = 256


def _key(tenant_id: int, sha256: str) -> int:
    digest = hashlib.sha256(f"fleet-import:{tenant_id}:{sha256}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextlib.contextmanager
def one_import_at_a_time(tenant_id: int, sha256: str) -> Iterator[None]:
    """Wait until no other import of this content for this tenant runs, then hold it off."""
    key = _key(tenant_id, sha256)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [key])
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return
    folder = Path(tempfile.gettempdir()) / "fleet-errors-import-locks"
    folder.mkdir(exist_ok=True)
    with open(folder / f"{key % _BUCKETS}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
