"""The pending ledger replaces the `aggregated` flag: aggregation never rewrites raw rows.

Rows still pending become one ledger batch, so nothing counted is counted again and nothing
pending is lost; rows already counted keep batch 0, which is never in the ledger.
"""

import django.utils.timezone
from django.db import migrations, models


def pending_rows_to_one_batch(apps, schema_editor):
    Occurrence = apps.get_model("fleet", "Occurrence")
    PendingBatch = apps.get_model("fleet", "PendingBatch")
    pending = Occurrence.objects.filter(aggregated=False)
    bounds = pending.aggregate(low=models.Min("id"), high=models.Max("id"), n=models.Count("id"))
    if not bounds["n"]:
        return
    batch = PendingBatch.objects.create(
        low_id=bounds["low"], high_id=bounds["high"], rows=bounds["n"]
    )
    pending.update(batch=batch.pk)


def one_batch_back_to_flags(apps, schema_editor):
    Occurrence = apps.get_model("fleet", "Occurrence")
    PendingBatch = apps.get_model("fleet", "PendingBatch")
    Occurrence.objects.filter(batch__in=PendingBatch.objects.values("id")).update(aggregated=False)


class Migration(migrations.Migration):
    dependencies = [
        ("fleet", "0021_tenant_archive"),
    ]

    operations = [
        migrations.CreateModel(
            name="PendingBatch",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("low_id", models.BigIntegerField(default=0)),
                ("high_id", models.BigIntegerField(default=0)),
                ("rows", models.PositiveIntegerField(default=0)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        migrations.AddField(
            model_name="occurrence",
            name="batch",
            field=models.BigIntegerField(
                default=0,
                help_text="The ingest batch that stored it; pending while that batch is in the "
                "ledger.",
            ),
        ),
        migrations.RunPython(pending_rows_to_one_batch, one_batch_back_to_flags),
        migrations.RemoveIndex(
            model_name="occurrence",
            name="occ_pending_idx",
        ),
        migrations.RemoveField(
            model_name="occurrence",
            name="aggregated",
        ),
    ]
