"""Benchmark: occurrences/s through POST /api/v1/occurrences on gunicorn (2 workers, loopback),
batches of 1,000, beside a bare bulk insert of the same rows into the same table.

    python bench/bench_api.py [--quick] [--database-url URL] [--seconds N] [--clients N]
                              [--against REF] [--validation]

Runs on a throwaway database (a temporary SQLite file by default; with a postgres:// URL, a
`test_<name>` database dropped afterwards) holding one tenant, an ingest key and 5,000 devices.
It starts a real redis-server (so `request_aggregation()` queues as in production; no Celery
worker drains it, so only ingest is measured) and `gunicorn fleet.wsgi` with 2 workers. A
separate client process with `--clients` threads posts pre-encoded batches (known and new
devices, several codes and notations, with and without event ids; one post in 10 re-sends a
batch, as an agent retrying) for `--seconds`, and prints accepted occurrences/s, p50 and p99
batch latency. Afterwards the database must hold exactly the accepted count, or the run fails.

Baseline, same run: the same rows, already decoded, inserted with the database's fastest bare
path (executemany on SQLite, COPY on PostgreSQL), one transaction per 1,000 rows as the API
commits. That is the ceiling of the storage the API writes to, so the ratio says how much HTTP,
authentication, validation, device resolution and dedupe cost on top of the write itself.

Rates and latencies follow whatever else the machine runs. Server CPU per batch (gunicorn
workers plus PostgreSQL's server processes, read from /proc) beside the baseline's CPU per
1,000 rows does not, so it is the figure to compare before and after a change.

Comparing two versions in one run: `--against REF` (a commit, e.g. `main`) exports that commit
into a temporary directory and serves the same posts from it first, then from this tree, on the
same database (emptied of the first run's rows and new devices in between), and prints server CPU
per batch for both. `--validation` measures only the validation hot path, with no server or
database: the same generated batches decoded and validated in one process per version, CPU ms
per batch of 1,000 (best of several rounds), for this tree and, with `--against`, for REF.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# A version compared with `--against` runs this file with its own tree first on the path.
sys.path.insert(0, os.environ.get("BENCH_API_TREE", str(REPO)))

BATCH = 1000
DEVICES = 5000
NEW_DEVICES_PER_BATCH = 20
WARMUP_POSTS = 4
RETRY_EVERY = 10  # one post in this many re-sends the client's previous batch
MARKER = "@@BATCH@@"  # replaced by the zero-padded batch number: same length, no re-encoding
CODES = ["0x8024000B", "0x80070005", "0x800F0922", "-2145124341", 2149842955, "0x80240022",
         "0xC1900101", "0x80073712", "0x8024402C", "0x80070643"]  # fmt: skip
START = datetime(2026, 10, 1, tzinfo=UTC)
SEED = 20_261_001


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="postgres://… (default: SQLite)")
    parser.add_argument("--seconds", type=float, default=30, help="how long clients post")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client connections")
    parser.add_argument("--quick", action="store_true", help="8 seconds (make bench-quick)")
    parser.add_argument("--against", default="", help="also measure this commit, same run")
    parser.add_argument(
        "--validation", action="store_true", help="only the validation hot path, no server"
    )
    parser.add_argument("--rounds", type=int, default=3, help="with --against: alternations")
    parser.add_argument("--ports", type=int, default=0, help="Redis on this port, gunicorn on +1")
    parser.add_argument("--client", default="", help=argparse.SUPPRESS)
    parser.add_argument("--validation-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.seconds = 8
    if args.seconds <= 0 or args.clients < 1:
        parser.error("--seconds and --clients must be positive")
    return args


def batch_template() -> str:
    """One batch of 1,000 items as JSON, with MARKER where the batch number goes."""
    rng = random.Random(SEED)
    items = []
    for n in range(BATCH):
        if n < NEW_DEVICES_PER_BATCH:
            host, entra = f"NEW-{MARKER}-{n:02d}", ""
        else:
            number = rng.randrange(DEVICES)
            host = f"PC-{number:05d}"
            host = [host.lower(), host + ".contoso.local", host][n % 3]  # all one device
            entra = f"entra-{number:05d}" if n % 4 == 0 else ""
        when = START + timedelta(seconds=rng.randrange(30 * 86400))
        item = {
            "device": {"hostname": host, "entra_device_id": entra} if entra else host,
            "code": CODES[rng.randrange(len(CODES))],
            "occurred_at": when.isoformat().replace("+00:00", "Z" if n % 2 else "+00:00"),
            "source": "agent",
            "update_title": "2026-10 Cumulative Update for Windows 11 Version 24H2 (KB5044284)",
            "message": f"Installation failure: batch {MARKER} item {n}",
        }
        if n % 5:  # four in five carry an event id; the rest dedupe on their content
            item["event_id"] = f"{MARKER}-{n:04d}"
        items.append(item)
    return json.dumps(items)


def batch_body(template: bytes, number: int) -> bytes:
    return template.replace(MARKER.encode(), f"{number:09d}".encode())


# --- the client process: stdlib only, so it stays light and starts fast --------------------------


def run_client(address: str, key: str, seconds: float, clients: int) -> None:
    """Post batches for `seconds` from `clients` threads; print one JSON summary line."""
    host, port = address.rsplit(":", 1)
    template = batch_template().encode()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    counter = iter(range(1, 10**9))
    lock = threading.Lock()
    results: list[tuple[float, int, dict]] = []
    statuses: dict[int, int] = {}

    def post(body: bytes) -> tuple[float, int, dict]:
        started = time.perf_counter()
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
        conn.request("POST", "/api/v1/occurrences", body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        elapsed = time.perf_counter() - started
        payload = json.loads(data) if response.status == 202 else {"body": data[:300].decode()}
        return elapsed, response.status, payload

    # Warm both workers (imports, database connections) before the clock starts.
    warmup = 0
    for _ in range(WARMUP_POSTS):
        with lock:
            number = next(counter)
        warmup += post(batch_body(template, number))[2]["accepted"]

    deadline = time.perf_counter() + seconds

    def worker() -> None:
        previous = 0
        sent = 0
        while time.perf_counter() < deadline:
            sent += 1
            if previous and sent % RETRY_EVERY == 0:
                number = previous
            else:
                with lock:
                    number = next(counter)
            result = post(batch_body(template, number))
            previous = number
            with lock:
                results.append(result)
                statuses[result[1]] = statuses.get(result[1], 0) + 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    ok = [r for r in results if r[1] == 202]
    failures = [r[2] for r in results if r[1] != 202][:3]
    print(
        json.dumps(
            {
                "elapsed": elapsed,
                "warmup_accepted": warmup,
                "posts": len(results),
                "statuses": statuses,
                "accepted": sum(r[2]["accepted"] for r in ok),
                "duplicates": sum(r[2]["duplicates"] for r in ok),
                "rejected": sum(r[2]["rejected"] for r in ok),
                "latencies": sorted(r[0] for r in ok),
                "failures": failures,
            }
        )
    )


# --- the parent: database, services, baseline ---------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"timed out waiting for {what}")


def healthz(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/healthz")
    ok = conn.getresponse().status == 200
    conn.close()
    return ok


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of `pids` so far, from /proc (Linux)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def children(parent: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent:
                pids.append(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return pids


def database_backends() -> list[int]:
    """PostgreSQL server processes serving this database, other than this one's."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return [pid for (pid,) in cursor.fetchall()]


def setup_django(database_url: str) -> str:
    """Point Django at a fresh throwaway database (tables from the models); return its URL."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleet.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.conf import settings

    django.setup()
    from django.db import connection

    settings.DATABASES["default"].setdefault("TEST", {})["MIGRATE"] = False
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{name}"
    return database_url.rsplit("/", 1)[0] + "/" + name


def create_fleet() -> str:
    """The tenant, its 5,000 known devices and an ingest key (returned)."""
    from django.db import connection

    from fleet.ingest.keys import create_ingest_key
    from fleet.models import Device, Tenant, device_name_key

    tenant = Tenant.objects.create(slug="bench", name="Bench")
    Device.objects.bulk_create(
        [
            Device(
                tenant=tenant,
                hostname=f"PC-{n:05d}",
                name_key=device_name_key(f"PC-{n:05d}"),
                entra_device_id=f"entra-{n:05d}",
                # Seen last at the start, so batches raise last_seen_at as live agents would.
                first_seen_at=START,
                last_seen_at=START,
            )
            for n in range(DEVICES)
        ],
        batch_size=1000,
    )
    _record, key = create_ingest_key(tenant, "bench")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # planner statistics, as a live database would have
    return key


def baseline(batches: int) -> tuple[float, list[float], float]:
    """Bare insert of `batches` batches of the same rows, decoded beforehand.

    Returns rows/s, the sorted times per batch, and CPU seconds per 1,000 rows (this process
    plus, on PostgreSQL, its server process).
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from codes.parse import parse_code
    from fleet.models import Device, Occurrence, Tenant, device_name_key
    from fleet.models.core import dedupe_digest

    tenant = Tenant.objects.get(slug="bench")
    template = batch_template().encode()
    # Batch numbers far above the client's, so the rows and new devices are new.
    numbers = [900_000_000 + n for n in range(batches)]
    Device.objects.bulk_create(
        [Device(tenant=tenant, hostname=name, name_key=device_name_key(name))
         for number in numbers for n in range(NEW_DEVICES_PER_BATCH)
         for name in [f"NEW-{number:09d}-{n:02d}"]]
    )  # fmt: skip
    devices = dict(Device.objects.filter(tenant=tenant).values_list("name_key", "pk"))
    received = timezone.now()
    prepared = []
    for number in numbers:
        rows = []
        for n, item in enumerate(json.loads(batch_body(template, number))):
            device = item["device"]
            host = device["hostname"] if isinstance(device, dict) else device
            code = parse_code(item["code"])
            when = datetime.fromisoformat(item["occurred_at"]).astimezone(UTC)
            rows.append((tenant.pk, devices[device_name_key(host)], code.value, when,
                         f"{number}-{n}", item["update_title"], item["message"]))  # fmt: skip
        prepared.append(rows)
    table = Occurrence._meta.db_table
    columns = ("tenant_id, device_id, code, code_extension, occurred_at, source, dedupe_key, "
               "dedupe_digest, update_title, kb, message, extra, received_at, batch")  # fmt: skip
    times = []
    backend = []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = [cursor.fetchone()[0]]
    cpu_before = time.process_time() + cpu_seconds(backend)
    for rows in prepared:
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for t, d, code, when, key, title, message in rows:
                        copy.write_row((t, d, code, "", when, "baseline", key,
                                        dedupe_digest("baseline", key), title, "KB5044284",
                                        message, "{}", received, 0))  # fmt: skip
            else:
                stamp = received.strftime("%Y-%m-%d %H:%M:%S.%f")
                cursor.cursor.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES "
                    "(?, ?, ?, '', ?, 'baseline', ?, ?, ?, 'KB5044284', ?, '{}', ?, 0)",
                    [(t, d, code, when.strftime("%Y-%m-%d %H:%M:%S.%f"), key,
                      dedupe_digest("baseline", key), title, message,
                      stamp) for t, d, code, when, key, title, message in rows],
                )  # fmt: skip
        times.append(time.perf_counter() - started)
    cpu = time.process_time() + cpu_seconds(backend) - cpu_before
    return BATCH * batches / sum(times), sorted(times), cpu / batches


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted `values`."""
    return values[min(len(values) - 1, max(0, round(fraction * len(values)) - 1))]


# --- comparing two versions in one run ----------------------------------------------------------


def export_tree(ref: str, workdir: str) -> Path:
    """The files of commit `ref` in a directory of their own, to run that version's code."""
    target = Path(workdir) / f"tree-{ref.replace('/', '_')}"
    target.mkdir()
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref], cwd=REPO, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def tree_env(tree: Path) -> dict[str, str]:
    """The environment that makes Python import `fleet` and `codes` from `tree`."""
    return {**os.environ, "PYTHONPATH": str(tree), "BENCH_API_TREE": str(tree)}


VALIDATION_BATCHES = 20
VALIDATION_ROUNDS = 7


def run_validation_child() -> None:
    """Time decoding and validating the generated batches with whichever `fleet` is imported.

    Prints one JSON line: CPU ms per batch of 1,000 (best round) and where `fleet` came from.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleet.settings")
    import django

    django.setup()
    import fleet
    from fleet.ingest import api

    template = batch_template().encode()
    bodies = [batch_body(template, n) for n in range(1, VALIDATION_BATCHES + 1)]
    now = START + timedelta(days=31)  # every generated time is in the past

    decode = getattr(api, "decode_items", json.loads)  # what the view reads the body with
    if hasattr(api, "validate_batch"):

        def validate(items: list) -> int:
            return len(api.validate_batch(items, now)[0])
    else:  # a version from before `validate_batch`: its per-item loop, as ingest_batch ran it

        def validate(items: list) -> int:
            context = api._BatchContext(now=now)
            valid = []  # kept, as ingest_batch keeps them (the collector walks them too)
            for item in items:
                try:
                    parsed = api._validate(item, context)
                except api.ItemError:
                    continue
                if parsed.occurrence.code != 0:
                    valid.append(parsed)
            return len(valid)

    best = float("inf")
    for _ in range(VALIDATION_ROUNDS):
        started = time.process_time()
        valid = sum(validate(decode(body)) for body in bodies)
        best = min(best, (time.process_time() - started) / len(bodies))
    if valid != BATCH * len(bodies):
        raise SystemExit(f"only {valid} of {BATCH * len(bodies)} items were valid")
    print(json.dumps({"ms_per_batch": best * 1000, "fleet": str(Path(fleet.__file__).parent)}))


def measure_validation(tree: Path) -> float:
    """CPU ms per batch of the validation hot path of the code in `tree`, in a fresh process."""
    child = subprocess.run(
        [sys.executable, __file__, "--validation-child"],
        capture_output=True, text=True, check=False, cwd=tree, env=tree_env(tree),
    )  # fmt: skip
    if child.returncode:
        sys.stderr.write(child.stderr)
        raise SystemExit(f"the validation benchmark failed in {tree}")
    answer = json.loads(child.stdout.strip().splitlines()[-1])
    if Path(answer["fleet"]).resolve() != (tree / "fleet").resolve():
        raise SystemExit(f"{tree}: imported fleet from {answer['fleet']}")
    return answer["ms_per_batch"]


def validation_main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench_api_") as workdir:
        trees = [("this tree", REPO)]
        if args.against:
            trees.insert(0, (args.against, export_tree(args.against, workdir)))
        results: dict[str, list[float]] = {label: [] for label, _tree in trees}
        for _ in range(args.rounds if args.against else 1):
            for label, tree in trees:
                results[label].append(measure_validation(tree))
        for label, figures in results.items():
            shown = ", ".join(f"{ms:.2f}" for ms in figures)
            print(f"validation CPU per batch of {BATCH:,} ({label}): {min(figures):.2f} ms "
                  f"(rounds: {shown})")  # fmt: skip


# --- the parent: the end-to-end run -------------------------------------------------------------


def reset_posted() -> None:
    """Remove what a serving run stored, so the next version starts from the same database."""
    from django.db import connection

    from fleet.models import Device, Occurrence

    if connection.vendor == "postgresql":  # no dead rows left for the next version to skip
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {Occurrence._meta.db_table}")
    else:
        Occurrence.objects.all().delete()
    Device.objects.filter(hostname__startswith="NEW-").delete()
    Device.objects.update(last_seen_at=START)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def serve_and_post(tree: Path, url: str, key: str, args: argparse.Namespace, workdir: str):
    """Serve the API from the code in `tree`, post for `args.seconds`; return the client's
    summary and the CPU seconds of the gunicorn workers and of the database's server processes.
    """
    from django.db import connection

    redis_binary = shutil.which("redis-server")
    gunicorn = REPO / ".venv" / "bin" / "gunicorn"
    connection.close()
    redis_port, web_port = free_port(), free_port()
    if args.ports:
        redis_port, web_port = args.ports, args.ports + 1
    redis = subprocess.Popen(
        [redis_binary, "--bind", "127.0.0.1", "--port", str(redis_port), "--save", "",
         "--appendonly", "no", "--dir", workdir],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    env = {**tree_env(tree), "DATABASE_URL": url, "LOG_LEVEL": "WARNING",
           "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"}  # fmt: skip
    web = subprocess.Popen(
        [str(gunicorn), "fleet.wsgi", "--bind", f"127.0.0.1:{web_port}", "--workers", "2",
         "--log-level", "warning"],
        cwd=tree, env=env,
    )  # fmt: skip
    try:
        wait_for(lambda: healthz(web_port), 60, "gunicorn")
        time.sleep(2)  # both workers done booting, so their CPU below is request work
        workers = children(web.pid)
        workers_cpu = cpu_seconds(workers)
        print(f"posting batches of {BATCH:,} for {args.seconds:g} s from {args.clients} "
              f"client connections ({connection.vendor}, code in {tree}) …",
              flush=True)  # fmt: skip
        client = subprocess.run(
            [sys.executable, __file__, "--seconds", str(args.seconds), "--clients",
             str(args.clients), "--client", f"127.0.0.1:{web_port} {key}"],
            capture_output=True, text=True, check=False, cwd=REPO,
        )  # fmt: skip
        # Server CPU for every post (warm-up included): workers, plus database backends.
        workers_cpu = cpu_seconds(workers) - workers_cpu
        database_cpu = cpu_seconds(database_backends())
    finally:
        web.terminate()
        web.wait(30)
        redis.terminate()
        redis.wait(10)
    if client.returncode:
        sys.stderr.write(client.stderr)
        raise SystemExit("the client process failed")
    run = json.loads(client.stdout.strip().splitlines()[-1])
    from fleet.models import Occurrence

    stored = Occurrence.objects.filter(source="agent").count() - run["warmup_accepted"]
    print(
        f"api:      {run['posts']:,} posts in {run['elapsed']:.1f} s, statuses "
        f"{run['statuses']}, accepted {run['accepted']:,}, duplicates {run['duplicates']:,}, "
        f"rejected {run['rejected']:,}; stored {stored:,}"
    )
    for failure in run["failures"]:
        print(f"          failed post: {failure}")
    if stored != run["accepted"] or set(run["statuses"]) != {"202"} or run["rejected"]:
        raise SystemExit("the database does not hold exactly what the API accepted")
    if not run["latencies"]:
        raise SystemExit("no post completed")
    return run, workers_cpu, database_cpu


def main() -> None:
    args = parse_args()
    if args.client:
        address, key = args.client.split(" ", 1)
        run_client(address, key, args.seconds, args.clients)
        return
    if args.validation_child:
        run_validation_child()
        return
    if args.validation:
        validation_main(args)
        return
    if not shutil.which("redis-server"):
        raise SystemExit("redis-server is not installed (make test-system-deps installs it)")
    with tempfile.TemporaryDirectory(prefix="bench_api_") as workdir:
        url = setup_django(args.database_url or f"sqlite:///{workdir}/bench.sqlite3")
        from django.db import connection

        from bench.common import Figure, database_version, report

        key = create_fleet()
        if args.against:
            other = export_tree(args.against, workdir)
            per_batch: dict[str, list[float]] = {args.against: [], "this tree": []}
            split: dict[str, list[float]] = {args.against: [], "this tree": []}
            reset_posted()
            for _ in range(args.rounds):
                for label, tree in [(args.against, other), ("this tree", REPO)]:
                    run, workers_cpu, database_cpu = serve_and_post(tree, url, key, args, workdir)
                    posts = run["posts"] + WARMUP_POSTS
                    per_batch[label].append((workers_cpu + database_cpu) / posts * 1000)
                    split[label].append(workers_cpu / posts * 1000)
                    reset_posted()
            for label, figures in per_batch.items():
                shown = ", ".join(
                    f"{ms:.1f} ({workers:.1f} in gunicorn)"
                    for ms, workers in zip(figures, split[label], strict=True)
                )
                print(f"server CPU per batch ({label}): median {statistics.median(figures):.1f} "
                      f"ms, best {min(figures):.1f} ms (rounds: {shown})")  # fmt: skip
            connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)
            return
        run, workers_cpu, database_cpu = serve_and_post(REPO, url, key, args, workdir)
        rate = run["accepted"] / run["elapsed"]
        latencies = run["latencies"]
        base_rate, base_times, base_cpu = baseline(batches=min(50, max(10, len(latencies))))
        posts = run["posts"] + WARMUP_POSTS
        cpu_per_batch = (workers_cpu + database_cpu) / posts
        split = f"server CPU per batch: {workers_cpu / posts * 1000:.1f} ms in gunicorn workers"
        if database_cpu:
            split += f", {database_cpu / posts * 1000:.1f} ms in PostgreSQL"
        print(split)
        print(f"baseline: {base_rate:,.0f} rows/s, "
              f"{percentile(base_times, 0.5) * 1000:.1f} ms per 1,000 rows")  # fmt: skip
        label = f"bare {'COPY' if connection.vendor == 'postgresql' else 'executemany'}"
        figures = [
            Figure("accepted occurrences/s", rate, "occ/s", base_rate, label + " rows/s",
                   "≥ 10,000 occ/s", rate >= 10_000,
                   f"{args.clients} clients, gunicorn 2 workers, batches of {BATCH}"),
            Figure("p50 batch latency", percentile(latencies, 0.5) * 1000, "ms",
                   percentile(base_times, 0.5) * 1000, label + " of 1,000 rows, p50"),
            Figure("p99 batch latency", percentile(latencies, 0.99) * 1000, "ms",
                   percentile(base_times, 0.99) * 1000, label + " of 1,000 rows, p99"),
            Figure("server CPU per batch", cpu_per_batch * 1000, "ms", base_cpu * 1000,
                   label + " CPU per 1,000 rows",
                   note="gunicorn workers + database server processes, per post of 1,000; "
                        "steadier than rates on a shared machine"),
        ]  # fmt: skip
        parameters = {"seconds": args.seconds, "clients": args.clients, "batch": BATCH,
                      "devices": DEVICES, "posts": run["posts"], "accepted": run["accepted"],
                      "duplicates": run["duplicates"]}  # fmt: skip
        report("api", url, figures, parameters, quick=args.quick, db_version=database_version())
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)


if __name__ == "__main__":
    main()
