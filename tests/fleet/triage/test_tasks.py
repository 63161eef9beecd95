"""The triage task: run alone, and queued on the `aggregate` queue when a rule changes."""

import json
from datetime import timedelta

import pytest
import redis
from django.test import Client
from django.utils import timezone

from codes.models import ErrorCode
from fleet.aggregate import aggregate_pending
from fleet.triage.models import TriageFlag, TriageRule
from fleet.triage.tasks import request_triage, run_triage
from tests.factories import DeviceFactory, UserFactory, emit
from tests.services import RedisServer, broker

CANCELLED = 0x8024000B


@pytest.fixture
def storm(tenant):
    ErrorCode.objects.create(value=CANCELLED, name="WU_E_CALL_CANCELLED", severity="warning")
    now = timezone.now()
    for n in range(6):
        emit(DeviceFactory(tenant=tenant), CANCELLED, [now - timedelta(minutes=5 + n)])
    aggregate_pending()


def test_the_task_raises_the_flags_a_round_would(storm, tenant):
    assert run_triage() == {"raised": 1, "regressed": 0, "unmuted": 0}
    assert list(TriageFlag.objects.values_list("tenant_id", "code")) == [(tenant.pk, CANCELLED)]
    assert run_triage() == {"raised": 0, "regressed": 0, "unmuted": 0}


def test_saving_a_rule_in_admin_queues_a_triage_run(
    db, redis_server, django_capture_on_commit_callbacks
):
    client = Client()
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    rule = TriageRule.objects.create(
        name="Errors", severity="error", metric="devices", threshold=5, window_hours=24
    )
    with broker(redis_server.url), django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/fleet/triagerule/{rule.pk}/change/",
            {
                "name": "Errors",
                "severity": "error",
                "metric": "devices",
                "threshold": 2,
                "window_hours": 24,
                "enabled": "on",
            },
        )
    assert response.status_code == 302
    queued = redis.Redis.from_url(redis_server.url).lrange("aggregate", 0, -1)
    assert [json.loads(m)["headers"]["task"] for m in queued] == ["fleet.triage.tasks.run_triage"]


def test_queueing_with_the_broker_down_is_refused_quietly(db, tmp_path):
    with broker(RedisServer(tmp_path).url):  # never started: nothing listens
        assert request_triage() is False
