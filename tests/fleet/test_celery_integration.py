"""The path "occurrence stored -> Celery worker on a real Redis broker -> hourly aggregate"."""

from datetime import UTC, datetime

import pytest
import redis

from fleet.models import HourlyCodeStat
from fleet.pending import pending_occurrences
from fleet.tasks import aggregate_occurrences, request_aggregation
from tests.factories import DeviceFactory, emit
from tests.services import broker, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_worker_aggregates_occurrences_sent_through_redis(tenant, celery_worker):
    devices = [DeviceFactory(tenant=tenant) for _ in range(3)]
    hour = datetime(2026, 11, 20, 14, tzinfo=UTC)
    for n, device in enumerate(devices * 2):
        emit(device, 0x8024000B, [hour.replace(minute=n * 7)])

    aggregate_occurrences.apply_async()

    def aggregated() -> bool:
        return not pending_occurrences().exists()

    wait_until(aggregated, 30, f"the worker to aggregate; its log:\n{celery_worker.log()}")
    stat = HourlyCodeStat.objects.get(tenant=tenant, code=0x8024000B, hour=hour)
    assert (stat.occurrences, stat.devices) == (6, 3)
    assert "fleet.tasks.aggregate_occurrences" in celery_worker.log()


def test_request_aggregation_reports_a_dead_broker_without_raising(dead_broker):
    assert request_aggregation() is False


def test_request_aggregation_queues_on_a_live_broker(redis_server):
    with broker(redis_server.url):
        assert request_aggregation() is True


@pytest.mark.parametrize(
    ("task_name", "queue"),
    [
        ("fleet.ingest.tasks.run_import", "ingest"),
        ("fleet.tasks.aggregate_occurrences", "aggregate"),
        ("fleet.tasks.run_pipeline", "aggregate"),
        ("fleet.tasks.send_alert_emails", "alerts"),
    ],
)
def test_each_task_lands_on_its_own_queue_only(redis_server, task_name, queue):
    from fleet.celery import app

    with broker(redis_server.url):
        app.send_task(task_name, args=[1] if "import" in task_name else [])
    client = redis.Redis.from_url(redis_server.url)
    lengths = {name: client.llen(name) for name in ("ingest", "aggregate", "alerts", "celery")}
    assert lengths == {name: int(name == queue) for name in lengths}
