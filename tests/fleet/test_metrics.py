"""`/metrics`: Prometheus text read from the database, behind its token."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import redis
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from fleet.aggregate import aggregate_pending
from fleet.alerts.models import AlertDelivery
from fleet.ingest.keys import create_ingest_key
from fleet.pending import track
from tests.factories import occurrence

pytestmark = pytest.mark.django_db
TOKEN = "scrape-me"


@pytest.fixture(autouse=True)
def token(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape() -> dict[tuple[str, tuple], float]:
    response = Client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_without_its_token_metrics_are_refused(settings):
    assert Client().get("/metrics").status_code == 401
    assert Client().get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert Client().get("/metrics", headers={"Authorization": "Basic x"}).status_code == 401
    settings.METRICS_TOKEN = ""
    off = Client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert off.status_code == 404


def test_the_aggregation_lag_is_the_age_of_the_oldest_pending_occurrence(device):
    assert scrape()[("fleet_aggregation_lag_seconds", ())] == 0
    now = timezone.now()
    track(
        occurrence(
            device, 0x8024000B, now - timedelta(hours=1), received_at=now - timedelta(minutes=m)
        )
        for m in (30, 5)
    )
    samples = scrape()
    assert 30 * 60 <= samples[("fleet_aggregation_lag_seconds", ())] < 31 * 60
    assert samples[("fleet_occurrences_pending", ())] == 2
    aggregate_pending()
    samples = scrape()
    assert samples[("fleet_aggregation_lag_seconds", ())] == 0
    assert samples[("fleet_occurrences_pending", ())] == 0


def test_api_ingest_is_counted_accepted_duplicate_and_rejected(tenant, dead_broker):
    _, key = create_ingest_key(tenant, "agents")
    items = [
        {"device": {"hostname": "PC-1"}, "code": "0x8024000B", "event_id": "a",
         "occurred_at": "2026-11-20T10:00:00Z", "source": "agent"},
        {"device": {"hostname": "PC-2"}, "code": "0x80070005", "event_id": "b",
         "occurred_at": "2026-11-20T10:00:00Z", "source": "agent"},
        {"device": {"hostname": "PC-3"}, "code": "not a code"},
    ]  # fmt: skip
    for _ in range(2):
        response = Client().post(
            "/api/v1/occurrences",
            data=json.dumps(items),
            content_type="application/json",
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 202
    samples = scrape()
    api = (("source", "api"),)
    assert samples[("fleet_occurrences_ingested_total", api)] == 2
    assert samples[("fleet_occurrences_duplicate_total", api)] == 2
    assert samples[("fleet_occurrences_rejected_total", api)] == 2


def test_deliveries_by_channel_and_state(tenant):
    now = timezone.now()
    fields = {"subject": "s", "body_text": "b", "body_html": "", "created_at": now}
    AlertDelivery.objects.create(recipient="a@example.test", state="sent", **fields)
    AlertDelivery.objects.create(recipient="a@example.test", attempts=3, **fields)
    AlertDelivery.objects.create(recipient="b@example.test", **fields)
    samples = scrape()
    label = (("channel", "email"), ("retrying", "false"), ("state", "sent"))
    assert samples[("fleet_alert_deliveries", label)] == 1
    retrying = (("channel", "email"), ("retrying", "true"), ("state", "pending"))
    waiting = (("channel", "email"), ("retrying", "false"), ("state", "pending"))
    assert (
        samples[("fleet_alert_deliveries", retrying)],
        samples[("fleet_alert_deliveries", waiting)],
    ) == (1, 1)


def test_report_deliveries_by_state(tenant):
    from fleet.reports.models import ReportDelivery, ReportSchedule

    schedule = ReportSchedule.objects.create(tenant=tenant, recipients="a@example.test")
    ReportDelivery.objects.create(schedule=schedule, period="2026-10", state="sent")
    ReportDelivery.objects.create(schedule=schedule, period="2026-11", attempts=2)
    samples = scrape()
    assert samples[("fleet_report_deliveries", (("retrying", "false"), ("state", "sent")))] == 1
    assert samples[("fleet_report_deliveries", (("retrying", "true"), ("state", "pending")))] == 1


def test_queue_depth_is_read_from_the_broker(settings, redis_server):
    settings.CELERY_BROKER_URL = redis_server.url
    redis.Redis.from_url(redis_server.url).rpush("ingest", "t1", "t2", "t3")
    samples = scrape()
    assert samples[("fleet_broker_up", ())] == 1
    assert samples[("fleet_queue_depth", (("queue", "ingest"),))] == 3
    assert samples[("fleet_queue_depth", (("queue", "alerts"),))] == 0
    redis_server.stop()
    samples = scrape()
    assert samples[("fleet_broker_up", ())] == 0
    assert not any(name == "fleet_queue_depth" for name, _ in samples)
