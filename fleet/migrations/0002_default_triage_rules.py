"""Create the default triage rules so admins see (and can edit) them before the first run."""

from django.db import migrations


def create_default_rules(apps, schema_editor):
    from fleet.triage.flags import ensure_default_rules

    ensure_default_rules(apps.get_model("fleet", "TriageRule"))


class Migration(migrations.Migration):
    dependencies = [("fleet", "0001_initial")]

    operations = [migrations.RunPython(create_default_rules, migrations.RunPython.noop)]
