"""factory-boy factories for the models every test area uses, the one occurrence builder, and
a test client logged in as any user."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import datetime, timedelta

import factory
from django.contrib.auth import get_user_model
from django.test import Client

from fleet.models import Device, Occurrence, Tenant
from fleet.pending import track


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"operator{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    password = factory.django.Password("correct horse battery staple")


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"tenant-{n}")
    name = factory.LazyAttribute(lambda t: t.slug.title())


class DeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Device

    tenant = factory.SubFactory(TenantFactory)
    hostname = factory.Sequence(lambda n: f"PC-{n:04d}")


_serial = itertools.count()


def occurrence(device: Device, code: int, when: datetime, **fields: object) -> Occurrence:
    """An unsaved occurrence of `code` on `device` at `when`, with a dedupe key of its own;
    `fields` (source, update_title, kb, ...) set the rest."""
    values = {"source": "test", "dedupe_key": f"test-{next(_serial)}", **fields}
    return Occurrence(
        tenant_id=device.tenant_id, device=device, code=code, occurred_at=when, **values
    )


def emit(
    device: Device, code: int, times: Iterable[datetime], **fields: object
) -> list[Occurrence]:
    """Store one occurrence of `code` on `device` at each of `times`, in one bulk insert."""
    return track(occurrence(device, code, when, **fields) for when in times)


def minutes_up_to(when: datetime, count: int) -> list[datetime]:
    """`count` times a minute apart, the last at `when` and none later (wrapping after 50
    minutes), so rows dated now stay inside every window that ends after now."""
    return [when - timedelta(minutes=n % 50) for n in range(count)]


def client_for(user, **options: object) -> Client:
    """A new test client logged in as `user`; `options` go to `Client` (enforce_csrf_checks)."""
    client = Client(**options)
    client.force_login(user)
    return client


def alert_rule(tenant: Tenant | None = None, **fields: object):
    """An alert rule for `tenant`, or for every tenant when none is given."""
    from fleet.alerts.models import AlertRule

    rule = AlertRule.objects.create(all_tenants=tenant is None, **fields)
    if tenant is not None:
        rule.tenants.add(tenant)
    return rule
