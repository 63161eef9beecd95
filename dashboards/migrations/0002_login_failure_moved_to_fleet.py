"""LoginFailure now belongs to fleet.accounts (fleet 0009 took over its table): drop the model
from this app's state only; the table and its rows stay."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("dashboards", "0001_login_failure"),
        ("fleet", "0009_accounts_login_failure"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="LoginFailure")],
            database_operations=[],
        ),
    ]
