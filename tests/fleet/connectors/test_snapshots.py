"""The state reports are daily snapshots: pulling the same state again, restamped with a new
scan time or snapshot time, adds nothing and raises no spike (docs/triage.md, state sources)."""

import pytest
from django.utils import timezone

from fleet.connectors.pulls import pull
from fleet.models import Occurrence, SnapshotDeviceCodeStat
from fleet.pipeline import run_round
from fleet.triage.models import TriageFlag
from tests.fleet.connectors.microsoft_server import STORED, _feature_state

pytestmark = pytest.mark.django_db


def test_the_same_daily_state_pulled_twice_adds_nothing_and_raises_no_spike(connector, microsoft):
    # Fifteen more devices failing the feature update in the state report, on top of the
    # served ones: enough that counting a re-export as events would look like a storm.
    microsoft.feature_state_rows += [
        _feature_state(0, f"CONTOSO-DT-{n:04d}", "InstallIssue",
                       f"Install failed (0x80070002), attempt {n}.", "2026-12-30 09:00:00")
        for n in range(1, 16)
    ]  # fmt: skip
    first = pull(connector)
    assert first.errors == []
    assert first.created == STORED + 15
    run_round(timezone.now(), deliver=False)
    snapshots = SnapshotDeviceCodeStat.objects.count()
    assert snapshots > 0

    # The next day's export of the same state: every device scanned again, a new snapshot
    # time in Log Analytics; no device changed state.
    for row in microsoft.feature_state_rows:
        row["LastWUScanTimeUTC"] = row["EventDateTimeUTC"] = "2026-12-31 09:00:00"
    for row in microsoft.quality_state_rows:
        row["LastWUScanTimeUTC"] = "2026-12-31 09:00:00"
    for row in microsoft.client_rows:
        row[0] = "2026-12-31T02:00:00Z"  # TimeGenerated: after the watermark, so served again
    second = pull(connector)

    assert second.errors == []
    by_report = {(o.report, o.policy): o for o in second.reports}
    assert by_report[("UCClientUpdateStatus", "")].rows == len(microsoft.client_rows)
    assert second.created == 0
    assert Occurrence.objects.count() == STORED + 15
    run_round(timezone.now(), deliver=False)
    assert SnapshotDeviceCodeStat.objects.count() == snapshots
    kinds = set(TriageFlag.objects.values_list("kind", flat=True))
    assert not kinds & {TriageFlag.Kind.SPIKE, TriageFlag.Kind.FLEET_SPIKE}
