"""Who may read and write which runbook notes: a note is for one tenant, or for all of them.

Reading follows the tenant grants of `fleet.access.visible_tenants`:

- a tenant's note is shown to the operators granted that tenant;
- an all-tenants note is MSP-internal knowledge that may be about any customer, so it is
  shown only to operators granted every tenant (and to superusers), never to an operator of
  one customer; its author must be granted every tenant too, re-checked on every save;
- a note with neither (an old one that could not be assigned) is shown only to superusers.

A superuser sees every note. Writing needs a role that may act (`operable_tenants`: operator
or admin); a viewer reads the notes of their tenants and writes none.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from codes.models import RunbookNote
from fleet.access import operable_tenants, visible_tenants
from fleet.models import Tenant


@dataclass(frozen=True)
class NoteAccess:
    """What one user may do with notes, read once per request (three queries)."""

    tenants: list[Tenant]  # the tenants they may read and write notes for
    every_tenant: bool  # granted every tenant there is: may read and write all-tenants notes
    superuser: bool  # reads every note, including the unassigned ones
    writable: list[Tenant]  # the tenants they may write notes for (operator or admin)
    writes_every_tenant: bool  # may write all-tenants notes: acts on every tenant there is

    def visible(self, notes: QuerySet[RunbookNote]) -> QuerySet[RunbookNote]:
        """`notes` narrowed to those this user may read."""
        if self.superuser:
            return notes
        shown = Q(tenant__in=[tenant.pk for tenant in self.tenants])
        if self.every_tenant:
            shown |= Q(all_tenants=True)
        return notes.filter(shown)


def note_access(user: AbstractBaseUser | AnonymousUser) -> NoteAccess:
    """The notes `user` may read and write, from the same grants as every other page."""
    tenants = list(visible_tenants(user))
    superuser = bool(user.is_authenticated and user.is_active and user.is_superuser)
    if superuser:
        every_tenant = bool(tenants)  # visible_tenants gives a superuser all of them
    else:
        # A tenant added later and not yet granted makes this False again: the safe side.
        every_tenant = bool(tenants) and (
            not Tenant.objects.exclude(pk__in=[tenant.pk for tenant in tenants]).exists()
        )
    operable = {tenant.pk for tenant in operable_tenants(user)}
    writable = [tenant for tenant in tenants if tenant.pk in operable]
    return NoteAccess(
        tenants=tenants,
        every_tenant=every_tenant,
        superuser=superuser,
        writable=writable,
        writes_every_tenant=every_tenant and len(writable) == len(tenants),
    )


def notes_on_code(access: NoteAccess, value: int) -> QuerySet[RunbookNote]:
    """The notes on one code that `access` may read, newest first, with author and tenant."""
    return access.visible(RunbookNote.objects.filter(code=value)).select_related("author", "tenant")
