"""The reports slice's Celery task: mailing the scheduled reports that are due (beat: every
five minutes)."""

from __future__ import annotations

from celery import shared_task

from fleet.reports.deliveries import deliver_due


@shared_task(name="fleet.reports.tasks.send_due_reports", acks_late=True)
def send_due_reports() -> dict[str, int]:
    """Queue each due schedule's report and send what is claimable; failures wait for a
    later tick with back-off."""
    result = deliver_due()
    return {"queued": result.queued, "sent": result.sent, "failed": result.failed}
