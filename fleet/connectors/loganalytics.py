"""Windows Update for Business reports through the Log Analytics query API.

POST {LOG_ANALYTICS_URL}/v1/workspaces/{id}/query with a KQL query and a bearer token; the answer
is `tables`, each with `columns` (name, type) and `rows` (learn.microsoft.com/azure/
azure-monitor/logs/api/response-format). Only rows newer than the table's watermark (the newest
TimeGenerated already imported) are asked for; the rows are written as a CSV and imported by
the same importer as an upload of the same table.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings

from fleet.connectors.microsoft import ConnectorError, Session, check

# How far back the first pull of a table reaches (the table keeps 28 days by default).
FIRST_PULL = "28d"
MAX_ROWS = 500_000


@dataclass(frozen=True)
class LogAnalyticsTable:
    name: str
    # The columns projected, as the importer's format for the table names them.
    columns: tuple[str, ...]


TABLES: dict[str, LogAnalyticsTable] = {
    table.name: table
    for table in (
        LogAnalyticsTable(
            name="UCUpdateAlert",
            columns=(
                "TimeGenerated",
                "AlertClassification",
                "AlertId",
                "AlertStatus",
                "AlertSubtype",
                "AlertType",
                "AzureADDeviceId",
                "Description",
                "DeviceName",
                "ErrorCode",
                "ErrorSymName",
                "StartTime",
                "TargetBuild",
                "TargetVersion",
                "UpdateCategory",
            ),  # fmt: skip
        ),
        # Every device's state per update, restated in each daily snapshot (a new
        # TimeGenerated); no error code column, a code in EventData makes a row a failure.
        LogAnalyticsTable(
            name="UCClientUpdateStatus",
            columns=(
                "TimeGenerated",
                "AzureADDeviceId",
                "ClientState",
                "ClientSubstate",
                "ClientSubstateTime",
                "DeviceName",
                "EventData",
                "TargetBuild",
                "TargetKBNumber",
                "TargetVersion",
                "UpdateCategory",
                "UpdateClassification",
                "UpdateDisplayName",
            ),  # fmt: skip
        ),
    )
}


def query_text(table: LogAnalyticsTable, watermark: str | None) -> str:
    since = f"datetime({watermark})" if watermark else f"ago({FIRST_PULL})"
    return (
        f"{table.name} | where TimeGenerated > {since} "
        f"| project {', '.join(table.columns)} | order by TimeGenerated asc"
    )


def pull(
    session: Session, workspace_id: str, table: LogAnalyticsTable, watermark: str | None, into: Path
) -> tuple[Path | None, str | None]:
    """(CSV of the new rows or None when there are none, the new watermark)."""
    url = f"{settings.LOG_ANALYTICS_URL}/v1/workspaces/{workspace_id}/query"
    response = session.request(
        "POST",
        url,
        resource=settings.LOG_ANALYTICS_URL,
        json={"query": query_text(table, watermark)},
    )
    body = check(response, f"querying {table.name}").json()
    tables = body.get("tables") or []
    if not tables:
        raise ConnectorError(f"the {table.name} query answered no table")
    columns = [column["name"] for column in tables[0].get("columns", [])]
    rows = tables[0].get("rows", [])
    if len(rows) > MAX_ROWS:
        raise ConnectorError(f"the {table.name} query answered more than {MAX_ROWS} rows")
    if not rows:
        return None, watermark
    if "TimeGenerated" not in columns:
        raise ConnectorError(f"the {table.name} answer has no TimeGenerated column")
    at = columns.index("TimeGenerated")
    newest = max((str(row[at]) for row in rows if row[at]), key=_instant, default=watermark)
    with into.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows(["" if value is None else value for value in row] for row in rows)
    return into, newest


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def probe(session: Session, workspace_id: str) -> None:
    """One query that reads nothing: proves the token, the role and the workspace id."""
    url = f"{settings.LOG_ANALYTICS_URL}/v1/workspaces/{workspace_id}/query"
    query = f"{next(iter(TABLES))} | take 0"
    check(
        session.request("POST", url, resource=settings.LOG_ANALYTICS_URL, json={"query": query}),
        "querying the workspace",
    )
