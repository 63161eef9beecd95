"""The triage slice's Celery tasks.

The pipeline round (`fleet.tasks.run_pipeline`) runs triage right after aggregation; this task
runs it alone, so a changed triage rule takes effect at once instead of at the next round.
"""

from __future__ import annotations

import logging

from celery import shared_task

from fleet.triage.flags import run_triage as run_triage_now

log = logging.getLogger(__name__)


@shared_task(name="fleet.triage.tasks.run_triage", acks_late=True)
def run_triage() -> dict[str, int]:
    """Raise, re-open and un-mute flags and write their signals from the aggregates. Safe to
    overlap with a round:
    triage runs one at a time (`fleet.triage.flags`)."""
    result = run_triage_now()
    return {
        "raised": len(result.raised),
        "regressed": len(result.regressed),
        "unmuted": len(result.unmuted),
    }


def request_triage() -> bool:
    """Queue a triage run; never raises (the next pipeline round catches up)."""
    try:
        run_triage.apply_async(expires=300, retry=False)
    except Exception as exc:  # noqa: BLE001 - a broker failure means "next round", not "error"
        log.warning("could not queue triage (the next round runs it): %s", exc)
        return False
    return True
