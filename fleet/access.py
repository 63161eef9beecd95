"""Which tenants an operator may see. Every view and export filters through here."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from fleet.models import Tenant


def visible_tenants(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Tenant]:
    """Tenants granted to `user`; all of them for a superuser, none when logged out."""
    if not user.is_authenticated or not user.is_active:
        return Tenant.objects.none()
    if user.is_superuser:
        return Tenant.objects.all()
    return Tenant.objects.filter(operators=user)


def operable_tenants(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Tenant]:
    """Tenants where `user` may act, not only look: triage actions, notes, imports, alert
    rules. Today every visible tenant; per-tenant roles (viewer/operator/admin) narrow it.
    Views that change something check this, never `visible_tenants`."""
    return visible_tenants(user)


def picked_tenants(
    user: AbstractBaseUser | AnonymousUser, slugs: list[str]
) -> tuple[list[Tenant], list[Tenant]]:
    """(visible, shown): the tenants `user` may see, and those of them named in `slugs` (every
    visible one when `slugs` names none). One query. A slug the user may not see simply matches
    nothing, so the answer never hints that such a tenant exists."""
    visible = list(visible_tenants(user))
    picked = [slug for slug in slugs if slug]
    return visible, ([t for t in visible if t.slug in picked] if picked else visible)


def administered_tenants(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Tenant]:
    """Tenants whose settings `user` may change (connectors and their secrets): every tenant
    for an MSP-wide admin (superuser), the granted ones for a staff user, none otherwise."""
    if not user.is_authenticated or not user.is_active:
        return Tenant.objects.none()
    if user.is_superuser:
        return Tenant.objects.all()
    if user.is_staff:
        return visible_tenants(user)
    return Tenant.objects.none()
