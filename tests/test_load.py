"""The load test's harness, kept honest by `make test`: a short run must pass every check, and
the aggregate check must notice a wrong number."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from bench.load_test import aggregate_truth, stored_aggregates
from fleet.aggregate import STAT_MODELS, aggregate_pending
from fleet.models import HourlyCodeStat, Occurrence
from tests.factories import DeviceFactory, emit
from tests.services import REPO


@pytest.mark.integration
def test_short_load_run_loses_nothing_and_leaks_nothing():
    # Its own stack and database (PostgreSQL when DATABASE_URL names one), as `make load` runs.
    result = subprocess.run(
        [
            sys.executable,
            "bench/load_test.py",
            "--duration",
            "15",
            "--ingest-clients",
            "2",
            "--operators",
            "2",
            "--tenants",
            "3",
            "--no-results",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "FAIL" not in output
    assert output.count("\nok   ") == 7, output
    assert "0 unexpected (0 5xx, 0 connection errors)" in output
    assert "backlog: at most " in output


def test_aggregate_check_notices_a_miscounted_bucket(tenant):
    a, b = DeviceFactory(tenant=tenant), DeviceFactory(tenant=tenant)
    emit(a, 0x8024000B, [datetime(2026, 11, 2, 9, 5, tzinfo=UTC)] * 2)
    emit(b, 0x8024000B, [datetime(2026, 11, 2, 9, 40, tzinfo=UTC)])
    aggregate_pending()
    rows = list(Occurrence.objects.values_list("tenant_id", "device_id", "code", "occurred_at"))

    for model in STAT_MODELS:
        assert stored_aggregates(model) == aggregate_truth(rows, model), model.__name__

    HourlyCodeStat.objects.update(devices=1)
    assert stored_aggregates(HourlyCodeStat) != aggregate_truth(rows, HourlyCodeStat)
