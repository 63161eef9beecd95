"""Retention: the horizon a rebuild must respect, and a BRIN index on occurrence times.

The BRIN index exists on PostgreSQL only (SQLite has no BRIN). Occurrences arrive roughly in
time order, so per-range min/max summaries of `occurred_at` let retention find the old rows
from an index of a few hundred kilobytes; docs/postgresql.md has the EXPLAIN that justifies it.
"""

from django.db import migrations, models

BRIN = "occ_occurred_at_brin"


def create_brin(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = apps.get_model("fleet", "Occurrence")._meta.db_table
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {BRIN} ON {schema_editor.quote_name(table)} "
        "USING brin (occurred_at) WITH (pages_per_range = 32)"
    )


def drop_brin(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {BRIN}")


class Migration(migrations.Migration):
    dependencies = [("fleet", "0003_daily_code_stat")]

    operations = [
        migrations.CreateModel(
            name="RetentionHorizon",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("pruned_before", models.DateTimeField()),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.RunPython(create_brin, drop_brin),
    ]
