"""Run every benchmark under bench/ on SQLite and on PostgreSQL, then print one table.

    python bench/run_all.py [--quick] [--postgres-url URL] [--markdown FILE] [NAME ...]

`make bench` starts a throwaway PostgreSQL cluster and passes its URL; without one, only SQLite
runs (and the table says so). Each benchmark measures its figures beside a baseline taken in
the same run and writes them to bench/results/<bench>-<db>.json (bench/common.py); this runner
only sequences the scripts, collects the files they wrote in this run and prints them together,
so a noisy machine shifts figure and baseline alike and the ratio holds. Exit status is
non-zero if any benchmark failed to run; a missed target is reported, not a failure.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

from bench.common import RESULTS_DIR, machine  # noqa: E402

# Order matters only for reading the log: cheap ones first, the 10M-row ones last.
ORDER = ["codes", "import_codes", "import", "api", "workers", "aggregate", "pages"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--postgres-url", default="", help="run on this PostgreSQL server too")
    parser.add_argument(
        "--markdown",
        default=str(RESULTS_DIR / "summary.md"),
        help="also write the table as Markdown here",
    )
    parser.add_argument("only", nargs="*", help="benchmark names to run (default: all)")
    return parser.parse_args()


def scripts(only: list[str]) -> list[Path]:
    found = {p.stem.removeprefix("bench_"): p for p in BENCH_DIR.glob("bench_*.py")}
    unknown = set(only) - set(found)
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    names = sorted(found, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))
    return [found[n] for n in names if not only or n in only]


def run(script: Path, database_url: str, quick: bool) -> tuple[int, float]:
    command = [sys.executable, str(script), "--database-url", database_url]
    if quick:
        command.append("--quick")
    started = time.monotonic()
    result = subprocess.run(command, cwd=BENCH_DIR.parent)
    return result.returncode, time.monotonic() - started


def collect(since: datetime, quick: bool) -> list[dict]:
    """Every result file written by this run, in a stable order."""
    results = []
    for path in sorted(RESULTS_DIR.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if data.get("quick") != quick or "figures" not in data:
            continue
        if datetime.fromisoformat(data["measured_at"]) < since:
            continue
        results.append(data)
    order = {name: n for n, name in enumerate(ORDER)}
    results.sort(key=lambda d: (order.get(d["bench"], 99), d["bench"], d["database"]))
    return results


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
    return f"{text} {unit}".strip()


def rows(results: list[dict]) -> list[list[str]]:
    table = []
    for data in results:
        for fig in data["figures"]:
            verdict = {True: "met", False: "MISSED", None: ""}[fig["met"]]
            table.append(
                [
                    data["bench"],
                    data["database"],
                    fig["metric"],
                    _number(fig["value"], fig["unit"]),
                    _number(fig["baseline"], fig["unit"]) if fig["baseline"] else "-",
                    fig["baseline_label"] or "",
                    f"{fig['ratio']:.2f}x" if fig["ratio"] is not None else "-",
                    f"{fig['target']} {verdict}".strip(),
                ]
            )
    return table


HEADER = ["bench", "db", "figure", "value", "baseline", "baseline is", "ratio", "target"]


def print_table(table: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in [HEADER, *table]) for i in range(len(HEADER))]
    line = "  ".join("-" * w for w in widths)
    print(line)
    print("  ".join(h.ljust(w) for h, w in zip(HEADER, widths, strict=True)))
    print(line)
    for r in table:
        cells = [
            c.rjust(w) if i in (3, 4, 6) else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        print("  ".join(cells))
    print(line)


def markdown(table: list[list[str]], results: list[dict]) -> str:
    out = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in table]
    versions = sorted({d["database_version"] for d in results if d.get("database_version")})
    info = machine()
    out += [
        "",
        f"Machine: {info['cpus']} CPUs ({info['cpu_model']}), {info['memory_gib']} GiB, "
        f"Python {info['python']}; {', '.join(versions)}; commit {info['git_commit']}.",
    ]
    return "\n".join(out) + "\n"


def main() -> int:
    args = parse_args()
    started_at = datetime.now(UTC).replace(microsecond=0)
    backends = [("sqlite", "")]
    if args.postgres_url:
        backends.append(("postgresql", args.postgres_url))
    failed = []
    for script in scripts(args.only):
        for label, url in backends:
            name = script.stem.removeprefix("bench_")
            print(f"\n=== {name} on {label}{' (quick)' if args.quick else ''}", flush=True)
            code, seconds = run(script, url, args.quick)
            print(f"--- {name} on {label}: exit {code}, {seconds:.0f} s", flush=True)
            if code:
                failed.append(f"{name} ({label})")

    results = collect(started_at, args.quick)
    print(f"\n=== results ({'quick' if args.quick else 'full'} sizes)")
    table = rows(results)
    if table:
        print_table(table)
    if not args.postgres_url:
        print("PostgreSQL not measured: pass --postgres-url (make bench starts one).")
    if args.markdown:
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(markdown(table, results))
        print(f"table also written to {args.markdown}")
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
