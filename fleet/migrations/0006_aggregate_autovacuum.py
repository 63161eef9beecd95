"""Vacuum the aggregate tables after 1% of new or changed rows, not PostgreSQL's default 20%.

Pages read the aggregates through covering indexes, and PostgreSQL answers from the index alone
only for heap pages its visibility map marks all-visible, which only VACUUM sets. With the
default thresholds a 10,000,000-row table is vacuumed after some 2,000,000 more rows, so the
recent days every page reads stayed unmarked and each index entry cost a heap fetch (the
superuser's 7-day overview: 1,170 ms, 130 ms once vacuumed). The aggregation's upserts leave dead
rows too, which the same setting clears sooner. SQLite has no such thing: nothing to do there.
"""

from django.db import migrations

TABLES = (
    "fleet_hourlycodestat",
    "fleet_hourlydevicecodestat",
    "fleet_dailycodestat",
    "fleet_dailydevicecodestat",
)
SOONER = (
    "autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.01, "
    "autovacuum_analyze_scale_factor = 0.01"
)


def vacuum_sooner(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(table)} SET ({SOONER})")


def vacuum_as_default(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    reset = ", ".join(part.split(" = ")[0] for part in SOONER.split(", "))
    for table in TABLES:
        schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(table)} RESET ({reset})")


class Migration(migrations.Migration):
    dependencies = [("fleet", "0005_covering_daily_indexes")]

    operations = [migrations.RunPython(vacuum_sooner, vacuum_as_default)]
