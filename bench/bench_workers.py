"""Benchmark: the effect of a second Celery worker on queued CSV imports.

    python bench/bench_workers.py [--files 4] [--rows 50000] [--database-url URL] [--quick]

Starts a real redis-server on a free loopback port and real `celery -A fleet worker -Q ingest`
processes (concurrency 1 each) on a throwaway database. The same set of generated Configuration
Manager exports (one tenant per file, so nothing is a duplicate) is queued twice: once for one
worker (the baseline) and once for two. The figure is rows per second from the first `queued`
to the last import `done`; the ratio is the speed-up a second worker buys on this machine.
Every import is checked for its exact stored count, so a fast wrong run cannot pass for a fast
one. Asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.bench_import import rows as export_rows  # noqa: E402
from bench.bench_import import write_export  # noqa: E402
from bench.common import Figure, database_version, report  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=4, help="exports queued per round")
    parser.add_argument("--rows", type=int, default=50_000, help="data rows per export")
    parser.add_argument("--database-url", default="", help="postgres://… (default: SQLite)")
    parser.add_argument("--quick", action="store_true", help="4 files of 5,000 rows")
    args = parser.parse_args()
    if args.quick:
        args.rows = 5_000
    if args.files < 1 or args.rows < 1:
        parser.error("--files and --rows must be at least 1")
    return args


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.1)


def start_redis(workdir: Path) -> tuple[subprocess.Popen, str]:
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip

    def answers() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    wait_for(answers, 20, "redis-server")
    return process, f"redis://127.0.0.1:{port}/0"


def setup_django(database_url: str, workdir: Path) -> str:
    """A throwaway database with the tables from the models; returns its URL for workers."""
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{workdir}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleet.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.conf import settings

    django.setup()
    from django.db import connection

    settings.DATABASES["default"].setdefault("TEST", {})["MIGRATE"] = False
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    if connection.vendor == "sqlite":
        return f"sqlite:///{name}"
    return database_url.rsplit("/", 1)[0] + "/" + name


def start_workers(count: int, db_url: str, redis_url: str, logdir: Path) -> list[subprocess.Popen]:
    env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis_url, "LOG_LEVEL": "INFO"}
    workers = []
    for n in range(count):
        log = logdir / f"worker-{count}-{n}.log"
        workers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "fleet",
                    "worker",
                    "-Q",
                    "ingest",
                    "--concurrency",
                    "1",
                    "--pool",
                    "prefork",
                    "--loglevel",
                    "INFO",
                    "--without-mingle",
                    "--without-gossip",
                    "--hostname",
                    f"bench{n}-{os.getpid()}@%h",
                ],
                cwd=REPO,
                env=env,
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        try:
            wait_for(lambda log=log: "ready." in log.read_text(errors="replace"), 90, "a worker")
        except SystemExit:
            sys.stderr.write(log.read_text(errors="replace"))
            raise
    return workers


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()


def run_round(label: str, exports: list[Path], expected: int) -> float:
    """Queue one import per export, each for its own new tenant; seconds until all are done."""
    from fleet.ingest.models import ImportRecord
    from fleet.ingest.tasks import run_import
    from fleet.models import Occurrence, Tenant

    records = []
    for n, path in enumerate(exports):
        tenant = Tenant.objects.create(slug=f"{label}-{n}", name=f"{label} {n}")
        records.append(
            ImportRecord.objects.create(
                tenant=tenant, file_name=path.name, stored_path=str(path), size=path.stat().st_size
            )
        )
    started = time.perf_counter()
    for record in records:
        run_import.apply_async(args=[record.pk], retry=False)
    ids = [r.pk for r in records]

    def finished() -> bool:
        states = ImportRecord.objects.filter(pk__in=ids).values_list("status", flat=True)
        if ImportRecord.Status.FAILED in states:
            raise SystemExit(f"an import failed in round {label!r}")
        return all(s == ImportRecord.Status.DONE for s in states)

    wait_for(finished, 3600, f"the {label} imports")
    seconds = time.perf_counter() - started
    for record in records:
        stored = Occurrence.objects.filter(tenant_id=record.tenant_id).count()
        if stored != expected:
            raise SystemExit(f"{label}: {record.file_name} stored {stored}, expected {expected}")
    return seconds


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_workers_") as tmp:
        workdir = Path(tmp)
        redis, redis_url = start_redis(workdir)
        os.environ["REDIS_URL"] = redis_url
        db_url = setup_django(args.database_url, workdir)
        from django.db import connection

        from fleet.celery import app

        app.conf.CELERY_BROKER_URL = redis_url
        exports = []
        for n in range(args.files):
            path = workdir / f"export-{n}.csv"
            write_export(path, args.rows)
            exports.append(path)
        expected = sum(1 for _machine, _when, code in export_rows(args.rows) if code)
        total = args.files * args.rows
        timings = {}
        try:
            for count in (1, 2):
                workers = start_workers(count, db_url, redis_url, workdir)
                try:
                    timings[count] = run_round(f"w{count}", exports, expected)
                finally:
                    stop_workers(workers)
                print(
                    f"{count} worker(s): {args.files} imports of {args.rows:,} rows in "
                    f"{timings[count]:.1f} s ({total / timings[count]:,.0f} rows/s)",
                    flush=True,
                )
            version = database_version()
        finally:
            redis.terminate()
            connection.creation.destroy_test_db(
                connection.settings_dict["NAME"], verbosity=0, keepdb=False
            )
        report(
            "workers",
            args.database_url,
            [
                Figure(
                    "queued imports, 2 workers",
                    total / timings[2],
                    "rows/s",
                    baseline=total / timings[1],
                    baseline_label="same imports, 1 worker",
                    note="ratio = speed-up from the second worker",
                )
            ],
            {"files": args.files, "rows_per_file": args.rows, "cpus": os.cpu_count()},
            quick=args.quick,
            db_version=version,
        )


if __name__ == "__main__":
    main()
