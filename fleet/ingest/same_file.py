"""One import at a time per tenant and file content.

Rows are deduplicated by key whatever happens, but two imports of the same file running at
once would each store part of it and both summaries would be half right. Holding this lock
while reading the rows makes the second one wait, find every row already stored, and say so.
The lock dies with its holder: a PostgreSQL advisory lock goes with the session, an OS file
lock (SQLite, which lives on one host) with the process. The waiter polls rather than blocks,
so it can keep its heartbeat fresh: a wait behind a long import is not a dead import.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from django.db import connection

# SQLite: lock files are shared by bucket, so there are never more than this many.
_BUCKETS = 256
# How often a waiter tries the lock again, and how often it calls `while_waiting`.
_POLL_SECONDS = 0.2
_WAITING_EVERY_SECONDS = 30.0


def _key(tenant_id: int, sha256: str) -> int:
    digest = hashlib.sha256(f"fleet-import:{tenant_id}:{sha256}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextlib.contextmanager
def one_import_at_a_time(
    tenant_id: int, sha256: str, while_waiting: Callable[[], None] | None = None
) -> Iterator[None]:
    """Wait until no other import of this content for this tenant runs, then hold it off;
    `while_waiting` is called every half minute of waiting."""
    key = _key(tenant_id, sha256)
    if connection.vendor == "postgresql":

        def take() -> bool:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
                return cursor.fetchone()[0]

        _wait_for(take, while_waiting)
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return
    folder = Path(tempfile.gettempdir()) / "fleet-errors-import-locks"
    folder.mkdir(exist_ok=True)
    with open(folder / f"{key % _BUCKETS}.lock", "a") as handle:

        def take() -> bool:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        _wait_for(take, while_waiting)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _wait_for(take: Callable[[], bool], while_waiting: Callable[[], None] | None) -> None:
    next_call = time.monotonic() + _WAITING_EVERY_SECONDS
    while not take():
        time.sleep(_POLL_SECONDS)
        if while_waiting is not None and time.monotonic() >= next_call:
            while_waiting()
            next_call = time.monotonic() + _WAITING_EVERY_SECONDS
