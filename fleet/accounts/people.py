"""Settings actions of tenant admins: invitations (one-time links), roles, ingest keys, and
the audit entry each writes. Views call these; the checks of who may are the callers'."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from fleet.accounts.models import AuditEntry, Invitation
from fleet.bearer import hash_secret
from fleet.models import Tenant, TenantGrant

INVITATION_LIFETIME = timedelta(days=7)


class InvitationRefused(Exception):
    """The link is unknown, used already, or expired."""


def audit(
    actor: AbstractBaseUser | None,
    action: str,
    target: str,
    tenant: Tenant | None = None,
    **details: object,
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor, action=action, target=target[:200], tenant=tenant, details=details
    )


def invite(
    by: AbstractBaseUser, tenant: Tenant, email: str, role: str, accept_url_of
) -> Invitation:
    """Create the invitation and email its link; `accept_url_of(token)` builds the absolute
    link. The token itself is never stored."""
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        email=email,
        tenant=tenant,
        role=role,
        token_hash=hash_secret(token),
        invited_by=by,
        expires_at=timezone.now() + INVITATION_LIFETIME,
    )
    link = accept_url_of(token)
    send_mail(
        f"You are invited to {tenant.name} on Fleet errors",
        f"{by.get_username()} invited you to {tenant.name} as {role}.\n\n"
        f"Open this link within {INVITATION_LIFETIME.days} days; it works once:\n{link}\n",
        None,
        [email],
    )
    audit(by, "person.invite", email, tenant, role=role, invitation=invitation.pk)
    return invitation


def open_invitation(token: str) -> Invitation:
    """The usable invitation of `token`, else InvitationRefused."""
    invitation = (
        Invitation.objects.select_related("tenant")
        .filter(token_hash=hash_secret(token), used_at__isnull=True)
        .first()
    )
    if invitation is None or invitation.expires_at <= timezone.now():
        raise InvitationRefused("This invitation link is not valid: used, expired or unknown.")
    return invitation


def accept(token: str, user: AbstractBaseUser) -> Invitation:
    """Use the invitation once: a conditional UPDATE claims it, so two clicks grant once."""
    invitation = open_invitation(token)
    with transaction.atomic():
        now = timezone.now()
        claimed = Invitation.objects.filter(pk=invitation.pk, used_at__isnull=True).update(
            used_at=now, used_by=user
        )
        if not claimed:
            raise InvitationRefused("This invitation link was used already.")
        TenantGrant.objects.update_or_create(
            tenant=invitation.tenant, user=user, defaults={"role": invitation.role}
        )
        audit(user, "person.join", user.get_username(), invitation.tenant, role=invitation.role)
    return invitation


def set_role(by: AbstractBaseUser, grant: TenantGrant, role: str) -> None:
    old = grant.role
    grant.role = role
    grant.save(update_fields=["role"])
    audit(by, "person.role", grant.user.get_username(), grant.tenant, old=old, new=role)


def remove(by: AbstractBaseUser, grant: TenantGrant) -> None:
    grant.delete()
    audit(by, "person.remove", grant.user.get_username(), grant.tenant, role=grant.role)
