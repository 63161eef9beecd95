"""Give the notes written before notes were per tenant a tenant, where that can be done safely.

Nothing records which tenant an old note was about, so it is inferred from its author's grants
as they are when this migration runs:

1. An author who is a superuser, or is granted every tenant (at least one exists): the note
   becomes an all-tenants note, shown only to operators granted every tenant and to
   superusers — people who could read it whatever customer it was about. This rule goes first
   so that a superuser's note never lands on the one tenant they may also be granted.
2. An author granted exactly one tenant could only ever see that tenant: the note is that
   tenant's.
3. Anyone else (several but not all tenants, no tenant, a deleted author): the note is left
   with no tenant, which only superusers see; a superuser can assign it in the admin.
"""

from django.conf import settings
from django.db import migrations
from django.db.models import Count, OuterRef, Q, Subquery


def assign_existing_notes(apps, schema_editor):
    note_model = apps.get_model("codes", "RunbookNote")
    tenant_model = apps.get_model("fleet", "Tenant")
    grant_model = tenant_model.operators.through
    unassigned = note_model.objects.filter(tenant__isnull=True, all_tenants=False)

    tenant_count = tenant_model.objects.count()
    grants_per_author = grant_model.objects.values("user_id").annotate(tenants=Count("tenant_id"))
    holds_every_tenant = Q(author__is_superuser=True)
    if tenant_count:
        holds_every_tenant |= Q(
            author_id__in=grants_per_author.filter(tenants=tenant_count).values("user_id")
        )
    unassigned.filter(holds_every_tenant).update(all_tenants=True)

    one_tenant_authors = grants_per_author.filter(tenants=1).values("user_id")
    unassigned.filter(author_id__in=one_tenant_authors).update(
        tenant_id=Subquery(
            grant_model.objects.filter(user_id=OuterRef("author_id")).values("tenant_id")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("codes", "0002_runbook_note_tenant"),
        ("fleet", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # Going back drops the columns (0002); nothing to undo here.
    operations = [migrations.RunPython(assign_existing_notes, migrations.RunPython.noop)]
