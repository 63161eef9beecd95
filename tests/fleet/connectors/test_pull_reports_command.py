"""`python manage.py pull_reports --tenant T` as an operator runs it: its own process, its own
database, the three base URLs pointed at the loopback stand-in through the environment."""

import datetime as dt
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fleet.connectors.microsoft_server import (
    CLIENT_ID,
    CLIENT_SECRET,
    ENTRA_TENANT,
    STORED,
    WORKSPACE,
    serving,
)

REPO = Path(__file__).resolve().parents[3]
# Its own process reads the real clock, so the served rows are dated yesterday by that clock.
pytestmark = pytest.mark.integration


def test_pull_reports_imports_the_served_exports_once_and_nothing_on_a_second_run(tmp_path):
    database = tmp_path / "fleet.sqlite3"
    secret_file = tmp_path / "secret"
    secret_file.write_text(CLIENT_SECRET)
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    with serving(tmp_path, day=yesterday) as server:
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "DATABASE_URL": f"sqlite:///{database}",
            "MS_LOGIN_URL": server.login_url,
            "MS_GRAPH_URL": server.graph_url,
            "LOG_ANALYTICS_URL": server.la_url,
            "REQUESTS_CA_BUNDLE": server.ca_file,
            # The stand-in's jobs complete at their second look: a second apart, not five.
            "CONNECTOR_POLL_SECONDS": "1",
        }

        def manage(*args: str) -> subprocess.CompletedProcess:
            done = subprocess.run(
                [sys.executable, "manage.py", *args],
                cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr[-2000:]
            return done

        manage("migrate", "--verbosity", "0")
        manage("create_tenant", "acme", "Acme Corp")
        manage("connect_tenant", "acme", "--entra-tenant-id", ENTRA_TENANT,
               "--client-id", CLIENT_ID, "--client-secret-file", str(secret_file),
               "--workspace-id", WORKSPACE)  # fmt: skip
        first = manage("pull_reports", "--tenant", "acme")
        assert f"acme: {STORED} occurrences imported" in first.stdout
        second = manage("pull_reports", "--tenant", "acme")
        assert "acme: 0 occurrences imported" in second.stdout
    with sqlite3.connect(database) as db:
        assert db.execute("select count(*) from fleet_occurrence").fetchone() == (STORED,)
        runs = db.execute("select last_status, last_rows_imported from fleet_connector").fetchall()
        assert runs == [("ok", 0)]
