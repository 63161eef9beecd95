from datetime import timedelta

from fleet import demo
from fleet.reports.demo import seed_demo_schedules
from fleet.reports.models import ReportSchedule
from fleet.reports.periods import last_full
from tests.factories import TenantFactory


def test_the_demo_fleet_always_holds_the_last_full_month_and_its_baseline(now):
    start = (now - timedelta(days=demo.DAYS)).date()
    period = last_full("monthly", now.date())
    assert start <= period.first - timedelta(days=28)
    assert demo.TENANTS[0].slug == "contoso-health"
    # A storm of the report's code falls in any last month, whatever the day of "now".
    for day_of_month in range(1, 32):
        days_back = range(day_of_month, day_of_month + 28)
        assert set(demo.storm_days("contoso-health")) & set(days_back), day_of_month


def test_the_demo_schedules_contosos_monthly_report_once(db):
    assert seed_demo_schedules() == []  # no demo loaded
    TenantFactory(slug="contoso-health", name="Contoso Health")
    [schedule] = seed_demo_schedules()
    assert seed_demo_schedules() == [schedule]
    assert (schedule.frequency, schedule.recipients) == ("monthly", "noc@demo.example")
    assert ReportSchedule.objects.count() == 1
