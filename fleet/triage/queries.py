"""Every query the triage queue, the flag page and the triage API make, set-based.

A view asks for the ranked flags (`queue_flags`), then decorates one page of them
(`queue_rows`: names, sparklines and reasons in a fixed number of queries whatever the rows), or
one flag (`flag_detail`). Who may see what is decided by the `QueueFilter`, which only ever holds
tenants `fleet.access` granted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.humanize.templatetags.humanize import intcomma
from django.db.models import (
    Case,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils.translation import gettext

from codes.facts import CodeFacts, facts_for, facts_of
from fleet.models import DailyDeviceCodeStat, HourlyCodeStat
from fleet.triage.charts import baseline_chart
from fleet.triage.filters import QueueFilter
from fleet.triage.models import TriageEvent, TriageFlag
from fleet.triage.reasons import in_reader_language

State, Kind = TriageFlag.State, TriageFlag.Kind

SPARK_DAYS = 14
SPARK_WIDTH, SPARK_HEIGHT = 112, 24
# A signal is news for this long; after it a threshold flag is steady again.
SIGNAL_WINDOW = timedelta(hours=24)
CHART_DAYS = 7
DEVICE_DAYS = 30
# Ties in score (every threshold flag scores 0): regressions first, they were believed fixed.
_STATE_ORDER = Case(
    When(state=State.REGRESSED, then=Value(0)),
    When(state=State.NEW, then=Value(1)),
    When(state=State.ACKNOWLEDGED, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


def needs_look_q(now: datetime) -> Q:
    """The needs-a-look condition as a Q, for filtering, excluding and ordering alike."""
    news = ~Q(kind=Kind.THRESHOLD) | Q(signal_at__gte=now - SIGNAL_WINDOW)
    return Q(state__in=TriageFlag.OPEN_STATES) & news


def needs_look(flags: QuerySet[TriageFlag], now: datetime) -> QuerySet[TriageFlag]:
    """The default "needs a look now" set: open flags whose kind is not `threshold` (the signal
    engine found a spike, a new code, a regression or a fleet-wide rise), or whose `signal_at`
    is within the last 24 h. The other open flags are steady recurrences: still over a
    threshold, but nothing changed."""
    return flags.filter(needs_look_q(now))


def _recent_occurrences(since: datetime) -> Subquery:
    """Occurrences of the flag's (tenant, code) since `since`, live from the aggregate."""
    return Subquery(
        HourlyCodeStat.objects.filter(
            tenant_id=OuterRef("tenant_id"), code=OuterRef("code"), hour__gte=since
        )
        .values("code")
        .annotate(n=Sum("occurrences"))
        .values("n")
    )


def queue_flags(filters: QueueFilter, now: datetime) -> QuerySet[TriageFlag]:
    """The flags `filters` selects, ranked: needs-a-look first, then score, then (for equal
    scores) regressions first and the busiest last day, then the latest seen. One query."""
    flags = TriageFlag.objects.filter(tenant_id__in=filters.tenant_ids).select_related(
        "tenant", "rule", "assignee"
    )
    if filters.state == "open":
        flags = flags.filter(state__in=TriageFlag.OPEN_STATES)
    elif filters.state != "all":
        flags = flags.filter(state=filters.state)
    if filters.kinds:
        flags = flags.filter(kind__in=filters.kinds)
    if filters.code is not None:
        flags = flags.filter(code=filters.code)
    if filters.assignee_id is not None:
        flags = flags.filter(assignee_id=filters.assignee_id)
    news = needs_look_q(now)
    if filters.view == "now":
        flags = flags.filter(news)
    elif filters.view == "steady":
        flags = flags.exclude(news)
    return flags.annotate(
        recent=Coalesce(_recent_occurrences(now - SIGNAL_WINDOW), 0, output_field=IntegerField()),
        looks_now=Case(When(news, then=Value(1)), default=Value(0), output_field=IntegerField()),
    ).order_by(
        "-looks_now",
        "-score",
        _STATE_ORDER,
        "-recent",
        F("last_seen_at").desc(nulls_last=True),
        "pk",
    )


def steady_count(filters: QueueFilter, now: datetime) -> int:
    """How many open flags the default view leaves out, to say so under it."""
    flags = TriageFlag.objects.filter(
        tenant_id__in=filters.tenant_ids, state__in=TriageFlag.OPEN_STATES
    )
    return flags.exclude(needs_look_q(now)).count()


def reason_text(flag: TriageFlag) -> str:
    """Why the flag is in the queue, in words: the signal's own sentence, else one built from
    the threshold rule that raised it. The signal's sentence was stored when the flag was
    raised and stays as written; the built one follows the reader's language and numbers."""
    if flag.reason:
        return flag.reason
    counts = {"occurrences": intcomma(flag.occurrences), "devices": intcomma(flag.devices)}
    if flag.rule_id is None:
        return gettext("Recurring: %(occurrences)s occurrences on %(devices)s devices so far.") % (
            counts
        )
    return gettext(
        "Over a threshold (%(rule)s): %(occurrences)s occurrences on %(devices)s devices so far."
    ) % {**counts, "rule": flag.rule.describe()}


def sparkline_points(values: list[int]) -> str:
    """SVG polyline points for `values`, scaled to the sparkline box (numbers only)."""
    if not values:
        return ""
    top = max(values) or 1
    step = SPARK_WIDTH / max(len(values) - 1, 1)
    return " ".join(
        f"{i * step:.1f},{SPARK_HEIGHT - 1 - (v / top) * (SPARK_HEIGHT - 2):.1f}"
        for i, v in enumerate(values)
    )


def daily_series(flags: list[TriageFlag], today: date) -> dict[int, list[int]]:
    """Occurrences per day over the last SPARK_DAYS days for each flag, in one query."""
    if not flags:
        return {}
    first_day = today - timedelta(days=SPARK_DAYS - 1)
    rows = (
        HourlyCodeStat.objects.filter(
            tenant_id__in={f.tenant_id for f in flags},
            code__in={f.code for f in flags},
            hour__gte=datetime.combine(first_day, time(), tzinfo=UTC),
        )
        .annotate(day=TruncDate("hour"))
        .values("tenant_id", "code", "day")
        .annotate(n=Sum("occurrences"))
    )
    counts = {(r["tenant_id"], r["code"], r["day"]): r["n"] for r in rows}
    days = [first_day + timedelta(days=i) for i in range(SPARK_DAYS)]
    return {f.pk: [counts.get((f.tenant_id, f.code, day), 0) for day in days] for f in flags}


def code_names(codes: set[int]) -> dict[int, str]:
    """What each code is called, as every page calls it (`codes.facts`: never blank)."""
    return {value: facts.label for value, facts in facts_for(codes).items()}


def queue_rows(flags: list[TriageFlag], now: datetime) -> list[TriageFlag]:
    """Decorate one page of flags for the queue: name, reason, sparkline. Two queries."""
    facts = facts_for({f.code for f in flags})
    series = daily_series(flags, now.date())
    for flag in flags:
        flag.facts = facts[flag.code]
        flag.reason_text = in_reader_language(reason_text(flag))
        flag.spark_points = sparkline_points(series[flag.pk])
        flag.spark_total = sum(series[flag.pk])
    return flags


def assignable_users(tenant_id: int) -> QuerySet:
    """Who a flag of the tenant may be assigned to: active people holding the operator or
    admin role on the tenant, and active superusers (they see every tenant)."""
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(
            Q(tenantgrant__tenant=tenant_id, tenantgrant__role__in=["operator", "admin"])
            | Q(is_superuser=True)
        )
        .distinct()
        .order_by("username")
    )


def hourly_counts(flag: TriageFlag, start: datetime) -> dict[datetime, int]:
    """The flag's occurrences per hour since `start`, in one query."""
    # One row per (tenant, code, hour): no grouping needed.
    return dict(
        HourlyCodeStat.objects.filter(
            tenant_id=flag.tenant_id, code=flag.code, hour__gte=start
        ).values_list("hour", "occurrences")
    )


@dataclass
class FlagDetail:
    """Everything the flag page shows besides the flag itself."""

    flag: TriageFlag
    facts: CodeFacts
    reason: str
    devices: list[dict]
    events: list[TriageEvent]
    spark_points: str
    spark_total: int
    chart: dict
    assignees: list = field(default_factory=list)


def flag_detail(flag: TriageFlag, now: datetime) -> FlagDetail:
    """The flag page's data, in a fixed number of queries."""
    since = now.date() - timedelta(days=DEVICE_DAYS - 1)
    devices = list(
        DailyDeviceCodeStat.objects.filter(tenant=flag.tenant_id, code=flag.code, day__gte=since)
        .values("device_id", "device__hostname")
        .annotate(occurrences=Sum("occurrences"), last_day=Max("day"))
        .order_by("-occurrences", "device__hostname")[:50]
    )
    series = daily_series([flag], now.date())[flag.pk]
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(days=CHART_DAYS)
    return FlagDetail(
        flag=flag,
        facts=facts_of(flag.code),
        reason=in_reader_language(reason_text(flag)),
        devices=devices,
        events=list(flag.events.select_related("user")),
        spark_points=sparkline_points(series),
        spark_total=sum(series),
        chart=baseline_chart(flag, hourly_counts(flag, start), start, end),
        assignees=list(assignable_users(flag.tenant_id)),
    )
