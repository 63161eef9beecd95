"""The hour and day grains of the aggregates, and which one a time window reads.

Every aggregate exists per hour and per UTC day, each per (tenant, code) and per (tenant, code,
device); `fleet.aggregate` writes both grains in one transaction, so over whole UTC days they
hold the same numbers, the daily tables in ~24x fewer rows. Readers (pages, and any rule over a
window) ask `grain_for()` which grain a window reads instead of choosing a table themselves.

Retention prunes raw occurrences only, never an aggregate of either grain, so the choice never
depends on how old a window is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, models

from fleet.models import DailyCodeStat, DailyDeviceCodeStat, HourlyCodeStat, HourlyDeviceCodeStat


def table(model: type[models.Model]) -> str:
    """A model's table name, quoted for raw SQL on the running backend."""
    return connection.ops.quote_name(model._meta.db_table)


def hour_sql(column: str) -> str:
    """SQL truncating a UTC timestamp column to its hour, for the running backend."""
    if connection.vendor == "postgresql":
        return f"date_trunc('hour', {column} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
    return f"strftime('%%Y-%%m-%%d %%H:00:00', {column})"


def day_sql(column: str) -> str:
    """SQL giving the UTC calendar day of a timestamp column, for the running backend."""
    if connection.vendor == "postgresql":
        return f"({column} AT TIME ZONE 'UTC')::date"
    return f"date({column})"


@dataclass(frozen=True)
class Grain:
    """One time grain: its per-device table, its per-code table, and their bucket column."""

    device_model: type[models.Model]
    code_model: type[models.Model]
    column: str
    bucket_sql: Callable[[str], str]
    step: timedelta

    @property
    def _daily(self) -> bool:
        return self.step >= timedelta(days=1)

    def model(self, *, per_device: bool) -> type[models.Model]:
        return self.device_model if per_device else self.code_model

    def value(self, moment: datetime) -> datetime | date:
        """The bucket column's value at `moment`: itself per hour, its UTC day per day."""
        return moment.astimezone(UTC).date() if self._daily else moment

    def between(self, start: datetime, end: datetime) -> dict[str, datetime | date]:
        """ORM lookups selecting the buckets of the half-open window [start, end)."""
        return {f"{self.column}__gte": self.value(start), f"{self.column}__lt": self.value(end)}

    def stats(
        self, start: datetime, end: datetime, *, per_device: bool, **lookups
    ) -> models.QuerySet:
        """The rows of this grain's per-device or per-code table in [start, end)."""
        model = self.model(per_device=per_device)
        return model.objects.filter(**lookups, **self.between(start, end))

    def sql_value(self, moment: datetime):
        """`value(moment)` as a raw SQL parameter (SQLite stores both as text)."""
        if self._daily:
            return connection.ops.adapt_datefield_value(self.value(moment))
        return connection.ops.adapt_datetimefield_value(self.value(moment))

    def sql_bounds(self, start: datetime, end: datetime) -> list:
        """Parameters for `column >= %s AND column < %s` over [start, end)."""
        return [self.sql_value(start), self.sql_value(end)]

    def buckets(self, start: datetime, end: datetime) -> list[datetime]:
        """The start of every bucket the window touches, so a chart can show empty ones as 0."""
        if self._daily:
            first = datetime.combine(self.value(start), time.min, tzinfo=UTC)
        else:
            first = start.replace(minute=0, second=0, microsecond=0)
        count = -((first - end) // self.step)  # ceiling: a partial last bucket counts
        return [first + n * self.step for n in range(max(count, 0))]


HOURLY = Grain(HourlyDeviceCodeStat, HourlyCodeStat, "hour", hour_sql, timedelta(hours=1))
DAILY = Grain(DailyDeviceCodeStat, DailyCodeStat, "day", day_sql, timedelta(days=1))
GRAINS = (HOURLY, DAILY)


def _on_utc_midnight(moment: datetime) -> bool:
    return moment.astimezone(UTC).time() == time.min


def grain_for(start: datetime, end: datetime, *, per_hour: bool = False) -> Grain:
    """The grain the window [start, end) reads: daily when it is whole UTC days, hourly when it
    is not (a day bucket would count hours outside it) or when the caller wants hour buckets,
    such as a chart per hour of a 24 h window that happens to fall on midnight."""
    if per_hour or not (_on_utc_midnight(start) and _on_utc_midnight(end)):
        return HOURLY
    return DAILY
