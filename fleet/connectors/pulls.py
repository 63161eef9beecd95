"""One pull of a tenant's reports: claim the connector, export or query each report, import
each file through the upload importer, write the outcome on the connector.

One pull per tenant at a time: `claim` is a conditional UPDATE of `running_since`, which a pull
that died leaves behind for at most CONNECTOR_STALE_MINUTES. Each report is its own step: one
that fails (a failed job, an expired link, throttling beyond the bounds) is named in the
connector's error and the others still run; what earlier pulls imported is never touched. The
reports are daily state snapshots: their rows' dedupe keys come from the rows themselves, so
pulling the same state again stores nothing (fleet/sources.py keeps them out of event counts).
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from fleet.connectors import graph, loganalytics
from fleet.connectors.microsoft import ConnectorError, CredentialsRejected, Session
from fleet.connectors.models import Connector
from fleet.ingest.importer import ImportFailed, run_import
from fleet.ingest.models import ImportRecord

log = logging.getLogger(__name__)

REPORT_NAMES = (*graph.REPORTS, *loganalytics.TABLES)


@dataclass
class ReportOutcome:
    report: str
    policy: str = ""
    import_id: int | None = None
    rows: int = 0
    created: int = 0
    error: str = ""

    def as_dict(self) -> dict:
        return {
            "report": self.report,
            "policy": self.policy,
            "import_id": self.import_id,
            "rows": self.rows,
            "created": self.created,
            "error": self.error,
        }


@dataclass
class PullResult:
    claimed: bool = True
    reports: list[ReportOutcome] = field(default_factory=list)
    error: str = ""

    @property
    def created(self) -> int:
        return sum(outcome.created for outcome in self.reports)

    @property
    def errors(self) -> list[str]:
        found = [self.error] if self.error else []
        return found + [
            f"{o.report}{f' ({o.policy})' if o.policy else ''}: {o.error}"
            for o in self.reports
            if o.error
        ]


def claim(connector: Connector, now: datetime) -> bool:
    """Take the connector's lock with one conditional UPDATE; False when a live pull has it."""
    stale = now - timedelta(minutes=settings.CONNECTOR_STALE_MINUTES)
    taken = Connector.objects.filter(
        Q(running_since__isnull=True) | Q(running_since__lt=stale), pk=connector.pk
    ).update(running_since=now, last_run_at=now)
    return taken == 1


def due_connectors(now: datetime) -> list[int]:
    """Enabled connectors whose next run has come (or was never set), not running now."""
    stale = now - timedelta(minutes=settings.CONNECTOR_STALE_MINUTES)
    return list(
        Connector.objects.filter(
            Q(next_run_at__isnull=True) | Q(next_run_at__lte=now), enabled=True
        )
        .filter(Q(running_since__isnull=True) | Q(running_since__lt=stale))
        .values_list("pk", flat=True)
    )


def pull(
    connector: Connector,
    *,
    report: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> PullResult:
    """Run one pull of `connector` now (every report, or only `report`)."""
    if report is not None and report not in REPORT_NAMES:
        raise ValueError(f"unknown report {report!r}; known: {', '.join(REPORT_NAMES)}")
    started = timezone.now()
    if not claim(connector, started):
        return PullResult(claimed=False, error="a pull of this tenant is already running")
    connector.refresh_from_db()  # the settings and watermarks as they are now, not as loaded
    result = PullResult()
    # Advanced per table only once its rows are in, so it is right whatever stops the pull.
    watermarks = dict(connector.watermarks)
    try:
        session = Session(
            connector.entra_tenant_id, connector.client_id, connector.credential(), sleep=sleep
        )
        with tempfile.TemporaryDirectory(prefix="fleet-connector-") as workdir:
            _pull_graph(connector, session, report, Path(workdir), result)
            if connector.workspace_id:
                _pull_log_analytics(connector, session, report, Path(workdir), result, watermarks)
    except ConnectorError as exc:  # bad credentials: every other report would be refused too
        result.error = str(exc)
    except Exception as exc:  # the page must say something went wrong, and the lock must go
        log.exception("pull of %s stopped", connector)
        result.error = f"the pull stopped: {exc}"
    finally:
        _finish(connector, result, started, watermarks)
    return result


def _pull_graph(
    connector: Connector, session: Session, only: str | None, workdir: Path, result: PullResult
) -> None:
    for report in graph.REPORTS.values():
        if only not in (None, report.name):
            continue
        try:
            profiles = graph.list_profiles(session, report.profiles)
        except CredentialsRejected:
            raise
        except ConnectorError as exc:
            result.reports.append(ReportOutcome(report.name, error=str(exc)))
            continue
        for policy_id, policy_name in profiles:
            outcome = ReportOutcome(report.name, policy=policy_name or policy_id)
            result.reports.append(outcome)
            try:
                path = graph.export(session, report, policy_id, workdir / f"{report.name}.zip")
                name = f"{report.name} {policy_name or policy_id}.zip"
                _import(connector, path, name, outcome)
            except CredentialsRejected:
                raise
            except ConnectorError as exc:
                outcome.error = str(exc)


def _pull_log_analytics(
    connector: Connector,
    session: Session,
    only: str | None,
    workdir: Path,
    result: PullResult,
    watermarks: dict,
) -> None:
    for table in loganalytics.TABLES.values():
        if only not in (None, table.name):
            continue
        outcome = ReportOutcome(table.name)
        result.reports.append(outcome)
        try:
            path, newest = loganalytics.pull(
                session,
                connector.workspace_id,
                table,
                watermarks.get(table.name),
                workdir / f"{table.name}.csv",
            )
            if path is not None:
                since = watermarks.get(table.name) or "the first pull"
                _import(connector, path, f"{table.name} since {since}.csv", outcome)
        except CredentialsRejected:
            raise
        except ConnectorError as exc:
            outcome.error = str(exc)
            continue
        if not outcome.error:
            # Only after the rows are in: a failed import asks for the same rows next time.
            watermarks[table.name] = newest


def _import(connector: Connector, path: Path, name: str, outcome: ReportOutcome) -> None:
    """Import one downloaded file as an upload would be, its record naming the connector."""
    record = ImportRecord.objects.create(
        tenant_id=connector.tenant_id,
        file_name=f"connector: {name}"[:255],
        status=ImportRecord.Status.RUNNING,
        runner=ImportRecord.Runner.CONNECTOR,
        heartbeat_at=timezone.now(),
    )
    outcome.import_id = record.pk
    try:
        summary = run_import(record, path, runner=ImportRecord.Runner.CONNECTOR)
    except ImportFailed as exc:
        outcome.error = f"import {record.pk} failed: {exc}"
        return
    outcome.rows, outcome.created = summary.rows, summary.created


def _finish(connector: Connector, result: PullResult, started: datetime, watermarks: dict) -> None:
    now = timezone.now()
    errors = result.errors
    fields = {
        "running_since": None,
        "last_finished_at": now,
        "last_status": Connector.Status.FAILED if errors else Connector.Status.OK,
        "last_error": "\n".join(errors),
        "last_rows_imported": result.created,
        "last_reports": [outcome.as_dict() for outcome in result.reports],
        "watermarks": watermarks,
        "next_run_at": started + timedelta(minutes=connector.interval_minutes),
    }
    Connector.objects.filter(pk=connector.pk).update(**fields)
    for name, value in fields.items():
        setattr(connector, name, value)


def test_connection(connector: Connector) -> tuple[bool, list[str]]:
    """(ok, what was tried): a token for Graph and one list of profiles, and a token and an
    empty query for Log Analytics when a workspace is set. Nothing is imported."""
    lines: list[str] = []
    try:
        session = Session(connector.entra_tenant_id, connector.client_id, connector.credential())
        profiles = graph.list_profiles(
            session, graph.REPORTS["DeviceFailuresByFeatureUpdatePolicy"].profiles
        )
        lines.append(f"Graph: signed in; {len(profiles)} feature update profile(s).")
        if connector.workspace_id:
            loganalytics.probe(session, connector.workspace_id)
            lines.append("Log Analytics: signed in; the workspace answered.")
    except Exception as exc:  # noqa: BLE001 - any failure is the answer to show
        lines.append(f"Failed: {exc}")
        return False, lines
    return True, lines
