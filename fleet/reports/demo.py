"""The demo's report schedule (`manage.py seed_demo`): Contoso Health's monthly report, mailed
to the demo's NOC address, so `make demo`'s mail sink receives a report with its PDF at the
first beat tick. The demo fleet's 90 days always hold the last full month."""

from __future__ import annotations

from fleet.alerts.demo import DEMO_RECIPIENT
from fleet.models import Tenant
from fleet.reports.models import ReportSchedule

DEMO_TENANT = "contoso-health"


def seed_demo_schedules() -> list[ReportSchedule]:
    """Idempotent: one monthly schedule for the demo tenant, if it is loaded."""
    tenant = Tenant.objects.filter(slug=DEMO_TENANT).first()
    if tenant is None:
        return []
    schedule, _ = ReportSchedule.objects.get_or_create(
        tenant=tenant,
        frequency=ReportSchedule.Frequency.MONTHLY,
        defaults={"recipients": DEMO_RECIPIENT},
    )
    return [schedule]
