"""Benchmark: how often triage's spike test fires when nothing happened, and what a run costs.

    python bench/triage_false_positives.py [--days 42] [--step-hours 6] [--quick]

On a throwaway SQLite database, three fleets are loaded and aggregated, then the detector
(`fleet.triage.signals.detect`) is run at every `--step-hours` over the last `--days` days of
each, as the pipeline would have run it then (it reads only hours up to its `now`):

1. the demo fleet (`seed_demo`): a spike is true when it is a storm tenant's 0x8024000B within
   a day after one of its storms (`fleet.demo.storm_days`), false otherwise;
2. a generated steady stream: 6 tenants x 16 codes, daily rates from 0.3 to 60 (log-uniform),
   each day's rate gamma-mixed (coefficient of variation 0.45), times uniform over the day;
   every spike is false;
3. the same with office hours: 80 % of each day's rows between 07:00 and 18:00 UTC on weekdays,
   a quarter of the rate at weekends; every spike is false.

The false-positive rate is given per pair-evaluation (one pair tested at one moment) and per
pair-day (a pair with at least one false spike that day: what an operator sees). Then the cost:
`run_triage` on the demo fleet, the mean of five runs. Asserts nothing; prints the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ANCHOR = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=42, help="days of moments evaluated")
    parser.add_argument("--step-hours", type=int, default=6, help="hours between moments")
    parser.add_argument("--quick", action="store_true", help="14 days, every 12 hours")
    return parser.parse_args()


def setup_django(workdir: str) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir}/triage.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleet.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def moments(days: int, step: int) -> list[datetime]:
    return [ANCHOR - timedelta(hours=h) for h in range(0, days * 24, step)]


def evaluate(times: list[datetime], is_true) -> dict[str, float]:
    """Run the detector at each moment; count spikes that are true and false."""
    from fleet.models import DailyCodeStat
    from fleet.triage.signals import detect

    spiking = ("spike", "fleet_spike")
    pairs = set(DailyCodeStat.objects.values_list("tenant_id", "code").distinct())
    false = true = 0
    false_days: set[tuple] = set()
    found: set = set()
    started = time.perf_counter()
    for now in times:
        for pair, signal in detect(now).pairs.items():
            if signal.kind not in spiking:
                continue
            if storm := is_true(pair, now):
                true += 1
                found.add(storm)
            else:
                false += 1
                false_days.add((pair, now.date()))
    seconds = time.perf_counter() - started
    days = {now.date() for now in times}
    return {
        "pairs": len(pairs),
        "evaluations": len(pairs) * len(times),
        "false": false,
        "true": true,
        "per_evaluation": false / (len(pairs) * len(times)),
        "false_pair_days": len(false_days),
        "per_pair_day": len(false_days) / (len(pairs) * len(days)),
        "detect_ms": 1000 * seconds / len(times),
        "storms_found": len(found),
    }


def load_demo() -> None:
    from fleet.aggregate import aggregate_pending
    from fleet.demo import seed_demo

    seed_demo(now=ANCHOR)
    aggregate_pending()


def demo_truth():
    """A spike is true for a storm tenant's storm code from its storm to a day after."""
    from fleet.demo import STORM_CODE, TENANTS, storm_days
    from fleet.models import Tenant

    ids = dict(Tenant.objects.values_list("slug", "pk"))
    storms = {
        ids[spec.slug]: [ANCHOR - timedelta(days=d, hours=14) for d in storm_days(spec.slug)]
        for spec in TENANTS
    }

    def is_true(pair: tuple[int, int], now: datetime) -> tuple | None:
        """The storm this spike of `pair` at `now` belongs to, if any."""
        tenant_id, code = pair
        if code != STORM_CODE:
            return None
        for start in storms[tenant_id]:
            if start <= now <= start + timedelta(hours=14 + 30):
                return (tenant_id, start)
        return None

    is_true.starts = [start for starts in storms.values() for start in starts]
    return is_true


def load_steady(office_hours: bool, seed: int) -> None:
    """A generated steady fleet (see the module doc), 70 days up to the anchor, aggregated."""
    import numpy as np

    from fleet.aggregate import aggregate_pending
    from fleet.models import Device, Occurrence, Tenant
    from fleet.pending import track

    rng = np.random.default_rng(seed)
    codes = [0x80240000 + n for n in range(16)]
    for t in range(6):
        tenant = Tenant.objects.create(slug=f"steady-{seed}-{t}", name=f"Steady {t}")
        devices = Device.objects.bulk_create(
            [Device(tenant=tenant, hostname=f"S{seed}T{t}-{n:04d}", name_key=f"s{seed}t{t}-{n:04d}")
             for n in range(120)]
        )  # fmt: skip
        rows = []
        for code in codes:
            rate = float(np.exp(rng.uniform(np.log(0.3), np.log(60))))
            for day in range(70):
                start = (ANCHOR - timedelta(days=70 - day)).replace(hour=0, minute=0)
                weekend = start.weekday() >= 5
                mean = rate * (0.25 if office_hours and weekend else 1.0)
                daily = rng.poisson(rng.gamma(5.0, mean / 5.0))
                for _ in range(daily):
                    if office_hours and not weekend and rng.random() < 0.8:
                        seconds = rng.uniform(7 * 3600, 18 * 3600)
                    else:
                        seconds = rng.uniform(0, 86400)
                    when = start + timedelta(seconds=float(seconds))
                    if when >= ANCHOR:
                        continue
                    rows.append(
                        Occurrence(
                            tenant=tenant,
                            device=devices[int(rng.integers(len(devices)))],
                            code=code,
                            occurred_at=when,
                            source="agent",
                            dedupe_key=f"{seed}-{t}-{len(rows)}",
                        )
                    )
        # As ingest stores them: one pending batch, so the aggregation counts them (a bare
        # bulk_create is taken as counted already, and the detector then saw no pairs at all).
        track(rows)
    aggregate_pending()


def clear() -> None:
    from fleet.models import Tenant

    Tenant.objects.all().delete()


def triage_cost() -> float:
    """Mean seconds of `run_triage` on the loaded fleet, over five runs after a first one."""
    from fleet.triage.flags import run_triage

    run_triage(ANCHOR)
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        run_triage(ANCHOR)
        runs.append(time.perf_counter() - started)
    return statistics.mean(runs)


def show(name: str, figures: dict[str, float]) -> None:
    print(
        f"{name}: {figures['pairs']} pairs x {figures['evaluations'] // figures['pairs']} moments;"
        f" false spikes {figures['false']} ({100 * figures['per_evaluation']:.3f} % of"
        f" evaluations), pair-days with a false spike {figures['false_pair_days']}"
        f" ({100 * figures['per_pair_day']:.2f} %); true spikes {figures['true']};"
        f" detect {figures['detect_ms']:.0f} ms a run"
    )


def main() -> None:
    args = parse_args()
    days, step = (14, 12) if args.quick else (args.days, args.step_hours)
    with tempfile.TemporaryDirectory(prefix="triage-bench-") as workdir:
        setup_django(workdir)
        times = moments(days, step)
        print(
            f"{len(times)} moments, every {step} h over the {days} days to {ANCHOR:%Y-%m-%d %H:%M}"
        )

        load_demo()
        truth = demo_truth()
        figures = evaluate(times, truth)
        show("demo fleet", figures)
        first = times[-1]
        in_range = sum(
            1
            for start in truth.starts
            if first <= start + timedelta(hours=14 + 30) and start <= ANCHOR
        )
        print(f"demo storms found: {figures['storms_found']} of the {in_range} in the period")
        print(f"run_triage on the demo fleet: {1000 * triage_cost():.0f} ms (mean of 5)")
        clear()

        load_steady(office_hours=False, seed=1)
        show("steady stream", evaluate(times, lambda pair, now: None))
        clear()

        load_steady(office_hours=True, seed=2)
        show("steady stream, office hours", evaluate(times, lambda pair, now: None))


if __name__ == "__main__":
    main()
