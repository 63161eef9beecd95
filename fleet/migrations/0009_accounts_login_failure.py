"""LoginFailure moves from the dashboards app to fleet.accounts: the model's state moves, its
table (`dashboards_loginfailure`) and rows stay. dashboards 0002 drops the old state after this.
The content type moves too, so permissions granted on the model follow it."""

from django.db import migrations, models


def _move_content_type(apps, from_label: str, to_label: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    taken = content_type.objects.filter(app_label=to_label, model="loginfailure").exists()
    if not taken:
        content_type.objects.filter(app_label=from_label, model="loginfailure").update(
            app_label=to_label
        )


def forwards(apps, schema_editor) -> None:
    _move_content_type(apps, "dashboards", "fleet")


def backwards(apps, schema_editor) -> None:
    _move_content_type(apps, "fleet", "dashboards")


class Migration(migrations.Migration):
    dependencies = [
        ("fleet", "0008_triage_signal"),
        ("dashboards", "0001_login_failure"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="LoginFailure",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("username", models.CharField(max_length=150)),
                        ("address", models.CharField(max_length=45)),
                        ("failed_at", models.DateTimeField()),
                    ],
                    options={
                        "db_table": "dashboards_loginfailure",
                        "indexes": [
                            models.Index(
                                fields=["username", "failed_at"], name="loginfailure_user_time"
                            ),
                            models.Index(
                                fields=["address", "failed_at"], name="loginfailure_address_time"
                            ),
                            models.Index(fields=["failed_at"], name="loginfailure_time"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards, elidable=True),
    ]
