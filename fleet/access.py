"""Which tenants a person may see, act on, or administer. Every view, API and export asks here.

A grant (`TenantGrant`) gives a role per tenant: `viewer` reads, `operator` also acts (triage,
notes, imports, alert rules), `admin` also runs the tenant's settings, people and keys. MSP-wide
admins (superusers; single sign-on's "MSP admin" role makes one) hold every tenant as
admin and manage tenants themselves.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from fleet.models import Role, Tenant


def visible_tenants(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Tenant]:
    """Tenants granted to `user` in any role; all of them for an MSP-wide admin, none when
    logged out."""
    return _tenants_with_role(user, (Role.VIEWER, Role.OPERATOR, Role.ADMIN))


def is_msp_admin(user: AbstractBaseUser | AnonymousUser) -> bool:
    """An MSP-wide admin: manages tenants and administers every one. Superusers only: staff
    status alone opens the Django admin for a person's own tenants (runbook notes), no more."""
    return bool(user.is_authenticated and user.is_active and user.is_superuser)


def _tenants_with_role(
    user: AbstractBaseUser | AnonymousUser, roles: tuple[str, ...]
) -> QuerySet[Tenant]:
    if not user.is_authenticated or not user.is_active:
        return Tenant.objects.none()
    current = Tenant.objects.filter(archived_at__isnull=True)
    if is_msp_admin(user):
        return current
    return current.filter(tenantgrant__user=user, tenantgrant__role__in=roles)


def operable_tenants(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Tenant]:
    """Tenants where `user` may act, not only look: triage actions, notes, imports, alert
    rules (role operator or admin). Views that change something check this, never
    `visible_tenants`."""
    return _tenants_with_role(user, (Role.OPERATOR, Role.ADMIN))


def administrable_tenants(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Tenant]:
    """Tenants whose settings, people and ingest keys `user` runs: role admin, or every
    tenant for an MSP-wide admin."""
    return _tenants_with_role(user, (Role.ADMIN,))


def may_operate(user: AbstractBaseUser | AnonymousUser, tenant: Tenant) -> bool:
    return operable_tenants(user).filter(pk=tenant.pk).exists()


def may_administer(user: AbstractBaseUser | AnonymousUser, tenant: Tenant) -> bool:
    return administrable_tenants(user).filter(pk=tenant.pk).exists()


def picked_tenants(
    user: AbstractBaseUser | AnonymousUser, slugs: list[str]
) -> tuple[list[Tenant], list[Tenant]]:
    """(visible, shown): the tenants `user` may see, and those of them named in `slugs` (every
    visible one when `slugs` names none). One query. A slug the user may not see simply matches
    nothing, so the answer never hints that such a tenant exists."""
    visible = list(visible_tenants(user))
    picked = [slug for slug in slugs if slug]
    return visible, ([t for t in visible if t.slug in picked] if picked else visible)
