from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from fleet.connectors import graph
from fleet.connectors.models import Connector
from fleet.connectors.pulls import pull
from fleet.ingest.models import ImportRecord
from fleet.models import Device, Occurrence
from tests.factories import UserFactory, client_for
from tests.fleet.connectors.microsoft_server import CLIENT_ROWS, STORED, UC_ROWS

pytestmark = pytest.mark.django_db


def _page(connector: Connector) -> str:
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    response = client_for(admin).get(f"/tenants/{connector.tenant.slug}/connector/")
    assert response.status_code == 200
    return response.content.decode()


def test_pull_reports_imports_the_served_exports_once(connector, microsoft, capsys):
    call_command("pull_reports", "--tenant", "acme")
    assert Occurrence.objects.filter(tenant=connector.tenant).count() == STORED
    records = ImportRecord.objects.filter(runner=ImportRecord.Runner.CONNECTOR)
    # One import per report and policy: two feature update policies (failures and states),
    # one expedite profile (errors and states), one query per table; each named for the
    # connector and done.
    assert records.count() == 8
    assert all(r.file_name.startswith("connector: ") for r in records)
    assert {r.status for r in records} == {ImportRecord.Status.DONE}
    assert {r.format for r in records} == {
        "intune_feature_update_failures",
        "intune_expedited_update_failures",
        "intune_feature_update_state",
        "intune_quality_update_state",
        "wufb_ucupdatealert",
        "wufb_ucclientupdatestatus",
    }
    # The healthy devices of the state reports came in as states, not as occurrences.
    healthy = {"CONTOSO-LT-0010", "CONTOSO-LT-0011", "CONTOSO-LT-0012", "CONTOSO-LT-0013"}
    assert healthy <= set(Device.objects.values_list("hostname", flat=True))
    assert not Occurrence.objects.filter(device__hostname__in=healthy).exists()
    assert sum(r.success_rows for r in records) == len(healthy)
    assert sum(r.rejected_count for r in records) == 0
    connector.refresh_from_db()
    assert connector.last_status == Connector.Status.OK
    assert connector.last_rows_imported == STORED
    assert connector.next_run_at == connector.last_run_at + timedelta(minutes=360)
    assert connector.running_since is None
    # The export jobs asked for explicit columns, per policy, as CSV.
    jobs = list(microsoft.jobs.values())
    assert {job["reportName"] for job in jobs} == set(graph.REPORTS)
    assert {job["filter"] for job in jobs} == {
        "(PolicyId eq 'f1000000-0000-4000-8000-000000000001')",
        "(PolicyId eq 'f2000000-0000-4000-8000-000000000002')",
        "(PolicyId eq 'e1000000-0000-4000-8000-000000000001')",
    }
    assert all(job["select"] for job in jobs)
    assert f"acme: {STORED} occurrences imported" in capsys.readouterr().out

    call_command("pull_reports", "--tenant", "acme")
    assert Occurrence.objects.filter(tenant=connector.tenant).count() == STORED
    connector.refresh_from_db()
    assert connector.last_status == Connector.Status.OK
    assert connector.last_rows_imported == 0
    assert "acme: 0 occurrences imported" in capsys.readouterr().out
    # The second Log Analytics query asked only for rows after the watermark.
    assert connector.watermarks == {
        "UCUpdateAlert": UC_ROWS[-1][0],
        "UCClientUpdateStatus": CLIENT_ROWS[-1][0],
    }


def test_a_429_with_retry_after_is_waited_out(connector, microsoft):
    microsoft.throttle = [(429, "7"), (429, "3")]
    slept: list[float] = []
    result = pull(connector, sleep=slept.append)
    assert result.errors == []
    assert [s for s in slept if s] == [7.0, 3.0]
    assert Occurrence.objects.count() == STORED


def test_throttling_beyond_the_bound_fails_the_report_only(connector, microsoft, settings):
    settings.CONNECTOR_MAX_RETRY_AFTER = 60
    microsoft.throttle = [(429, "3600")]  # the first Graph request: the feature profiles
    result = pull(connector, sleep=lambda s: None)
    connector.refresh_from_db()
    assert connector.last_status == Connector.Status.FAILED
    assert "DeviceFailuresByFeatureUpdatePolicy: throttled" in connector.last_error
    assert "Retry-After 3600 s" in connector.last_error
    # The other reports still came in.
    assert result.created == STORED - 3


def test_a_failed_export_job_leaves_a_clear_status_and_loses_nothing(connector, microsoft):
    pull(connector)
    assert Occurrence.objects.count() == STORED
    first = set(ImportRecord.objects.values_list("pk", flat=True))
    microsoft.failing_reports = {"DeviceFailuresByFeatureUpdatePolicy"}
    microsoft.feature_rows.append(dict(microsoft.feature_rows[0], AlertId="alert-new"))

    pull(connector)
    connector.refresh_from_db()
    assert connector.last_status == Connector.Status.FAILED
    assert "export job DeviceFailuresByFeatureUpdatePolicy_" in connector.last_error
    assert "failed" in connector.last_error
    assert Occurrence.objects.count() == STORED
    # The first pull's imports stand; the quality report imported again, adding nothing.
    assert (
        set(
            ImportRecord.objects.filter(pk__in=first, status=ImportRecord.Status.DONE).values_list(
                "pk", flat=True
            )
        )
        == first
    )
    page = _page(connector)
    assert "Failed" in page
    assert "DeviceFailuresByFeatureUpdatePolicy" in page and "export job" in page

    microsoft.failing_reports = set()
    pull(connector)
    connector.refresh_from_db()
    assert connector.last_status == Connector.Status.OK
    assert connector.last_error == ""
    assert Occurrence.objects.count() == STORED + 1


def test_bad_credentials_leave_a_clear_status_and_lose_nothing(connector, microsoft):
    pull(connector)
    microsoft.secret = "rotated"  # noqa: S105 - the secret was rotated in Entra, not here
    result = pull(connector)
    connector.refresh_from_db()
    assert connector.last_status == Connector.Status.FAILED
    assert "AADSTS7000215" in connector.last_error
    assert "Entra ID refused the app registration (invalid_client)" in connector.last_error
    assert result.reports == []  # nothing more was tried with a refused app
    assert Occurrence.objects.count() == STORED
    assert "AADSTS7000215" in _page(connector)
    assert connector.running_since is None


def test_revoked_consent_is_named(connector, microsoft):
    microsoft.refuse_tokens = (
        400,
        "invalid_client",
        "AADSTS7000112: Application is disabled.\r\nTrace ID: 1",
    )
    with pytest.raises(CommandError, match="1 connector"):
        call_command("pull_reports", "--tenant", "acme")
    connector.refresh_from_db()
    assert connector.last_error == (
        "Entra ID refused the app registration (invalid_client): "
        "AADSTS7000112: Application is disabled."
    )


def test_an_unknown_tenant_id_is_named(connector, microsoft):
    Connector.objects.filter(pk=connector.pk).update(
        entra_tenant_id="00000000-0000-4000-8000-000000000000"
    )
    connector.refresh_from_db()
    pull(connector)
    connector.refresh_from_db()
    assert connector.last_status == Connector.Status.FAILED
    assert "is the Entra tenant id right?" in connector.last_error


def test_an_expired_download_link_gets_a_new_job(connector, microsoft):
    microsoft.expire_downloads = 1
    result = pull(connector, report="QualityUpdateDeviceErrorsByPolicy")
    assert result.errors == []
    assert len(microsoft.jobs) == 2  # the first job's link had expired
    assert Occurrence.objects.count() == 2


def test_a_link_that_stays_expired_fails_the_report(connector, microsoft):
    microsoft.expire_downloads = 10
    pull(connector, report="QualityUpdateDeviceErrorsByPolicy")
    connector.refresh_from_db()
    assert "download link answered 403" in connector.last_error


def test_log_analytics_reads_only_rows_after_the_watermark(connector, microsoft):
    pull(connector, report="UCUpdateAlert")
    assert Occurrence.objects.count() == len(UC_ROWS)
    new_row = list(UC_ROWS[0])
    new_row[0], new_row[2], new_row[8] = "2026-12-31T01:00:00Z", "uc-9", "CONTOSO-LT-0009"
    microsoft.uc_rows.append(new_row)
    result = pull(connector, report="UCUpdateAlert")
    assert result.created == 1
    queries = [r.body.decode() for r in microsoft.requests if r.path.endswith("/query")]
    assert "datetime(2026-12-30T08:00:00Z)" in queries[-1]
    connector.refresh_from_db()
    assert connector.watermarks["UCUpdateAlert"] == "2026-12-31T01:00:00Z"


def test_one_pull_per_tenant_at_a_time_and_a_dead_one_expires(connector, microsoft, settings):
    Connector.objects.filter(pk=connector.pk).update(running_since=timezone.now())
    result = pull(connector)
    assert not result.claimed
    assert microsoft.requests == []
    stale = timezone.now() - timedelta(minutes=settings.CONNECTOR_STALE_MINUTES + 1)
    Connector.objects.filter(pk=connector.pk).update(running_since=stale)
    assert pull(connector).claimed
    connector.refresh_from_db()
    assert connector.running_since is None


def test_due_connectors_are_queued_by_beat(connector, microsoft, monkeypatch):
    from fleet.connectors import tasks

    queued = []
    monkeypatch.setattr(tasks.pull_connector, "apply_async", lambda args, **kw: queued.append(args))
    assert tasks.pull_due_connectors() == 1
    assert queued == [(connector.pk,)]
    Connector.objects.filter(pk=connector.pk).update(
        next_run_at=timezone.now() + timedelta(minutes=5)
    )
    assert tasks.pull_due_connectors() == 0
