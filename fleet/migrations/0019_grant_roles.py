"""Grants get a role. The many-to-many's own table becomes the `TenantGrant` model (state only:
no table moves), then gains `role`; every existing grant becomes `operator`, what it allowed."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("fleet", "0018_device_inventory"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="TenantGrant",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "tenant",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, to="fleet.tenant"
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "fleet_tenant_operators",
                        # The many-to-many table already has this unique index.
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("tenant", "user"), name="fleet_tenant_grant_once"
                            )
                        ],
                    },
                ),
                migrations.AlterField(
                    model_name="tenant",
                    name="operators",
                    field=models.ManyToManyField(
                        blank=True,
                        help_text="People granted this tenant, each with a role. Superusers see every tenant.",
                        related_name="granted_tenants",
                        through="fleet.TenantGrant",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.AddField(
            model_name="tenantgrant",
            name="role",
            field=models.CharField(
                choices=[
                    ("viewer", "Viewer (read)"),
                    ("operator", "Operator (triage, notes, imports, alert rules)"),
                    ("admin", "Admin (the tenant's settings, people, keys)"),
                ],
                default="operator",
                max_length=16,
            ),
        ),
    ]
