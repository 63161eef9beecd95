"""DailyCodeStat: occurrences and distinct devices per (tenant, code, UTC day).

Filled from the per-device daily rows that already exist, so a deployment upgraded with data
shows long ranges at once instead of after a rebuild.
"""

import django.db.models.deletion
from django.db import migrations, models


def fill_from_daily_device_stats(apps, schema_editor):
    daily_code = apps.get_model("fleet", "DailyCodeStat")._meta.db_table
    daily_device = apps.get_model("fleet", "DailyDeviceCodeStat")._meta.db_table
    quote = schema_editor.connection.ops.quote_name
    schema_editor.execute(
        f"INSERT INTO {quote(daily_code)} (tenant_id, code, day, occurrences, devices) "
        f"SELECT tenant_id, code, day, SUM(occurrences), COUNT(*) FROM {quote(daily_device)} "
        "GROUP BY tenant_id, code, day"
    )


class Migration(migrations.Migration):
    dependencies = [("fleet", "0002_default_triage_rules")]

    operations = [
        migrations.CreateModel(
            name="DailyCodeStat",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("code", models.PositiveBigIntegerField()),
                ("day", models.DateField()),
                ("occurrences", models.PositiveIntegerField(default=0)),
                ("devices", models.PositiveIntegerField(default=0)),
                (
                    "tenant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="fleet.tenant",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["tenant", "day"], name="daily_code_tenant_day_idx"),
                    models.Index(fields=["code", "day"], name="daily_code_code_day_idx"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("tenant", "code", "day"), name="daily_code_unique"
                    )
                ],
            },
        ),
        migrations.RunPython(fill_from_daily_device_stats, migrations.RunPython.noop),
    ]
