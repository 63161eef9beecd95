"""The occurrence table's unique index holds a 16-byte digest of (source, dedupe key) instead of
the text of both (issue 18): a quarter of the size, so an import rewrites far fewer index pages
per batch. Existing rows get their digest here, the same one ingest computes for new rows."""

from hashlib import sha256

from django.db import migrations, models


def fill_digests(apps, schema_editor) -> None:
    connection = schema_editor.connection
    table = connection.ops.quote_name(apps.get_model("fleet", "Occurrence")._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} SET dedupe_digest = substring(sha256(convert_to("
                "source || chr(31) || dedupe_key, 'UTF8')) from 1 for 16)"
            )
            return
        # The digest as `fleet.models.core.dedupe_digest` computes it, frozen here.
        connection.connection.create_function(
            "fleet_dedupe_digest",
            2,
            lambda source, key: sha256(f"{source}\x1f{key}".encode()).digest()[:16],
            deterministic=True,
        )
        cursor.execute(f"UPDATE {table} SET dedupe_digest = fleet_dedupe_digest(source, dedupe_key)")


class Migration(migrations.Migration):
    dependencies = [("fleet", "0028_alert_channel_language")]

    operations = [
        migrations.AddField(
            model_name="occurrence",
            name="dedupe_digest",
            field=models.BinaryField(
                default=b"",
                help_text="dedupe_digest(source, dedupe_key): what the unique index holds.",
                max_length=16,
            ),
            preserve_default=False,
        ),
        migrations.RunPython(fill_digests, migrations.RunPython.noop, elidable=False),
        migrations.RemoveConstraint(model_name="occurrence", name="occurrence_unique_dedupe"),
        migrations.AddConstraint(
            model_name="occurrence",
            constraint=models.UniqueConstraint(
                fields=("tenant", "dedupe_digest"), name="occurrence_unique_digest"
            ),
        ),
    ]
