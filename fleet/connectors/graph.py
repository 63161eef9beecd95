"""Intune reports through Microsoft Graph's export jobs.

The documented flow ("Export Intune reports using Graph APIs", learn.microsoft.com/mem/intune/
fundamentals/reports-export-graph-apis): POST /beta/deviceManagement/reports/exportJobs with a
reportName, a filter, explicit `select` columns (Microsoft warns not to rely on the default
ones) and a format; GET .../exportJobs('{id}') until its status is `completed` (or `failed`);
download the ZIP at its `url`, a link that expires after some hours. The per-policy reports need
a `PolicyId` filter, so the update profiles are listed first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from fleet.connectors.microsoft import ConnectorError, Session, check

# An export job is polled every CONNECTOR_POLL_SECONDS for this long before the pull gives up.
EXPORT_WAIT_SECONDS = 600
# A download link found expired is answered by a new job, this many times at most.
MAX_JOBS = 2
MAX_DOWNLOAD_BYTES = 512 << 20


@dataclass(frozen=True)
class GraphReport:
    """One export report: its name, the profiles whose ids its PolicyId filter takes, and the
    columns selected (those the importer's format for it reads, fleet/ingest/csv_formats.py)."""

    name: str
    profiles: str
    select: tuple[str, ...]


# Column names as in Microsoft's report reference ("Intune reports and properties available
# using Graph API") and in the console's CSV exports the importer already reads.
REPORTS: dict[str, GraphReport] = {
    report.name: report
    for report in (
        GraphReport(
            name="DeviceFailuresByFeatureUpdatePolicy",
            profiles="windowsFeatureUpdateProfiles",
            select=(
                "PolicyId",
                "PolicyName",
                "FeatureUpdateVersion",
                "DeviceId",
                "AADDeviceId",
                "AlertId",
                "EventDateTimeUTC",
                "LastUpdatedAlertStatusDateTimeUTC",
                "AlertType",
                "AlertStatus",
                "AlertClassification",
                "WindowsUpdateVersion",
                "Build",
                "AlertMessage",
                "AlertMessageDescription",
                "AlertMessageData",
                "Win32ErrorCode",
                "RecommendedAction",
                "ExtendedRecommendedAction",
                "StartDateTimeUTC",
                "ResolvedDateTimeUTC",
                "DeviceName",
                "UPN",
            ),  # fmt: skip
        ),
        GraphReport(
            name="QualityUpdateDeviceErrorsByPolicy",
            profiles="windowsQualityUpdateProfiles",
            select=(
                "PolicyId",
                "DeviceName",
                "AlertMessage",
                "Win32ErrorCode",
                "UPN",
                "ExpediteQUReleaseDate",
                "DeviceId",
            ),  # fmt: skip
        ),
        # The state reports: every device of a profile with its state and latest alert. No
        # error code column; the importer reads a code from the alert texts and takes a row
        # without one for a healthy state (csv_formats.py, `code_in_text`).
        GraphReport(
            name="FeatureUpdateDeviceState",
            profiles="windowsFeatureUpdateProfiles",
            select=(
                "PolicyId",
                "PolicyName",
                "FeatureUpdateVersion",
                "DeviceId",
                "AADDeviceId",
                "EventDateTimeUTC",
                "CurrentDeviceUpdateStatus",
                "CurrentDeviceUpdateSubstatus",
                "CurrentDeviceUpdateStatusEventDateTimeUTC",
                "LatestAlertMessage",
                "LatestAlertMessageDescription",
                "LastWUScanTimeUTC",
                "Build",
                "DeviceName",
                "UPN",
                "AggregateState",
            ),  # fmt: skip
        ),
        GraphReport(
            name="QualityUpdateDeviceStatusByPolicy",
            profiles="windowsQualityUpdateProfiles",
            select=(
                "PolicyId",
                "DeviceName",
                "UPN",
                "DeviceId",
                "AADDeviceId",
                "EventDateTimeUTC",
                "CurrentDeviceUpdateStatus",
                "CurrentDeviceUpdateSubstatus",
                "AggregateState",
                "LatestAlertMessage",
                "LastWUScanTimeUTC",
            ),  # fmt: skip
        ),
    )
}
# Microsoft documents one driver update report for export, DriverUpdatePolicyStatusSummary:
# device counts per driver update profile, no device and no error code, so nothing to import.


class ExportFailed(ConnectorError):
    """Graph said the export job failed, or it never completed."""


class LinkExpired(ConnectorError):
    """The job's download link no longer works (it lasts some hours)."""


def _base() -> str:
    return f"{settings.MS_GRAPH_URL}/beta/deviceManagement"


def list_profiles(session: Session, collection: str) -> list[tuple[str, str]]:
    """(id, displayName) of every profile of `collection`, following @odata.nextLink."""
    url: str | None = f"{_base()}/{collection}?$select=id,displayName"
    profiles = []
    while url:
        response = check(
            session.request("GET", url, resource=settings.MS_GRAPH_URL), f"listing {collection}"
        )
        body = response.json()
        profiles += [(item["id"], item.get("displayName", "")) for item in body.get("value", [])]
        url = body.get("@odata.nextLink")
    return profiles


def export(session: Session, report: GraphReport, policy_id: str, into: Path) -> Path:
    """Create, poll and download one export job of `report` for `policy_id` into `into`; a link
    found expired gets a new job (MAX_JOBS in all)."""
    for attempt in range(1, MAX_JOBS + 1):
        job = _create(session, report, policy_id)
        url = _wait(session, report, job)
        try:
            return _download(session, url, into)
        except LinkExpired:
            if attempt == MAX_JOBS:
                raise
    raise AssertionError("unreachable")


def _create(session: Session, report: GraphReport, policy_id: str) -> dict:
    body = {
        "reportName": report.name,
        "filter": f"(PolicyId eq '{policy_id}')",
        "select": list(report.select),
        "format": "csv",
        "localizationType": "LocalizedValuesAsAdditionalColumn",
    }
    response = session.request(
        "POST", f"{_base()}/reports/exportJobs", resource=settings.MS_GRAPH_URL, json=body
    )
    return check(response, f"creating the {report.name} export").json()


def _wait(session: Session, report: GraphReport, job: dict) -> str:
    job_url = f"{_base()}/reports/exportJobs('{job['id']}')"
    every = settings.CONNECTOR_POLL_SECONDS
    for _ in range(max(1, EXPORT_WAIT_SECONDS // max(every, 1))):
        status = job.get("status")
        if status == "completed" and job.get("url"):
            return job["url"]
        if status == "failed":
            raise ExportFailed(
                f"Graph reports the {report.name} export job {job['id']} failed; "
                "the next pull asks for a new one"
            )
        session.sleep(every)
        response = session.request("GET", job_url, resource=settings.MS_GRAPH_URL)
        job = check(response, f"polling the {report.name} export").json()
    raise ExportFailed(f"the {report.name} export job {job['id']} did not complete in time")


def _download(session: Session, url: str, into: Path) -> Path:
    # A pre-signed storage link: no bearer token (it would be sent to another host).
    response = session.request("GET", url, stream=True)
    if response.status_code in (403, 404, 410):
        raise LinkExpired(f"the export's download link answered {response.status_code}")
    check(response, "downloading the export")
    written = 0
    with into.open("wb") as out:
        for chunk in response.iter_content(1 << 16):
            written += len(chunk)
            if written > MAX_DOWNLOAD_BYTES:
                raise ConnectorError("the export's download is larger than 512 MB")
            out.write(chunk)
    return into
