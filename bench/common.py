"""What every benchmark shares: the figure it reports, and where and how it writes it.

A benchmark measures its figures, each beside a baseline measured in the same run on the same
machine, and calls `report()`: that prints them and writes `bench/results/<bench>-<db>.json`.
`bench/run_all.py` reads those files back to print one table for `make bench`. Targets are
judged here, never asserted: a missed target is a finding to record, not a failure.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass
class Figure:
    """One measured figure, with its same-run baseline and the target it is judged against.

    `ratio` is value / baseline. `target` is a short human text ("≥ 0.5× baseline", "< 300 ms");
    `met` is True/False when a target applies and None when the figure is informational.
    """

    metric: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    target: str = ""
    met: bool | None = None
    note: str = ""
    ratio: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.baseline:
            self.ratio = self.value / self.baseline


def database_label(database_url: str) -> str:
    """The backend a database URL names, as results and the table label it."""
    return "postgresql" if database_url.startswith(("postgres://", "postgresql://")) else "sqlite"


def machine() -> dict[str, object]:
    """What the figures were measured on, for docs/performance.md."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        memory_kb = 0
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git_commit": _git_commit(),
    }


def _git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def database_version() -> str:
    """The running backend and its version (call after django.setup())."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
        cursor.execute("SELECT sqlite_version()")
        return f"SQLite {cursor.fetchone()[0]}"


def report(
    bench: str,
    database_url: str,
    figures: list[Figure],
    parameters: dict[str, object],
    quick: bool = False,
    db_version: str = "",
) -> Path:
    """Print the figures and write them to bench/results/<bench>-<db>[-quick].json."""
    db = database_label(database_url)
    for fig in figures:
        print(format_figure(bench, db, fig), flush=True)
    RESULTS_DIR.mkdir(exist_ok=True)
    name = f"{bench}-{db}{'-quick' if quick else ''}.json"
    path = RESULTS_DIR / name
    payload = {
        "bench": bench,
        "database": db,
        "database_version": db_version,
        "quick": quick,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "parameters": parameters,
        "machine": machine(),
        "figures": [asdict(f) for f in figures],
    }
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n")
    tmp.replace(path)
    return path


def format_figure(bench: str, db: str, fig: Figure) -> str:
    value = f"{fig.value:,.1f} {fig.unit}"
    base = f"{fig.baseline:,.1f} {fig.unit} ({fig.baseline_label})" if fig.baseline else "-"
    ratio = f"{fig.ratio:.2f}x" if fig.ratio is not None else "-"
    verdict = {True: "met", False: "MISSED", None: ""}[fig.met]
    target = f"{fig.target} {verdict}".strip()
    return (
        f"{bench:<10} {db:<10} {fig.metric:<34} {value:>18}  base {base}  ratio {ratio}  {target}"
    )
