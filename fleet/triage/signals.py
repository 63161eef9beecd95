"""What is abnormal now, per (tenant, code): a spike against the pair's own history, a code new
to the tenant, more devices failing in a state snapshot, one code spiking in several tenants.

Every pair with occurrences in the last 24 h is tested in one pass: a few grouped queries over
the aggregates, then numpy over one row per pair (docs/triage.md has the method and why).
Event sources are tested by count: the last 6 h and 24 h against a robust daily baseline of
the 28 whole days before yesterday, with a negative-binomial tail probability, a minimum volume
and a minimum ratio. State sources (`fleet.sources`) are tested by device: devices newly failing
in the last 24 h against those failing in the week before, never by how many rows they restate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from django.db.models import Count, Exists, OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncDate
from scipy import stats

from fleet.models import (
    DailyCodeStat,
    HourlyCodeStat,
    HourlyDeviceCodeStat,
    SnapshotDeviceCodeStat,
    Tenant,
)
from fleet.triage.models import FleetSignal, TriageFlag

Pair = tuple[int, int]
Kind = TriageFlag.Kind

# Parameters (docs/triage.md says why each has its value).
WINDOWS = (6, 24)  # hours back from now that the recent count is tested over
BASELINE_DAYS = 28  # whole UTC days of history, ending the day before the 24 h window starts
MIN_HISTORY_DAYS = 7  # fewer days of tenant history: warming up, no spike test (EARS C1's 7)
MIN_OCCURRENCES = 10  # a window with fewer event occurrences is never a spike (1 -> 3 is not)
MIN_DEVICES = 3  # ... nor one on fewer devices (one noisy machine is not the fleet)
MIN_RATIO = 3.0  # ... nor one under three times what the baseline expects
ALPHA = 1e-4  # tail probability under the count model at or below which a window is abnormal
MIN_DAILY_RATE = 1 / BASELINE_DAYS  # expected rate floor: once per baseline, not zero
MAD_SCALE = 1.4826  # MAD to standard deviation for normal data
UNCERTAINTY = 0.05  # the baseline's variance is taken at its upper 95 % bound
CLIP_SIGMAS = 3.0  # baseline days above median + 3 robust sigmas count as that (past outbreaks)
STATE_LOOKBACK_DAYS = 7  # a state device is "newly failing" if no snapshot had it this long
STATE_MIN_NEW_DEVICES = 5  # fewer newly failing devices is never a state spike
STATE_MIN_GROWTH = 0.5  # ... nor fewer than half of the devices that were failing before
FLEET_MIN_TENANTS = 3  # tenants spiking with one code at once make a fleet-wide signal
FLEET_ALPHA = 0.01  # a weaker rise in another tenant joins it (kind fleet_spike) at this level
FLEET_MIN_OCCURRENCES = 3
FLEET_MIN_RATIO = 2.0

# Score bands: the queue's order by kind, the strength of the evidence inside a band (0-99).
SCORE_BASE = {
    Kind.SPIKE: 400.0,
    Kind.FLEET_SPIKE: 350.0,
    Kind.NEW: 300.0,
    Kind.REGRESSION: 200.0,
    Kind.THRESHOLD: 100.0,
}
STEADY_BASE = 0.0  # a flag that no rule and no signal holds any more


@dataclass
class PairSignal:
    """The triage signal of one (tenant, code) pair in this run."""

    tenant_id: int
    code: int
    kind: str = ""  # spike, fleet_spike, new, or "" when nothing is abnormal now
    score: float = 0.0
    reason: str = ""
    occurrences_24h: int = 0
    devices_24h: int = 0
    baseline_24h: float = 0.0
    p_value: float = 1.0
    raises: bool = False  # strong enough to raise a flag of its own, without a rule


@dataclass
class Detection:
    """Every active pair's signal, and the codes spiking in several tenants."""

    pairs: dict[Pair, PairSignal] = field(default_factory=dict)
    fleet: dict[int, list[Pair]] = field(default_factory=dict)


def window_start(now: datetime, hours: int) -> datetime:
    """First hour bucket inside a window of `hours` ending at `now` (the rules' convention)."""
    return (now - timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def usual(expected: float) -> str:
    """How an expected count reads in a reason."""
    if expected < 0.5:
        return "usually under 1"
    return f"usually {round(expected)}"


def volume_strength(occurrences: int, devices: int) -> float:
    """0-99 inside a score band: more occurrences on more devices ranks higher."""
    return min(99.0, 10 * math.log10(1 + occurrences) + 10 * math.log10(1 + devices))


def _grouped(queryset, **aggregates) -> dict[Pair, dict]:
    rows = queryset.values("tenant_id", "code").annotate(**aggregates)
    return {(row["tenant_id"], row["code"]): row for row in rows}


def detect(now: datetime) -> Detection:
    """Test every (tenant, code) pair with occurrences in the last 24 h; see the module doc."""
    now = now.astimezone(UTC)
    starts = {hours: window_start(now, hours) for hours in WINDOWS}
    first = starts[max(WINDOWS)]
    recent = {"hour__gte": first, "hour__lte": now}

    def in_window(name: str) -> dict:
        return {f"{name}{h}": Sum("occurrences", filter=Q(hour__gte=s)) for h, s in starts.items()}

    counts = _grouped(HourlyCodeStat.objects.filter(**recent), **in_window("x"))
    if not counts:
        return Detection()
    devices = _grouped(
        HourlyDeviceCodeStat.objects.filter(**recent),
        **{
            f"d{h}": Count("device_id", distinct=True, filter=Q(hour__gte=s))
            for h, s in starts.items()
        },
    )
    tenants = {tenant for tenant, _ in counts}
    codes = {code for _, code in counts}
    older = HourlyCodeStat.objects.filter(
        tenant_id=OuterRef("tenant_id"), code=OuterRef("code"), hour__lt=first
    )
    seen_before = set(
        HourlyCodeStat.objects.filter(**recent)
        .filter(Exists(older))
        .values_list("tenant_id", "code")
        .distinct()
    )

    # State sources: rows in the windows (left out of the event counts) and devices by snapshot.
    snapshots = SnapshotDeviceCodeStat.objects.filter(tenant_id__in=tenants, code__in=codes)
    lookback = first - timedelta(days=STATE_LOOKBACK_DAYS)
    earlier = SnapshotDeviceCodeStat.objects.filter(
        device_id=OuterRef("device_id"),
        code=OuterRef("code"),
        hour__gte=lookback,
        hour__lt=first,
    )
    state_now = _grouped(
        snapshots.filter(**recent),
        **in_window("s"),
        devices_now=Count("device_id", distinct=True),
        new_devices=Count("device_id", distinct=True, filter=~Q(Exists(earlier))),
    )
    state_before = _grouped(
        snapshots.filter(hour__gte=lookback, hour__lt=first),
        devices_before=Count("device_id", distinct=True),
        rows_before=Sum("occurrences"),
    )

    pairs = sorted(counts)
    index = {pair: i for i, pair in enumerate(pairs)}
    history, valid = _baseline_matrix(pairs, index, tenants, codes, first.date())

    n = len(pairs)
    history_days = valid.sum(axis=1)
    robust_mean, daily_variance = _robust_daily_rate(history, valid)
    signals = Detection()
    best_p = np.ones(n)
    best_window = np.full(n, max(WINDOWS))
    spiking = np.zeros(n, dtype=bool)
    fleet_rising = np.zeros(n, dtype=bool)
    observed: dict[int, np.ndarray] = {}
    expected: dict[int, np.ndarray] = {}
    devices_24h = np.array(
        [devices.get(p, {}).get(f"d{max(WINDOWS)}") or 0 for p in pairs], dtype=float
    )
    for hours, start in starts.items():
        span = (now - start).total_seconds() / 3600
        x = np.array(
            [
                (counts[p][f"x{hours}"] or 0) - (state_now.get(p, {}).get(f"s{hours}") or 0)
                for p in pairs
            ],
            dtype=float,
        )
        d = np.array([devices.get(p, {}).get(f"d{hours}") or 0 for p in pairs], dtype=float)
        m = robust_mean * span / 24
        p_value = _upper_tail(
            x, m, _window_size(robust_mean, daily_variance, span / 24, history_days)
        )
        abnormal = (
            (x >= MIN_OCCURRENCES) & (d >= MIN_DEVICES) & (x >= MIN_RATIO * m) & (p_value <= ALPHA)
        )
        rising = (x >= FLEET_MIN_OCCURRENCES) & (x >= FLEET_MIN_RATIO * m)
        rising &= p_value <= FLEET_ALPHA
        better = p_value < best_p
        best_p = np.where(better, p_value, best_p)
        best_window = np.where(better, hours, best_window)
        spiking |= abnormal
        fleet_rising |= rising
        observed[hours], expected[hours] = x, m
    warmed = history_days >= MIN_HISTORY_DAYS
    known = np.array([p in seen_before for p in pairs])
    spiking &= warmed & known
    fleet_rising &= warmed & known

    for i, pair in enumerate(pairs):
        tenant_id, code = pair
        state = state_now.get(pair, {})
        before = state_before.get(pair, {})
        signal = PairSignal(
            tenant_id=tenant_id,
            code=code,
            occurrences_24h=int(counts[pair][f"x{max(WINDOWS)}"] or 0),
            devices_24h=int(devices_24h[i]),
            baseline_24h=round(
                float(robust_mean[i]) + (before.get("rows_before") or 0) / STATE_LOOKBACK_DAYS,
                1,
            ),
            p_value=float(best_p[i]),
        )
        new_devices = state.get("new_devices") or 0
        devices_before = before.get("devices_before") or 0
        if not known[i]:
            signal.kind = Kind.NEW
            signal.reason = (
                f"first time in this tenant ({signal.occurrences_24h} on "
                f"{signal.devices_24h} device{'s' if signal.devices_24h != 1 else ''} in 24 h)"
            )
            signal.score = SCORE_BASE[Kind.NEW] + volume_strength(
                signal.occurrences_24h, signal.devices_24h
            )
            # The rules decide what volume deserves a flag; "new" says why it needs a look now.
        elif spiking[i]:
            hours = int(best_window[i])
            x, m = int(observed[hours][i]), float(expected[hours][i])
            signal.kind, signal.raises = Kind.SPIKE, True
            signal.reason = f"{x} in the last {hours} h, {usual(m)}"
            ratio = x / max(m, MIN_DAILY_RATE)
            signal.score = SCORE_BASE[Kind.SPIKE] + min(
                99.0, 20 * math.log10(ratio) + 10 * math.log10(1 + devices_24h[i])
            )
        elif new_devices >= max(STATE_MIN_NEW_DEVICES, STATE_MIN_GROWTH * devices_before):
            signal.kind, signal.raises = Kind.SPIKE, True
            signal.reason = (
                f"{new_devices} devices newly failing in the latest export, "
                f"{devices_before} failing the week before"
            )
            signal.score = SCORE_BASE[Kind.SPIKE] + min(
                99.0,
                20 * math.log10(1 + new_devices / max(1, devices_before))
                + 10 * math.log10(1 + new_devices),
            )
        else:
            x24, m24 = int(observed[max(WINDOWS)][i]), float(expected[max(WINDOWS)][i])
            signal.reason = f"{x24} in the last {max(WINDOWS)} h, {usual(m24)}"
        signals.pairs[pair] = signal

    _link_fleet(signals, pairs, fleet_rising, observed, expected)
    return signals


def _baseline_matrix(
    pairs: list[Pair], index: dict[Pair, int], tenants: set[int], codes: set[int], start: date
) -> tuple[np.ndarray, np.ndarray]:
    """Event occurrences per pair and baseline day (state rows taken out), and which days
    count: those on or after the tenant's first day of data."""
    first_day = start - timedelta(days=BASELINE_DAYS)
    history = np.zeros((len(pairs), BASELINE_DAYS))
    daily = DailyCodeStat.objects.filter(
        tenant_id__in=tenants, code__in=codes, day__gte=first_day, day__lt=start
    ).values_list("tenant_id", "code", "day", "occurrences")
    state = (
        SnapshotDeviceCodeStat.objects.filter(
            tenant_id__in=tenants,
            code__in=codes,
            hour__gte=_midnight(first_day),
            hour__lt=_midnight(start),
        )
        .annotate(day=TruncDate("hour", tzinfo=UTC))
        .values("tenant_id", "code", "day")
        .annotate(n=Sum("occurrences"))
        .values_list("tenant_id", "code", "day", "n")
    )
    for rows, sign in ((daily, 1), (state, -1)):
        cells = [
            (index[(t, c)], (day - first_day).days, sign * n)
            for t, c, day, n in rows
            if (t, c) in index
        ]
        if cells:
            rows_, cols, values = zip(*cells, strict=True)
            np.add.at(history, (list(rows_), list(cols)), values)
    history = np.maximum(history, 0)
    first_data = dict(
        Tenant.objects.filter(pk__in=tenants)
        .annotate(
            first=Subquery(
                DailyCodeStat.objects.filter(tenant_id=OuterRef("pk"))
                .order_by("day")
                .values("day")[:1]
            )
        )
        .values_list("pk", "first")
    )
    day_numbers = np.arange(BASELINE_DAYS)
    offsets = np.array(
        [
            (first_data.get(t) - first_day).days if first_data.get(t) else BASELINE_DAYS
            for t, _ in pairs
        ]
    )
    valid = day_numbers[None, :] >= offsets[:, None]
    return history, valid


def _robust_daily_rate(history: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of the daily counts after clipping outbreak days (days before the
    tenant's data do not count)."""
    masked = np.where(valid, history, np.nan)
    enough = valid.sum(axis=1) > 0
    safe = np.where(enough[:, None], masked, 0.0)
    median = np.nanmedian(safe, axis=1)
    mad = np.nanmedian(np.abs(safe - median[:, None]), axis=1)
    clip = np.maximum(MIN_OCCURRENCES, median + CLIP_SIGMAS * MAD_SCALE * mad)
    clipped = np.minimum(safe, clip[:, None])
    mean = np.maximum(np.nan_to_num(np.nanmean(clipped, axis=1)), MIN_DAILY_RATE)
    days = valid.sum(axis=1)
    squares = np.nansum((clipped - mean[:, None]) ** 2 * valid, axis=1)
    variance = np.where(days > 1, squares / np.maximum(days - 1, 1), 0.0)
    return mean, variance


def _window_size(
    mean: np.ndarray, daily_variance: np.ndarray, fraction: float, days: np.ndarray
) -> np.ndarray:
    """Negative-binomial size of a window's count (inf: Poisson), from a prediction variance
    that allows for a baseline of only `days` days, as Farrington's threshold does.

    The daily variance is taken at its upper 95 % bound for that many days (chi-square), its
    overdispersion (variance above the mean) scales with the square of the day's fraction, and
    the estimated mean's own variance (variance / days) is added.
    """
    n = np.maximum(days, 2)
    upper = daily_variance * (n - 1) / stats.chi2.ppf(UNCERTAINTY, n - 1)
    poisson = mean * fraction
    variance = poisson + fraction**2 * np.maximum(upper - mean, 0) + fraction**2 * upper / n
    extra = variance - poisson
    return np.where(extra > 1e-9, poisson**2 / np.maximum(extra, 1e-9), np.inf)


def _upper_tail(x: np.ndarray, mean: np.ndarray, size: np.ndarray) -> np.ndarray:
    """P(X >= x) for a count with this mean: negative binomial with this size, Poisson for an
    infinite size."""
    finite = np.isfinite(size)
    k = np.where(finite, size, 1.0)
    negative_binomial = stats.nbinom.sf(x - 1, k, k / (k + mean))
    poisson = stats.poisson.sf(x - 1, mean)
    return np.where(finite, negative_binomial, poisson)


def _link_fleet(
    signals: Detection,
    pairs: list[Pair],
    rising: np.ndarray,
    observed: dict[int, np.ndarray],
    expected: dict[int, np.ndarray],
) -> None:
    """Codes spiking in FLEET_MIN_TENANTS or more tenants: link their pairs, and mark the
    tenants where the same code rises less sharply as part of it (kind fleet_spike)."""
    by_code: dict[int, list[Pair]] = {}
    for pair, signal in signals.pairs.items():
        if signal.kind == Kind.SPIKE:
            by_code.setdefault(pair[1], []).append(pair)
    hours = max(WINDOWS)
    for code, spiking in by_code.items():
        if len(spiking) < FLEET_MIN_TENANTS:
            continue
        linked = list(spiking)
        for i, pair in enumerate(pairs):
            signal = signals.pairs[pair]
            if pair[1] != code or signal.kind or not rising[i]:
                continue
            x, m = int(observed[hours][i]), float(expected[hours][i])
            signal.kind, signal.raises = Kind.FLEET_SPIKE, True
            signal.reason = f"{x} in the last {hours} h, {usual(m)}; rising with the fleet"
            signal.score = SCORE_BASE[Kind.FLEET_SPIKE] + volume_strength(x, signal.devices_24h)
            linked.append(pair)
        for pair in spiking:
            others = len(spiking) - 1
            signals.pairs[pair].reason += f"; also spiking in {others} other tenants"
        signals.fleet[code] = linked


def record_fleet_signals(detection: Detection, now: datetime) -> dict[int, FleetSignal]:
    """Upsert one FleetSignal per code spiking fleet-wide; end the ones that stopped."""
    current: dict[int, FleetSignal] = {}
    existing = {s.code: s for s in FleetSignal.objects.filter(code__in=detection.fleet)}
    for code, linked in detection.fleet.items():
        spiking = [p for p in linked if detection.pairs[p].kind == Kind.SPIKE]
        signal = existing.get(code) or FleetSignal(code=code, first_at=now)
        if not signal.active:
            signal.first_at = now
        signal.tenants = len(spiking)
        signal.score = max(detection.pairs[p].score for p in linked)
        signal.reason = f"spiking in {len(spiking)} tenants at once" + (
            f", rising in {len(linked) - len(spiking)} more" if len(linked) > len(spiking) else ""
        )
        signal.last_at, signal.active = now, True
        signal.save()
        current[code] = signal
    FleetSignal.objects.filter(active=True).exclude(code__in=list(current)).update(active=False)
    return current
