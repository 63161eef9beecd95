"""factory-boy factories for the models every test area uses."""

import hashlib
from datetime import UTC, datetime

import factory
from django.contrib.auth import get_user_model

from fleet.models import Device, Occurrence, Tenant


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


class OccurrenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Occurrence

    device = factory.SubFactory(DeviceFactory)
    tenant = factory.SelfAttribute("device.tenant")
    code = 0x8024000B
    occurred_at = factory.LazyFunction(lambda: datetime(2026, 11, 2, 9, 30, tzinfo=UTC))
    source = "api"
    dedupe_key = factory.Sequence(lambda n: hashlib.sha256(str(n).encode()).hexdigest())
