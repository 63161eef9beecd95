"""Which occurrence sources are event streams and which are daily state snapshots.

An agent or an event log reports each failure once, when it happens. Intune and Windows Update
for Business reports are exports of *state*: every device still failing is in each day's export
again, so counting their rows as events makes a false spike out of every import. Triage reads
state sources by device (failing now vs. before), never by row count (docs/triage.md).
"""

from __future__ import annotations

# `Occurrence.source` of the state-snapshot import formats (fleet/ingest/csv_formats.py).
STATE_SOURCES: frozenset[str] = frozenset(
    {
        "intune_feature_update_failures",
        "intune_expedited_update_failures",
        "wufb_ucupdatealert",
        "intune_feature_update_state",
        "intune_quality_update_state",
        "wufb_ucclientupdatestatus",
    }
)


def is_state_source(source: str) -> bool:
    """True for a source whose rows restate the current failures rather than report new ones."""
    return source in STATE_SOURCES
