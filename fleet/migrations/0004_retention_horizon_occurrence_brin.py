"""Retention and scale: the horizon a rebuild must respect, a BRIN index on occurrence times,
aggregate foreign keys without a database check or index of their own (see stats.py), and no
single-column tenant/device index on occurrences (composite indexes lead with those columns).

The BRIN index exists on PostgreSQL only (SQLite has no BRIN). Occurrences arrive roughly in
time order, so per-range min/max summaries of `occurred_at` let retention find the old rows
from an index of a few hundred kilobytes; docs/postgresql.md has the EXPLAIN that justifies it.
"""

import django.db.models.deletion
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


def derived_key(to: str) -> models.ForeignKey:
    return models.ForeignKey(
        db_constraint=False,
        db_index=False,
        on_delete=django.db.models.deletion.CASCADE,
        related_name="+",
        to=to,
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
        migrations.AlterField(
            model_name="occurrence",
            name="tenant",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="occurrences",
                to="fleet.tenant",
            ),
        ),
        migrations.AlterField(
            model_name="occurrence",
            name="device",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="occurrences",
                to="fleet.device",
            ),
        ),
        migrations.AlterField(
            model_name="dailycodestat", name="tenant", field=derived_key("fleet.tenant")
        ),
        migrations.AlterField(
            model_name="dailydevicecodestat", name="device", field=derived_key("fleet.device")
        ),
        migrations.AlterField(
            model_name="dailydevicecodestat", name="tenant", field=derived_key("fleet.tenant")
        ),
        migrations.AlterField(
            model_name="hourlycodestat", name="tenant", field=derived_key("fleet.tenant")
        ),
        migrations.AlterField(
            model_name="hourlydevicecodestat", name="device", field=derived_key("fleet.device")
        ),
        migrations.AlterField(
            model_name="hourlydevicecodestat", name="tenant", field=derived_key("fleet.tenant")
        ),
    ]
