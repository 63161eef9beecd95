"""Generated occurrence streams for aggregation, triage and alert tests."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import datetime

from fleet.models import Device, Occurrence

_serial = itertools.count()


def emit(device: Device, code: int, times: Iterable[datetime]) -> list[Occurrence]:
    """Insert one occurrence of `code` on `device` at each time, in one bulk insert."""
    return Occurrence.objects.bulk_create(
        [
            Occurrence(
                tenant_id=device.tenant_id,
                device=device,
                code=code,
                occurred_at=when,
                source="test",
                dedupe_key=f"stream-{next(_serial)}",
            )
            for when in times
        ]
    )
