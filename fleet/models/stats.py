"""Aggregates that pages and rules read instead of scanning raw occurrences."""

from django.db import models

# Aggregate rows are derived from occurrences, whose own foreign keys already guarantee that the
# tenant and device exist; a second database check per aggregate row only slows every
# aggregation run and rebuild (it was ~40% of a PostgreSQL rebuild). Deleting a tenant or device
# still deletes its aggregates: Django's CASCADE does it. No index of its own either: each
# table's unique key or first composite index already starts with the column.
DERIVED_KEY = {"db_constraint": False, "db_index": False}


class HourlyCodeStat(models.Model):
    """Occurrences and distinct devices per (tenant, code, hour)."""

    tenant = models.ForeignKey(
        "fleet.Tenant", on_delete=models.CASCADE, related_name="+", **DERIVED_KEY
    )
    code = models.PositiveBigIntegerField()
    hour = models.DateTimeField()
    occurrences = models.PositiveIntegerField(default=0)
    devices = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code", "hour"], name="hourly_code_unique"),
        ]
        indexes = [
            models.Index(fields=["tenant", "hour"], name="hourly_code_tenant_hour_idx"),
            models.Index(fields=["code", "hour"], name="hourly_code_code_hour_idx"),
        ]


class _DeviceHour(models.Model):
    """Occurrences of one code on one device in one hour: the per-device hourly tables' row."""

    tenant = models.ForeignKey(
        "fleet.Tenant", on_delete=models.CASCADE, related_name="+", **DERIVED_KEY
    )
    device = models.ForeignKey(
        "fleet.Device", on_delete=models.CASCADE, related_name="+", **DERIVED_KEY
    )
    code = models.PositiveBigIntegerField()
    hour = models.DateTimeField()
    occurrences = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class HourlyDeviceCodeStat(_DeviceHour):
    """Occurrences per (tenant, code, device, hour); the source of exact distinct-device counts."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["device", "code", "hour"], name="hourly_device_code_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "code", "hour"], name="hourly_dev_tenant_code_idx"),
            models.Index(fields=["tenant", "hour"], name="hourly_dev_tenant_hour_idx"),
        ]


class SnapshotDeviceCodeStat(_DeviceHour):
    """Rows of state-snapshot sources (`fleet.sources.STATE_SOURCES`) per (tenant, code, device,
    hour): a subset of `HourlyDeviceCodeStat`, so triage can count those sources by device and
    leave them out of the event counts."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["device", "code", "hour"], name="snapshot_device_code_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "code", "hour"], name="snapshot_tenant_code_idx"),
            models.Index(fields=["hour"], name="snapshot_hour_idx"),
        ]


class DailyDeviceCodeStat(models.Model):
    """Occurrences per (tenant, code, device, UTC day): a device's history without raw rows."""

    tenant = models.ForeignKey(
        "fleet.Tenant", on_delete=models.CASCADE, related_name="+", **DERIVED_KEY
    )
    device = models.ForeignKey(
        "fleet.Device", on_delete=models.CASCADE, related_name="+", **DERIVED_KEY
    )
    code = models.PositiveBigIntegerField()
    day = models.DateField()
    occurrences = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["device", "code", "day"], name="daily_device_code_unique"
            ),
        ]
        # Covering: the code page and the top devices of long windows read hundreds of thousands
        # of rows, and a lookup into the table per index entry was most of their time.
        indexes = [
            models.Index(
                fields=["tenant", "code", "day", "device", "occurrences"],
                name="daily_dev_tenant_code_cov",
            ),
            models.Index(
                fields=["tenant", "day", "device", "code", "occurrences"],
                name="daily_dev_tenant_day_cov",
            ),
        ]


class DailyCodeStat(models.Model):
    """Occurrences and distinct devices per (tenant, code, UTC day): long ranges read this."""

    tenant = models.ForeignKey(
        "fleet.Tenant", on_delete=models.CASCADE, related_name="+", **DERIVED_KEY
    )
    code = models.PositiveBigIntegerField()
    day = models.DateField()
    occurrences = models.PositiveIntegerField(default=0)
    devices = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code", "day"], name="daily_code_unique"),
        ]
        # Covering, as above; (day, code, …) serves the every-tenant scope, which needs no
        # tenant filter and so can group by (day, code) in index order without sorting.
        indexes = [
            models.Index(
                fields=["tenant", "day", "code", "occurrences", "devices"],
                name="daily_code_tenant_day_cov",
            ),
            models.Index(
                fields=["code", "day", "tenant", "occurrences", "devices"],
                name="daily_code_code_day_cov",
            ),
            models.Index(
                fields=["day", "code", "occurrences", "devices"], name="daily_code_day_cov"
            ),
        ]


class RetentionHorizon(models.Model):
    """How far back raw occurrences may have been pruned (one row, written by retention).

    Aggregates before `pruned_before` are the only record of those days, so a rebuild keeps
    them instead of recounting from the raw rows that are left.
    """

    pruned_before = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
